"""A Content-Security-Policy on every page, as a ``<meta>``: each inline script
is allowed by its sha256 hash (no 'unsafe-inline').

Only the inline scripts the site's own templates emit are hashed: those written
in sitegen/templates/, overrides/ and the theme's templates, known before the
build (`template_scripts`). A script in a page is hashed when it is one of them,
with each ``{{ expression }}`` of the template filled by a path-like value (the
pages' relative roots); anything else (text that became a script) gets no hash,
and `apply` fails the build naming the page.

Only the pages that run the Python runtime (WebAssembly) get 'wasm-unsafe-eval';
they are listed once, in RUNTIME_PAGES.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

# Pages (their path without the language prefix) that start the Pyodide runtime.
RUNTIME_PAGES = ("checker/", "org/")

_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">\n?')
_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S | re.I)
_TYPE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.I)
_SRC = re.compile(r"\ssrc\s*=", re.I)
_EXECUTED_TYPES = {"", "module", "text/javascript", "application/javascript"}


_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
# What a template expression inside one of our inline scripts may become: a
# relative or absolute path (site_root, base_url), nothing that can end a string.
_FILLED = "[A-Za-z0-9._~/:-]*"


class UnknownScript(ValueError):
    """A page holds an inline script that no template emits."""


def _template_files() -> list[Path]:
    here = Path(__file__).resolve().parent
    files = sorted((here / "templates").glob("*.j2")) + sorted((here.parent / "overrides").rglob("*.html"))
    try:
        import material

        files += sorted((Path(material.__file__).resolve().parent / "templates").rglob("*.html"))
    except ImportError:  # no theme installed: only our own templates
        pass
    return files


@lru_cache(maxsize=1)
def template_scripts() -> tuple[re.Pattern, ...]:
    """Every executable inline script of the templates, as a pattern of its body."""
    patterns = []
    for path in _template_files():
        source = _JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for body, attrs in _executable(source):
            if "{%" in body:
                continue  # a script built by template logic is never allowed
            parts = _EXPRESSION.split(body)
            patterns.append(re.compile(_FILLED.join(re.escape(part) for part in parts), re.S))
    return tuple(dict.fromkeys(patterns))


def _executable(html: str):
    for match in _SCRIPT.finditer(html):
        attrs = match.group("attrs")
        kind = _TYPE.search(attrs)
        if _SRC.search(attrs) or (kind and kind.group(1).lower() not in _EXECUTED_TYPES):
            continue  # an external script, or a data block (JSON) that never runs
        yield match.group("body"), attrs


def is_known(body: str) -> bool:
    return any(pattern.fullmatch(body) for pattern in template_scripts())


def unknown_scripts(html: str) -> list[str]:
    """The executable inline scripts of a page that no template emits."""
    return [body for body, _attrs in _executable(html) if not is_known(body)]


def inline_script_hashes(html: str) -> list[str]:
    """'sha256-…' for every inline script of the page that a template emits, in page order."""
    hashes = []
    for body, _attrs in _executable(html):
        if not is_known(body):
            continue
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        token = f"'sha256-{base64.b64encode(digest).decode()}'"
        if token not in hashes:
            hashes.append(token)
    return hashes


def policy(html: str, runtime: bool) -> str:
    scripts = " ".join(["'self'", *inline_script_hashes(html), *(["'wasm-unsafe-eval'"] if runtime else [])])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def is_runtime_page(relative: str, languages: tuple[str, ...]) -> bool:
    """`relative` is the page's file under the site (``en/checker/index.html``)."""
    parts = relative.split("/")
    if len(parts) > 1 and parts[0] in languages:
        parts = parts[1:]
    path = "/".join(parts)
    return any(path == page + "index.html" for page in RUNTIME_PAGES)


def add_policy(html: str, runtime: bool) -> str:
    """The page with its policy as the first thing after ``<meta charset>`` (replacing any earlier one)."""
    html = _META.sub("", html)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy(html, runtime)}">'
    charset = re.search(r"<meta charset=[^>]*>\n?", html, re.I)
    if charset:
        return html[:charset.end()] + meta + "\n" + html[charset.end():]
    head = re.search(r"<head[^>]*>", html, re.I)
    if head is None:
        return html
    return html[:head.end()] + meta + html[head.end():]


def apply(site_dir: Path, languages: tuple[str, ...]) -> int:
    """Add the policy to every HTML file of a built site; returns how many.

    Raises UnknownScript, naming the page, when a page holds an inline script
    that no template emits (it would get no hash, and the browser would refuse it)."""
    count = 0
    for path in sorted(Path(site_dir).rglob("*.html")):
        relative = path.relative_to(site_dir).as_posix()
        html = path.read_text(encoding="utf-8")
        unknown = unknown_scripts(html)
        if unknown:
            start = " ".join(unknown[0].split())[:60]
            raise UnknownScript(f"{relative}: an inline script that no template emits ({start!r}); "
                                f"matrix text must not become script")
        updated = add_policy(html, is_runtime_page(relative, languages))
        if updated != html:
            path.write_text(updated, encoding="utf-8")
        count += 1
    return count

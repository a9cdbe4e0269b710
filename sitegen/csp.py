"""A Content-Security-Policy on every page, as a ``<meta>`` computed from the
final HTML: each inline script is allowed by its sha256 hash (no
'unsafe-inline'), so a script a template adds is covered at the next build and
anything injected into a page is not.

Only the pages that run the Python runtime (WebAssembly) get 'wasm-unsafe-eval';
they are listed once, in RUNTIME_PAGES.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

# Pages (their path without the language prefix) that start the Pyodide runtime.
RUNTIME_PAGES = ("checker/", "org/")

_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">\n?')
_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S | re.I)
_TYPE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.I)
_SRC = re.compile(r"\ssrc\s*=", re.I)
_EXECUTED_TYPES = {"", "module", "text/javascript", "application/javascript"}


def inline_script_hashes(html: str) -> list[str]:
    """'sha256-…' for every inline script a browser would run, in page order."""
    hashes = []
    for match in _SCRIPT.finditer(html):
        attrs = match.group("attrs")
        kind = _TYPE.search(attrs)
        if _SRC.search(attrs) or (kind and kind.group(1).lower() not in _EXECUTED_TYPES):
            continue  # an external script, or a data block (JSON) that never runs
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
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
    """Add the policy to every HTML file of a built site; returns how many."""
    count = 0
    for path in sorted(Path(site_dir).rglob("*.html")):
        relative = path.relative_to(site_dir).as_posix()
        html = path.read_text(encoding="utf-8")
        updated = add_policy(html, is_runtime_page(relative, languages))
        if updated != html:
            path.write_text(updated, encoding="utf-8")
        count += 1
    return count

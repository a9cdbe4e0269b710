"""What a public host needs from the built site: absolute addresses under the
site's public URL, a ``_headers`` file (Netlify, Cloudflare Pages), files
precompressed beside the large ones, and a link check.

Called by the MkDocs hook (``hooks/matrix_site.py``) after every page and after
the build, so ``build.py`` and ``mkdocs build`` produce the same site.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "build" / "precompressed"
SITE_URL_ENV = "SITE_URL"

# A year: files whose name changes with their content never need asking again.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Sent with every response. The pages carry their own script policy in a
# <meta> (an inline-script hash list); a header adds what a <meta> cannot say.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
}
# Large: worth a precompressed copy. Smaller files the host compresses on the fly.
LARGE = 8 * 1024
ALREADY_COMPRESSED = {".gz", ".br", ".whl", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".map"}
# A name that changes with the content: Material's bundles (main.1234abcd.min.css)
# and the folders the build names after a digest (assets/pyodide/<digest>/...).
HASHED_NAME = re.compile(r"\.[0-9a-f]{8}\.min\.(js|css)$")
HASHED_DIR = re.compile(r"^[0-9a-f]{16}$")


class SiteURLError(ValueError):
    pass


def normalize_site_url(value: str) -> str:
    """The public address as MkDocs wants it: absolute http(s), ending in '/'
    (checker.inputs.normalize_site_url: no query, fragment, spaces or control characters)."""
    from checker.inputs import SiteURLError as Refused, normalize_site_url as normalize

    try:
        return normalize(value, option="site URL")
    except Refused as exc:
        raise SiteURLError(str(exc)) from None


def public_url(site_url: str | None) -> str | None:
    """The address if it is a public one; None for a loopback address (mkdocs.yml's
    local default, `serve`), where links stay relative as they work on any port."""
    if not site_url or urlsplit(site_url).hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    return site_url


def base_path(site_url: str | None) -> str:
    """The path the site is served under: '/' or '/sub/path/'."""
    path = urlsplit(site_url).path if site_url else "/"
    return path if path.endswith("/") else path + "/"


# -- absolute alternates ---------------------------------------------------------
_ALTERNATE = re.compile(r'(<link rel="alternate" href=")([^"]*)(" hreflang="[^"]*">)')


def absolute_alternates(html: str, page_url: str | None) -> str:
    """The page's hreflang alternates as absolute addresses (search engines
    want them absolute), resolved against the page's own canonical address."""
    if not page_url or not public_url(page_url):
        return html
    return _ALTERNATE.sub(lambda m: m.group(1) + urljoin(page_url, m.group(2)) + m.group(3), html)


# -- after the build -------------------------------------------------------------
def finish_site(site_dir: Path, site_url: str | None, loaded, serving: bool = False) -> None:
    """Feeds with absolute links, the ``_headers`` file and, unless serving for
    development, the precompressed copies."""
    from . import atom_feed

    if public_url(site_url) and loaded is not None:
        for lang in loaded.languages:
            path = site_dir / "feeds" / f"{lang.lower()}.atom"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(atom_feed(loaded, lang, base=site_url), encoding="utf-8")
    selector_sitemaps(site_dir, site_url)
    (site_dir / "_headers").write_text(headers_file(site_dir, site_url), encoding="utf-8")
    if not serving:
        precompress(site_dir)


# -- the theme's language selector ----------------------------------------------
def selector_sitemaps(site_dir: Path, site_url: str | None) -> list[str]:
    """Material's language selector fetches ``sitemap.xml`` beside each hreflang
    alternate of the page (with mkdocs-static-i18n, the page's own folder in each
    language), and every miss is a 404 on the console. Each folder it asks gets a
    sitemap naming the site's pages at or under that folder (a sitemap names no
    address above its own). Returns the sitemaps written, relative to site_dir."""
    import xml.etree.ElementTree as ET

    whole = site_dir / "sitemap.xml"
    if not whole.is_file():
        return []
    base = base_path(site_url)
    wanted = set()
    for page in site_dir.rglob("*.html"):
        page_path = base + page.relative_to(site_dir).as_posix()
        for match in _ALTERNATE.finditer(page.read_text(encoding="utf-8")):
            asked = urlsplit(urljoin(urljoin(page_path, match.group(2)), "sitemap.xml")).path
            if asked.startswith(base) and asked != base + "sitemap.xml" and (site_dir / asked[len(base):]).parent.is_dir():
                wanted.add(asked[len(base):])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    ET.register_namespace("", ns["s"])
    ET.register_namespace("xhtml", ns["x"])
    for rel in sorted(wanted):
        folder = base + rel[: -len("sitemap.xml")]
        tree = ET.parse(whole)
        root = tree.getroot()
        for url in list(root):
            if not urlsplit(url.findtext("s:loc", "", ns)).path.startswith(folder):
                root.remove(url)
        ET.indent(root, space="    ")
        (site_dir / rel).write_bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n")
    return sorted(wanted)


def is_immutable(rel: str) -> bool:
    """Files served under a name that changes with their content."""
    parts = rel.split("/")
    if HASHED_NAME.search(parts[-1]):
        return True
    return len(parts) >= 4 and parts[0] == "assets" and parts[1] in ("pyodide", "checker") \
        and HASHED_DIR.match(parts[2]) is not None


def site_files(site_dir: Path) -> list[str]:
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*")
                  if p.is_file() and p.name != "_headers")


def headers_file(site_dir: Path, site_url: str | None) -> str:
    """Netlify's and Cloudflare Pages' ``_headers``: every rule names exact paths,
    so no two rules ever set the same header on one response."""
    base = base_path(site_url)
    files = site_files(site_dir)
    rules: dict[str, list[str]] = {}
    for rel in files:
        headers = []
        if is_immutable(rel):
            headers.append(f"Cache-Control: {IMMUTABLE}")
        elif rel.endswith(".html") or rel in ("assets/checker/manifest.json", "assets/checker/rules.json"):
            headers.append(f"Cache-Control: {REVALIDATE}")
        if rel.endswith(".wasm"):
            headers.append("Content-Type: application/wasm")
        if headers:
            rules[base + rel] = headers
            if rel == "index.html" or rel.endswith("/index.html"):
                rules[base + rel[:-len("index.html")]] = headers
    lines = [
        "# Generated by the site's build; see README, Publishing. Paths are under the",
        f"# site's public address ({public_url(site_url) or 'none given: built for /'}).",
        f"{base}*",
        *(f"  {k}: {v}" for k, v in COMMON_HEADERS.items()),
        "",
    ]
    for path, headers in rules.items():
        lines += [path, *(f"  {h}" for h in headers), ""]
    return "\n".join(lines)


# -- precompression --------------------------------------------------------------
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compressible(path: Path) -> bool:
    return path.suffix.lower() not in ALREADY_COMPRESSED and path.name != "_headers" \
        and path.stat().st_size >= LARGE


def precompress(site_dir: Path, cache: Path = CACHE) -> list[Path]:
    """``.gz`` and ``.br`` beside every large compressible file, kept only when
    they save at least a tenth. Brotli comes from Node's zlib (Node is already
    needed for the build); results are cached by content, so the 10 MB
    runtime is compressed once per machine, not once per build."""
    cache.mkdir(parents=True, exist_ok=True)
    todo = [p for p in sorted(site_dir.rglob("*")) if p.is_file() and compressible(p)]
    digests = {p: _digest(p.read_bytes()) for p in todo}
    missing_br = sorted({d for d in digests.values() if not (cache / (d + ".br")).exists()})
    if missing_br:
        sources = {digests[p]: p for p in todo}
        _brotli([(str(sources[d]), str(cache / (d + ".br"))) for d in missing_br])
    written = []
    for path in todo:
        data, digest = path.read_bytes(), digests[path]
        gz_cache = cache / (digest + ".gz")
        if not gz_cache.exists():
            tmp = gz_cache.with_suffix(".tmp")
            tmp.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
            tmp.replace(gz_cache)
        for suffix, cached in ((".gz", gz_cache), (".br", cache / (digest + ".br"))):
            packed = cached.read_bytes()
            if len(packed) <= 0.9 * len(data):
                out = path.with_name(path.name + suffix)
                out.write_bytes(packed)
                written.append(out)
    return written


_BROTLI_JS = r"""
const zlib = require("zlib"), fs = require("fs");
for (const [src, dst] of JSON.parse(fs.readFileSync(0, "utf8"))) {
  const data = fs.readFileSync(src);
  const out = zlib.brotliCompressSync(data, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
  fs.writeFileSync(dst + ".tmp", out);
  fs.renameSync(dst + ".tmp", dst);
}
"""


def _brotli(pairs: list[tuple[str, str]]) -> None:
    result = subprocess.run(["node", "-e", _BROTLI_JS], input=json.dumps(pairs),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("brotli compression (node) failed:\n" + result.stderr[-2000:])


# -- the link check ----------------------------------------------------------------
class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if a.get(attr) and not (tag == "link" and a.get("rel") in ("canonical", "alternate")):
                self.links.append(a[attr])


def allowed_hosts(loaded) -> set[str]:
    """The hosts the matrix's sources cite: the only places the site links to."""
    return {urlsplit(s["url"]).hostname for s in loaded.sources if s.get("url")}


def built_site_url(site_dir: Path) -> str | None:
    """The public address a built site was made for, from its home page's canonical link."""
    home = site_dir / "index.html"
    if not home.exists():
        return None
    found = re.search(r'<link rel="canonical" href="([^"]+)"', home.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def check_links(site_dir: Path, allowed: set[str], site_url: str | None = None) -> list[str]:
    """Every link and anchor of every page resolves inside the site; every
    external link goes to an allowed host. Returns one line per problem."""
    pages: dict[Path, _Links] = {}

    def parsed(path: Path) -> _Links:
        if path not in pages:
            p = _Links()
            p.feed(path.read_text(encoding="utf-8"))
            pages[path] = p
        return pages[path]

    site_url = site_url or built_site_url(site_dir)
    own = urlsplit(site_url) if site_url else None
    prefix = base_path(site_url)
    problems = []
    htmls = sorted(p for p in site_dir.rglob("*.html") if "assets" not in p.relative_to(site_dir).parts)
    for html in htmls:
        rel = html.relative_to(site_dir).as_posix()
        base = "http://site.invalid/" + rel
        for href in parsed(html).links:
            if href.startswith(("mailto:", "tel:", "data:", "blob:")):
                continue
            url = urlsplit(urljoin(base, href))
            if url.netloc in ("site.invalid", own.netloc if own else None) and url.path.startswith(prefix):
                # An absolute path or address under the site's own: a file of the site.
                url = urlsplit("http://site.invalid/" + url.path[len(prefix):]
                               + ("#" + url.fragment if url.fragment else ""))
            if url.scheme not in ("http", "https"):
                problems.append(f"{rel}: {href}: not a web link")
                continue
            if url.netloc != "site.invalid":
                if url.hostname not in allowed:
                    problems.append(f"{rel}: {href}: external host {url.hostname} is not allowed "
                                    f"(allowed: {', '.join(sorted(allowed))})")
                continue
            target = site_dir / unquote(url.path).lstrip("/")
            if url.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{rel}: {href}: no such file in the site")
                continue
            if url.fragment and target.suffix == ".html" and unquote(url.fragment) not in parsed(target).ids:
                problems.append(f"{rel}: {href}: no anchor #{url.fragment} in {target.relative_to(site_dir).as_posix()}")
    return problems


# -- serving the copies --------------------------------------------------------------
_CONTENT_NAMED = re.compile(r"/assets/(pyodide|checker)/[0-9a-f]{16}/")


def precompressed_handler():
    """A request handler for Python's http.server that serves a built site as
    nginx's gzip_static and brotli_static do: foo.br (or foo.gz) for foo, with
    Content-Encoding and Vary, when the client accepts it; else foo as it is.
    Content-named runtime files are sent as immutable, as the README's nginx
    block sends them. For the bench and the tests (a class made on demand, so
    importing this module starts no server machinery)."""
    import http.server
    import io

    class PrecompressedHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                path = path / "index.html"
            accepted = self.headers.get("Accept-Encoding", "")
            for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
                copy = path.with_name(path.name + suffix)
                if encoding in accepted and path.is_file() and copy.is_file():
                    body = copy.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", self.guess_type(str(path)))
                    self.send_header("Content-Encoding", encoding)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Vary", "Accept-Encoding")
                    if _CONTENT_NAMED.search(self.path):
                        self.send_header("Cache-Control", "public, max-age=31536000, immutable")
                    self.end_headers()
                    return io.BytesIO(body)
            return super().send_head()

    return PrecompressedHandler

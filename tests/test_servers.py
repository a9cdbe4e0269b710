"""README's serving recipes, run against real servers with a build for /sss/:

- Debian's nginx, started on loopback with the ``nginx`` block taken from README
  (not a copy), inside Debian's own nginx.conf;
- a plain static server that sends no header of the site's (as GitHub Pages);
- a static server that applies ``_headers`` as Netlify and Cloudflare Pages read it.

Each answers with the right content types, the headers the recipe promises, and
the checker page reaches the engine's verdict in Chromium with no failed request
and no console error.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import PUBLIC, REPO

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEBIAN_CONF = Path("/etc/nginx/nginx.conf")
IMMUTABLE = "public, max-age=31536000, immutable"
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "content-security-policy": "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
}


def readme_copy_step() -> str:
    """README's command that copies the built site/ where the nginx block serves it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    steps = [line for block in re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)
             for line in block.splitlines() if "/srv/www/sss" in line]
    assert len(steps) == 1, steps
    return steps[0].split("#")[0].strip()


def readme_nginx_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```nginx\n(.*?)^```$", text, flags=re.S | re.M)
    assert len(blocks) == 1, f"README should have one nginx block, has {len(blocks)}"
    assert "root /srv/www;" in blocks[0] and "location /sss/ {" in blocks[0]
    return blocks[0]


# -- the servers -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(prefix: Path, www: Path, port: int, block: str) -> str:
    """Debian's nginx.conf as installed, with this test's paths and one server."""
    if not DEBIAN_CONF.is_file():
        pytest.fail(f"{DEBIAN_CONF} is missing: Debian's nginx is not installed; `./run test` installs it")
    conf = DEBIAN_CONF.read_text(encoding="utf-8")
    server = (
        f"server {{\n    listen 127.0.0.1:{port};\n    server_name localhost;\n"
        f"    root {prefix / 'elsewhere'};\n"  # the rest of the server: nothing
        + block.replace("root /srv/www;", f"root {www};")
        + "}\n"
    )
    temp = "".join(f"{name}_temp_path {prefix / name};\n"
                   for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    replacements = [
        (r"^user\s+[^;]*;", "user root;" if os.geteuid() == 0 else ""),  # workers can read the test's tmp
        (r"^worker_processes\s+[^;]*;", "worker_processes 1;"),
        (r"^pid\s+[^;]*;", f"pid {prefix / 'nginx.pid'};"),
        (r"^(\s*)error_log\s+[^;]*;", rf"\1error_log {prefix / 'error.log'};"),
        (r"^(\s*)access_log\s+[^;]*;", rf"\1access_log {prefix / 'access.log'};"),
        (r"^\s*include /etc/nginx/conf\.d/\*\.conf;", ""),  # this machine's own sites stay out
        (r"^(\s*)include /etc/nginx/sites-enabled/\*;", lambda m: temp + server),
    ]
    for pattern, repl in replacements:
        conf, n = re.subn(pattern, repl, conf, count=1, flags=re.M)
        assert n == 1, f"{DEBIAN_CONF}: expected a line matching {pattern!r}"
    return conf


@pytest.fixture(scope="module")
def nginx(public_site, tmp_path_factory):
    if not os.access(NGINX, os.X_OK):
        pytest.fail("Debian's nginx is not installed; `./run test` installs it (apt-get install nginx)")
    prefix = tmp_path_factory.mktemp("nginx")
    www = prefix / "www"
    # README's copy step, run as written but for the paths (and without sudo)
    step = readme_copy_step().replace("sudo ", "").replace("/srv/www", str(www)).replace("site/.", f"{public_site}/.")
    subprocess.run(["bash", "-e", "-c", step], check=True, timeout=120)
    assert (www / "sss").is_dir() and not (www / "sss").is_symlink() and (www / "sss/en/checker/index.html").is_file()
    block = readme_nginx_block()
    for _ in range(3):
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, www, port, block), encoding="utf-8")
        # nginx's own prefix stays (Debian's load_module lines are relative to it); every
        # path it writes is in the test's folder
        args = [NGINX, "-e", str(prefix / "error.log"), "-c", str(conf)]
        checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        # no [warn] either (a duplicate MIME type, an ignored directive)
        assert "[warn]" not in checked.stderr and "[emerg]" not in checked.stderr, checked.stderr
        proc = subprocess.Popen([*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}/sss/"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(base, timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        if proc.poll() is None:
            break
        log = prefix / "error.log"
        err = proc.stderr.read() + (log.read_text(encoding="utf-8", errors="replace") if log.exists() else "")
        if "Address already in use" not in err:
            pytest.fail(f"nginx did not start: {err}")
    else:
        pytest.fail("nginx found no free port in three tries")
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """The built folder under /sss/ only, no header of the site's: a plain static host."""

    def translate_path(self, path):
        if not urlsplit(path).path.startswith("/sss/"):
            return str(Path(self.directory) / "no such file")
        return super().translate_path(path[len("/sss"):])

    def log_message(self, *args):
        pass


def parse_headers_file(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """``_headers`` as Netlify documents it: a path (``*`` matches any rest),
    then its headers indented as ``Name: value``; ``#`` starts a comment."""
    rules: list[tuple[str, list[tuple[str, str]]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            assert line.startswith("/"), f"_headers:{number}: a rule starts with a path: {line!r}"
            rules.append((line.strip(), []))
            continue
        assert rules, f"_headers:{number}: a header before any path"
        name, sep, value = line.strip().partition(":")
        assert sep and name and value.strip(), f"_headers:{number}: not 'Name: value': {line!r}"
        rules[-1][1].append((name.strip(), value.strip()))
    return rules


def headers_for(rules, path: str) -> list[tuple[str, str]]:
    found = []
    for pattern, headers in rules:
        regex = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
        if re.fullmatch(regex, path):
            found += headers
    return found


class HeadersFileHandler(StaticHandler):
    """A static host that knows only the usual types (not .wasm) and adds what
    ``_headers`` says for the path, as Netlify and Cloudflare Pages do."""

    rules: list = []
    extensions_map = {k: v for k, v in StaticHandler.extensions_map.items() if k != ".wasm"}

    def guess_type(self, path):
        return "application/octet-stream" if str(path).endswith(".wasm") else super().guess_type(path)

    def send_header(self, keyword, value):
        path = urlsplit(self.path).path
        override = {name.lower() for name, _ in headers_for(self.rules, path)}
        if keyword.lower() in override:
            return  # the rule's value replaces the host's
        super().send_header(keyword, value)

    def end_headers(self):
        if getattr(self, "_status", 200) < 400:
            for name, value in headers_for(self.rules, urlsplit(self.path).path):
                super().send_header(name, value)
        super().end_headers()

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)


def serve(handler, directory: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/sss/"


@pytest.fixture(scope="module")
def plain(public_site):
    server, base = serve(StaticHandler, public_site)
    yield base
    server.shutdown()


@pytest.fixture(scope="module")
def with_headers_file(public_site):
    class Handler(HeadersFileHandler):
        rules = parse_headers_file((public_site / "_headers").read_text(encoding="utf-8"))

    server, base = serve(Handler, public_site)
    yield base
    server.shutdown()


# -- requests ----------------------------------------------------------------------
def fetch(url: str, **headers):
    """(status, headers as a list of (lower-case name, value), body)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, [(k.lower(), v) for k, v in response.headers.items()], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, [(k.lower(), v) for k, v in error.headers.items()], error.read()


def one(headers, name: str) -> str | None:
    values = [v for k, v in headers if k == name]
    assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
    return values[0] if values else None


def content_type(headers) -> str:
    return (one(headers, "content-type") or "").split(";")[0].strip()


def samples(site: Path) -> dict[str, str]:
    """Paths (under /sss/) of each kind of file the checker needs."""
    manifest = json.loads((site / "assets/checker/manifest.json").read_text(encoding="utf-8"))
    css = next(p.name for p in (site / "assets/stylesheets").glob("main.*.min.css"))
    return {
        "page": "en/checker/",
        "worker": "javascripts/checker-worker.mjs",
        "runtime_mjs": f"assets/{manifest['runtime']}pyodide.mjs",
        "wasm": f"assets/{manifest['runtime']}pyodide.asm.wasm",
        "lock": f"assets/{manifest['runtime']}pyodide-lock.json",
        "manifest": "assets/checker/manifest.json",
        "rules": "assets/checker/" + manifest["rules"],
        "wheel": "assets/checker/" + manifest["wheel"],
        "snapshot": "assets/checker/" + manifest["snapshot"],
        "bundle": f"assets/stylesheets/{css}",
        "matrix": "api/v1/matrix.json",
    }


def check_types(base: str, site: Path) -> dict[str, list]:
    paths = samples(site)
    got = {}
    for kind, rel in paths.items():
        status, headers, body = fetch(base + rel)
        assert status == 200, (rel, status)
        got[kind] = headers
        local = site / rel / "index.html" if rel.endswith("/") else site / rel
        assert body == local.read_bytes(), f"{rel}: the body is not the file (no Accept-Encoding was sent)"
    assert content_type(got["page"]) == "text/html"
    for kind in ("worker", "runtime_mjs"):  # a module worker needs a JavaScript type
        assert content_type(got[kind]) in ("text/javascript", "application/javascript"), (kind, got[kind])
    assert one(got["wasm"], "content-type") == "application/wasm"  # exactly: streaming compilation
    for kind in ("manifest", "lock", "matrix"):
        assert content_type(got[kind]) == "application/json", (kind, got[kind])
    return got


def check_site_headers(got: dict[str, list]) -> None:
    for kind, headers in got.items():
        for name, value in COMMON.items():
            assert one(headers, name) == value, (kind, name, headers)
    for kind in ("runtime_mjs", "wasm", "lock", "wheel", "snapshot", "bundle"):
        assert one(got[kind], "cache-control") == IMMUTABLE, (kind, got[kind])
    # what names the content-named files, and the rules the page may fetch, revalidate
    for kind in ("page", "manifest", "rules"):
        assert one(got[kind], "cache-control") == "no-cache", (kind, got[kind])


# -- nginx -------------------------------------------------------------------------
def test_nginx_types_and_headers(nginx, public_site):
    got = check_types(nginx, public_site)
    check_site_headers(got)
    assert one(fetch(nginx + "index.html")[1], "cache-control") == "no-cache"


def test_nginx_sends_the_precompressed_copies(nginx, public_site):
    rel = samples(public_site)["wasm"]
    wasm = public_site / rel
    status, headers, body = fetch(nginx + rel, **{"Accept-Encoding": "gzip"})
    assert status == 200 and one(headers, "content-encoding") == "gzip"
    assert body == wasm.with_name(wasm.name + ".gz").read_bytes()  # the file as it is, not recompressed
    assert gzip.decompress(body) == wasm.read_bytes()
    assert one(headers, "content-type") == "application/wasm"
    assert one(headers, "cache-control") == IMMUTABLE
    assert "accept-encoding" in (one(headers, "vary") or "").lower()
    # a page: its .gz, and Vary there too; without Accept-Encoding the plain file
    status, headers, body = fetch(nginx + "en/", **{"Accept-Encoding": "gzip"})
    assert one(headers, "content-encoding") == "gzip"
    assert "accept-encoding" in (one(headers, "vary") or "").lower()
    assert gzip.decompress(body) == (public_site / "en/index.html").read_bytes()
    status, headers, body = fetch(nginx + "en/")
    assert one(headers, "content-encoding") is None and body == (public_site / "en/index.html").read_bytes()
    # brotli: the .br as it is, to a client that accepts it (Chromium sends "gzip, deflate, br, zstd")
    for accept in ("br", "gzip, deflate, br, zstd"):
        status, headers, body = fetch(nginx + rel, **{"Accept-Encoding": accept})
        assert status == 200 and one(headers, "content-encoding") == "br", accept
        assert body == wasm.with_name(wasm.name + ".br").read_bytes()
        assert one(headers, "content-type") == "application/wasm"
        assert "accept-encoding" in (one(headers, "vary") or "").lower()
    # a client that accepts neither gets the file itself
    status, headers, body = fetch(nginx + rel, **{"Accept-Encoding": "identity"})
    assert one(headers, "content-encoding") is None and body == wasm.read_bytes()


@pytest.mark.parametrize("lang,prefix", [("pt-BR", ""), ("en", "en/")])
def test_nginx_answers_a_missing_page_with_the_sites_404_in_its_language(nginx, public_site, lang, prefix):
    for missing in (f"{prefix}no-such-page/", f"{prefix}checker/no-such-file.js"):
        status, headers, body = fetch(nginx + missing)
        assert status == 404, missing
        assert body == (public_site / prefix / "404.html").read_bytes(), missing
        assert f'<html lang="{lang}"' in body.decode("utf-8")
        assert content_type(headers) == "text/html"
        for name, value in COMMON.items():
            assert one(headers, name) == value


def test_nginx_keeps_to_the_sub_path(nginx):
    status, _, _ = fetch(nginx.replace("/sss/", "/") + "index.html")
    assert status == 404


# -- the other hosts -----------------------------------------------------------------
def test_plain_static_server_types(plain, public_site):
    got = check_types(plain, public_site)
    assert not any(one(h, "content-security-policy") for h in got.values())  # really plain


def test_headers_file_gives_the_types_and_headers(with_headers_file, public_site):
    # the host alone sends .wasm as octet-stream: application/wasm comes from _headers
    got = check_types(with_headers_file, public_site)
    check_site_headers(got)
    text = (public_site / "_headers").read_text(encoding="utf-8")
    rules = parse_headers_file(text)
    paths = [p for p, _ in rules]
    assert len(paths) == len(set(paths)), "a path with two rules"
    for path in paths:  # every rule is under the site's path, and names a file that exists
        assert path.startswith("/sss/"), path
        if not path.endswith("*"):
            local = public_site / path[len("/sss/"):]
            assert local.is_file() or (local / "index.html").is_file(), path


def test_headers_file_parser_rejects_what_netlify_would():
    with pytest.raises(AssertionError, match="before any path"):
        parse_headers_file("  X-A: b\n")
    with pytest.raises(AssertionError, match="not 'Name: value'"):
        parse_headers_file("/sss/*\n  nonsense\n")
    rules = parse_headers_file("# c\n/sss/*\n  A: 1\n/sss/x.wasm\n  B: 2\n")
    assert headers_for(rules, "/sss/x.wasm") == [("A", "1"), ("B", "2")]
    assert headers_for(rules, "/other") == []


# -- Chromium ----------------------------------------------------------------------
# Hosts that answer every file as it is: the worker asks for the plain wasm, sees
# no Content-Encoding in its headers and drops that request for the gzipped copy
# (docs/javascripts/runtime-loader.mjs). Chromium reports the dropped download as
# net::ERR_ABORTED unless it had already finished; nothing else may fail.
COMPRESSES = {"nginx": True, "plain": False, "with_headers_file": False}
DROPPED = "net::ERR_ABORTED"


def run_checker_in_chromium(base: str, site: Path, compresses: bool) -> None:
    from .test_browser import CHROMIUM_ARGS, READY, playwright_api

    manifest = json.loads((site / "assets" / "checker" / "manifest.json").read_text(encoding="utf-8"))
    runtime = manifest["runtime_files"]
    assets = base + "assets/"
    wasm_plain, wasm_gz = assets + runtime["wasm_plain"], assets + runtime["wasm"]
    snapshot = assets + "checker/" + (manifest["snapshot"] if compresses else manifest["snapshot_gz"])
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Debian's chromium is not installed; `./run test` installs it (apt-get install chromium)")
    escaped, failed, finished, bad, console, warnings, answered = [], [], [], {}, [], [], []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()

            def guard(route):
                url = route.request.url
                if url.startswith(PUBLIC):  # the public address is this same site: serve it from here
                    route.fulfill(response=route.fetch(url=base + url[len(PUBLIC):]))
                elif urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
                    route.continue_()
                else:
                    escaped.append(url)
                    route.abort()

            def response(r):
                answered.append(r.url)
                if r.status >= 400:
                    bad[r.url] = r.status

            def message(m):
                if m.type == "warning":
                    warnings.append(m.text)
                if m.type != "error":
                    return
                where = (m.location or {}).get("url", "")
                console.append(f"{m.text} ({where})")

            context.route("**/*", guard)
            context.on("response", response)
            context.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
            context.on("requestfinished", lambda r: finished.append(r.url))
            page = context.new_page()
            page.on("console", message)
            page.on("pageerror", lambda e: console.append(str(e)))
            page.goto(base + "en/checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
            # the verdict from the in-browser engine (not the one the build computed)
            page.wait_for_function(
                """() => document.getElementById("sss-verdict").getAttribute("data-status") === "unsupported" &&
                   document.getElementById("sss-verdict").getAttribute("data-source") !== "build" """,
                timeout=READY)
            context.close()
        finally:
            browser.close()
    # the one request the loader drops on purpose, and only where the host does not compress
    dropped = [(url, why) for url, why in failed if not compresses and url == wasm_plain and why == DROPPED]
    failed = [f"{url}: {why}" for url, why in failed if (url, why) not in dropped]
    assert not escaped and not failed and not bad and not console, (escaped, failed, bad, console)
    # the plain wasm was asked for first everywhere; its headers came, then the
    # request either ran to its end (compiled from it) or was dropped for the .gz
    assert answered.count(wasm_plain) == 1, sorted(answered)
    assert len(dropped) + finished.count(wasm_plain) == 1, (dropped, finished)
    if compresses:
        assert wasm_gz not in answered, sorted(answered)  # (an abort here failed above)
    else:
        assert wasm_gz in finished, sorted(finished)
    # the snapshot came from this server in the form this host needs, and was used
    assert snapshot in finished, sorted(finished)
    assert not [w for w in warnings if "without the snapshot" in w], warnings


@pytest.mark.parametrize("server", ["nginx", "plain", "with_headers_file"])
def test_checker_reaches_the_engines_verdict(server, request, public_site):
    run_checker_in_chromium(request.getfixturevalue(server), public_site, COMPRESSES[server])

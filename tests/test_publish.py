"""The site built for a public address and served under a sub-path, as GitHub
Pages serves a project site: absolute addresses, every file reachable, the
_headers file, the precompressed copies, the link check. The checker working
under each kind of server is tests/test_servers.py's."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from sitegen import publish

from .conftest import PUBLIC, REPO

TEXT_SUFFIXES = {".html", ".xml", ".atom", ".json", ".js", ".mjs", ".css", ".txt", ""}


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built folder under /sss/ only, like a project site on GitHub Pages."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm"}

    def translate_path(self, path):
        if not urlsplit(path).path.startswith("/sss/"):
            return str(Path(self.directory) / "no such file")
        return super().translate_path(path[len("/sss"):])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(public_site):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SubPathHandler, directory=str(public_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sss/"
    server.shutdown()


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.canonical, self.alternates, self.og_url = [], None, {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("property") == "og:url":
            self.og_url.append(a.get("content"))
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a["href"]
        elif tag == "link" and a.get("rel") == "alternate" and "hreflang" in a:
            self.alternates[a["hreflang"]] = a["href"]
        else:
            for attr in ("href", "src"):
                if a.get(attr):
                    self.refs.append(a[attr])


def refs(path: Path) -> Refs:
    parser = Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts)


def status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_no_page_names_the_local_address(public_site):
    named = [p.relative_to(public_site).as_posix() for p in public_site.rglob("*")
             if p.is_file() and p.suffix in TEXT_SUFFIXES and not p.name.endswith(".map")
             and "127.0.0.1" in p.read_text(encoding="utf-8", errors="replace")]
    assert not named
    assert "127.0.0.1" not in gzip.decompress((public_site / "sitemap.xml.gz").read_bytes()).decode()


def test_not_found_pages_link_each_language_home_under_the_address(public_site):
    from .test_site import not_found_language_links

    for rel in ("404.html", "en/404.html"):
        html = (public_site / rel).read_text(encoding="utf-8")
        assert not_found_language_links(html) == {"pt-BR": {PUBLIC}, "en": {PUBLIC + "en/"}}, rel


def test_canonical_and_alternates_are_absolute_under_the_address(public_site):
    for html in pages(public_site):
        if html.name == "404.html":
            assert refs(html).og_url == [], html  # a 404 page has no address of its own
            continue
        rel = html.relative_to(public_site).parent.as_posix().strip(".")
        parsed = refs(html)
        assert parsed.canonical == PUBLIC + (rel + "/" if rel else ""), html
        assert parsed.og_url == [parsed.canonical], html  # link previews name the page's address
        pt = rel.removeprefix("en").strip("/")
        en = ("en/" + pt).strip("/")
        expected = {"pt-BR": PUBLIC + (pt + "/" if pt else ""), "en": PUBLIC + en + "/"}
        assert parsed.alternates == expected, html


def test_sitemap_and_feeds_are_absolute(public_site, loaded):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.parse(public_site / "sitemap.xml").getroot()
    locs = [e.text for e in root.findall("s:url/s:loc", ns)]
    alternates = [e.get("href") for e in root.findall("s:url/x:link", ns)]
    assert len(locs) >= 2 * len(loaded.pages) and alternates
    assert all(u.startswith(PUBLIC) for u in locs + alternates), locs + alternates
    assert any(u.startswith(PUBLIC + "en/") for u in locs) and any(not u.startswith(PUBLIC + "en/") for u in locs)
    atom = "{http://www.w3.org/2005/Atom}"
    for lang in loaded.languages:
        feed = ET.parse(public_site / "feeds" / f"{lang.lower()}.atom").getroot()
        links = [link.get("href") for link in feed.iter(atom + "link")]
        assert len(links) == 2 + len(loaded.changelog)
        assert all(href.startswith(PUBLIC) for href in links), links
        prefix = "" if lang == loaded.languages[0] else "en/"
        assert f"{PUBLIC}{prefix}changes/" in links


def test_every_referenced_file_answers_under_the_sub_path(public_site, served):
    """Every page, and every file a page, the manifest or the worker names."""
    wanted = set()
    for html in pages(public_site):
        page_url = served + html.relative_to(public_site).as_posix()
        wanted.add(page_url)
        for ref in refs(html).refs:
            url = urljoin(page_url, ref)
            if url.startswith(PUBLIC):
                url = served + url[len(PUBLIC):]
            if urlsplit(url).hostname == "127.0.0.1":
                wanted.add(url.split("#")[0])
    manifest_url = served + "assets/checker/manifest.json"
    manifest = json.loads(urllib.request.urlopen(manifest_url, timeout=30).read())
    assets = served + "assets/"
    runtime = urljoin(assets, manifest["runtime"])
    assert re.fullmatch(r"pyodide/[0-9a-f]{16}/", manifest["runtime"])
    wanted |= {
        manifest_url, served + "checker/", served + "en/checker/",
        served + "javascripts/checker-worker.mjs", served + "javascripts/checker.js",
        urljoin(assets, "checker/" + manifest["wheel"]), urljoin(assets, "checker/" + manifest["snapshot"]),
        urljoin(assets, "checker/" + manifest["snapshot_gz"]), urljoin(assets, "checker/" + manifest["stdlib"]),
        urljoin(assets, "checker/" + manifest["rules"]),
        *(runtime + name for name in ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm",
                                      "python_stdlib.zip", "pyodide-lock.json")),
        served + "api/v1/matrix.json", served + "feeds/en.atom", served + "sitemap.xml",
        # the sitemaps the theme's language selector asks for, beside each alternate
        served + "en/sitemap.xml", served + "checker/sitemap.xml", served + "en/checker/sitemap.xml",
    }
    assert len(wanted) > 40
    failed = {url: code for url in sorted(wanted) if (code := status(url, "HEAD")) != 200}
    assert not failed
    # and the site is not reachable at the host's root: it really is served under /sss/ only
    assert status(served.replace("/sss/", "/") + "index.html", "HEAD") == 404


def test_headers_file(public_site):
    text = (public_site / "_headers").read_text(encoding="utf-8")
    rules: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            current = None
        elif not line.startswith(" "):
            current = line
            assert current not in rules, f"{current} has two rules"
            rules[current] = []
        else:
            assert current, line
            rules[current].append(line.strip())
    manifest = json.loads((public_site / "assets/checker/manifest.json").read_text())
    immutable = "Cache-Control: public, max-age=31536000, immutable"
    for rel in (f"assets/checker/{manifest['wheel']}", f"assets/checker/{manifest['snapshot']}",
                f"assets/{manifest['runtime']}pyodide.asm.wasm", f"assets/{manifest['runtime']}pyodide.mjs"):
        assert rules["/sss/" + rel] == [immutable] or immutable in rules["/sss/" + rel], rel
    wasm = f"/sss/assets/{manifest['runtime']}pyodide.asm.wasm"
    assert "Content-Type: application/wasm" in rules[wasm]
    for path in ("/sss/assets/checker/manifest.json", "/sss/en/checker/", "/sss/", "/sss/index.html"):
        assert rules[path] == ["Cache-Control: no-cache"], path
    assert any(h.startswith("X-Content-Type-Options: nosniff") for h in rules["/sss/*"])
    # no file gets two Cache-Control values: each path has one rule, and the catch-all sets none
    assert not [h for h in rules["/sss/*"] if h.startswith("Cache-Control")]
    # every file named exists
    for path in rules:
        if path.endswith("*"):
            continue
        local = public_site / path[len("/sss/"):]
        assert local.is_file() or (local / "index.html").is_file(), path


def test_large_files_are_precompressed_beside_them(public_site):
    manifest = json.loads((public_site / "assets/checker/manifest.json").read_text())
    wasm = public_site / "assets" / manifest["runtime"] / "pyodide.asm.wasm"
    for suffix in (".gz", ".br"):
        packed = wasm.with_name(wasm.name + suffix)
        assert packed.exists() and packed.stat().st_size < 0.5 * wasm.stat().st_size
    assert gzip.decompress(wasm.with_name(wasm.name + ".gz").read_bytes()) == wasm.read_bytes()
    # the .br decodes to the same bytes (Node's zlib: Python's standard library has no brotli)
    out = subprocess.run(["node", "-e", "process.stdout.write(require('zlib').brotliDecompressSync("
                          "require('fs').readFileSync(process.argv[1])))", str(wasm) + ".br"],
                         capture_output=True, check=True).stdout
    assert out == wasm.read_bytes()
    for html in pages(public_site)[:3]:
        assert gzip.decompress(html.with_name(html.name + ".gz").read_bytes()) == html.read_bytes()
    # the snapshot: packed, and gzipped beside it (for hosts that do not compress)
    snapshot = public_site / "assets/checker" / manifest["snapshot"]
    assert gzip.decompress((public_site / "assets/checker" / manifest["snapshot_gz"]).read_bytes()) == snapshot.read_bytes()
    # small files and files already compressed get no copy
    assert not (public_site / "assets/checker" / (manifest["wheel"] + ".gz")).exists()
    assert not list(public_site.rglob("*.gz.gz")) and not list(public_site.rglob("*.br.gz"))


def test_link_check_passes_and_catches_what_it_should(public_site, tmp_path, loaded):
    allowed = publish.allowed_hosts(loaded)
    assert allowed == {"learn.microsoft.com"}
    assert publish.check_links(public_site, allowed) == []
    result = subprocess.run([sys.executable, "build.py", "--check-links", str(public_site)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "external hosts: learn.microsoft.com" in result.stdout
    broken = tmp_path / "site"
    shutil.copytree(public_site, broken)
    page = broken / "en" / "notes" / "index.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace("</article>", '<a href="../support-matrix/#no-such-anchor">x</a>'
                                      '<a href="../no-such-page/">y</a>'
                                      '<a href="https://example.com/">z</a>'
                                      '<a href="/sss/en/checker/#sss-verdict">ok</a></article>', 1)
    page.write_text(html, encoding="utf-8")
    problems = publish.check_links(broken, allowed)
    assert len(problems) == 3, problems
    assert any("#no-such-anchor" in p for p in problems)
    assert any("no-such-page" in p and "no such file" in p for p in problems)
    assert any("example.com is not allowed" in p for p in problems)
    result = subprocess.run([sys.executable, "build.py", "--check-links", str(broken)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "3 broken or disallowed link(s)" in result.stderr


def test_site_url_is_checked():
    assert publish.normalize_site_url("https://example.org/sss") == "https://example.org/sss/"
    for bad in ("example.org", "ftp://example.org/", "https://example.org/?x=1", "/sss/", ""):
        with pytest.raises(publish.SiteURLError, match="expected an absolute http"):
            publish.normalize_site_url(bad)
    result = subprocess.run([sys.executable, "build.py", "--site-url", "example.org"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "expected an absolute http(s) address" in result.stderr
    assert "Traceback" not in result.stderr


def _workflow() -> dict:
    import yaml

    return yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))


def test_pages_workflow_tests_builds_and_deploys():
    flow = _workflow()
    jobs = flow["jobs"]
    steps = jobs["test-and-build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert "./run test" in runs  # the README's test command
    # its checkout has no shared/ beside it, and the test step says so
    test_step = next(s for s in steps if s.get("run") == "./run test")
    assert test_step["env"]["SSS_TESTS_WITHOUT_SHARED"] == "1"
    assert "actions/configure-pages" in uses and "actions/upload-pages-artifact" in uses
    build_step = next(s for s in steps if "./run build" in s.get("run", ""))
    assert build_step["env"]["SITE_URL"].startswith("${{ steps.pages.outputs.base_url }}")
    assert "build.py --check-links" in build_step["run"]
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test-and-build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert "refs/heads/main" in deploy["if"]
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}


def test_pull_request_step_writes_the_verdict_diff(tmp_path):
    """The workflow's own script, run here against an older matrix and the same one."""
    step = next(s for s in _workflow()["jobs"]["test-and-build"]["steps"] if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert step["if"] == "github.event_name == 'pull_request'"
    assert "python -m checker diff \"$BASE\" --lang en" in step["run"]
    git = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)  # noqa: E731
    last = git("log", "-1", "--format=%H", "--", "matrix/").stdout.strip()
    if not last or git("rev-parse", "--verify", "-q", last + "~1").returncode != 0:
        pytest.skip("this clone has no history of matrix/")
    for base, expect_diff in ((last + "~1", True), ("HEAD", False)):
        summary = tmp_path / f"summary-{expect_diff}.md"
        summary.write_text("")
        result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=REPO, capture_output=True, text=True,
                                env={**__import__("os").environ, "BASE": base, "GITHUB_STEP_SUMMARY": str(summary)})
        assert result.returncode == 0, result.stderr
        text = summary.read_text(encoding="utf-8")
        if expect_diff:
            assert text.startswith("## What this change to matrix/ does to verdicts")
            assert " configurations change verdict" in text and text.rstrip().endswith("```")
        else:
            assert text == "" and "matrix/ is unchanged" in result.stdout

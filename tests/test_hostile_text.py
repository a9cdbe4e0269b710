"""Matrix text is text: script and event-handler markup written into every kind of
matrix text is refused by `validate` (HTML tags) or shown on the built page as
text (everything else), and nothing injected runs in Chromium.

The hostile site is built from a copy of the matrix into a temporary docs/ and
site/ (the checkout's docs/ and compiled rules are not touched)."""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import shutil
import subprocess
import sys
import threading

import pytest
import yaml

from sitegen import csp

from .conftest import REPO
from .test_browser import QuietHandler, browser  # noqa: F401  (fixture)

# No HTML tag, so validate lets it through: attribute lists, a javascript: link,
# quotes that would end an attribute, a code span with a quote, a table pipe.
HOSTILE = ('Zq1 { onclick="window.__pwned=1" } {: onmouseover="window.__pwned=2" } '
           '[dare](javascript:window.__pwned=3) " onfocus="window.__pwned=4" x=" `a"b` | \\ Zq2')
# With tags: refused by validate; written past it (into the loaded matrix), still text.
TAGS = '<script>window.__pwned=5</script><img src=x onerror="window.__pwned=6"><a href="javascript:window.__pwned=7">a</a>'


def cli(*args):
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def english_texts(node, edit, path=()):
    """Call edit(path, dict) on every localized text of a matrix file."""
    if isinstance(node, dict):
        if "en" in node and "pt-BR" in node and all(isinstance(v, str) for v in node.values()):
            edit(path, node)
            return
        for key, value in node.items():
            english_texts(value, edit, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            english_texts(item, edit, path + (i,))


def hostile_matrix(target, text, only=None):
    shutil.copytree(REPO / "matrix", target)
    count = 0
    for path in sorted(target.glob("*.yaml")):
        if only and path.name != only:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def edit(_where, node):
            nonlocal count
            node["en"] = node["en"] + " " + text
            count += 1

        english_texts(data, edit)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return count


# -- validate ---------------------------------------------------------------------------
KINDS = [("support-matrix.yaml", "an entry's title, text, remedy, protocols and rule messages"),
         ("notes.yaml", "notes"), ("questions.yaml", "question labels, help and value labels"),
         ("sources.yaml", "source titles"), ("changelog.yaml", "change summaries"),
         ("strings.yaml", "interface strings"), ("dataverse.yaml", "organization notices")]


@pytest.mark.parametrize("file,what", KINDS, ids=[k[0] for k in KINDS])
def test_validate_refuses_html_in_every_kind_of_text(tmp_path, file, what):
    count = hostile_matrix(tmp_path / "matrix", TAGS, only=file)
    assert count, file
    result = cli("validate", "--matrix", str(tmp_path / "matrix"))
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    refused = [line for line in result.stderr.splitlines() if "HTML markup" in line]
    assert len(refused) == count, (what, result.stderr[-2000:])
    assert all(line.startswith(f"matrix/{file}:") and ".en: HTML markup ('<script'" in line for line in refused)


def test_the_reported_title_is_refused(tmp_path):
    target = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", target)
    path = target / "notes.yaml"
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    title = data["page"]["title"]["en"]
    path.write_text(text.replace(f"en: {title}", f"en: {title} <script>alert(1)</script>", 1), encoding="utf-8")
    result = cli("validate", "--matrix", str(target))
    assert result.returncode == 1
    assert "matrix/notes.yaml:" in result.stderr and "page.title.en: HTML markup ('<script'...) is not allowed" \
        in result.stderr, result.stderr


# -- the built site ------------------------------------------------------------------------
def build_hostile(tmp_path):
    """Render a hostile matrix and build it with MkDocs into tmp_path/site."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import sitegen
    from tooling import matrix as tooling

    matrix = tmp_path / "matrix"
    hostile_matrix(matrix, HOSTILE)
    result = cli("validate", "--matrix", str(matrix))
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = tooling.load(matrix)
    # Past validate: tags in every entry's English text, as if written in by hand.
    for _page, _section, entry in tooling.iter_entries(loaded):
        entry["text"]["en"] += " " + TAGS
    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs", docs, ignore=shutil.ignore_patterns("*.md", "api", "feeds", "assets"))
    (docs / "assets").mkdir()
    for item in (REPO / "docs" / "assets").iterdir():
        if item.name == "pyodide":  # large, and only read
            os.symlink(item, docs / "assets" / item.name)
        elif item.is_dir():
            shutil.copytree(item, docs / "assets" / item.name)
        else:
            shutil.copy2(item, docs / "assets" / item.name)
    compiled = tooling.compile_rules(loaded)
    sitegen.write_pages(sitegen.render_pages(loaded, compiled), docs)
    for name, text in sitegen.data_files(loaded, compiled).items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    site = tmp_path / "site"
    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(site),
                         hooks=[str(REPO / "hooks" / "reader.py")])
    build(config)
    from sitegen.publish import selector_sitemaps

    selector_sitemaps(site, None)  # as the site's own build does: the theme's language selector asks for them
    csp.apply(site, loaded.languages)  # fails on any inline script no template emits
    return site


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    return build_hostile(tmp_path_factory.mktemp("hostile"))


class Scan(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.handlers, self.js_links, self.text, self.meta = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            found = dict(attrs)
            self.meta[found.get("name") or found.get("property")] = found.get("content")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name, value))
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.js_links.append((tag, value))

    def handle_data(self, data):
        self.text.append(data)


PAGES = ["en/", "en/support-matrix/", "en/notes/", "en/unsupported/", "en/exchange-online/", "en/cross-tenant/",
         "en/changes/", "en/checker/", "en/org/"]


@pytest.mark.parametrize("page", PAGES)
def test_the_built_page_shows_hostile_text_as_text(hostile_site, page):
    html_text = (hostile_site / page / "index.html").read_text(encoding="utf-8")
    scan = Scan()
    scan.feed(html_text)
    assert not scan.handlers, scan.handlers[:3]
    assert not scan.js_links, scan.js_links[:3]
    assert "__pwned" not in " ".join(body for body, _a in csp._executable(html_text))
    text = "".join(scan.text)
    assert "Zq1" in text
    shown = " ".join(text.split())
    assert '{ onclick="window.__pwned=1" } {: onmouseover="window.__pwned=2" }' in shown, page
    assert '[dare](javascript:window.__pwned=3) " onfocus="window.__pwned=4" x="' in shown
    if page in ("en/notes/", "en/support-matrix/"):
        assert TAGS in shown, "tags written past validate show as text"
        # the page's title and description, in the theme's <meta> and link previews: text, once escaped
        for name in ("description", "og:description", "og:title", "twitter:title"):
            assert 'onclick="window.__pwned=1"' in scan.meta[name] and "&#" not in scan.meta[name], \
                (name, scan.meta[name])


def test_no_injected_script_runs_in_chromium(hostile_site, browser):  # noqa: F811
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(hostile_site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    context = browser.new_context()
    try:
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in PAGES:
            page.goto(base + path)
            page.wait_for_load_state("load")
            # Poke every element the way a reader would.
            page.evaluate("""() => { for (const el of document.querySelectorAll("body *")) {
                for (const kind of ["mouseover", "focus", "click"]) {
                  try { el.dispatchEvent(new Event(kind, {bubbles: false})); } catch (e) {}
                } } }""")
            found = page.evaluate("""() => ({
                pwned: window.__pwned === undefined ? null : window.__pwned,
                handlers: [...document.querySelectorAll("*")].flatMap(
                    el => [...el.attributes].filter(a => a.name.startsWith("on")).map(a => a.name)),
                text: document.body.innerText.includes('onclick="window.__pwned=1"')})""")
            assert found["pwned"] is None and not found["handlers"], (path, found)
            assert found["text"], path
        assert not dialogs
    finally:
        context.close()
        server.shutdown()

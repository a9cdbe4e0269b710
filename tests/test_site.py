"""The built site: every entry in both languages, links that resolve, nothing off-site."""

from __future__ import annotations

import hashlib
import json
import re
import os
import shutil
import subprocess
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import jsonschema
import pytest

import build
from tooling import matrix as tooling

from .conftest import REPO

LANG_PREFIX = {"pt-BR": "", "en": "en/"}


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.resources, self.alternates, self.lang = set(), [], [], {}, None
        self.switcher = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if "md-select__link" in (a.get("class") or "") and "hreflang" in a:
                self.switcher[a["hreflang"]] = a["href"]
        if tag in ("script", "img", "iframe", "audio", "video", "source") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "")
            if rel == "alternate" and "hreflang" in a:
                self.alternates[a["hreflang"]] = a["href"]
            elif rel not in ("canonical", "alternate"):
                self.resources.append(a["href"])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_files(site: Path):
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.parts)


def page_file(site: Path, url_path: str) -> Path:
    path = site / url_path.lstrip("/")
    return path / "index.html" if url_path.endswith("/") or path.is_dir() else path


def test_every_entry_and_section_has_an_anchor_in_both_languages(site, loaded):
    for lang, prefix in LANG_PREFIX.items():
        for _doc, page in loaded.pages:
            html = page_file(site, f"{prefix}{page['page']['id']}/")
            parsed = parse(html)
            text = html.read_text(encoding="utf-8")
            assert parsed.lang == lang  # "pt-BR", not the theme's "pt"
            for section in page["sections"]:
                assert section["id"] in parsed.ids
                for entry in section["entries"]:
                    assert entry["id"] in parsed.ids, (lang, entry["id"])
                    assert _html_text(entry["title"][lang]) in text, (lang, entry["id"])
                    for fact in entry["facts"]:
                        assert fact in text


def _html_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


def test_every_email_system_is_named_in_both_languages(site, loaded):
    systems = next(q for q in loaded.questions if q["id"] == "email_system")["values"]
    for lang, prefix in LANG_PREFIX.items():
        text = "".join(page_file(site, f"{prefix}{p['page']['id']}/").read_text(encoding="utf-8")
                       for _d, p in loaded.pages)
        for value in systems:
            if value["id"] == "other-pop3-imap":
                continue  # a category, not a product: the notes page names it in a sentence
            assert _html_text(value["label"][lang]) in text, (lang, value["id"])


def test_every_finding_link_resolves_to_an_anchor(site, loaded):
    compiled = tooling.compile_rules(loaded)
    for rule in compiled["rules"]:
        for lang, link in rule["link"].items():
            path, anchor = link.split("#")
            assert path.startswith(LANG_PREFIX[lang])
            assert anchor in parse(page_file(site, path)).ids, (rule["id"], link)


def test_internal_links_resolve(site):
    for html in html_files(site):
        base = "http://site/" + str(html.relative_to(site))
        for href in parse(html).links:
            url = urlparse(urljoin(base, href))
            if url.scheme in ("mailto",) or url.netloc not in ("site", ""):
                continue
            target = site / url.path.lstrip("/")
            if url.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            assert target.exists(), (html.relative_to(site), href)
            if url.fragment and target.suffix == ".html":
                assert url.fragment in parse(target).ids, (html.relative_to(site), href)


def test_no_page_loads_anything_off_site(site):
    for html in html_files(site):
        for ref in parse(html).resources:
            assert not urlparse(ref).netloc and not ref.startswith("//"), (html.relative_to(site), ref)
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(r"@import\s+['\"]([^'\"]+)", text):
            assert not re.match(r"(https?:)?//", ref), (css, ref)
    for js in (site / "javascripts").glob("*js"):  # not the precompressed .gz/.br
        assert not re.search(r"""(import|fetch|importScripts)\s*\(?\s*['"`]https?://""", js.read_text())


def test_language_switcher_points_to_the_same_page(site):
    pages = [p for p in html_files(site) if p.name == "index.html" and "en" not in p.relative_to(site).parts[:1]]
    assert len(pages) >= 7
    for html in pages:
        rel = html.relative_to(site).parent
        twin = site / "en" / rel / "index.html"
        assert twin.exists(), rel
        for source, lang, expected in ((html, "en", twin), (twin, "pt-BR", html)):
            parsed = parse(source)
            base = "http://site/" + str(source.relative_to(site))
            for where in (parsed.switcher, parsed.alternates):
                target = urlparse(urljoin(base, where[lang])).path
                assert page_file(site, target) == expected, (source.relative_to(site), where[lang])


def test_theme_labels_follow_the_language(site):
    pt = (site / "checker" / "index.html").read_text(encoding="utf-8")
    en = (site / "en" / "checker" / "index.html").read_text(encoding="utf-8")
    assert 'placeholder="Buscar"' in pt and 'placeholder="Search"' in en
    assert "Índice" in (site / "notes" / "index.html").read_text(encoding="utf-8")
    assert "Table of contents" in (site / "en" / "notes" / "index.html").read_text(encoding="utf-8")
    assert "13/01/2022" in (site / "notes" / "index.html").read_text(encoding="utf-8")
    assert "2022-01-13" in (site / "en" / "notes" / "index.html").read_text(encoding="utf-8")


def test_only_the_checker_page_loads_the_runtime(site):
    for html in html_files(site):
        resources = " ".join(parse(html).resources)
        is_checker = html.parent.name == "checker"
        assert ("checker.js" in resources) == is_checker, html.relative_to(site)
        assert "pyodide" not in resources


def test_json_export_and_its_schema(site, loaded):
    export = json.loads((site / "api/v1/matrix.json").read_text(encoding="utf-8"))
    schema = json.loads((site / "api/v1/matrix.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {r["id"] for r in export["rules"]} == {r["id"] for r in tooling.compile_rules(loaded)["rules"]}
    entries = {e["id"] for p in export["pages"] for s in p["sections"] for e in s["entries"]}
    assert entries == {e["id"] for _p, _s, e in tooling.iter_entries(loaded)}
    validator = jsonschema.Draft202012Validator(schema)
    for doc in loaded.docs:  # the published schema is the one the matrix files follow
        validator.validate(doc.data)
    config_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/configuration"}
    jsonschema.validate({"deployment": "online", "email_system": "gmail", "sync": ["email"]}, config_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"deployment": "cloud", "email_system": "gmail"}, config_schema)


def test_generated_pages_say_where_they_come_from(site):
    for name in ("support-matrix.md", "unsupported.en.md", "checker.md"):
        head = (REPO / "docs" / name).read_text(encoding="utf-8").splitlines()[1]
        assert head.startswith("# generated: from matrix/") and "do not edit by hand" in head
    text = (site / "en" / "unsupported" / "index.html").read_text(encoding="utf-8")
    assert "Page generated from matrix/unsupported.yaml" in text


def digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_builds_on_two_days_are_byte_identical(site, tmp_path, monkeypatch):
    """The second build runs with MkDocs' clock 400 days and 13 hours ahead: the
    pages' date (sitemap.xml's lastmod, sitemap.xml.gz's time stamp) is the last
    commit's, so sitemap.xml.gz is compared too."""
    import gzip

    import mkdocs.utils

    from .clock import later_class

    assert "SOURCE_DATE_EPOCH" not in os.environ, "unset SOURCE_DATE_EPOCH: the builds must find the date"
    docs_before = digest_tree(REPO / "docs")
    monkeypatch.setattr(mkdocs.utils, "datetime", later_class(400.55))
    today = datetime.now(timezone.utc).date().isoformat()
    assert mkdocs.utils.get_build_date() > today  # the clock is ahead
    again = tmp_path / "site"
    assert build.build_site(again) == 0
    assert "SOURCE_DATE_EPOCH" not in os.environ  # the build leaves the environment as it was
    first, second = digest_tree(site), digest_tree(again)
    assert first == second
    assert digest_tree(REPO / "docs") == docs_before
    # the date is the commit's
    built = datetime.fromtimestamp(int(build.source_date_epoch()), timezone.utc)
    assert f"<lastmod>{built.date().isoformat()}</lastmod>" in (again / "sitemap.xml").read_text(encoding="utf-8")
    # gzip's MTIME field (bytes 4-8): midnight UTC of that date
    assert gzip.decompress((again / "sitemap.xml.gz").read_bytes())
    assert int.from_bytes((again / "sitemap.xml.gz").read_bytes()[4:8], "little") == int(
        datetime(built.year, built.month, built.day, tzinfo=timezone.utc).timestamp())


def test_the_build_date_is_the_last_commit_touching_the_inputs(tmp_path, monkeypatch):
    """A commit that touches only tests/ keeps the date; outside a git checkout the
    date is the matrix changelog's newest (both without a clock)."""
    repo = tmp_path / "repo"
    (repo / "matrix").mkdir(parents=True)
    (repo / "tests").mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    for rel, when in (("matrix/a.yaml", "2024-03-04T05:06:07Z"), ("tests/b.py", "2025-01-01T00:00:00Z")):
        (repo / rel).write_text("x\n", encoding="utf-8")
        subprocess.run([*git, "add", rel], cwd=repo, check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", rel], cwd=repo, check=True,
                       env={**os.environ, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when})
    monkeypatch.setattr(build, "REPO", repo)
    assert build.source_date_epoch() == "1709528767"  # 2024-03-04T05:06:07Z
    monkeypatch.setattr(build, "REPO", tmp_path)  # not a git checkout
    newest = max(str(change["date"]) for change in tooling.load().changelog)
    expected = datetime.fromisoformat(newest).replace(tzinfo=timezone.utc)
    assert build.source_date_epoch() == str(int(expected.timestamp()))


def test_a_failed_build_leaves_site_and_pages_untouched(site, tmp_path, capsys):
    target = tmp_path / "site"
    shutil.copytree(site, target)
    before, docs_before = digest_tree(target), digest_tree(REPO / "docs")
    broken = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", broken)
    notes = broken / "notes.yaml"
    notes.write_text(notes.read_text(encoding="utf-8").replace("severity: limited", "severity: sort-of"), encoding="utf-8")
    assert build.build_site(target, broken) == 1
    err = capsys.readouterr().err
    assert "matrix/notes.yaml:" in err and "'sort-of' is not allowed" in err and "nothing was written" in err
    assert digest_tree(target) == before
    assert digest_tree(REPO / "docs") == docs_before


def test_build_check_reports_stale_pages(tmp_path):
    assert build.check() == 0
    page = REPO / "docs" / "notes.en.md"
    original = page.read_text(encoding="utf-8")
    try:
        page.write_text(original + "\nhand edit\n", encoding="utf-8")
        assert build.check() == 1
    finally:
        page.write_text(original, encoding="utf-8")


ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_changes_page_and_atom_feed(site, loaded, lang):
    import xml.etree.ElementTree as ET
    from datetime import datetime

    page = page_file(site, LANG_PREFIX[lang] + "changes/")
    parsed = parse(page)
    dates = [c["date"] for c in loaded.changelog]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 4
    html = page.read_text(encoding="utf-8")
    positions = [html.index(f'id="change-{d}"') for d in dates]
    assert positions == sorted(positions)  # newest first
    for change in loaded.changelog:
        for entry_id in change["entries"]:
            assert any(link.endswith("#" + entry_id) for link in parsed.links), entry_id
    feed_links = [l for l in parsed.links if l.endswith(".atom")]
    assert len(feed_links) == 1
    feed_path = page_file(site, urlparse(urljoin("http://site/" + str(page.relative_to(site)), feed_links[0])).path)
    root = ET.parse(feed_path).getroot()
    assert root.tag == ATOM + "feed"
    for element in [root] + root.findall(ATOM + "entry"):
        assert element.find(ATOM + "id").text.startswith("urn:")
        assert element.find(ATOM + "title").text.strip()
        datetime.strptime(element.find(ATOM + "updated").text, "%Y-%m-%dT%H:%M:%SZ")
    entries = root.findall(ATOM + "entry")
    assert [e.find(ATOM + "updated").text[:10] for e in entries] == dates
    for entry in entries:  # every entry links to its change on the page of its language
        href = entry.find(ATOM + "link").get("href")
        target = urlparse(urljoin("http://site/" + str(feed_path.relative_to(site)), href))
        assert page_file(site, target.path) == page and target.fragment in parsed.ids
    assert len({e.find(ATOM + "id").text for e in entries}) == len(entries)


def test_every_row_shows_when_it_last_changed(site, loaded):
    """Each row says when it last changed; when every row of a grid changed the
    same day, the grid says it once above the table instead of on each row."""
    from sitegen import last_changed, matrix_grids

    changed = last_changed(loaded)
    for lang, prefix in (("en", "en/"), ("pt-BR", "")):
        text = (site / prefix / "support-matrix" / "index.html").read_text(encoding="utf-8")
        for grid in matrix_grids(loaded):
            start = text.index(f'data-deployment="{grid["deployment"]}">')  # the grid's box
            box = text[start:text.index("</table>", start)]
            dates = {changed.get(row["cells"]["email"]["link"][lang].rsplit("#", 1)[1]) for row in grid["rows"]}
            if len(dates) == 1 and None not in dates:
                (day,) = dates
                said = box[:box.index("<table")]
                assert loaded.strings["page.grid.all_changed"][lang] in said and f"changes/#change-{day}" in said
                assert 'class="sss-changed"' not in box  # not repeated on every row
            else:
                for row in grid["rows"]:
                    anchor = row["cells"]["email"]["link"][lang].rsplit("#", 1)[1]
                    if anchor in changed:
                        tr = box[box.index(f'<tr data-system="{row["system"]}"'):]
                        assert f"changes/#change-{changed[anchor]}" in tr[:tr.index("</tr>")]
    # the online Exchange rows last changed on 2026-11-29 (the profile table)
    en = (site / "en" / "support-matrix" / "index.html").read_text(encoding="utf-8")
    start = en.index('data-deployment="online"')
    assert "changes/#change-2026-11-29" in en[start:en.index('<tr data-system="exchange-server-2019"', start)]


def not_found_language_links(html: str) -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for href, lang in re.findall(r'<link rel="alternate" href="([^"]*)" hreflang="([^"]+)">', html):
        links.setdefault(lang, set()).add(href)
    for href, lang in re.findall(r'<a href="([^"]*)" hreflang="([^"]+)" class="md-select__link">', html):
        links.setdefault(lang, set()).add(href)
    return links


@pytest.mark.parametrize("rel", ["404.html", "en/404.html"])
def test_both_not_found_pages_link_each_language_home(site, rel):
    html = (site / rel).read_text(encoding="utf-8")
    assert not_found_language_links(html) == {"pt-BR": {"/"}, "en": {"/en/"}}


def test_each_folder_the_language_selector_asks_has_its_sitemap(site):
    """Material fetches sitemap.xml beside each hreflang alternate: every page's
    folder in both languages, and en/ from the 404 pages. Each lists only the
    pages at or under its folder."""
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    for folder in ("en/", "checker/", "en/checker/", "support-matrix/", "en/support-matrix/"):
        locs = [u.findtext("s:loc", "", ns) for u in ET.parse(site / folder / "sitemap.xml").getroot()]
        assert locs and all(urlparse(loc).path.startswith("/" + folder) for loc in locs), (folder, locs)
    en = [u.findtext("s:loc", "", ns) for u in ET.parse(site / "en" / "sitemap.xml").getroot()]
    whole = [u.findtext("s:loc", "", ns) for u in ET.parse(site / "sitemap.xml").getroot()]
    assert sorted(en) == sorted(loc for loc in whole if urlparse(loc).path.startswith("/en/"))
    for html in site.rglob("index.html"):
        folder = html.parent
        assert (folder / "sitemap.xml").is_file(), folder

"""Every built page as a reader's browser and a link preview see it: its
language, its theme strings, its preview meta, and no maintainer notes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

LANG_PREFIX = {"pt-BR": "", "en": "en/"}


class Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang, self.meta, self.titles, self.text, self.comments = None, {}, [], [], []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content")
        if "title" in a:
            self.titles.append(a["title"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    def handle_comment(self, data):
        self.comments.append(data)


def pages_of(site, lang):
    prefix = LANG_PREFIX[lang]
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if "assets" in rel:
            continue
        in_en = rel.startswith("en/")
        if in_en == (lang == "en"):
            yield rel, path
    assert prefix is not None


def parsed(path) -> Head:
    head = Head()
    head.feed(path.read_text(encoding="utf-8"))
    return head


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_every_page_says_its_language_and_previews_in_it(site, loaded, lang):
    count = 0
    for rel, path in pages_of(site, lang):
        page = parsed(path)
        assert page.lang == lang, rel
        for key in ("og:title", "og:description", "twitter:card", "twitter:title", "twitter:description"):
            assert page.meta.get(key), (rel, key)
        assert page.meta["og:locale"] == lang.replace("-", "_")
        assert not any(page.meta[k].startswith("http") for k in page.meta if k.endswith("image")), rel
        count += 1
    assert count >= 9  # the seven pages, the changes page and the 404 page
    matrix = parsed(site / LANG_PREFIX[lang] / "support-matrix" / "index.html")
    page = next(p["page"] for _d, p in loaded.pages if p["page"]["id"] == "support-matrix")
    assert matrix.meta["og:description"] == page["intro"][lang]
    assert matrix.meta["og:title"].startswith(page["title"][lang])


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_theme_strings_are_in_the_page_language(site, loaded, lang):
    other = next(x for x in LANG_PREFIX if x != lang)
    wanted = loaded.strings["page.permalink_title"][lang]
    for rel, path in pages_of(site, lang):
        page = parsed(path)
        assert "Permanent link" not in page.titles or lang == "en" and wanted == "Permanent link", rel
        if lang != "en":
            assert "Permanent link" not in page.titles, rel
        palette = [t for t in page.titles if t in (loaded.strings["page.palette.to_dark"][lang],
                                                   loaded.strings["page.palette.to_light"][lang])]
        assert len(palette) == 2, rel
        assert loaded.strings["page.palette.to_dark"][other] not in page.titles
    notes = parsed(site / LANG_PREFIX[lang] / "notes" / "index.html")
    assert wanted in notes.titles


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_a_not_found_page_per_language(site, loaded, lang):
    page = parsed(site / LANG_PREFIX[lang] / "404.html")
    assert page.lang == lang
    text = " ".join(page.text)
    assert loaded.strings["page.notfound.title"][lang] in text
    assert loaded.strings["page.notfound.text"][lang] in text


def test_no_maintainer_notes_on_pages_readers_see(site):
    for lang in LANG_PREFIX:
        for rel, path in pages_of(site, lang):
            page = parsed(path)
            text = " ".join(page.text)
            assert "do not edit" not in text and "não edite" not in text, rel
    # kept for maintainers, as comments
    page = parsed(site / "en" / "unsupported" / "index.html")
    assert any("generated from matrix/unsupported.yaml" in c for c in page.comments)


def test_each_language_searches_its_own_index_without_accents(site):
    pt = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    en = json.loads((site / "en" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert pt["docs"] and en["docs"]
    assert not [d for d in pt["docs"] if d["location"].startswith("en/")]
    assert len(pt["docs"]) == len(en["docs"])
    tenant = [d for d in pt["docs"] if "locatário" in d["text"]]
    assert tenant and all(re.search(r'<span hidden class="sss-folded">[^<]*locatario', d["text"]) for d in tenant)
    # English pages read their own index through the theme's base
    html = (site / "en" / "notes" / "index.html").read_text(encoding="utf-8")
    assert '"base": "../../en/"' in html

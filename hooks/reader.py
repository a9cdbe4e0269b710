"""MkDocs hook: what the theme leaves in the wrong language or form for readers.

- theme strings the theme does not translate (the headings' "Permanent link",
  the palette toggle) come from matrix/strings.yaml, in the page's language;
- a "not found" page per language: 404.html (pt-BR) and en/404.html;
- the search: one index per language (the root's and en/'s), so results and
  their count are in the page's language, and pt-BR words are found without
  their accents ("locatario" finds "locatário").
"""

from __future__ import annotations

import html
import json
import re
import sys
import unicodedata
from pathlib import Path

import yaml
from mkdocs.plugins import event_priority

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitegen.text import inert_json  # noqa: E402
from tooling.matrix import lang_prefix  # noqa: E402

_strings_cache: dict = {}
_not_found: dict[str, str] = {}


def _strings() -> tuple[dict, tuple]:
    """matrix/strings.yaml, reread when it changes. While it is broken (the
    other hook reports its problems), the last good strings stay in use."""
    path = REPO / "matrix" / "strings.yaml"
    key = path.stat().st_mtime_ns
    if _strings_cache.get("key") != key:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            strings = data["strings"]
            langs = tuple(strings["status.supported"])
        except Exception as exc:  # noqa: BLE001 - any breakage: keep serving
            if "strings" not in _strings_cache:
                raise
            print(f"matrix/strings.yaml: {exc}; the pages keep the last good theme strings", file=sys.stderr)
        else:
            _strings_cache.update(strings=strings, langs=langs)
        _strings_cache["key"] = key
    return _strings_cache["strings"], _strings_cache["langs"]


def _lang(config) -> str:
    language = str(config.theme["language"])
    _s, langs = _strings()
    for lang in langs:
        if lang.lower() == language.lower() or lang.split("-")[0].lower() == language.split("-")[0].lower():
            return lang
    return langs[0]


def _localize_theme(config) -> dict:
    strings, langs = _strings()
    lang = _lang(config)
    t = {k: v[lang] for k, v in strings.items()}
    for option in config.theme.get("palette") or []:
        toggle = option.get("toggle")
        if toggle:
            toggle["name"] = t["page.palette.to_light" if option.get("scheme") == "slate" else "page.palette.to_dark"]
    other = next(x for x in langs if x != lang)
    return {
        "sss_strings": t,
        "sss_prefix": lang_prefix(lang, langs),
        "sss_other_prefix": lang_prefix(other, langs),
        "sss_other_lang": other,
        "sss_og_locale": lang.replace("-", "_"),
    }


def on_page_context(context, page, config, nav):
    context.update(_localize_theme(config))
    if page and page.meta and page.meta.get("sss_worker"):
        # The runtime's manifest, handed to the worker from <head> (overrides/main.html):
        # the worker then asks for the runtime at once instead of for the manifest first.
        manifest = Path(config["docs_dir"]) / "assets" / "checker" / "manifest.json"
        context["sss_runtime_manifest"] = inert_json(manifest.read_text(encoding="utf-8").strip()) \
            if manifest.is_file() else None
    return context


def on_template_context(context, template_name, config):
    context.update(_localize_theme(config))
    return context


def on_page_content(html_text, page, config, files):
    strings, _langs = _strings()
    title = html.escape(strings["page.permalink_title"][_lang(config)], quote=True)
    return html_text.replace('title="Permanent link"', f'title="{title}"')


_CONFIG_BASE = re.compile(r'(<script id="__config" type="application/json">\{[^<]*?"base": ")([^"]*)(")')


def _point_search_at_language(output: str, config) -> str:
    """Pages outside the root language read their own index: the theme finds it
    from the config's base, so that base is the language's root."""
    _s, langs = _strings()
    prefix = lang_prefix(_lang(config), langs)
    if not prefix:
        return output
    return _CONFIG_BASE.sub(lambda m: m.group(1) + m.group(2).rstrip("/") + "/" + prefix + m.group(3),
                            output, count=1)


_CONFIG_SEARCH = re.compile(r'(<script id="__config" type="application/json">\{[^<]*?"search": "[^"]*/workers/)'
                            r'(search\.[0-9a-f]{8}\.min\.js)(")')


def _start_search_later(output: str, page) -> str:
    """On a page that starts Python in a worker (front matter `sss_worker`, or
    `sss_search: later` where the page's script starts it), the theme's search
    worker is started once the page's engine has answered or is ready:
    the theme creates docs/assets/javascripts/workers/sss-search-later.js,
    which loads the theme's worker (named after its "?") then."""
    if not (page and page.meta and (page.meta.get("sss_worker") or page.meta.get("sss_search") == "later")):
        return output
    # (A site without the theme's search has no worker to start later: the page
    # stays as it is. tests/test_runtime_paths.py checks that these pages defer it.)
    return _CONFIG_SEARCH.sub(lambda m: m.group(1) + "sss-search-later.js?" + m.group(2) + m.group(3), output, count=1)


def on_post_page(output, page, config):
    return _start_search_later(_point_search_at_language(output, config), page)


# The "not found" page is rendered once per language with the alternates the
# i18n plugin left from the last page it built: its language links (the head's
# hreflang alternates and the selector's) go to each language's home instead.
_NOT_FOUND_LANG_LINKS = re.compile(
    r'(<link rel="alternate" href=")[^"]*(" hreflang="([^"]+)">)'
    r'|(<a href=")[^"]*(" hreflang="([^"]+)" class="md-select__link">)')


def _not_found_language_links(output: str, config) -> str:
    from sitegen.publish import base_path, public_url

    _s, langs = _strings()
    site_url = public_url(config.site_url)
    root = site_url.rstrip("/") + "/" if site_url else base_path(config.site_url)

    def home(match):
        lang = match.group(3) or match.group(6)
        known = next((x for x in langs if x.lower() == lang.lower()), None)
        if known is None:
            return match.group(0)
        href = html.escape(root + lang_prefix(known, langs), quote=True)
        return (match.group(1) or match.group(4)) + href + (match.group(2) or match.group(5))

    return _NOT_FOUND_LANG_LINKS.sub(home, output)


def on_post_template(output, template_name, config):
    if template_name != "404.html":
        return output
    output = _not_found_language_links(_point_search_at_language(output, config), config)
    _s, langs = _strings()
    lang = _lang(config)
    _not_found[lang] = output
    if lang == langs[0]:
        return output
    target = Path(config.site_dir) / lang_prefix(lang, langs) / "404.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(output, encoding="utf-8")
    # MkDocs writes this language's 404 at the root too: keep the root's own.
    return _not_found.get(langs[0], output)


def fold(text: str) -> str:
    """Text without its accents: "locatário" -> "locatario"."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# Microsoft's words for the site's concepts, so a reader who searches with them
# lands on the right section: when an entry says the first, it is also found
# by the others (hidden words beside it, as for accents).
SYNONYMS = {
    "pt-BR": {"controle manual": ["rastreamento", "rastrear"], "marcam à mão": ["rastreamento"],
              "locatário": ["tenant"], "locatários": ["tenant"], "entre locatários": ["cross-tenant"]},
    "en": {"manual tracking": ["track"], "another tenant": ["cross-tenant"], "tenants": ["tenant"]},
}
_FOLDED = '<span hidden class="sss-folded"> {}</span>'
_TAG_OR_TEXT = re.compile(r"(<[^>]+>)|([^<]+)")


def _hidden_words(text: str, lang: str) -> str:
    """Beside each word with accents, the same word without them, and beside
    each of SYNONYMS' phrases its synonyms, in hidden elements: the theme
    indexes them with the text, and the snippet it shows for a match is the
    visible sentence around it."""
    synonyms = SYNONYMS.get(lang, {})
    pattern = re.compile("|".join(re.escape(k) for k in sorted(synonyms, key=len, reverse=True)), re.I) if synonyms else None

    def words(match):
        tag, chunk = match.group(1), match.group(2)
        if tag:
            return tag
        chunk = re.sub(r"\w+", lambda w: w.group(0) + (_FOLDED.format(fold(w.group(0))) if fold(w.group(0)) != w.group(0) else ""),
                       chunk)
        if pattern:
            chunk = pattern.sub(lambda m: m.group(0) + _FOLDED.format(" ".join(synonyms[m.group(0).lower()])), chunk)
        return chunk

    return _TAG_OR_TEXT.sub(words, text)


def _with_folded(doc: dict, lang: str = "", parents: dict | None = None, deployment: str | None = None) -> dict:
    """A search entry that also matches its words typed without accents, and
    Microsoft's words for its concepts; an entry under a section shows that
    section's title before its own, and a section that holds for one
    deployment only names it, so a result says where it applies."""
    text = doc.get("text") or ""
    title = doc.get("title", "")
    parent = (parents or {}).get(doc["location"])
    if parent:
        title = f"{parent} › {title}"
    if deployment and not _names_deployment(title, deployment):
        title = f"{title} · {deployment}"
    new_text = _hidden_words(text, lang) if text else text
    # The title's own words, which the text may not repeat.
    title_words = re.findall(r"\w+", html.unescape(title))
    folded = sorted({fold(w) for w in title_words if fold(w) != w})
    extra = [w for lang_syn in [SYNONYMS.get(lang, {})] for k, v in lang_syn.items() if k in title.lower() for w in v]
    if folded or extra:
        new_text += _FOLDED.format(" ".join(folded + extra))
    return dict(doc, title=title, text=new_text)


def _deployments(condition: dict) -> list | None:
    """The deployments a rule's condition is limited to, or None for any."""
    if "all" in condition:
        return next((d for d in map(_deployments, condition["all"]) if d is not None), None)
    if "any" in condition:
        found = [_deployments(c) for c in condition["any"]]
        return None if None in found else sorted({d for ds in found for d in ds})
    if condition.get("field") == "deployment" and "in" in condition:
        return list(condition["in"])
    return None


def deployment_of_anchors(compiled: dict, lang: str) -> dict[str, str]:
    """For each section a rule links to ("page/#anchor" in `lang`): the label of
    the one deployment all its rules are limited to; sections that hold for
    any deployment, or for several, are left out."""
    field = next(f for f in compiled["fields"] if f["id"] == "deployment")
    labels = {v["id"]: v["label"][lang] for v in field["values"]}
    found: dict[str, set] = {}
    for rule in compiled["rules"]:
        link = (rule.get("link") or {}).get(lang)
        if not link:
            continue
        deployments = _deployments(rule["when"])
        found.setdefault(link, set()).update(deployments if deployments is not None else labels)
    return {link: labels[next(iter(ds))] for link, ds in found.items() if len(ds) == 1}


def _names_deployment(title: str, label: str) -> bool:
    """Whether a title already names the deployment: "on-premises" (or its
    Portuguese "local") for the installed one, "online" for the cloud."""
    words = ("on-premises", "local") if "on-premises" in label.lower() else ("online",)
    title = title.lower().replace("exchange online", "")  # the email system, not the deployment
    return any(word in title for word in words)


_HEADING = re.compile(r'<h([23])\s+id="([^"]+)"')


def _parents(site_dir: Path, location: str, titles: dict) -> dict:
    """For a page's index entries: the title of the h2 each h3 sits under."""
    page = site_dir / location / "index.html" if location.endswith("/") or not location else None
    if page is None or not page.exists():
        return {}
    found, current = {}, None
    for level, anchor in _HEADING.findall(page.read_text(encoding="utf-8")):
        if level == "2":
            current = titles.get(f"{location}#{anchor}")
        elif current:
            found[f"{location}#{anchor}"] = current
    return found


def split_search_index(site_dir: Path, langs: tuple, compiled: dict | None = None) -> None:
    """search/search_index.json holds every language: give each language its own."""
    index_path = site_dir / "search" / "search_index.json"
    if not index_path.exists():
        return
    index = json.loads(index_path.read_text(encoding="utf-8"))
    by_lang: dict[str, list] = {lang: [] for lang in langs}
    prefixes = {lang: lang_prefix(lang, langs) for lang in langs if lang_prefix(lang, langs)}
    titles = {doc["location"]: doc["title"] for doc in index["docs"]}
    parents: dict[str, str] = {}
    for page in {doc["location"].split("#", 1)[0] for doc in index["docs"]}:
        parents.update(_parents(site_dir, page, titles))
    deployments: dict[str, str] = {}
    if compiled is not None:
        for lang in langs:
            deployments.update(deployment_of_anchors(compiled, lang))
        # A heading, or a page, whose every entry holds for one deployment names it too.
        for location, title in titles.items():
            page = location.split("#", 1)[0]
            entries = [a for a, parent in parents.items() if a.startswith(page + "#")
                       and ("#" not in location or parent == title)]
            found = {deployments.get(a) for a in entries}
            if entries and len(found) == 1 and None not in found and location not in deployments:
                deployments[location] = found.pop()
    for doc in index["docs"]:
        lang = next((x for x, p in prefixes.items() if doc["location"].startswith(p)), langs[0])
        location = doc["location"][len(prefixes.get(lang, "")):]
        by_lang[lang].append(_with_folded(dict(doc, location=location), lang, {location: parents.get(doc["location"])},
                                          deployments.get(doc["location"])))
    for lang, docs in by_lang.items():
        path = site_dir / lang_prefix(lang, langs) / "search" / "search_index.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(index, docs=docs), ensure_ascii=False, separators=(",", ":")),
                        encoding="utf-8")


@event_priority(-200)  # after the i18n plugin has built every language
def on_post_build(config):
    i18n = config.plugins.get("i18n")
    if i18n is not None and getattr(i18n, "building", False):
        return  # one language of several: the index is not complete yet
    _s, langs = _strings()
    from tooling import matrix as tooling

    try:
        compiled = tooling.compile_rules(tooling.load())
    except Exception as exc:  # noqa: BLE001 - the other hook reports a broken matrix
        print(f"search index: the sections' deployments are left out ({exc})", file=sys.stderr)
        compiled = None
    split_search_index(Path(config.site_dir), langs, compiled)

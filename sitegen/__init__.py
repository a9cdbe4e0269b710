"""Site generation: the matrix rendered as Markdown pages, one set per language.

Used by ``build.py`` and by the MkDocs hook (``hooks/matrix_site.py``), so a
build and a live-reloading ``serve`` produce the same pages. Rendering happens
in memory first; files are written only when every page rendered.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from sitegen import text as plain
from tooling import matrix as tooling
from checker.engine import Matrix, fill_placeholders
from tooling.matrix import lang_prefix, write_text_if_changed

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# Page id -> template. The matrix's own pages use page.md.j2.
EXTRA_PAGES = {"index": "index.md.j2", "checker": "checker.md.j2", "changes": "changes.md.j2", "org": "org.md.j2",
               "troubleshooting": "troubleshooting.md.j2"}
GENERATED_MARK = "# generated:"


def lang_suffix(lang: str, languages) -> str:
    """MkDocs static-i18n's suffix layout: the default language has none."""
    return "" if lang == languages[0] else "." + lang.split("-")[0].lower()


def format_date(value: str, lang: str) -> str:
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}" if lang == "pt-BR" else value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Every {{ value }} is text (sitegen/text.py): escaped for Markdown and
        # the HTML around it, unless a template or the code made it markup.
        autoescape=True,
        finalize=plain.finalize,
    )
    env.filters["e"] = env.filters["escape"] = plain.md_text
    env.filters["jsontext"] = lambda value: plain.md_text(json.dumps(value, ensure_ascii=False))
    return env


def render_pages(loaded: tooling.Loaded, compiled: dict | None = None) -> dict[str, str]:
    """Every generated page, by file name under docs/, rendered in memory."""
    from sitegen import published

    compiled = compiled or tooling.compile_rules(loaded)
    env = _environment()
    langs = loaded.languages
    sources = {s["id"]: s for s in loaded.sources}
    pages = [page for _doc, page in loaded.pages]
    changed = last_changed(loaded)
    entry_pages = {entry["id"]: (page["page"]["id"], entry) for page, _s, entry in tooling.iter_entries(loaded)}
    errors = compiled.get("errors") or {"index": None, "errors": [], "strings": {}}
    # A changelog may name an explanation of the troubleshooting page, as it names entries.
    entry_pages.update({err["id"]: ("troubleshooting", err) for err in errors["errors"]})
    labels = {q["id"]: {v["id"]: v["label"] for v in q["values"]} for q in loaded.questions}
    grids = matrix_grids(loaded)
    out: dict[str, str] = {}
    for lang in langs:
        def t(key, **values):
            return plain.fill(loaded.strings[key][lang], values, fill_placeholders)

        common = dict(
            lang=lang, langs=langs, t=t, sources=sources, pages=pages,
            date=lambda v: format_date(v, lang),
            value_label=lambda field, value: labels[field][value][lang],
            prefix=lang_prefix(lang, langs),
            site_root="../" + "../" * lang_prefix(lang, langs).count("/"),
            questions=loaded.questions,
            pages_by_id={p["page"]["id"]: p for p in pages},
            checker_data=plain.inert_json(checker_data(loaded, lang)),
            published_verdicts=plain.inert_json(published.page_json(compiled, lang)),
            changelog=loaded.changelog,
            last_changed=changed,
            entry_pages=entry_pages,
            grids=grids,
            link_from=lambda page_id, link: link_from(page_id, link, lang, langs),
            **org_context(loaded, lang),
            **troubleshooting_context(errors, lang, entry_pages),
        )
        suffix = lang_suffix(lang, langs)
        for doc, page in loaded.pages:
            text = env.get_template("page.md.j2").render(
                page=page, source_file=doc.name, **common)
            out[f"{page['page']['id']}{suffix}.md"] = text
        for page_id, template in EXTRA_PAGES.items():
            text = env.get_template(template).render(source_file="matrix/strings.yaml", **common)
            out[f"{page_id}{suffix}.md"] = text
    return out


GRID_COLUMNS = ("email", "appointments-contacts-tasks", "protocol")


def link_from(page_id: str, link: str, lang: str, languages) -> str:
    """A rule's site-relative link, written relative to one generated page."""
    prefix = lang_prefix(lang, languages)
    target = link[len(prefix):] if link.startswith(prefix) else link
    if target.startswith(page_id + "/#"):
        return target[len(page_id) + 1:]
    return "../" + target


def matrix_grids(loaded: tooling.Loaded) -> list[dict]:
    """The support matrix as one grid per deployment: every email system the
    questions name × email sync, appointments/contacts/tasks sync and protocol.

    Each cell's status is what the checker itself answers for that pair and
    that sync item (the same compiled rules the page and the CLI use), with the
    finding that decides it; the protocol cell comes from the matrix row that
    covers the pair, and names the protocols it allows. End-of-support notices
    are the lifecycle entries' findings.
    """
    compiled = tooling.compile_rules(loaded)
    engine = Matrix(compiled)
    rules = {r["id"]: r for r in compiled["rules"]}
    lang0 = loaded.languages[0]
    lifecycle = {}
    rows = {}
    for page, section, entry in tooling.iter_entries(loaded):
        if section["id"] == "lifecycle":
            for rule in entry.get("rules", []):
                if rule["severity"] == "info":
                    lifecycle[rule["id"]] = entry
        row = entry.get("row")
        if row:
            for system in row["email_systems"]:
                rows[(row["deployment"], system)] = (section, entry)
    sources = {s["id"]: s for s in loaded.sources}
    fields = {q["id"]: q for q in loaded.questions}
    grids = []
    for deployment in (v["id"] for v in fields["deployment"]["values"]):
        covered = [entry for (d, _s), (_sec, entry) in rows.items() if d == deployment]
        section = next(sec for (d, _s), (sec, _e) in rows.items() if d == deployment)
        source = sources[covered[0]["source"]]
        grid_rows = []
        for system in (v["id"] for v in fields["email_system"]["values"]):
            cells = {}
            for item in ("email", "appointments-contacts-tasks"):
                config = {"deployment": deployment, "email_system": system, "sync": [item]}
                verdict = engine.evaluate(config, lang0)
                deciding = next((f for f in verdict.findings if f.severity == verdict.status), None)
                cells[item] = {"status": verdict.status, "rule": deciding.rule if deciding else None,
                               "link": rules[deciding.rule]["link"] if deciding else None,
                               "config": config}
            entry = rows.get((deployment, system), (None, None))[1]
            if entry is not None:
                cells["protocol"] = {
                    "status": cells["email"]["status"], "text": entry["row"]["protocols"],
                    "incoming": list(entry["row"]["incoming"]), "outgoing": list(entry["row"]["outgoing"]),
                    "rule": cells["email"]["rule"], "link": cells["email"]["link"]}
            else:
                cells["protocol"] = None
            eos = [
                {"rule": f.rule, "entry": lifecycle[f.rule], "link": rules[f.rule]["link"]}
                for f in engine.evaluate({"deployment": deployment, "email_system": system}, lang0).findings
                if f.rule in lifecycle
            ]
            deciding_entry = cells["email"]["rule"]
            grid_rows.append({"system": system, "cells": cells, "eos": eos, "entry": entry,
                              "deciding": deciding_entry})
        notes = []  # footnotes: each entry a cell links to, numbered in order of first use
        for row in grid_rows:
            for column in GRID_COLUMNS:
                cell = row["cells"][column]
                if cell is None or cell["link"] is None:
                    continue
                link = cell["link"][lang0]
                if link not in [n["link"][lang0] for n in notes]:
                    notes.append({"link": cell["link"], "rule": cell["rule"]})
                cell["note"] = 1 + [n["link"][lang0] for n in notes].index(link)
        titles = {e["id"]: e["title"] for _p, _s, e in tooling.iter_entries(loaded)}
        for note in notes:
            note["title"] = titles[note["link"][lang0].rsplit("#", 1)[1]] if note["link"][lang0].rsplit("#", 1)[1] in titles \
                else titles.get(note["rule"], {lang: note["rule"] for lang in loaded.languages})
        grids.append({"deployment": deployment, "section": section["id"], "source": source,
                      "rows": grid_rows, "notes": notes})
    return grids


def last_changed(loaded: tooling.Loaded) -> dict[str, str]:
    """The date each entry last changed, from the changelog."""
    dates: dict[str, str] = {}
    for change in loaded.changelog:
        for entry_id in change["entries"]:
            dates[entry_id] = max(dates.get(entry_id, ""), change["date"])
    return dates


def atom_feed(loaded: tooling.Loaded, lang: str, base: str | None = None) -> str:
    """The changelog as an Atom feed in one language; links are absolute under
    ``base`` (the site's public address) when given, relative to the feed otherwise."""
    from xml.sax.saxutils import escape, quoteattr

    prefix = lang_prefix(lang, loaded.languages)
    root = base or "../"
    self_link = f"{base}feeds/{lang.lower()}.atom" if base else f"{lang.lower()}.atom"
    title = loaded.strings["page.changes.feed_title"][lang]
    changes = loaded.changelog
    updated = (changes[0]["date"] if changes else "1970-01-01") + "T00:00:00Z"
    entries = []
    for change in changes:
        link = f"{root}{prefix}changes/#change-{change['date']}"
        entries.append(
            "  <entry>\n"
            f"    <id>urn:sss-checker:matrix-change:{change['date']}:{lang}</id>\n"
            f"    <title>{escape(format_date(change['date'], lang))}</title>\n"
            f"    <updated>{change['date']}T00:00:00Z</updated>\n"
            f"    <link rel=\"alternate\" type=\"text/html\" href={quoteattr(link)}/>\n"
            f"    <summary>{escape(change['summary'][lang])}</summary>\n"
            "  </entry>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<!-- generated from matrix/changelog.yaml by build.py; do not edit by hand -->\n"
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">\n'
        f"  <id>urn:sss-checker:matrix-changes:{lang}</id>\n"
        f"  <title>{escape(title)}</title>\n"
        f"  <updated>{updated}</updated>\n"
        "  <author><name>sss-checker</name></author>\n"
        f"  <link rel=\"self\" href={quoteattr(self_link)}/>\n"
        f"  <link rel=\"alternate\" type=\"text/html\" href={quoteattr(root + prefix + 'changes/')}/>\n"
        + "".join(entries)
        + "</feed>\n"
    )


def condition_fields(cond) -> set[str]:
    """The fields a rule's condition looks at."""
    if cond is True or cond is False or cond is None:
        return set()
    if "all" in cond or "any" in cond:
        return set().union(*(condition_fields(c) for c in cond.get("all") or cond["any"]))
    return {cond["field"]}


def checker_data(loaded: tooling.Loaded, lang: str) -> str:
    """What the checker page's script needs, in the page's language, as inert JSON."""
    fields = [
        {"id": q["id"], "type": q["type"], "required": q["required"],
         "values": [v["id"] for v in q["values"]], "show_when": q.get("show_when"),
         "label": q["label"][lang], "labels": {v["id"]: v["label"][lang] for v in q["values"]}}
        for q in loaded.questions
    ]
    strings = {k: v[lang] for k, v in loaded.strings.items()
               if k.startswith(("page.checker.", "status.", "severity.", "cli.remedy", "cli.fix", "cli.so_far", "remedy."))}
    matrix_page = next(page["page"] for _doc, page in loaded.pages if page["page"]["id"] == "support-matrix")
    fallback = {"href": lang_prefix(lang, loaded.languages) + "support-matrix/", "title": matrix_page["title"][lang]}
    compiled = tooling.compile_rules(loaded)
    # Which answers each rule looks at, so the verdict can say of every answer
    # what the matrix made of it; and which notices are end-of-support ones.
    rule_fields = {r["id"]: sorted(condition_fields(r["when"])) for r in compiled["rules"]}
    lifecycle = sorted(rule["id"] for _p, section, entry in tooling.iter_entries(loaded)
                       if section["id"] == "lifecycle" for rule in entry.get("rules", [])
                       if rule["severity"] == "info")
    text = json.dumps({"lang": lang, "fields": fields, "strings": strings, "matrix_page": fallback,
                       "rule_fields": rule_fields, "lifecycle_rules": lifecycle},
                      ensure_ascii=False, sort_keys=True)
    # Inside <script>: no "</" may close the element early.
    return text.replace("</", "<\\/")


def org_context(loaded: tooling.Loaded, lang: str) -> dict:
    """What the page "Check your organization" needs: the compiled mapping, and
    its script's strings and labels in the page's language as inert JSON."""
    if not loaded.dataverse:
        return {"dataverse": None, "org_data": plain.inert_json("{}"), "source_titles": {}, "deployment_values": [], "tracelogs_query": ""}
    strings = {k: v[lang] for k, v in loaded.strings.items()
               if k.startswith(("page.org.", "status.", "severity.", "cli.remedy", "page.checker.", "remedy."))}
    labels = {q["id"]: {"label": q["label"][lang], "type": q["type"],
                        "values": {v["id"]: v["label"][lang] for v in q["values"]}} for q in loaded.questions}
    data = json.dumps({"lang": lang, "strings": strings, "labels": labels}, ensure_ascii=False, sort_keys=True)
    titles = {s["url"]: s["title"] for s in loaded.dataverse[1]["sources"]}
    deployment = next(q for q in loaded.questions if q["id"] == "deployment")
    from tooling import orgmatrix

    compiled = orgmatrix.compile_mapping(loaded.dataverse[1], loaded.languages, tooling.page_link)
    from checker.alerts import TRACELOG_QUERY

    return {"dataverse": compiled, "org_data": plain.inert_json(data), "source_titles": titles,
            "deployment_values": deployment["values"], "tracelogs_query": TRACELOG_QUERY}


def troubleshooting_context(errors: dict, lang: str, entry_pages: dict | None = None) -> dict:
    """What the troubleshooting page and the pages that link to it need: the
    compiled explanations, their words in the page's language, the alerts that
    meet each matrix entry, and the inert JSON the page's matcher reads."""
    def et(key, **values):
        return fill_placeholders(errors["strings"][key][lang], {k: str(v) for k, v in values.items()})

    alerts_by_entry: dict[str, list] = {}
    for err in errors["errors"]:
        for r in err["related"]:
            alerts_by_entry.setdefault(r["entry"], []).append(err)
    titles = {r["entry"]: entry_pages[r["entry"]][1]["title"][lang]
              for err in errors["errors"] for r in err["related"] if entry_pages and r["entry"] in entry_pages}
    text = json.dumps({"lang": lang, "index": errors["index"], "errors": errors["errors"], "entry_titles": titles,
                       "strings": {k: v[lang] for k, v in errors["strings"].items()}},
                      ensure_ascii=False, sort_keys=True)
    from checker.explain import condition_text

    return {"errors": errors, "et": et, "alerts_by_entry": alerts_by_entry, "condition_text": condition_text,
            "explain_data": plain.inert_json(text)}


def generated_files(docs: Path = DOCS) -> list[Path]:
    """The files a previous generation wrote (they carry the generated mark)."""
    found = []
    for path in docs.glob("*.md"):
        with path.open(encoding="utf-8") as fh:
            head = [fh.readline(), fh.readline()]
        if head[0].strip() == "---" and head[1].startswith(GENERATED_MARK):
            found.append(path)
    return found


def write_pages(pages: dict[str, str], docs: Path = DOCS) -> list[str]:
    """Write the pages that changed and remove generated pages that no longer exist.

    Writing only what changed keeps ``mkdocs serve`` from rebuilding in a loop.
    """
    docs.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in sorted(pages.items()):
        if write_text_if_changed(docs / name, text):
            changed.append(name)
    for path in generated_files(docs):
        if path.name not in pages:
            path.unlink()
            changed.append(path.name)
    return changed


_generated: dict = {}  # inputs digest -> Loaded, for this process


def inputs_digest(root: Path) -> str:
    """What the generated files depend on: the matrix and the templates."""
    import hashlib

    digest = hashlib.sha256(str(root.resolve()).encode())
    for path in sorted(root.glob("*")) + sorted(TEMPLATES.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def generate_docs(root: Path = tooling.MATRIX_DIR, docs: Path = DOCS) -> tooling.Loaded:
    """Validate the matrix, refresh the compiled rules and write the pages.

    Raises MatrixInvalid (nothing written) when the matrix has problems. Does
    nothing when neither the matrix nor the templates changed since this
    process last generated them (MkDocs calls the hook once per language).
    """
    key = inputs_digest(root)
    if key in _generated and all((docs / name).exists() for name in _generated[key][1]):
        return _generated[key][0]
    loaded = tooling.load(root)
    compiled = tooling.compile_rules(loaded)
    pages = render_pages(loaded, compiled)
    data = data_files(loaded, compiled)
    tooling.write_outputs(loaded, tooling.outputs(loaded, compiled))
    write_pages(pages, docs)
    for name, text in data.items():
        write_text_if_changed(docs / name, text)
    _generated.clear()
    _generated[key] = (loaded, list(pages) + list(data))
    return loaded


def data_files(loaded: tooling.Loaded, compiled: dict | None = None) -> dict[str, str]:
    """The JSON export, its schema and the checker's rules, by path under docs/."""
    compiled = compiled or tooling.compile_rules(loaded)
    return {
        "api/v1/matrix.json": tooling.dumps(tooling.export(loaded, compiled)),
        "api/v1/matrix.schema.json": tooling.synced_schema(loaded),
        "assets/checker/rules.json": tooling.dumps(compiled),
        **{f"feeds/{lang.lower()}.atom": atom_feed(loaded, lang) for lang in loaded.languages},
    }


# The checker's runtime assets (wheel, snapshot, Pyodide, standard library) are
# made in sitegen.runtime; these names stay importable from here.
from sitegen.runtime import (  # noqa: E402,F401
    build_snapshot, build_wheel, content_name, copy_if_changed, copy_runtime, gzip_if_changed,
    place_checker_assets, runtime_manifest,
)

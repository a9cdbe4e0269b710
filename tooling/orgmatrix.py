"""Maintainer tooling for ``matrix/dataverse.yaml``: the checks a schema cannot
express, and the compiled form the engine side (``checker.orgmap``) reads from
``rules.json``. Not shipped in the wheel, like the rest of ``tooling``.
"""

from __future__ import annotations

__all__ = ["check", "compile_mapping", "ORG_PAGE", "NOTICE_ANCHOR"]

# The page that explains the organization check, and its section on record states.
ORG_PAGE = "org"
NOTICE_ANCHOR = "record-states"


def _domain(question: dict) -> list:
    if question["type"] == "boolean":
        return [True, False]
    return [v["id"] for v in question["values"]]


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def check(checker, doc, rule_ids: set) -> None:
    """Report every problem of the mapping through ``checker.add(doc, path, message)``.

    ``checker.fields`` holds the questions by id; ``rule_ids`` the ids of the
    matrix's rules (the organization facts name one)."""
    data = doc.data
    fields = checker.fields
    add = checker.add

    def unique(items, what):
        seen = set()
        for path, ident in items:
            if ident in seen:
                add(doc, path, f"id {ident!r} is used twice among {what}; ids are unique")
            seen.add(ident)
        return seen

    sources = unique([(("sources", i, "id"), s["id"]) for i, s in enumerate(data["sources"])], "the mapping's sources")
    tables = {}
    for ti, table in enumerate(data["tables"]):
        if table["id"] in tables:
            add(doc, ("tables", ti, "id"), f"table {table['id']!r} is described twice")
        if table["source"] not in sources:
            add(doc, ("tables", ti, "source"), f"unknown source {table['source']!r}; sources: {', '.join(sorted(sources))}")
        for needed in (table["key"], table["name"]):
            if needed not in table["select"]:
                add(doc, ("tables", ti, "select"), f"{needed!r} must be selected: the report names records by it")
        columns = {}
        for ci, column in enumerate(table["columns"]):
            cpath = ("tables", ti, "columns", ci)
            if column["id"] in columns:
                add(doc, cpath + ("id",), f"column {column['id']!r} is listed twice")
            values = [v["value"] for v in column.get("values", [])]
            if (column["type"] == "option") != bool(values):
                add(doc, cpath, "an `option` column lists its `values`, and only an option column does")
            for vi, v in enumerate(values):
                if values.index(v) != vi:
                    add(doc, cpath + ("values", vi), f"value {v} is listed twice")
            columns[column["id"]] = column
        tables[table["id"]] = columns
    if set(tables) != {"emailserverprofile", "mailbox"}:
        add(doc, ("tables",), "describe both tables: emailserverprofile and mailbox")

    def check_columns(path, cond):
        for name, values in cond.items():
            table, _, column = name.partition(".")
            spec = tables.get(table, {}).get(column)
            if spec is None:
                known = ", ".join(f"{table}.{c}" for c in tables.get(table, {}))
                add(doc, path + (name,), f"unknown column {name!r}; columns: {known}")
                continue
            for vi, v in enumerate(values):
                if spec["type"] == "option" and not any(_same(v, o["value"]) for o in spec["values"]):
                    allowed = ", ".join(str(o["value"]) for o in spec["values"])
                    add(doc, path + (name, vi), f"{v!r} is not a value of {name}; values: {allowed}")
                elif spec["type"] == "boolean" and not isinstance(v, bool):
                    add(doc, path + (name, vi), f"{v!r} is not a value of {name}; values: true, false")
                elif spec["type"] == "text" and not isinstance(v, str):
                    add(doc, path + (name, vi), f"{v!r} is not text; {name} holds text")

    def check_value(path, name, value, multi: bool):
        spec = fields.get(name)
        if spec is None:
            add(doc, path, f"unknown field {name!r}; fields: {', '.join(fields)}")
            return
        if (spec["type"] == "multi") != multi:
            add(doc, path, f"{name} is {'a list: use `add`' if spec['type'] == 'multi' else 'a single value: use `set`'}")
            return
        domain = _domain(spec)
        if not any(_same(value, d) for d in domain):
            add(doc, path, f"{value!r} is not a value of {name}; values: {', '.join(map(_word, domain))}")

    rule_seen = []
    for ri, rule in enumerate(data["rules"]):
        rpath = ("rules", ri)
        rule_seen.append((rpath + ("id",), rule["id"]))
        if rule["source"] not in sources:
            add(doc, rpath + ("source",), f"unknown source {rule['source']!r}; sources: {', '.join(sorted(sources))}")
        if not rule.get("set") and not rule.get("add"):
            add(doc, rpath, "a rule sets or adds at least one field")
        check_columns(rpath + ("when",), rule["when"])
        for name, value in rule.get("set", {}).items():
            check_value(rpath + ("set", name), name, value, multi=False)
        for name, value in rule.get("add", {}).items():
            check_value(rpath + ("add", name), name, value, multi=True)
    unique(rule_seen, "the mapping's rules")

    for ci, cand in enumerate(data["candidates"]):
        cpath = ("candidates", ci)
        spec = fields.get(cand["field"])
        if spec is None or not spec["required"]:
            add(doc, cpath + ("field",), f"{cand['field']!r} is not a required field; candidates are tried only for one")
            continue
        for vi, v in enumerate(cand["values"]):
            check_value(cpath + ("values", vi), cand["field"], v, multi=False)
        for name, values in cand.get("when", {}).items():
            for vi, v in enumerate(values):
                check_value(cpath + ("when", name, vi), name, v, multi=fields.get(name, {}).get("type") == "multi")

    mixed = data["organization"]["mixed_act"]
    mpath = ("organization", "mixed_act")
    check_columns(mpath + ("outlook",), mixed["outlook"])
    check_columns(mpath + ("server_side_sync",), mixed["server_side_sync"])
    if fields.get(mixed["field"], {}).get("type") != "boolean":
        add(doc, mpath + ("field",), f"{mixed['field']!r} is not a true/false field of the questions")
    if mixed["rule"] not in rule_ids:
        add(doc, mpath + ("rule",), f"unknown rule {mixed['rule']!r}; name a rule of the matrix's pages")

    for table, cond in data["organization"].get("inactive", {}).items():
        check_columns(("organization", "inactive", table), cond)
    for ei, pair in enumerate(data["organization"].get("enabled", [])):
        for part in ("flag", "column"):
            table, _, column = pair[part].partition(".")
            spec = tables.get(table, {}).get(column)
            want = "boolean" if part == "flag" else "option"
            if spec is None or spec["type"] != want:
                add(doc, ("organization", "enabled", ei, part),
                    f"{pair[part]!r} is not a{'' if want == 'boolean' else 'n'} {want} column of the tables")

    notice_seen = []
    for ni, notice in enumerate(data["notices"]):
        notice_seen.append((("notices", ni, "id"), notice["id"]))
        if notice["source"] not in sources:
            add(doc, ("notices", ni, "source"), f"unknown source {notice['source']!r}; sources: {', '.join(sorted(sources))}")
        check_columns(("notices", ni, "when"), notice["when"])
    unique(notice_seen, "notices")


def _word(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def compile_mapping(data: dict, languages, page_link) -> dict:
    """The mapping as the engine side reads it (``rules.json`` key ``dataverse``)."""
    link = {lang: page_link(ORG_PAGE, NOTICE_ANCHOR, lang, languages) for lang in languages}
    sources = {s["id"]: s for s in data["sources"]}
    return {
        "sources": data["sources"],
        "online_hosts": data["online_hosts"],
        "tables": {
            t["id"]: {
                "entity_set": t["entity_set"],
                "key": t["key"],
                "name": t["name"],
                "select": t["select"],
                "columns": {c["id"]: {"type": c["type"], "values": [v["value"] for v in c.get("values", [])]}
                            for c in t["columns"]},
            }
            for t in data["tables"]
        },
        "rules": [{"id": r["id"], "when": r["when"], "set": r.get("set", {}), "add": r.get("add", {}),
                   "source": sources[r["source"]]["url"], **({"reading": r["reading"]} if r.get("reading") else {})}
                  for r in data["rules"]],
        "candidates": data["candidates"],
        "organization": data["organization"],
        "notices": [{"id": n["id"], "when": n["when"], "message": n["message"], "link": link,
                     "source": sources[n["source"]]["url"]} for n in data["notices"]],
    }

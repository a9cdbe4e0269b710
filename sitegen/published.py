"""The verdicts a reader reaches first, computed by the engine when the site is built.

The checker page shows one of these at once (marked as computed when the site
was built) when its address or form holds exactly that configuration, while the
in-browser engine loads; the engine then confirms it. The configurations are
every deployment × email system × sync choice (sync left out, or any non-empty
set of its values, in the form's order), with nothing else stated.

Each verdict is exactly what ``checker.engine.evaluate_json`` answers for the
request the page would send (``{"config": ..., "lang": ...}``). Findings and
open questions repeat across verdicts, so each list of objects in a verdict is
kept once in a table of that name and verdicts refer to its items by index:

    {"tables": {"findings": [finding, ...], "open_questions": [question, ...]},
     "verdicts": {"?deployment=online&email_system=gmail": {"status": ..., "findings": [0, 3], ...}}}

The keys are the page's own permalink query (checker.js ``queryFromConfig``).
"""

from __future__ import annotations

import itertools
import json
import re

from checker import engine

FIELDS = ("deployment", "email_system", "sync")
_PLAIN = re.compile(r"^[a-z0-9-]+$")  # values that need no escaping in a query


def configurations(compiled: dict) -> list[dict]:
    """Every configuration the build publishes a verdict for."""
    fields = {f["id"]: f for f in compiled["fields"]}
    if not all(name in fields for name in FIELDS):
        return []
    values = {name: [v["id"] for v in fields[name]["values"]] for name in FIELDS}
    syncs: list = [None] + [list(c) for n in range(1, len(values["sync"]) + 1)
                            for c in itertools.combinations(values["sync"], n)]
    configs = []
    for deployment, system, sync in itertools.product(values["deployment"], values["email_system"], syncs):
        config = {"deployment": deployment, "email_system": system}
        if sync is not None:
            config["sync"] = sync
        configs.append(config)
    return configs


def query_key(config: dict, order: list[str]) -> str | None:
    """The page's permalink query for this configuration, or None if a value
    would need escaping (the page would not find it then)."""
    parts = []
    for name in order:
        if name not in config:
            continue
        value = config[name]
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) and _PLAIN.match(i) for i in items):
            return None
        parts.append(f"{name}=" + ",".join(items))
    return "?" + "&".join(parts)


def config_from_key(key: str, compiled: dict) -> dict:
    """The configuration a key stands for (the inverse of query_key)."""
    types = {f["id"]: f["type"] for f in compiled["fields"]}
    config = {}
    for part in key.lstrip("?").split("&"):
        name, _, text = part.partition("=")
        config[name] = text.split(",") if types[name] == "multi" else text
    return config


def published_verdicts(compiled: dict, lang: str) -> dict:
    """The verdicts for configurations(compiled) in one language, as the page embeds them."""
    order = [f["id"] for f in compiled["fields"]]
    tables: dict[str, list] = {}
    index: dict[tuple[str, str], int] = {}
    verdicts = {}
    with engine_using(compiled):
        for config in configurations(compiled):
            key = query_key(config, order)
            if key is None:
                continue
            answer = json.loads(engine.evaluate_json(json.dumps({"config": config, "lang": lang})))
            if "errors" in answer:
                continue  # not a verdict: the page waits for the engine
            entry = dict(answer)
            for name, value in answer.items():
                if not (isinstance(value, list) and all(isinstance(item, dict) for item in value)):
                    continue
                table = tables.setdefault(name, [])
                refs = []
                for item in value:
                    text = json.dumps(item, ensure_ascii=False, sort_keys=True)
                    if (name, text) not in index:
                        index[name, text] = len(table)
                        table.append(item)
                    refs.append(index[name, text])
                entry[name] = refs
            verdicts[key] = entry
    return {"tables": tables, "verdicts": verdicts}


def expand(published: dict, key: str) -> dict | None:
    """One verdict in full, as the page rebuilds it."""
    entry = published["verdicts"].get(key)
    if entry is None:
        return None
    return {name: [published["tables"][name][i] for i in value] if name in published["tables"] else value
            for name, value in entry.items()}


class engine_using:
    """Evaluate with these compiled rules for a while (the build's, which may be
    newer than those packed in checker/), then put back what was in use."""

    def __init__(self, compiled: dict):
        self.text = json.dumps(compiled, ensure_ascii=False)

    def __enter__(self):
        self.saved = engine._current
        engine.use_rules(self.text)

    def __exit__(self, *exc):
        engine._current = self.saved


def page_json(compiled: dict, lang: str) -> str:
    """published_verdicts as inert JSON for a <script type="application/json">."""
    text = json.dumps(published_verdicts(compiled, lang), ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/")

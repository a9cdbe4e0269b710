"""The verdicts a reader reaches first, computed by the engine when the site is built.

The checker page shows one of these at once (marked as computed when the site
was built) when its address or form holds exactly that configuration, while the
in-browser engine loads; the engine then confirms it. The configurations are
every combination of the questions the page shows first and of the tenant and
the server profile: each field stated with any of its values or not stated
(sync: any non-empty set of its values, in the form's order), with nothing
else stated, and an answer only where the engine gives a verdict.

Each verdict is exactly what ``checker.engine.evaluate_json`` answers for the
request the page would send (``{"config": ..., "lang": ...}``). Thousands of
combinations share a few hundred distinct verdicts, and verdicts share their
findings and open questions, so the page carries:

    {"fields": ["deployment", ...],            # the order of the index
     "choices": {"deployment": [null, "online", "on-premises"], ...},
     "index": "0a0b..",                        # WIDTH base-36 digits per combination
     "width": 2,
     "verdicts": [{"status": ..., "findings": [0, 3], ...}, ...],
     "tables": {"findings": [finding, ...], "open_questions": [question, ...]}}

A combination's place in ``index`` is its choices' positions read as a
mixed-radix number (first field most significant); its digits are 1 + the
verdict's place in ``verdicts``, 0 where the build has none. checker.js
``publishedVerdict`` reads it the same way.
"""

from __future__ import annotations

import itertools
import json
import re

from checker import engine

FIELDS = ("deployment", "email_system", "sync", "tenant", "server_profile")
_PLAIN = re.compile(r"^[a-z0-9-]+$")  # values that need no escaping in a query
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def choices(compiled: dict) -> dict[str, list]:
    """Per field, in index order: not stated (None), then each value (sync: each
    non-empty set of its values, as a list)."""
    fields = {f["id"]: f for f in compiled["fields"]}
    out = {}
    for name in FIELDS:
        if name not in fields:
            continue
        values = [v["id"] for v in fields[name]["values"]]
        if fields[name]["type"] == "multi":
            out[name] = [None] + [list(c) for n in range(1, len(values) + 1)
                                  for c in itertools.combinations(values, n)]
        else:
            out[name] = [None, *values]
    return out


def configurations(compiled: dict) -> list[dict]:
    """Every configuration the build considers, in index order."""
    table = choices(compiled)
    if not {"deployment", "email_system"} <= set(table):
        return []
    configs = []
    for combo in itertools.product(*table.values()):
        configs.append({name: value for name, value in zip(table, combo) if value is not None})
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
    table = choices(compiled)
    tables: dict[str, list] = {}
    index: dict[tuple[str, str], int] = {}
    distinct: dict[str, int] = {}
    verdicts: list[dict] = []
    codes: list[int] = []
    with engine_using(compiled):
        for config in configurations(compiled):
            answer = json.loads(engine.evaluate_json(json.dumps({"config": config, "lang": lang})))
            if "errors" in answer:
                codes.append(0)  # not a verdict: the page waits for the engine
                continue
            entry = dict(answer)
            for name, value in answer.items():
                if not (isinstance(value, list) and all(isinstance(item, dict) for item in value)):
                    continue
                items = tables.setdefault(name, [])
                refs = []
                for item in value:
                    text = json.dumps(item, ensure_ascii=False, sort_keys=True)
                    if (name, text) not in index:
                        index[name, text] = len(items)
                        items.append(item)
                    refs.append(index[name, text])
                entry[name] = refs
            text = json.dumps(entry, ensure_ascii=False, sort_keys=True)
            if text not in distinct:
                distinct[text] = len(verdicts)
                verdicts.append(entry)
            codes.append(1 + distinct[text])
    width = 1
    while len(DIGITS) ** width <= len(verdicts):
        width += 1
    return {"fields": list(table), "choices": table, "width": width,
            "index": "".join(_digits(code, width) for code in codes),
            "verdicts": verdicts, "tables": tables}


def _digits(number: int, width: int) -> str:
    out = ""
    for _ in range(width):
        number, digit = divmod(number, len(DIGITS))
        out = DIGITS[digit] + out
    return out


def position(published: dict, config: dict) -> int | None:
    """The configuration's place in the index, or None if it states a field
    the index does not cover or a value it does not know."""
    if set(config) - set(published["fields"]):
        return None
    place = 0
    for name in published["fields"]:
        options = published["choices"][name]
        value = config.get(name)
        if value not in options:
            return None
        place = place * len(options) + options.index(value)
    return place


def expand(published: dict, key: str) -> dict | None:
    """One verdict in full, as the page rebuilds it from its permalink query."""
    config = {}
    for part in key.lstrip("?").split("&"):
        name, _, text = part.partition("=")
        multi = name in published["choices"] and any(isinstance(c, list) for c in published["choices"][name])
        config[name] = text.split(",") if multi else text
    place = position(published, config)
    if place is None:
        return None
    width = published["width"]
    code = int(published["index"][place * width:(place + 1) * width], len(DIGITS))
    if code == 0:
        return None
    entry = published["verdicts"][code - 1]
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

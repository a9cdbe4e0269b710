"""Maintainer tooling for ``matrix/errors.yaml``: the checks a schema cannot
express, and the compiled form the checker ships (``rules.json`` key ``errors``).

The compiled form carries every code's match tokens already worked out (a hex
code and its negative decimal form), so the matchers in Python
(``checker/explain.py``) and in the browser (``docs/javascripts/explain-core.mjs``)
only compare strings and cannot drift apart on arithmetic.
"""

from __future__ import annotations

import re

_HEX = re.compile(r"^8[0-9a-f]{7}$")
_NEG = re.compile(r"^-[0-9]{10}$")
_TOKEN = re.compile(r"^[a-z0-9]+$")


def code_tokens(code: str) -> list[str]:
    """The text tokens that stand for one code: itself (lower case, no sign), and
    for an 8-digit hex HRESULT its negative decimal form, or the reverse."""
    c = code.lower()
    if _NEG.match(c):
        value = (1 << 32) - int(c[1:])
        return [c[1:], f"{value:08x}"] if 0x80000000 <= value <= 0xFFFFFFFF else [c[1:]]
    if _HEX.match(c):
        return [c, str((1 << 32) - int(c, 16))]
    return [c]


def check(checker, doc, entry_ids: set, page_of: dict) -> None:
    """Cross-references of the errors file: unique ids, codes that name one
    cause only, phrases in their matched form, related entries that exist, and
    fixes in the questions' own terms."""
    from checker.explain import STRING_KEYS

    data = doc.data
    for key in STRING_KEYS:
        if key not in data["strings"]:
            checker.add(doc, ("strings",), f"string {key!r} is missing; the explanations use it")
    for key in data["strings"]:
        if key not in STRING_KEYS:
            checker.add(doc, ("strings", key), f"string {key!r} is used nowhere; keys: {', '.join(STRING_KEYS)}")
    seen_ids: dict = {}
    seen_tokens: dict = {}
    seen_patterns: dict = {}
    for i, err in enumerate(data["errors"]):
        path = ("errors", i)
        if err["id"] in seen_ids:
            checker.add(doc, path + ("id",), f"id {err['id']!r} is used twice (first at errors[{seen_ids[err['id']]}]); ids are unique")
        seen_ids.setdefault(err["id"], i)
        if err["id"] in entry_ids:
            checker.add(doc, path + ("id",), f"id {err['id']!r} is also an entry of a page; pick another")
        if not err["codes"] and not err["patterns"]:
            checker.add(doc, path, "an error needs at least one code or one pattern, or nothing can match it")
        for j, code in enumerate(err["codes"]):
            for token in code_tokens(code):
                if not _TOKEN.match(token):
                    checker.add(doc, path + ("codes", j), f"{code!r} is not a code of letters and digits")
                elif token in seen_tokens and seen_tokens[token] != err["id"]:
                    checker.add(doc, path + ("codes", j), f"code {code!r} also names {seen_tokens[token]!r}; a code names one cause")
                seen_tokens.setdefault(token, err["id"])
        for j, pattern in enumerate(err["patterns"]):
            if pattern != " ".join(pattern.split()) or pattern != pattern.lower():
                checker.add(doc, path + ("patterns", j), "write a pattern in lower case with single spaces; that is how texts are compared")
            if pattern in seen_patterns and seen_patterns[pattern] != err["id"]:
                checker.add(doc, path + ("patterns", j), f"pattern also belongs to {seen_patterns[pattern]!r}")
            seen_patterns.setdefault(pattern, err["id"])
        for j, eid in enumerate(err.get("related", [])):
            if eid not in page_of:
                checker.add(doc, path + ("related", j), f"unknown entry {eid!r}; related names an entry of a page")
        if "fix_when" in err and "fix" not in err:
            checker.add(doc, path + ("fix_when",), "`fix_when` goes with a `fix`; remove it or write the fix")
        if "fix" in err:
            checker.check_fix(doc, path + ("fix",), err["fix"])
        if "fix_when" in err:
            checker.check_condition(doc, path + ("fix_when",), err["fix_when"])


def compile_errors(data: dict, languages, page_of: dict, page_link) -> dict:
    """The errors as the checker reads them: each with its match tokens and the
    site-relative links of its related entries in every language."""
    out = []
    for err in data["errors"]:
        out.append({
            "id": err["id"],
            "codes": list(err["codes"]),
            "match": {"codes": [code_tokens(c) for c in err["codes"]], "patterns": list(err["patterns"])},
            "title": err["title"],
            "meaning": err["meaning"],
            "action": err["action"],
            "remedy_source": err["remedy_source"],
            "fix": err.get("fix"),
            "fix_when": err.get("fix_when"),
            "related": [{"entry": eid, "link": {lang: page_link(page_of[eid], eid, lang, languages) for lang in languages}}
                        for eid in err.get("related", [])],
            "source": dict(err["source"]),
        })
    return {"index": dict(data["index"]), "errors": out, "strings": data["strings"]}

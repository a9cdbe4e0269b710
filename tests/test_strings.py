"""Every reader-facing string exists in every language, and is really translated."""

from __future__ import annotations

import json

from tooling import matrix as tooling


def localized(node, path=""):
    if isinstance(node, dict):
        if "pt-BR" in node or "en" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from localized(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from localized(v, f"{path}[{i}]")


def test_every_string_has_every_language(loaded):
    data = tooling.export(loaded)
    found = list(localized(data))
    assert len(found) > 300
    for path, text in found:
        assert set(text) == set(loaded.languages), path
        assert all(isinstance(v, str) and v.strip() for v in text.values()), path


def test_long_texts_differ_between_languages(loaded):
    """A sentence copied untranslated would read the same in both (product names may)."""
    same = [path for path, text in localized(tooling.export(loaded))
            if len(text["en"].split()) >= 5 and text["en"].rstrip().endswith(".")
            and text["en"] == text["pt-BR"]]
    assert not same, same


def test_compiled_rules_are_plain_json(loaded):
    compiled = tooling.compile_rules(loaded)
    assert json.loads(json.dumps(compiled)) == compiled

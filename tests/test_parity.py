"""Parity: the built wheel runs under Pyodide in Node.js and evaluates every
case of the case table plus at least 10,000 generated configurations; its JSON
output equals CPython's for each.

One Node.js process (tests/parity.mjs) loads the npm package's Pyodide with no
extra packages and no network, unpacks the wheel from ``sitegen.build_wheel()``
and answers every request; the answers are compared, as strings, with
``checker.engine.evaluate_json`` on this CPython. Deliberately invalid
configurations are in the run too, so error answers are compared as well.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time

import pytest

import sitegen
from checker import load_matrix
from checker.engine import evaluate_json

from .configs import field_values, generate
from .conftest import CASES, REPO

GENERATED = 10_000
INVALID = 200
INVALID_SEED = 20240229
LANGS = ("pt-BR", "en")
RUNNER = REPO / "tests" / "parity.mjs"
PYODIDE = REPO / "node_modules" / "pyodide" / "pyodide.mjs"
NODE_TIMEOUT = 600


def _request(config, lang, *, ascii_only: bool = True) -> str:
    return json.dumps({"config": config, "lang": lang}, ensure_ascii=ascii_only)


# -- deliberately invalid input ------------------------------------------------

JUNK_SCALARS = [0, 1, -1, 2, 1.5, -0.0, 1e300, 10**30, True, False, None, "", " ", "true", "false", "null",
                "0", "1", "yes", "não", "ONLINE", "Online", " online", "online ", "gmail\n"]
JUNK_STRINGS = [
    "moon", "exchange", "exchange-server", "exchange_online", "pop3-imap", "GMAIL", "e-mail",
    "<img src=x onerror=alert(1)>", "\"quoted\"", "back\\slash", "{deployment}", "{given}", "%s %d",
    "ação", "日本語", "emoji 🙂", "zero\u200bwidth", "rtl \u202e text", "nul \x00 char", "tab\tand\nnewline",
    "x" * 79, "y" * 80, "z" * 81, "w" * 300, "ã" * 100,
]


def _nested(rng: random.Random, depth: int):
    if depth == 0:
        return rng.choice(JUNK_SCALARS + JUNK_STRINGS)
    if rng.random() < 0.5:
        return [_nested(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(JUNK_STRINGS + ["deployment", "a", ""]): _nested(rng, depth - 1) for _ in range(rng.randint(0, 3))}


def _valid_for(spec: dict, value) -> bool:
    """What the contract accepts for one field (kept independent of the engine)."""
    ids = [v["id"] for v in spec["values"]]
    if spec["type"] == "boolean":
        return isinstance(value, bool)
    if spec["type"] == "choice":
        return isinstance(value, str) and value in ids
    return (isinstance(value, list) and bool(value) and len(set(map(repr, value))) == len(value)
            and all(isinstance(v, str) and v in ids for v in value))


def invalid_configs(count: int = INVALID, seed: int = INVALID_SEED) -> list[tuple[object, object]]:
    """`count` (config, lang) pairs that evaluate_json must reject: unknown
    fields, unknown values, wrong types, non-mappings, nested junk, missing or
    repeated items, bad languages. Deterministic for a given seed."""
    rng = random.Random(seed)
    fields = load_matrix().fields
    names = list(fields)

    def base() -> dict:
        config = {"deployment": rng.choice(field_values(fields["deployment"])),
                  "email_system": rng.choice(field_values(fields["email_system"]))}
        for name in names:
            if not fields[name]["required"] and rng.random() < 0.2:
                config[name] = rng.choice(field_values(fields[name]))
        return config

    def junk(spec: dict | None = None):
        while True:
            roll = rng.random()
            if roll < 0.4:
                value = rng.choice(JUNK_SCALARS)
            elif roll < 0.7:
                value = rng.choice(JUNK_STRINGS)
            else:
                value = _nested(rng, rng.randint(1, 4))
            if spec is None or not _valid_for(spec, value):
                return value

    def unknown_field(config):
        name = rng.choice(JUNK_STRINGS + [n.upper() for n in names] + [n + "s" for n in names] + ["", "lang", "config"])
        config[name] = junk()

    def unknown_value(config):
        name = rng.choice([n for n in names if fields[n]["type"] != "boolean"])
        ids = {v["id"] for v in fields[name]["values"]}
        bad = rng.choice([s for s in JUNK_STRINGS if s not in ids])
        config[name] = [bad] if fields[name]["type"] == "multi" and rng.random() < 0.5 else bad

    def wrong_type(config):
        name = rng.choice(names)
        config[name] = junk(fields[name])

    def bad_list(config):
        allowed = [v["id"] for v in fields["sync"]["values"]]
        config["sync"] = rng.choice([
            [], [allowed[0], allowed[0]], allowed + [allowed[-1]], [allowed[0], None], [1], [True],
            [[allowed[0]]], [{"id": allowed[0]}], allowed[0], {"email": True}, [allowed[0], rng.choice(JUNK_STRINGS)],
        ])

    def missing_required(config):
        for name in rng.sample(["deployment", "email_system"], rng.randint(1, 2)):
            del config[name]

    def null_value(config):
        config[rng.choice(names)] = None

    mutations = [unknown_field, unknown_value, wrong_type, bad_list, missing_required, null_value]
    non_mappings = [None, [], [{}], "online", "", 0, 1.5, True, False, [["deployment", "online"]]]

    out: list[tuple[object, object]] = []
    # Every field with every kind of wrong type, so each validation path is hit.
    for name in names:
        for value in (None, 1, True, "nope", ["nope"], [], {"a": 1}):
            if _valid_for(fields[name], value):
                continue
            config = base()
            config[name] = value
            out.append((config, LANGS[len(out) % 2]))
    for value in non_mappings:
        out.append((value, LANGS[len(out) % 2]))
    while len(out) < count:
        roll = rng.random()
        lang = rng.choice(LANGS)
        if roll < 0.05:
            out.append((_nested(rng, 3), lang))
            continue
        config = base()
        for mutate in rng.sample(mutations, rng.randint(1, 3)):
            mutate(config)
        if roll < 0.12:
            # A language the matrix does not have, or not a string at all
            # (the latter falls back to the default language).
            lang = rng.choice(["xx", "EN", "pt", "pt-br", "", "en ", 5, None, ["en"], {"lang": "en"}])
        out.append((config, lang))
    return out[:count]


# Malformed JSON: the engine answers with its own message, not the json
# module's (whose wording changed in Python 3.13), so these compare exactly too.
MALFORMED = [
    "", " ", "not json", "{", "}", "[", "{\"config\": }", "{\"config\": {},}", "{\"config\": {\"deployment\": \"online\",}}",
    "[1,]", "{'config': {}}", "{\"config\" {}}", "{\"config\": {}} trailing", "\ufeff{}", "{\"config\": NaNa}",
    "{\"config\": \"unterminated}", "{\"config\": \"\\x\"}", "{\"config\": [1 2]}", "1" * 5000, "nul\x00",
]


def build_requests() -> tuple[list[str], list[str]]:
    """(requests, kinds): the case table in every language, the generated
    configurations in alternating languages, the invalid ones, malformed JSON."""
    requests: list[str] = []
    kinds: list[str] = []
    for case in CASES:
        for lang in LANGS:
            requests.append(_request(case["config"], lang))
            kinds.append("case:" + case["id"])
    for i, config in enumerate(generate(GENERATED)):
        requests.append(_request(config, LANGS[i % 2]))
        kinds.append("generated")
    for i, (config, lang) in enumerate(invalid_configs()):
        requests.append(_request(config, lang, ascii_only=bool(i % 2)))
        kinds.append("invalid")
    # Request-level oddities: a payload that is not an object, missing keys, extra keys.
    for text in ("[1]", "5", "\"en\"", "null", "{}", "{\"lang\": \"en\"}", "{\"config\": {}, \"lang\": \"en\"}"):
        requests.append(text)
        kinds.append("invalid")
    # Keys the request format does not have are ignored: still a verdict.
    requests.append(json.dumps({"config": {"deployment": "online", "email_system": "gmail"}, "lang": "en", "extra": [1]}))
    kinds.append("extra-key")
    for text in MALFORMED:
        requests.append(text)
        kinds.append("malformed")
    return requests, kinds


# -- the run -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def parity_run(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH (./run test installs Node.js packages; Node.js 20+ is needed)")
    if not PYODIDE.exists():
        pytest.skip(f"{PYODIDE.relative_to(REPO)} is missing (run `npm ci`, or ./run setup)")
    wheel = sitegen.build_wheel()
    requests, kinds = build_requests()
    tmp = tmp_path_factory.mktemp("parity")
    requests_file, out_file = tmp / "requests.json", tmp / "responses.json"
    requests_file.write_text(json.dumps(requests), encoding="utf-8")

    started = time.perf_counter()
    result = subprocess.run(
        [node, str(RUNNER), str(wheel), str(requests_file), str(out_file)],
        cwd=REPO, capture_output=True, text=True, timeout=NODE_TIMEOUT,
    )
    node_wall = time.perf_counter() - started
    assert result.returncode == 0, f"parity.mjs failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    out = json.loads(out_file.read_text(encoding="utf-8"))

    load_matrix()  # the first call reads rules.json; keep it out of the timing, as Pyodide's load is
    started = time.perf_counter()
    expected = [evaluate_json(r) for r in requests]
    cpython_seconds = time.perf_counter() - started

    n = len(requests)
    print(
        f"\nparity: {n} requests ({kinds.count('generated')} generated, {sum(k.startswith('case:') for k in kinds)} case-table,"
        f" {kinds.count('invalid')} invalid, {kinds.count('malformed')} malformed JSON)"
        f"\n  Pyodide {out['pyodide_version']} / Python {out['python_version']} in Node {_node_version(node)}:"
        f" load {out['load_seconds']:.2f} s, evaluate {out['seconds']:.2f} s"
        f" = {out['seconds'] / n * 1e6:.0f} us/evaluation (node process {node_wall:.2f} s wall)"
        f"\n  CPython {sys.version.split()[0]}: evaluate {cpython_seconds:.2f} s = {cpython_seconds / n * 1e6:.0f} us/evaluation"
        f"\n  ratio Pyodide/CPython: {out['seconds'] / cpython_seconds:.1f}x"
        f"\n  checker imported in Pyodide from {out['checker_file']} ({wheel.name})"
    )
    return requests, kinds, expected, out


def _node_version(node: str) -> str:
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


def _report(indices, requests, kinds, expected, got, limit=5) -> str:
    lines = [f"{len(indices)} of {len(requests)} responses differ; first {min(limit, len(indices))}:"]
    for i in indices[:limit]:
        lines += [f"#{i} [{kinds[i]}] request: {requests[i][:500]}",
                  f"    CPython: {expected[i][:1000]}",
                  f"    Pyodide: {got[i][:1000]}"]
    return "\n".join(lines)


def test_pyodide_output_equals_cpython(parity_run):
    requests, kinds, expected, out = parity_run
    got = out["responses"]
    # Pyodide 314 is Python 3.14; this CPython is the project's (3.11 or newer):
    # equal answers here are equal answers across interpreter versions.
    assert out["python_version"].startswith("3.14."), out["python_version"]
    assert len(got) == len(requests)
    assert kinds.count("generated") >= 10_000
    assert {k[5:] for k in kinds if k.startswith("case:")} == {c["id"] for c in CASES}
    assert kinds.count("invalid") >= INVALID

    differ = [i for i in range(len(requests)) if got[i] != expected[i]]
    assert not differ, _report(differ, requests, kinds, expected, got)

    # Both outcomes were compared: verdicts for the valid input, errors for the invalid.
    for i, kind in enumerate(kinds):
        answer = json.loads(expected[i])
        if kind == "invalid":
            assert set(answer) == {"errors"} and answer["errors"], (requests[i], answer)
        elif kind == "malformed":
            assert [e["code"] for e in answer["errors"]] == ["bad_json"], (requests[i], answer)
        else:
            assert set(answer) == {"status", "findings", "open_questions", "holds_if", "worse_if", "implied"}, (requests[i], answer)

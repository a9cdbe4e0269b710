"""Properties of the engine over arbitrary input (hypothesis)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from checker import ConfigError, Verdict, evaluate, evaluate_json, load_matrix

from .configs import consistent, field_values

MATRIX = load_matrix()
FIELDS = MATRIX.fields

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_like = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
known_or_junk_value = st.one_of(
    *(st.sampled_from(field_values(spec)) for spec in FIELDS.values()), json_like
)
near_configs = st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=6), known_or_junk_value, max_size=8)


@st.composite
def valid_configs(draw):
    config = {}
    for name, spec in FIELDS.items():
        if spec["required"] or draw(st.booleans()):
            config[name] = draw(st.sampled_from(field_values(spec)))
    return consistent(config)


# What a valid configuration becomes under each perturbation, and the branch the
# engine must take for it. Valid configurations come first (drawn from the
# questions), so the verdict branch runs most of the time.
def _unknown_value(spec):
    return ["not-a-value"] if spec["type"] == "multi" else "not-a-value"


# Each perturbation of a valid configuration, as often as it is listed (a
# uniform draw from the list), and the branch the engine must take for it.
PERTURBATIONS = ("none", "a required answer missing", "none", "an optional answer unset", "an unknown name", "none",
                 "an unknown value", "none", "a value of the wrong type", "an optional answer unset", "none",
                 "not an object", "none", "an unknown value", "none", "a value of the wrong type", "none",
                 "an optional answer unset", "none", "none")


@st.composite
def perturbed_valid(draw):
    """(input, perturbation, expected branch): a valid configuration drawn from the
    questions, kept or broken in one known way."""
    config = draw(valid_configs())
    optional = [n for n in config if not FIELDS[n]["required"]]
    how = draw(st.sampled_from(PERTURBATIONS))
    if how == "none" or (how == "an optional answer unset" and not optional):
        return config, "none", "verdict"
    if how == "an optional answer unset":
        name = draw(st.sampled_from(optional))
        return {k: v for k, v in config.items() if k != name}, how, "verdict"
    if how == "a required answer missing":
        name = draw(st.sampled_from([n for n in FIELDS if FIELDS[n]["required"]]))
        return {k: v for k, v in config.items() if k != name}, how, "input error"
    if how == "an unknown name":
        return {**config, draw(st.sampled_from(["colour", "Deployment", "sync ", ""])): "x"}, how, "input error"
    if how == "an unknown value":
        name = draw(st.sampled_from(sorted(config)))
        return {**config, name: _unknown_value(FIELDS[name])}, how, "input error"
    if how == "a value of the wrong type":
        name = draw(st.sampled_from(sorted(config)))
        return {**config, name: draw(st.sampled_from([42, 1.5, {"id": "x"}, [[1]]]))}, how, "input error"
    return [config], how, "input error"


@st.composite
def perturbed(draw):
    """Eight draws in ten start from a valid configuration; the rest are arbitrary
    JSON or dictionaries near a configuration (either branch may be right for them)."""
    kind = draw(st.sampled_from(["valid"] * 8 + ["arbitrary JSON", "near a configuration"]))
    if kind == "arbitrary JSON":
        return draw(json_like), kind, None
    if kind == "near a configuration":
        return draw(near_configs), kind, None
    return draw(perturbed_valid())


# Hypothesis favours the first element of a list: the shares are wide enough for
# its bias (measured over five runs: 70-77 % of the examples reach a verdict), narrow enough that each branch really runs.
BRANCH_SHARES = {"verdict": (0.55, 0.95), "input error": (0.1, 0.45)}


@pytest.fixture
def branches():
    """Counts each branch over all the examples of one test (a fixture of a
    hypothesis test is set up once for all its examples), then asserts the shares."""
    seen: Counter = Counter()
    yield seen
    total = sum(seen[b] for b in BRANCH_SHARES)
    assert total >= 100, seen
    for branch, (low, high) in BRANCH_SHARES.items():
        assert low <= seen[branch] / total <= high, (branch, seen)
    assert len([k for k in seen if k.startswith("perturbation: ")]) == 9, seen  # every kind of input was tried


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=perturbed(), lang=st.sampled_from(["pt-BR", "en"]))
def test_any_input_gives_a_verdict_or_an_input_error(branches, drawn, lang):
    """Most inputs are valid configurations (the verdict branch), the rest broken in
    one known way (the input-error branch) or arbitrary. The share of each branch
    shows in hypothesis' statistics (--hypothesis-show-statistics) and is asserted
    by the `branches` fixture once every example has run."""
    obj, how, expected = drawn
    try:
        verdict = evaluate(obj, lang)
    except ConfigError as exc:
        branch = "input error"
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        branch = "verdict"
        assert isinstance(verdict, Verdict)
        assert verdict.status in ("supported", "limited", "unsupported", "unknown")
        event(f"status: {verdict.status}")
    event(f"branch: {branch}")
    event(f"perturbation: {how}")
    branches[branch] += 1
    branches[f"perturbation: {how}"] += 1
    if expected is not None:
        assert branch == expected, (how, obj)
    answer = json.loads(evaluate_json(json.dumps({"config": obj, "lang": lang})))
    assert ("errors" in answer) != ("status" in answer)
    assert ("status" in answer) == (branch == "verdict")


@settings(max_examples=300, deadline=None)
@given(valid_configs(), st.randoms())
def test_evaluation_is_deterministic_and_order_free(config, rnd):
    first = evaluate(config, "en")
    keys = list(config)
    rnd.shuffle(keys)
    assert evaluate({k: config[k] for k in keys}, "en") == first
    assert evaluate(config, "en") == first


@settings(max_examples=500, deadline=None)
@given(valid_configs(), st.data())
def test_stating_more_never_makes_an_unsupported_setup_supported(config, data):
    before = evaluate(config, "en")
    # A field whose value follows from another answer (the mailbox location, from
    # the email system) is not unstated: giving it another value is a change.
    missing = [n for n in FIELDS if n not in MATRIX.parse(config, "en")]
    if not missing:
        return
    name = data.draw(st.sampled_from(missing))
    more = consistent({**config, name: data.draw(st.sampled_from(field_values(FIELDS[name])))})
    if name not in more or any(k not in more for k in config):  # it contradicted an answer given
        return
    after = evaluate(more, "en")
    if before.status == "unsupported":
        assert after.status == "unsupported"
        # the reasons stay, too: those of the answers given, and of the entailed
        # field's values that still fit (a finding for another value goes)
        answers = MATRIX.parse(more, "en")  # with what the new answer implies

        # An entailed reason (applies_if: it holds for every value the unstated field
        # may take) is given only while the answers alone do not settle the status;
        # once a stated answer makes it unsupported, that answer's reason stands.
        settled = any(f.severity == "unsupported" and not f.applies_if for f in after.findings)

        def stays(f):
            if f.applies_if and settled:
                return False
            return all(name not in answers or answers[name] in values or str(answers[name]).lower() in values
                       for name, values in f.applies_if or ())
        # and those of a field that belongs to a profile the new answer rules out
        # (the Exchange Online authentication once the profile is POP3/SMTP) go
        gone = {name for name, spec in FIELDS.items()
                if any(g["field"] in answers and answers[g["field"]] not in g["in"] for g in spec.get("only_with", ()))}
        reads = {r["id"]: json.dumps(r["when"]) for r in MATRIX.rules}
        assert ({f.rule for f in before.findings if f.severity == "unsupported" and stays(f)
                 and not any(f'"field": "{name}"' in reads[f.rule] for name in gone)}
                <= {f.rule for f in after.findings})

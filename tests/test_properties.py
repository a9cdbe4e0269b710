"""Properties of the engine over arbitrary input (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
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


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_like, near_configs), st.sampled_from(["pt-BR", "en"]))
def test_any_input_gives_a_verdict_or_an_input_error(obj, lang):
    try:
        verdict = evaluate(obj, lang)
    except ConfigError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        assert isinstance(verdict, Verdict)
        assert verdict.status in ("supported", "limited", "unsupported", "unknown")
    answer = json.loads(evaluate_json(json.dumps({"config": obj, "lang": lang})))
    assert ("errors" in answer) != ("status" in answer)


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

        def stays(f):
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

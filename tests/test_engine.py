"""The engine's API: verdict objects, input errors as values, the JSON entry point."""

from __future__ import annotations

import json

import pytest

from checker import ConfigError, evaluate, evaluate_json


def test_not_stated_fields_never_fire():
    verdict = evaluate({"deployment": "online", "email_system": "exchange-online"}, "en")
    assert {f.rule for f in verdict.findings} == {"online-exchange", "note-encryption"}


def test_defaults_apply_to_sync_only():
    verdict = evaluate({"deployment": "online", "email_system": "gmail"}, "en")
    assert verdict.status == "supported"


def test_config_error_lists_every_problem():
    with pytest.raises(ConfigError) as info:
        evaluate({"deployment": "moon", "mfa": "no"}, "en")
    fields = sorted(p.field for p in info.value.problems)
    assert fields == ["deployment", "email_system", "mfa"]
    mfa = next(p for p in info.value.problems if p.field == "mfa")
    assert mfa.allowed == ("true", "false") and mfa.given == '"no"'


def test_booleans_are_not_numbers():
    with pytest.raises(ConfigError):
        evaluate({"deployment": "online", "email_system": "gmail", "bulk_marketing_email": 1})


def test_evaluate_json_round_trip():
    out = json.loads(evaluate_json(json.dumps({"config": {"deployment": "online", "email_system": "msn"}, "lang": "en"})))
    assert out["status"] == "unsupported"
    assert out["findings"][0]["rule"] == "uns-fips-known-servers"
    assert out["findings"][0]["link"] == "en/unsupported/#uns-fips"


@pytest.mark.parametrize("request_text", ["not json", "[1]", '{"config": 5}', '{"config": {}, "lang": "xx"}'])
def test_evaluate_json_returns_errors_as_values(request_text):
    out = json.loads(evaluate_json(request_text))
    assert set(out) == {"errors"} and out["errors"]
    for e in out["errors"]:
        assert e["message"]


def test_hostile_strings_come_back_as_data():
    hostile = '<img src=x onerror=alert(1)>'
    out = json.loads(evaluate_json(json.dumps({"config": {"deployment": hostile, "email_system": "gmail"}, "lang": "en"})))
    err = out["errors"][0]
    assert err["field"] == "deployment" and hostile in err["given"]


def test_verdict_json_is_exactly_the_plain_serialization():
    from checker.engine import verdict_json

    from .configs import generate

    for config in generate(2000, seed=3):
        for lang in ("pt-BR", "en"):
            verdict = evaluate(config, lang)
            assert verdict_json(verdict) == json.dumps(verdict.to_dict(), ensure_ascii=False)

"""The case table: each case's verdict and the exact rules that fire."""

from __future__ import annotations

import pytest

from checker import evaluate

from .conftest import CASES


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, engine):
    for lang in engine.languages:
        verdict = evaluate(case["config"], lang)
        assert verdict.status == case["status"], [f.rule for f in verdict.findings]
        assert sorted(f.rule for f in verdict.findings) == sorted(case["rules"])
        for finding in verdict.findings:
            assert finding.message and "{" not in finding.message
            assert finding.remedy is None or "{" not in finding.remedy


def test_case_ids_are_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_rule_has_a_case(engine):
    fired = {rule for case in CASES for rule in case["rules"]}
    missing = [r["id"] for r in engine.rules if r["id"] not in fired]
    assert not missing, f"rules with no case: {missing}"


def test_every_fact_has_a_case(loaded, engine):
    by_rule = {r["id"]: set(r["facts"]) for r in engine.rules}
    exercised = set().union(*(by_rule[r] for case in CASES for r in case["rules"]))
    missing = [f for f in loaded.facts if f not in exercised]
    assert not missing, f"facts with no case: {missing}"


def test_every_unsupported_rule_has_a_supported_neighbour(engine):
    """For each rule that makes a setup unsupported, some case shows a setup
    that differs in the rule's own fields and does not trigger it."""
    for rule in engine.rules:
        if rule["severity"] != "unsupported":
            continue
        firing = [c for c in CASES if rule["id"] in c["rules"]]
        quiet = [c for c in CASES if rule["id"] not in c["rules"] and c["status"] in ("supported", "limited")]
        assert firing and quiet
        assert any(
            set(q["config"]) >= {"deployment", "email_system"}
            and q["config"]["deployment"] == f["config"]["deployment"]
            for f in firing for q in quiet
        ), rule["id"]


def test_status_is_worst_severity_and_info_never_decides(engine):
    rank = {"unsupported": 4, "unknown": 3, "limited": 2, "supported": 1}
    for case in CASES:
        verdict = evaluate(case["config"], "en")
        deciding = [f.severity for f in verdict.findings if f.severity != "info"]
        assert verdict.status == max(deciding, key=rank.__getitem__)
        order = [rank.get(f.severity, 0) for f in verdict.findings]
        assert order == sorted(order, reverse=True)


def test_findings_carry_links_and_both_languages(engine):
    case = next(c for c in CASES if c["id"] == "online-gmail-act")
    pt = evaluate(case["config"], "pt-BR")
    en = evaluate(case["config"], "en")
    assert [f.rule for f in pt.findings] == [f.rule for f in en.findings]
    for a, b in zip(pt.findings, en.findings):
        assert a.message != b.message
        assert b.link == "en/" + a.link
        assert a.link.split("#")[0] in {"support-matrix/", "unsupported/", "notes/", "exchange-online/", "cross-tenant/"}
    assert "Gmail" in en.findings[0].message

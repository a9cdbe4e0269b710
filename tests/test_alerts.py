"""checker/alerts.py: each mailbox's latest alert from tracelogs and its own
last-error columns, explained, and the mailboxes grouped by cause, worst first."""

from __future__ import annotations

import json

import pytest

from checker.alerts import AlertsError, group_by_cause, latest_alerts, records_of, summary_lines

from .conftest import REPO

TEXTS = {f["expect"]: f["text"] for f in json.loads(
    (REPO / "tests" / "fixtures" / "alerts" / "texts.json").read_text(encoding="utf-8"))["texts"]}
P1, P2 = "6f1d0c5e-0000-4000-8000-0000000000p1".replace("p", "a"), "6f1d0c5e-0000-4000-8000-0000000000b2"


def mailbox(n, profile=P1, **more):
    return {"mailboxid": f"00000000-0000-4000-8000-{n:012d}", "name": f"mb{n}", "_emailserverprofile_value": profile, **more}


def trace(regarding, text, on, level=3, code=0, kind=None, **more):
    rec = {"tracelogid": f"t-{on}-{regarding[-4:]}", "_regardingobjectid_value": regarding, "level": level,
           "tracecode": code, "text": text, "createdon": on, **more}
    if kind:
        rec["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] = kind
    return rec


def mid(n):
    return f"00000000-0000-4000-8000-{n:012d}"


def test_each_mailbox_gets_its_latest_alert_and_the_page_explanation():
    boxes = [mailbox(1), mailbox(2), mailbox(3)]
    traces = [
        trace(mid(1), TEXTS["err-host-not-found"], "2026-11-20T08:00:00Z"),
        trace(mid(1), TEXTS["err-mailbox-deactivated"], "2026-11-25T08:00:00Z"),   # later: this one
        trace(mid(2), TEXTS["err-approval-required"], "2026-11-21T08:00:00Z", level=2),
        trace(mid(2), "Your mailbox is now connected", "2026-11-30T08:00:00Z", level=1),  # information: not an alert
    ]
    alerts = latest_alerts(traces, boxes)
    assert set(alerts) == {mid(1), mid(2)}
    assert alerts[mid(1)].cause_id == "err-mailbox-deactivated" and alerts[mid(1)].on == "2026-11-25T08:00:00Z"
    assert alerts[mid(2)].cause_id == "err-approval-required" and alerts[mid(2)].level == 2
    d = alerts[mid(1)].to_dict("en")
    assert d["level"] == "error" and d["origin"] == "tracelog"
    assert d["explanation"][0]["source"]["url"].endswith("/email-message-cannot-be-sent")


def test_a_repeated_alert_counts_from_its_modifiedon():
    boxes = [mailbox(1)]
    traces = [trace(mid(1), TEXTS["err-host-not-found"], "2026-11-01T00:00:00Z", modifiedon="2026-11-29T00:00:00Z"),
              trace(mid(1), TEXTS["err-mailbox-deactivated"], "2026-11-10T00:00:00Z")]
    assert latest_alerts(traces, boxes)[mid(1)].cause_id == "err-host-not-found"


def test_a_profile_alert_reaches_every_mailbox_of_the_profile():
    boxes = [mailbox(1, P1), mailbox(2, P1), mailbox(3, P2)]
    traces = [trace(P1.upper(), TEXTS["err-ews-forbidden"], "2026-11-20T00:00:00Z", kind="emailserverprofile")]
    alerts = latest_alerts(traces, boxes)
    assert set(alerts) == {mid(1), mid(2)}
    assert all(a.regarding == "emailserverprofile" and a.cause_id == "err-ews-forbidden" for a in alerts.values())
    # without the annotation, the id is found among the profiles the mailboxes use
    traces[0].pop("_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname")
    assert set(latest_alerts(traces, boxes)) == {mid(1), mid(2)}


def test_the_mailboxs_last_sync_error_counts_when_newer_and_is_explained_by_its_code():
    boxes = [mailbox(1, lastsyncerrorcode=-2147187962, lastsyncerror=None, lastsyncerroroccurredon="2026-11-28T00:00:00Z"),
             mailbox(2, lastsyncerrorcode=-2147187962, lastsyncerroroccurredon="2026-11-01T00:00:00Z"),
             mailbox(3, lastsyncerrorcode=0, lastsyncerror=None)]
    traces = [trace(mid(1), TEXTS["err-host-not-found"], "2026-11-20T00:00:00Z"),
              trace(mid(2), TEXTS["err-host-not-found"], "2026-11-20T00:00:00Z")]
    alerts = latest_alerts(traces, boxes)
    assert alerts[mid(1)].origin == "mailbox" and alerts[mid(1)].cause_id == "err-act-insufficient-privileges"
    assert alerts[mid(2)].origin == "tracelog" and alerts[mid(2)].cause_id == "err-host-not-found"
    assert mid(3) not in alerts


def test_since_leaves_out_older_alerts():
    boxes = [mailbox(1), mailbox(2)]
    traces = [trace(mid(1), TEXTS["err-host-not-found"], "2026-10-01T00:00:00Z"),
              trace(mid(2), TEXTS["err-host-not-found"], "2026-11-20T00:00:00Z")]
    assert set(latest_alerts(traces, boxes, since="2026-11-05")) == {mid(2)}


def test_groups_come_worst_first_and_say_how_many_mailboxes():
    boxes = [mailbox(n) for n in range(1, 8)]
    traces = ([trace(mid(n), TEXTS["err-approval-required"], "2026-11-20T00:00:00Z", level=2) for n in (1, 2, 3)]
              + [trace(mid(n), TEXTS["err-act-insufficient-privileges"], "2026-11-20T00:00:00Z") for n in (4, 5)]
              + [trace(mid(6), TEXTS["err-host-not-found"], "2026-11-20T00:00:00Z")]
              + [trace(mid(7), "something no page describes", "2026-11-20T00:00:00Z", level=2)])
    groups = group_by_cause(latest_alerts(traces, boxes), "en")
    assert [(g["cause"], g["count"], g["level"]) for g in groups] == [
        ("err-act-insufficient-privileges", 2, "error"),
        ("err-host-not-found", 1, "error"),
        ("err-approval-required", 3, "warning"),
        (None, 1, "warning"),
    ]
    assert summary_lines(groups, "en")[0] == "2 mailboxes: The mailbox user lacks sufficient privileges"
    assert summary_lines(groups, "pt-BR")[-1] == "1 caixa de correio: alerta sem causa conhecida"
    assert groups[0]["mailboxes"] == [mid(4), mid(5)]


@pytest.mark.parametrize("junk", [[None, 3, "x", {}], [{"_regardingobjectid_value": 5, "level": "3"}],
                                  [{"_regardingobjectid_value": "unknown-id", "level": 3, "text": "MailboxDisabled"}]])
def test_records_of_the_wrong_shape_are_skipped(junk):
    assert latest_alerts(junk, [mailbox(1), "not a record"]) == {}


def test_records_of_a_web_api_response():
    assert records_of({"@odata.context": "x", "value": [1]}) == [1]
    assert records_of([2]) == [2]
    with pytest.raises(AlertsError):
        records_of({"error": {"message": "x"}})


def test_a_long_text_is_bounded():
    boxes = [mailbox(1)]
    alerts = latest_alerts([trace(mid(1), "x " * 10**6 + "MailboxDisabled", "2026-11-20T00:00:00Z")], boxes)
    assert len(alerts[mid(1)].text) <= 64 * 1024 and alerts[mid(1)].cause_id is None

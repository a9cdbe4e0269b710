"""`checker org` with a tracelogs export and the mailboxes' last-error columns: each
mailbox's latest alert explained, the mailboxes grouped by cause, worst first, every
alert record accounted for, and the exit status as the verdicts say."""

from __future__ import annotations

import csv
import io
import json

import pytest

from checker import load_matrix
from checker.orgmap import Organization

from .test_org import FIX, FULL, HOST, MAILBOX, PROFILE, org_json, run

ALERTS = FULL + ["tracelogs.json"]
MB = {m["name"]: m["mailboxid"] for n in FULL[1:] for m in json.loads((FIX / n).read_text())["value"]}


def causes(report):
    return {m["name"]: (m["alert"]["cause"] if "alert" in m else "-") for m in report["mailboxes"]}


def test_each_mailbox_gets_its_latest_alert_explained():
    result, report = org_json(*ALERTS, extra=["--lang", "en"])
    got = causes(report)
    assert got["Ana Lima"] == "err-owner-lacks-privileges"          # the later of her two alerts
    assert got["Bruno Souza"] == "err-owner-lacks-privileges"       # modifiedon counts, no annotation needed
    assert got["Carla Dias"] == "-"                                 # an information trace is not an alert
    assert got["Sales queue"] == "err-approval-required"
    assert got["Gil Prado"] == got["Support queue"] == "err-host-not-found"   # the profile's alert, for both
    assert got["Helena Reis"] is None                               # an alert, no known cause
    assert got["Joana Costa"] == "-"
    ana = next(m for m in report["mailboxes"] if m["name"] == "Ana Lima")["alert"]
    assert ana["level"] == "error" and ana["origin"] == "tracelog" and ana["on"] == "2026-11-20T09:00:00Z"
    assert ana["explanation"][0]["source"]["url"].endswith("/error-code-8005e259")
    pop3 = next(m for m in report["mailboxes"] if m["name"] == "Gil Prado")["alert"]
    assert pop3["regarding"] == "emailserverprofile"


def test_groups_worst_first_with_plurals_in_both_languages():
    _r, en = org_json(*ALERTS, extra=["--lang", "en"])
    groups = en["alerts"]["groups"]
    assert [(g["cause"], g["count"], g["level"]) for g in groups] == [
        ("err-owner-lacks-privileges", 2, "error"), ("err-host-not-found", 2, "error"),
        ("err-rest-api-not-enabled", 1, "error"), ("err-configured-with-another-organization", 1, "error"),
        ("err-approval-required", 1, "warning"), (None, 1, "warning")]
    assert groups[0]["line"] == "2 mailboxes: The mailbox owner lacks privileges"
    assert groups[2]["line"].startswith("1 mailbox: ")
    assert groups[0]["explanation"]["source"]["date"] and groups[-1]["explanation"] is None
    assert {m["alert"]["group"] for m in en["mailboxes"] if m["name"] in ("Ana Lima", "Bruno Souza")} == {1}
    _r, pt = org_json(*ALERTS, extra=["--lang", "pt-BR"])
    lines = [g["line"] for g in pt["alerts"]["groups"]]
    assert lines[0].startswith("2 caixas de correio: ") and lines[2].startswith("1 caixa de correio: ")
    assert lines[-1] == "1 caixa de correio: alerta sem causa conhecida"
    for lang in ("en", "pt-BR"):
        text = run(*[str(FIX / n) for n in ALERTS], "--lang", lang).stdout
        assert "(s)" not in "\n".join(l for l in text.splitlines() if "lert" in l or "caixa de correio:" in l)
    text = run(*[str(FIX / n) for n in ALERTS], "--lang", "en").stdout
    block = text[text.index("Alerts (the latest"):text.index("Alert records read")]
    assert block.index("2 mailboxes: The mailbox owner") < block.index("1 mailbox: an alert with no known cause")
    assert "error-code-8005e259" in block and "ana.lima@contoso.com, bruno.souza@contoso.com" in block


def test_every_alert_record_is_accounted_for():
    _r, report = org_json(*ALERTS, extra=["--lang", "en"])
    a = report["alerts"]
    assert a["records"] == 11 and a["information"] == 1 and a["older"] == 1 and a["unmatched"] == 2
    assert a["latest"] == 7 and a["records"] == a["information"] + a["latest"] + a["older"] + a["unmatched"]
    assert a["mailboxes"] == 8 and a["by_level"] == {"error": 6, "warning": 2, "unknown": 0}
    unmatched = [p for p in report["problems"] if p["code"] == "alert_unmatched"]
    assert [p["record"] for p in unmatched] == ["cccc0000-0000-4000-8000-000000000001"]
    assert "(records: 2)" in unmatched[0]["message"]


def test_alerts_leave_the_verdicts_and_the_exit_status_alone():
    plain, with_alerts = org_json(*FULL), org_json(*ALERTS)
    assert plain[0].returncode == with_alerts[0].returncode == 1
    strip = lambda r: [{k: v for k, v in m.items() if k != "alert"} for m in r["mailboxes"]]  # noqa: E731
    assert strip(plain[1]) == strip(with_alerts[1]) and plain[1]["summary"] == with_alerts[1]["summary"]
    # an organization whose every mailbox is supported exits 0, alerts or not
    org = records([PROFILE], [MAILBOX], [trace("m1", "Email Server Error Code: MailboxNotEnabledForRESTAPI")])
    report = org.evaluate("online")
    assert json.loads(report.to_json())["mailboxes"][0]["alert"]["cause"] == "err-rest-api-not-enabled"
    assert report.exit_code() == 0


def test_tracelogs_alone_are_refused(tmp_path):
    result = run(str(FIX / "tracelogs.json"), "--lang", "en")
    assert result.returncode == 2 and result.stdout == ""
    assert "only alerts (tracelogs)" in result.stderr
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(json.loads((FIX / "tracelogs.json").read_text())["value"]))
    result = run(str(bare), "--lang", "pt-BR")
    assert result.returncode == 2 and "Só há alertas" in result.stderr


def records(profiles, mailboxes, traces, lang="en", bare=False):
    org = Organization(load_matrix(), lang)
    org.add_document("profiles", {"@odata.context": HOST + "$metadata#emailserverprofiles", "value": profiles})
    org.add_document("mailboxes", {"@odata.context": HOST + "$metadata#mailboxes", "value": mailboxes})
    org.add_document("tracelogs", traces if bare else {"@odata.context": HOST + "$metadata#tracelogs", "value": traces})
    return org


def trace(regarding, text, on="2026-11-20T00:00:00Z", level=3, **more):
    return {"tracelogid": f"t-{regarding}-{on}", "_regardingobjectid_value": regarding, "level": level,
            "tracecode": 0, "text": text, "createdon": on, **more}


def test_a_bare_list_of_alerts_and_unknown_ids():
    traces = [trace("m1", "MailboxDisabled"), trace("p9", "HostNotFound",
                                                     **{"_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "emailserverprofile"}),
              {"tracelogid": "t-none", "level": 3, "text": "x"}]
    profiles = [PROFILE, {**PROFILE, "emailserverprofileid": "p9", "name": "Unused"}]
    report = json.loads(records(profiles, [MAILBOX], traces, bare=True).evaluate("online").to_json())
    assert report["mailboxes"][0]["alert"]["text"] == "MailboxDisabled"
    codes = [p["code"] for p in report["problems"]]
    assert codes == ["alert_no_record", "alert_unmatched"]
    assert "no mailbox in the files uses that profile" in report["problems"][1]["message"]
    assert report["alerts"]["unmatched"] == 2 and report["alerts"]["records"] == 3


def test_the_mailboxs_last_error_columns_count():
    box = {**MAILBOX, "lastsyncerrorcode": -2147187962, "lastsyncerror": None,
           "lastsyncerroroccurredon": "2026-11-28T00:00:00Z"}
    org = Organization(load_matrix(), "pt-BR")
    org.add_document("profiles", {"@odata.context": HOST + "$metadata#emailserverprofiles", "value": [PROFILE]})
    org.add_document("mailboxes", {"@odata.context": HOST + "$metadata#mailboxes", "value": [box]})
    report = org.evaluate("online")
    data = json.loads(report.to_json())
    alert = data["mailboxes"][0]["alert"]
    assert alert["origin"] == "mailbox" and alert["cause"] == "err-act-insufficient-privileges"
    assert alert["level"] is None and data["alerts"]["by_level"]["unknown"] == 1
    assert data["alerts"]["records"] == 0
    text = report.to_text()
    assert "Caixas de correio com alerta: 1." in text and "1 caixa de correio: " in text
    assert "Registros de alerta lidos" not in text  # no tracelogs were given


def test_csv_has_the_group_and_cause_columns():
    result = run(*[str(FIX / n) for n in ALERTS], "--format", "csv", "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    ana = next(r for r in rows if r["name"] == "Ana Lima")
    assert (ana["alert_group"], ana["alert_level"], ana["alert_cause"]) == ("1", "error", "err-owner-lacks-privileges")
    assert ana["alert_title"] == "The mailbox owner lacks privileges" and json.loads(ana["alert"])["group"] == 1
    carla = next(r for r in rows if r["name"] == "Carla Dias")
    assert carla["alert_group"] == carla["alert"] == ""
    assert "alert_unmatched" not in result.stdout and "were left out" in result.stderr


def test_evaluating_again_reports_the_alert_problems_once():
    org = records([PROFILE], [MAILBOX], [trace("zz", "HostNotFound")])
    first = json.loads(org.evaluate("online").to_json())["problems"]
    again = json.loads(org.evaluate("online").to_json())["problems"]
    assert first == again and len(first) == 1


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_no_alerts_given_keeps_an_empty_alerts_object(lang):
    _r, report = org_json(*FULL, extra=["--lang", lang])
    assert report["alerts"]["mailboxes"] == 0 and report["alerts"]["groups"] == []
    assert all("alert" not in m for m in report["mailboxes"])
    assert "alert_group" not in run(*[str(FIX / n) for n in FULL], "--format", "csv").stdout


def test_missing_tracelogs_pages_are_missing_pages(tmp_path):
    export = json.loads((FIX / "tracelogs.json").read_text())
    export["@odata.nextLink"] = HOST + "tracelogs?$skiptoken=2"
    (tmp_path / "tracelogs-1.json").write_text(json.dumps(export))
    result = run(*[str(FIX / n) for n in FULL], str(tmp_path / "tracelogs-1.json"), "--format", "json")
    report = json.loads(result.stdout)
    assert report["summary"]["missing_pages"] == ["tracelogs"] and result.returncode == 1
    assert report["alerts"]["mailboxes"] == 8  # what was given is still read


def test_a_cause_that_meets_the_matrix_links_it_and_the_site_url_makes_it_absolute():
    text = run(*[str(FIX / n) for n in ALERTS], "--lang", "en").stdout
    assert "In the support matrix: en/" in text and "(uns-exo-profile-onprem-user)" in text
    result = run(*[str(FIX / n) for n in ALERTS], "--lang", "en", "--format", "json",
                 "--site-url", "https://example.org/sss/")
    report = json.loads(result.stdout)
    eva = next(m for m in report["mailboxes"] if m["name"] == "Eva Melo")["alert"]["explanation"][0]
    group = next(g for g in report["alerts"]["groups"] if g["cause"] == "err-rest-api-not-enabled")
    assert eva["related"] and all(r["link"].startswith("https://example.org/sss/en/") for r in eva["related"])
    assert group["explanation"]["related"][0]["link"].startswith("https://example.org/sss/en/")

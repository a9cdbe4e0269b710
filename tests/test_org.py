"""Checking an organization: Dataverse exports in, a verdict per mailbox out
(checker.orgmap, `python -m checker org`, matrix/dataverse.yaml)."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker import load_matrix
from tooling import matrix as tooling
from checker.orgmap import Organization, OrgError, parse_answers

from .conftest import REPO

FIX = Path(__file__).resolve().parent / "fixtures" / "org"
FULL = ["profiles.json", "mailboxes-page1.json", "mailboxes-page2.json"]
MAPPING = load_matrix().data["dataverse"]
HOST = "https://contoso.crm.dynamics.com/api/data/v9.2/"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "checker", "org", *args], capture_output=True, text=True,
                          cwd=REPO, input=stdin)


def org_json(*names, extra=()):
    result = run(*[str(FIX / n) for n in names], "--format", "json", *extra)
    return result, (json.loads(result.stdout) if result.stdout else None)


def by_name(report):
    return {m["name"]: m for m in report["mailboxes"]}


def evaluate_records(profiles, mailboxes, deployment=None, answers=None, lang="en"):
    org = Organization(load_matrix(), lang)
    org.add_document("profiles", {"@odata.context": HOST + "$metadata#emailserverprofiles", "value": profiles})
    org.add_document("mailboxes", {"@odata.context": HOST + "$metadata#mailboxes", "value": mailboxes})
    return json.loads(org.evaluate(deployment, answers).to_json())


PROFILE = {"emailserverprofileid": "p1", "name": "P", "servertype": 0, "emailservertypename": "Exchange Online",
           "incomingcredentialretrieval": 2, "useautodiscover": True, "incominguseimpersonation": False}
MAILBOX = {"mailboxid": "m1", "name": "M", "emailaddress": "m@contoso.com", "_emailserverprofile_value": "p1",
           "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 2,
           "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "systemuser"}


def configuration(profile=None, mailbox=None):
    report = evaluate_records([{**PROFILE, **(profile or {})}], [{**MAILBOX, **(mailbox or {})}])
    assert not report["problems"], report["problems"]
    return report["mailboxes"][0]["configuration"]


# -- the mapping, row by row ---------------------------------------------------------
@pytest.mark.parametrize("rule", MAPPING["rules"], ids=lambda r: r["id"])
def test_each_mapping_row_gives_its_answers(rule):
    """Build the records the row's condition describes; the row's answers come out
    (unless an earlier row already gave the same field, which the data says wins)."""
    profile = {"emailserverprofileid": "p1", "name": "P", "servertype": 1}
    mailbox = dict(MAILBOX)
    for column, values in rule["when"].items():
        table, _, name = column.partition(".")
        (profile if table == "emailserverprofile" else mailbox)[name] = values[0]
    if rule["id"] == "exchange-online-template":
        profile["servertype"] = 0
    report = evaluate_records([profile], [mailbox], deployment="online")
    config = report["mailboxes"][0]["configuration"]
    earlier = MAPPING["rules"][:MAPPING["rules"].index(rule)]
    record = {f"emailserverprofile.{k}": v for k, v in profile.items()} | {f"mailbox.{k}": v for k, v in mailbox.items()}

    def holds(r):
        return all(record.get(c) is not None and str(record.get(c)).casefold() in [str(v).casefold() for v in vs]
                   for c, vs in r["when"].items())

    for field, value in rule["set"].items():
        if not any(field in r["set"] for r in earlier if holds(r)):
            assert config[field] == value, (rule["id"], field, config)
    for field, value in rule["add"].items():
        assert value in config[field]


def test_the_mapping_cites_its_sources_with_dates(loaded):
    doc, data = loaded.dataverse
    urls = {s["id"]: s["url"] for s in data["sources"]}
    assert "emailserverprofile" in urls["dataverse-emailserverprofile"] and data["sources"][0]["as_of"]
    assert all(r["source"] in urls for r in data["rules"])


def test_act_delivery_method_has_its_own_order():
    assert configuration(mailbox={"actdeliverymethod": 1})["sync"] == ["email", "appointments-contacts-tasks"]
    assert configuration(mailbox={"actdeliverymethod": 0})["sync"] == ["email"]
    only_act = {"incomingemaildeliverymethod": 0, "outgoingemaildeliverymethod": 0, "actdeliverymethod": 1}
    assert configuration(mailbox=only_act)["sync"] == ["appointments-contacts-tasks"]


def test_credentials_by_the_owner_type_and_impersonation():
    user = configuration(profile={"incomingcredentialretrieval": 0})
    queue = configuration(profile={"incomingcredentialretrieval": 0},
                          mailbox={"_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "queue"})
    unknown_owner = configuration(profile={"incomingcredentialretrieval": 0},
                                  mailbox={"_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": None})
    assert user["authentication"] == "user-credentials"
    assert queue["authentication"] == "queue-credentials"
    assert "authentication" not in unknown_owner  # not stated, never guessed
    assert configuration(profile={"incominguseimpersonation": True})["authentication"] == "impersonation"
    assert "authentication" not in configuration(profile={"incomingcredentialretrieval": 6})


def test_what_a_record_cannot_tell_stays_unstated_and_open():
    onprem = {**PROFILE, "servertype": 0, "emailservertypename": "Exchange Server (On Prem)",
              "incomingcredentialretrieval": 1}
    report = evaluate_records([onprem], [MAILBOX], deployment="online")
    mailbox = report["mailboxes"][0]
    assert "email_system" not in mailbox["configuration"]
    question = next(q for q in mailbox["open_questions"] if q["field"] == "email_system")
    assert question["outcomes"]["exchange-server-2019"] != question["outcomes"]["exchange-server-2007"]
    assert mailbox["status"] == "unknown"
    # stated once for the profile, it is settled
    answered = evaluate_records([onprem], [MAILBOX],
                                deployment="online", answers={"p1": {"email_system": "exchange-server-2019"}})
    mailbox = answered["mailboxes"][0]
    assert mailbox["configuration"]["email_system"] == "exchange-server-2019"
    assert not [q for q in mailbox["open_questions"] if q["field"] == "email_system"]
    assert mailbox["status"] == question["outcomes"]["exchange-server-2019"]


# -- every rule the records can reach ---------------------------------------------------
def reachable_rules():
    """Rules that fire for some configuration the mapping can produce (deployment
    and email_system tried over their values, as the open questions do)."""
    matrix = load_matrix()
    org = Organization(matrix, "en")
    fired = set()
    profiles, mailboxes = [], []
    n = 0
    for st in (0, 1, 2, 3, 4):
        for name in ("Exchange Online", "Gmail", "Other"):
            for cred in (0, 1, 2, 5, 7):
                for auto in (True, False):
                    for imp in (True, False):
                        n += 1
                        profiles.append({"emailserverprofileid": f"p{n}", "name": f"p{n}", "servertype": st,
                                         "emailservertypename": name, "incomingcredentialretrieval": cred,
                                         "useautodiscover": auto, "incominguseimpersonation": imp})
                        for act in (0, 1, 2):
                            for owner in ("systemuser", "queue"):
                                mailboxes.append({**MAILBOX, "mailboxid": f"m{n}-{act}-{owner}",
                                                  "_emailserverprofile_value": f"p{n}", "actdeliverymethod": act,
                                                  "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": owner})
    org.add_document("p", {"value": profiles})
    org.add_document("m", {"value": mailboxes})
    for dep in ("online", "on-premises"):
        for system in [v["id"] for v in matrix.fields["email_system"]["values"]]:
            report = org.evaluate(dep, {"*": {"email_system": system}})
            for verdict in report.verdicts:
                fired.update(f["rule"] for f in verdict["findings"])
    return fired


def test_every_rule_reachable_from_records_is_reached():
    fired = reachable_rules()
    compiled = {r["id"]: r for r in load_matrix().rules}
    # fields a Dataverse record never states: rules that need them cannot fire from records
    beyond = {"tenant", "mfa", "traffic_inspection", "bulk_marketing_email", "custom_email_provider",
              "fips_140_2_compliant_server", "app_for_outlook", "outlook_on_the_web", "manual_tracking_outlook",
              "mailbox_location"}

    def needs(cond):
        if "all" in cond:
            return set().union(*(needs(c) for c in cond["all"]))
        if "any" in cond:
            return set.intersection(*(needs(c) for c in cond["any"]))
        return set() if "absent" in cond else {cond["field"]}

    expected = {rid for rid, r in compiled.items() if not (needs(r["when"]) & beyond)}
    # One server type gives both protocols, so records never state a mixed pair.
    expected.discard("uns-mixed-protocols")
    assert expected - fired == set(), sorted(expected - fired)
    assert "rec-no-mixed-sync" in fired


# -- the organization ------------------------------------------------------------------------
def test_full_export_over_two_pages():
    result, report = org_json(*FULL)
    assert result.returncode == 1  # some mailboxes are not supported or unknown
    names = by_name(report)
    assert report["summary"]["mailboxes"] == 13 == len(report["mailboxes"])
    assert "Igor Alves" in names and "Ana Lima" in names  # page 2 and page 1
    s = report["summary"]
    assert sum(s[k] for k in ("supported", "limited", "unsupported", "unknown", "not_using_server_side_sync",
                              "inactive", "not_evaluated")) == 13
    assert s["inactive"] == s["not_evaluated"] == s["duplicates"] == 0 and s["missing_pages"] == []
    assert list(report) == ["summary", "mailboxes", "problems", "problem_counts", "organization", "alerts"]
    assert list(names["Ana Lima"]) == ["mailboxid", "name", "emailaddress", "emailserverprofileid",
                                       "uses_server_side_sync", "state", "reason", "status", "configuration",
                                       "findings", "open_questions", "readings"]
    assert names["Ana Lima"]["state"] == "evaluated" and names["Ana Lima"]["reason"] is None
    assert names["Ana Lima"]["status"] == "supported"
    assert names["Davi Rocha"]["configuration"]["authentication"] == "oauth-cross-tenant"
    assert names["Davi Rocha"]["status"] == "limited"
    assert names["Helena Reis"]["status"] == "unsupported"  # Gmail with appointments, contacts and tasks
    for who in ("Joana Costa", "Leo Pires"):
        assert names[who]["uses_server_side_sync"] is False and names[who]["status"] is None
        assert names[who]["state"] == "not_using_server_side_sync"
        assert names[who]["findings"] == [] and names[who]["configuration"] is None
    assert s["not_using_server_side_sync"] == 2
    assert report["problems"] == []


def test_record_states_show_as_info_beside_the_verdict():
    _result, report = org_json(*FULL)
    names = by_name(report)

    def notes(who):
        return {f["rule"] for f in names[who]["findings"] if f["rule"].startswith("org-")}

    assert notes("Bruno Souza") == {"org-incoming-test-failed"}
    assert notes("Carla Dias") == {"org-address-pending-approval"}
    assert notes("Eva Melo") == {"org-outgoing-test-failed"}
    assert notes("Fabio Nunes") == {"org-act-test-failed"}
    assert notes("Support queue") == {"org-address-rejected"}
    assert notes("Ana Lima") == set()
    # information only: the same verdict as a mailbox without the notice
    assert names["Bruno Souza"]["status"] == names["Ana Lima"]["status"]
    assert all(f["severity"] == "info" for f in names["Bruno Souza"]["findings"] if f["rule"].startswith("org-"))


def test_mixed_sync_organization():
    result, report = org_json("profiles.json", "mixed-mailboxes.json")
    names = by_name(report)
    for who in ("Marta Outlook", "Nina Server", "Otto Server"):
        assert "rec-no-mixed-sync" in {f["rule"] for f in names[who]["findings"]}, who
        assert names[who]["status"] == "limited"
    assert "rec-no-mixed-sync" not in {f["rule"] for f in names["Paulo Email only"]["findings"]}
    assert result.returncode == 0
    # the same mailboxes without the Outlook one: no recommendation
    data = json.loads((FIX / "mixed-mailboxes.json").read_text())
    data["value"] = [m for m in data["value"] if m["name"] != "Marta Outlook"]
    report = evaluate_records(json.loads((FIX / "profiles.json").read_text())["value"], data["value"])
    assert all("rec-no-mixed-sync" not in {f["rule"] for f in m["findings"]} for m in report["mailboxes"])


def test_broken_records_are_problems_and_the_rest_is_checked():
    result, report = org_json("broken-profiles.json", "broken-mailboxes.json")
    codes = {(p["code"], p["record"]) for p in report["problems"]}
    assert ("unknown_value", "aaaa0000-0000-4000-8000-000000000008") in codes      # servertype 9
    mailbox = "bbbb0000-0000-4000-8000-{:012x}".format
    assert ("unknown_value", mailbox(33)) in codes      # actdeliverymethod 7
    unknown = next(p for p in report["problems"] if p["field"] == "actdeliverymethod")
    assert unknown["given"] == "7" and unknown["allowed"] == ["0", "1", "2"]
    # every mailbox record is in the result: the broken ones as not evaluated, with the reason
    by_id = {m["mailboxid"]: m for m in report["mailboxes"]}
    assert report["summary"]["mailboxes"] == len(report["mailboxes"]) == 4
    assert by_id[mailbox(31)]["state"] == "not_evaluated" and "aaaa0000-0000-4000-8000-000000000008" in by_id[mailbox(31)]["reason"]
    assert by_id[mailbox(32)]["state"] == "not_evaluated" and "emailserverprofiles" in by_id[mailbox(32)]["reason"]
    assert by_id[mailbox(33)]["state"] == "not_evaluated" and "actdeliverymethod" in by_id[mailbox(33)]["reason"]
    assert [m["name"] for m in report["mailboxes"] if m["state"] == "evaluated"] == ["Still fine"]
    assert report["summary"]["not_evaluated"] == 3
    assert result.returncode == 1  # never a silent success


def test_a_file_that_is_not_an_export():
    result = run(str(FIX / "not-an-export.json"))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "not-an-export.json" in lines[0] and "Traceback" not in result.stderr
    # beside real exports, it is refused all the same: nothing is evaluated on a partial set
    result, report = org_json("not-an-export.json", *FULL)
    assert result.returncode == 2 and report is None
    assert "not-an-export.json" in result.stderr and len(result.stderr.strip().splitlines()) == 2
    for text in ("", "{not json", '{"value": [{"x": 1}]}'):
        result = run("-", stdin=text)
        assert result.returncode == 2 and "Traceback" not in result.stderr, text


def test_unreadable_file_and_bad_answers():
    result = run(str(FIX / "no-such-file.json"))
    assert result.returncode == 3 and "no-such-file.json" in result.stderr
    result = run(*[str(FIX / n) for n in FULL], "--set", "p1:email_system=exchange-2099")
    assert result.returncode == 2 and "exchange-2099" in result.stderr
    result = run(*[str(FIX / n) for n in FULL], "--set", "nonsense")
    assert result.returncode == 2 and "PROFILEID:field=value" in result.stderr


def test_answers_on_the_command_line_and_from_a_file(tmp_path):
    profile = "aaaa0000-0000-4000-8000-000000000003"
    _r, before = org_json(*FULL)
    assert by_name(before)["Eva Melo"]["status"] == "unknown"
    _r, after = org_json(*FULL, extra=("--set", f"{profile}:email_system=exchange-server-2019"))
    eva = by_name(after)["Eva Melo"]
    assert eva["configuration"]["email_system"] == "exchange-server-2019"
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"'{profile}':\n  email_system: exchange-server-2019\n")
    _r, from_file = org_json(*FULL, extra=("--profile-answers", str(answers)))
    assert by_name(from_file)["Eva Melo"] == eva


def test_deployment_from_the_host_or_the_option():
    _r, online = org_json(*FULL)
    assert by_name(online)["Ana Lima"]["configuration"]["deployment"] == "online"
    _r, onprem = org_json("onprem-profiles.json", "onprem-mailboxes.json")
    quinn = by_name(onprem)["Quinn Onprem"]
    assert "deployment" not in quinn["configuration"]
    assert {q["field"] for q in quinn["open_questions"]} >= {"deployment", "email_system"}
    _r, stated = org_json("onprem-profiles.json", "onprem-mailboxes.json", extra=("--deployment", "on-premises"))
    assert by_name(stated)["Quinn Onprem"]["configuration"]["deployment"] == "on-premises"


def test_text_output_groups_mailboxes_and_names_problems():
    profiles = json.loads((FIX / "profiles.json").read_text())
    mailbox = json.loads((FIX / "mailboxes-page1.json").read_text())["value"][0]
    many = [dict(mailbox, mailboxid=f"m{i}", name=f"User {i}", emailaddress=f"u{i}@contoso.com",
                 incomingemailstatus=2 if i % 7 == 0 else 1) for i in range(2000)]
    org = Organization(load_matrix(), "en")
    org.add_document("p", profiles)
    org.add_document("m", {"@odata.context": HOST + "$metadata#mailboxes", "value": many})
    text = org.evaluate().to_text()
    assert text.count("Profile Microsoft Exchange Online") == 1  # one block for 2,000 mailboxes
    assert "2000 mailbox(es)" in text and "and 1990 more" in text
    assert "(286)" in text  # the mailboxes whose Test & Enable failed, counted inside the block
    pt = run(*[str(FIX / n) for n in ["broken-profiles.json", "broken-mailboxes.json"]])
    assert "problema(s) nos arquivos" in pt.stdout and "actdeliverymethod" in pt.stdout


def test_csv_output():
    result = run(*[str(FIX / n) for n in FULL], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 13
    ana = next(r for r in rows if r["name"] == "Ana Lima")
    assert ana["status"] == "supported" and "exo-s2s" in ana["rules"].split(";")
    assert json.loads(ana["configuration"])["email_system"] == "exchange-online"


def test_only_the_wheel_modules_are_used_by_the_engine_side():
    """The three steps run in the page too: standard library and the wheel only.
    The layout shows the steps: reading, mapping, reporting, each its own module."""
    import ast

    for step in ("orgread.py", "orgmap.py", "orgreport.py", "console.py"):
        source = (REPO / "checker" / step).read_text()
        for banned in ("import yaml", "jsonschema", "from .matrix", "import matrix", "from .cli", "import tooling"):
            assert banned not in source, (step, banned)
    # orgread knows nothing of the mapping, orgreport nothing of reading files
    read = {n.module for n in ast.walk(ast.parse((REPO / "checker" / "orgread.py").read_text()))
            if isinstance(n, ast.ImportFrom)}
    assert not {m for m in read if m and m.startswith(("orgmap", "orgreport", "engine"))}
    report = (REPO / "checker" / "orgreport.py").read_text()
    assert "orgread" not in report and "open(" not in report
    # cli.py and orgcli.py share console.py instead of importing each other's helpers
    assert "from .cli import ASCII_MARK" not in (REPO / "checker" / "orgcli.py").read_text()


# -- the mapping is validated with the matrix ---------------------------------------------
def broken_copy(tmp_path, edit):
    import shutil

    import yaml

    target = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", target)
    data = yaml.safe_load((target / "dataverse.yaml").read_text())
    edit(data)
    (target / "dataverse.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return target


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["rules"][0]["set"].update(server_profile="exchange-2099"), "'exchange-2099' is not a value of server_profile"),
    (lambda d: d["rules"][0]["when"].update({"emailserverprofile.servertype": [42]}), "42 is not a value of emailserverprofile.servertype"),
    (lambda d: d["rules"][0]["when"].update({"mailbox.nonexistent": [1]}), "unknown column 'mailbox.nonexistent'"),
    (lambda d: d["organization"]["mixed_act"].update(rule="no-such-rule"), "unknown rule 'no-such-rule'"),
    (lambda d: d["rules"][1].update(source="nowhere"), "unknown source 'nowhere'"),
    (lambda d: d["rules"][0]["set"].update(sync="email"), "sync is a list: use `add`"),
    (lambda d: d["candidates"][0].update(field="tenant"), "'tenant' is not a required field"),
])
def test_mapping_mistakes_are_reported(tmp_path, edit, expected):
    root = broken_copy(tmp_path, edit)
    with pytest.raises(tooling.MatrixInvalid) as info:
        tooling.load(root)
    assert any(expected in str(i) and "dataverse.yaml" in str(i) for i in info.value.issues), info.value.issues


def test_parse_answers_checks_fields_and_values():
    matrix = load_matrix()
    assert parse_answers(["P1:autodiscover=true", "*:sync=email"], matrix, "en") == {
        "p1": {"autodiscover": True}, "*": {"sync": ["email"]}}
    with pytest.raises(OrgError):
        parse_answers(["p1:colour=blue"], matrix, "en")
    with pytest.raises(OrgError):
        parse_answers({"p1": {"autodiscover": "maybe"}}, matrix, "en")


def test_project_suggestions_are_marked_in_the_text():
    """A remedy that is the project's own suggestion says so, as in `check`."""
    profile = "aaaa0000-0000-4000-8000-000000000003"
    result = run(*[str(FIX / n) for n in FULL], "--lang", "en", "--set", f"{profile}:email_system=exchange-server-2010-sp3")
    _r, report = org_json(*FULL, extra=("--lang", "en", "--set", f"{profile}:email_system=exchange-server-2010-sp3"))
    eva = by_name(report)["Eva Melo"]
    own = [f for f in eva["findings"] if f.get("remedy_source") == "project" and f["remedy"]]
    assert own, eva["findings"]
    assert f"{own[0]['remedy']} (Our own suggestion, not Microsoft's)" in result.stdout


def test_the_json_export_carries_the_mapping(loaded):
    export = tooling.export(loaded)
    assert export["dataverse"]["tables"]["mailbox"]["entity_set"] == "mailboxes"
    assert [r["id"] for r in export["dataverse"]["rules"]] == [r["id"] for r in loaded.dataverse[1]["rules"]]


def test_links_under_a_site_address_and_a_console_without_the_marks():
    _r, report = org_json(*FULL, extra=("--site-url", "https://example.org/sss"))
    links = [f["link"] for m in report["mailboxes"] for f in m["findings"]]
    assert links and all(link.startswith("https://example.org/sss/") for link in links)
    assert any("/org/#record-states" in link for link in links)
    import os

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "checker", "org", *[str(FIX / n) for n in FULL], "--lang", "en"],
                            capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "\nx Profile Gmail" in result.stdout and " -> " in result.stdout

"""The organization check on what administrators really hand over: every export
shape, files that are not exports, records that are odd, states the records
carry, and bounds. Fixtures: tests/fixtures/org/shapes and .../broken (made by
tests/fixtures/org/make_fixtures.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker import load_matrix
from checker.orgmap import Organization

from .conftest import REPO

FIX = Path(__file__).resolve().parent / "fixtures" / "org"
SHAPES, BROKEN = FIX / "shapes", FIX / "broken"
FULL = [FIX / "profiles.json", FIX / "mailboxes-page1.json", FIX / "mailboxes-page2.json"]
CTX = "https://contoso.crm.dynamics.com/api/data/v9.2/$metadata#"


def run(*args, stdin=None, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "checker", "org", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, input=stdin, env=env, timeout=timeout)


def org_json(*files, extra=()):
    result = run(*files, "--format", "json", "--lang", "en", *extra)
    return result, (json.loads(result.stdout) if result.stdout else None)


def adds_up(summary) -> bool:
    return summary["mailboxes"] == sum(summary[k] for k in ("supported", "limited", "unsupported", "unknown",
                                                            "not_using_server_side_sync", "inactive", "not_evaluated"))


def reference():
    _result, report = org_json(*FULL)
    return report


# -- every export shape gives the same answer -------------------------------------------------
@pytest.mark.parametrize("files", [
    ["mailboxes-expand.json"],                       # $expand=emailserverprofile, no profiles file
    ["mailboxes-pages-list.json", "profiles.json"],  # a JSON list of responses
], ids=["expand", "pages-list"])
def test_export_shapes_give_the_same_verdicts(files):
    expected = {m["mailboxid"]: m["status"] for m in reference()["mailboxes"]}
    paths = [SHAPES / f if (SHAPES / f).exists() else FIX / f for f in files]
    result, report = org_json(*paths)
    assert result.returncode == 1, result.stderr
    assert {m["mailboxid"]: m["status"] for m in report["mailboxes"]} == expected
    assert adds_up(report["summary"])


@pytest.mark.parametrize("name", ["mailboxes-page1-utf8-bom.json", "mailboxes-page1-utf16le-bom.json",
                                  "mailboxes-page1-utf16le.json", "mailboxes-page1-utf16be.json"])
def test_every_encoding_reads_the_same(name):
    _r, plain = org_json(FIX / "profiles.json", FIX / "mailboxes-page1.json")
    result, report = org_json(FIX / "profiles.json", SHAPES / name)
    assert result.returncode == 1 and "Traceback" not in result.stderr  # page 1 of 2: pages are missing
    assert report["mailboxes"] == plain["mailboxes"]
    assert report["summary"]["missing_pages"] == ["mailboxes"]


def test_a_bare_list_of_records():
    result, report = org_json(SHAPES / "profiles-bare-list.json", SHAPES / "mailboxes-bare-list.json",
                              extra=("--deployment", "online"))
    expected = {m["mailboxid"]: m["status"] for m in reference()["mailboxes"]}
    assert {m["mailboxid"]: m["status"] for m in report["mailboxes"]} == expected
    assert result.returncode == 1


# -- files that are not exports: exit 2, one line that says what and how -----------------------
@pytest.mark.parametrize("name, words", [
    ("mailboxes.xlsx", "Excel workbook"),
    ("mailboxes-excel.csv", "CSV"),
    ("mailboxes-powershell-dump.txt", "ConvertTo-Json"),
    ("api-error.json", "0x80060888"),
    ("signin.html", "HTML page"),
    ("mailboxes-cut-off.json", "cut off"),
    ("latin1.json", "UTF-8"),
])
def test_foreign_and_broken_files_are_refused_with_one_line(name, words):
    result = run(*FULL, BROKEN / name, "--lang", "en")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines  # the file's line, then "nothing was evaluated"
    assert name in lines[0] and words in lines[0] and "Traceback" not in result.stderr
    # in Portuguese, no English words of Python's own
    pt = run(*FULL, BROKEN / name)
    assert pt.returncode == 2 and "Expecting" not in pt.stderr and "codec" not in pt.stderr


def test_only_profiles_or_nothing_recognizable_is_exit_2():
    result = run(FIX / "profiles.json", "--lang", "en")
    assert result.returncode == 2 and "mailboxes" in result.stderr and result.stdout == ""
    for text in ("", "   ", "{}", "[]", '{"value": [{"x": 1}]}', "[1, 2, 3]", "null", '"text"'):
        result = run("-", stdin=text)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) <= 2, (text, result.stderr)


def test_deep_json_and_a_million_non_records_end_fast(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    inside = tmp_path / "deep-record.json"
    inside.write_text('{"value": [' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]}")
    junk = tmp_path / "junk.json"
    junk.write_text("[" + ",".join(["1"] * 1_000_000) + "]")
    for path in (deep, inside, junk):
        started = time.perf_counter()
        result = run(*FULL, path, "--lang", "en")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert path.name in result.stderr
        assert time.perf_counter() - started < 10


def test_special_files_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for path, word in ((fifo, "FIFO"), ("/dev/zero", "device"), (tmp_path, "folder")):
        result = run(*FULL, path, "--lang", "en", timeout=20)
        assert result.returncode == 2 and word in result.stderr and result.stdout == ""
    # check too: a FIFO with no writer does not hang it (it reads as empty), and a pipe
    # with a writer, as <(...) gives, still reads
    result = subprocess.run([sys.executable, "-m", "checker", "check", str(fifo), "--lang", "en"],
                            capture_output=True, text=True, cwd=REPO, timeout=20)
    assert result.returncode == 2 and "empty" in result.stderr
    piped = subprocess.run(f"{sys.executable} -m checker check <(printf 'deployment: online\\nemail_system: exchange-online\\nserver_profile: exchange-online\\n') --lang en",
                           shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=REPO, timeout=20)
    assert piped.returncode in (0, 1) and piped.stdout


def test_a_file_over_the_limit_is_refused(tmp_path):
    from checker.orgread import MAX_FILE_BYTES

    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 10)  # sparse: no disk used
    result = run(*FULL, big, "--lang", "en")
    assert result.returncode == 2 and "64 MB" in result.stderr
    assert "64 MB" in (REPO / "README.md").read_text()


def test_memory_stays_near_the_file_size(tmp_path):
    """The 20,000 mailboxes of bench/org.py in one file: peak memory above the
    command's start-up stays within about twice the file (README, org figures)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import org as bench
    finally:
        sys.path.remove(str(REPO / "bench"))
    files = bench.generate(tmp_path / "export", 20_000, 50)
    mem = bench.memory(files, tmp_path)
    assert (mem["full"] - mem["base"]) / mem["size"] <= 2.2, mem


# -- odd records, duplicates, missing pages ------------------------------------------------------
def test_odd_records_are_each_accounted_for():
    result, report = org_json(FIX / "profiles.json", BROKEN / "mailboxes-odd-records.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert report["summary"]["mailboxes"] == 3 == report["summary"]["not_evaluated"]
    reasons = [m["reason"] for m in report["mailboxes"]]
    assert "no mailboxid" in reasons[0] and "12345" in reasons[1] and "incomingemaildeliverymethod" in reasons[2]
    assert [m["emailaddress"] for m in report["mailboxes"]] == ["ana.lima@contoso.com", "bruno.souza@contoso.com",
                                                               "carla.dias@contoso.com"]
    text = run(FIX / "profiles.json", BROKEN / "mailboxes-odd-records.json", "--lang", "en").stdout
    assert "Not evaluated: 3 mailbox(es)" in text and "bruno.souza@contoso.com" in text


def test_the_same_file_twice_and_duplicate_ids_count_once(tmp_path):
    result, report = org_json(*FULL, FIX / "mailboxes-page2.json")
    assert report["summary"]["mailboxes"] == 13 and report["summary"]["duplicates"] == 1
    assert "same_file" in report["problem_counts"]
    page = json.loads((FIX / "mailboxes-page2.json").read_text())
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(page, indent=2))  # other bytes, the same records
    result, report = org_json(*FULL, copy)
    assert report["summary"]["mailboxes"] == 13 and report["summary"]["duplicates"] == len(page["value"])
    # the same id with other values: counted once, not evaluated, said
    page["value"][0]["actdeliverymethod"] = 0
    copy.write_text(json.dumps(page))
    result, report = org_json(*FULL, copy)
    first = page["value"][0]["mailboxid"]
    row = next(m for m in report["mailboxes"] if m["mailboxid"] == first)
    assert row["state"] == "not_evaluated" and "different values" in row["reason"]
    assert report["summary"]["mailboxes"] == 13 and result.returncode == 1


def test_a_page_with_next_link_and_no_next_page_is_missing_pages():
    result, report = org_json(FIX / "profiles.json", BROKEN / "mailboxes-page1-of-3.json")
    assert report["summary"]["missing_pages"] == ["mailboxes"] and result.returncode == 1
    text = run(FIX / "profiles.json", BROKEN / "mailboxes-page1-of-3.json", "--lang", "en").stdout
    assert "Pages of mailboxes are missing" in text
    result, report = org_json(*FULL)
    assert report["summary"]["missing_pages"] == []


# -- the state the records carry ---------------------------------------------------------------------
def records(mailboxes, profiles=None):
    profiles = profiles or json.loads((FIX / "profiles.json").read_text())["value"]
    org = Organization(load_matrix(), "en")
    org.add_document("p", {"@odata.context": CTX + "emailserverprofiles", "value": profiles})
    org.add_document("m", {"@odata.context": CTX + "mailboxes", "value": mailboxes})
    return org, json.loads(org.evaluate().to_json())


def base_mailboxes():
    return json.loads((FIX / "mixed-mailboxes.json").read_text())["value"]


def test_inactive_and_disabled_mailboxes_and_profiles_are_not_judged():
    mailboxes = base_mailboxes()
    mailboxes[1] = {**mailboxes[1], "statecode": 1}
    mailboxes[2] = {**mailboxes[2], "enabledforincomingemail": False, "enabledforoutgoingemail": False,
                    "enabledforact": False}
    _org, report = records(mailboxes)
    by_name = {m["name"]: m for m in report["mailboxes"]}
    assert by_name["Nina Server"]["state"] == "inactive" and "inactive" in by_name["Nina Server"]["reason"]
    assert by_name["Otto Server"]["state"] == "inactive" and "enabled" in by_name["Otto Server"]["reason"]
    assert by_name["Nina Server"]["status"] is None and report["summary"]["inactive"] == 2
    profiles = json.loads((FIX / "profiles.json").read_text())["value"]
    profiles[0] = {**profiles[0], "statecode": 1}
    _org, report = records(base_mailboxes(), profiles)
    assert {m["state"] for m in report["mailboxes"] if m["emailserverprofileid"] == profiles[0]["emailserverprofileid"]
            and m["uses_server_side_sync"]} == {"inactive"}
    assert adds_up(report["summary"])


def test_a_disabled_item_is_not_synced():
    mailboxes = base_mailboxes()
    nina = {**mailboxes[1], "enabledforact": False}
    _org, report = records([nina])
    assert report["mailboxes"][0]["configuration"]["sync"] == ["email"]


def test_mixed_sync_counts_only_active_mailboxes_that_sync_and_names_them():
    mailboxes = base_mailboxes()
    outlook = next(m for m in mailboxes if m["name"] == "Marta Outlook")
    # the only Outlook mailbox is inactive: no mixed organization, nobody downgraded
    inactive = [({**m, "statecode": 1} if m is outlook else m) for m in mailboxes]
    _org, report = records(inactive)
    assert all("rec-no-mixed-sync" not in {f["rule"] for f in m["findings"]} for m in report["mailboxes"])
    assert "mixed_act" not in report["organization"]
    # active: mixed, and each path names its mailboxes
    _org, report = records(mailboxes)
    mixed = report["organization"]["mixed_act"]
    assert mixed["outlook"] == [outlook["mailboxid"]]
    assert len(mixed["server_side_sync"]) >= 2
    text = run(FIX / "profiles.json", FIX / "mixed-mailboxes.json", "--lang", "en").stdout
    assert "through Outlook, 1: marta.outlook@contoso.com" in text


def test_open_questions_agree_with_the_status_after_organization_findings():
    """A mailbox downgraded by the organization's mixed sync: each outcome of its
    open questions is judged with that finding too."""
    mailboxes = base_mailboxes()
    _org, report = records(mailboxes)
    for m in report["mailboxes"]:
        if m["status"] and m["open_questions"]:
            for q in m["open_questions"]:
                if q["field"] in ("tenant", "traffic_inspection"):
                    assert m["status"] in q["outcomes"].values(), (m["name"], q)


def test_test_and_enable_states_are_told_apart():
    mailbox = base_mailboxes()[1]
    states = {
        "org-incoming-test-not-run": {"incomingemailstatus": 0},
        "org-incoming-test-failed": {"incomingemailstatus": 2},
        "org-address-pending-approval": {"emailrouteraccessapproval": 2},
        "org-address-rejected": {"emailrouteraccessapproval": 3},
        "org-address-not-approved": {"emailrouteraccessapproval": 0},
        "org-act-test-not-run": {"actstatus": 0},
    }
    for rule, change in states.items():
        _org, report = records([{**mailbox, **change}])
        found = {f["rule"] for f in report["mailboxes"][0]["findings"] if f["rule"].startswith("org-")}
        assert found == {rule}, (rule, found)


# -- Exchange Online profiles as Dataverse stores them -------------------------------------------
def test_default_exchange_online_profile_and_sovereign_hosts():
    result, report = org_json(SHAPES / "gov-profiles.json", SHAPES / "gov-mailboxes.json")
    mailbox = report["mailboxes"][0]
    assert mailbox["configuration"]["server_profile"] == "exchange-online"
    assert mailbox["configuration"]["deployment"] == "online"  # *.crm9.microsoftdynamics.us
    assert [r["rule"] for r in mailbox["readings"]] == ["exchange-online-server-to-server"]
    assert result.returncode == 0
    text = run(SHAPES / "gov-profiles.json", SHAPES / "gov-mailboxes.json", "--lang", "en").stdout
    assert "Read as Exchange Online" in text
    # the administrator says otherwise: the reading is set aside
    pid = "aaaa0000-0000-4000-8000-0000000000e0"
    _result, report = org_json(SHAPES / "gov-profiles.json", SHAPES / "gov-mailboxes.json",
                               extra=("--set", f"{pid}:server_profile=exchange-server"))
    mailbox = report["mailboxes"][0]
    assert mailbox["configuration"]["server_profile"] == "exchange-server" and mailbox["readings"] == []
    assert "email_system" in {q["field"] for q in mailbox["open_questions"]}


# -- robust and quiet --------------------------------------------------------------------------------
def test_csv_cells_cannot_become_formulas(tmp_path):
    profiles = json.loads((FIX / "profiles.json").read_text())
    mailboxes = json.loads((FIX / "mailboxes-page2.json").read_text())
    pid = profiles["value"][0]["emailserverprofileid"]
    hostile = '=HYPERLINK("http://x")'
    profiles["value"][0]["emailserverprofileid"] = hostile
    for m in mailboxes["value"]:
        if m["_emailserverprofile_value"] == pid:
            m["_emailserverprofile_value"] = hostile
    mailboxes["value"][0]["mailboxid"] = "@SUM(1)"
    mailboxes["value"][0]["name"] = "\tcmd"
    mailboxes["value"][1]["name"] = "+SUM(1)"
    (tmp_path / "p.json").write_text(json.dumps(profiles))
    (tmp_path / "m.json").write_text(json.dumps(mailboxes))
    result = run(tmp_path / "p.json", tmp_path / "m.json", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    cells = [c for row in rows[1:] for c in row]
    assert all(not c.startswith(("=", "+", "@", "\t")) for c in cells), [c for c in cells if c[:1] in "=+@\t"]
    assert any(c.lower().startswith("'=hyperlink") for c in cells) and "'\tcmd" in cells
    assert "'@sum(1)" in cells and "'+SUM(1)" in cells


def test_escape_characters_are_escaped_in_everything_echoed(tmp_path):
    evil = tmp_path / "a\x1b[31mred.json"
    evil.write_text("not json")
    result = run(evil)
    assert "\x1b" not in result.stderr and "\\x1b" in result.stderr and result.returncode == 2
    result = run(*FULL, "--set", "p\x1b[2J:nonsense\x07=1")
    assert result.returncode == 2 and "\x1b" not in result.stderr and "\x07" not in result.stderr
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"p1": {"bad\x1bfield": "x"}}))
    result = run(*FULL, "--profile-answers", answers)
    assert result.returncode == 2 and "\x1b" not in result.stderr
    page = json.loads((FIX / "mailboxes-page2.json").read_text())
    page["value"][0]["name"] = "Mallory\x1b]0;owned\x07"
    page["value"][0]["emailaddress"] = ""
    (tmp_path / "m.json").write_text(json.dumps(page))
    result = run(FIX / "profiles.json", FIX / "mailboxes-page1.json", tmp_path / "m.json")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "Mallory\\x1b" in result.stdout


def test_profile_answers_given_a_list_is_exit_2(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text("[1, 2]")
    result = run(*FULL, "--profile-answers", answers, "--lang", "en")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "mapping" in result.stderr and "Traceback" not in result.stderr
    flow = tmp_path / "answers.yaml"
    flow.write_text("{'*': {email_system: exchange-server-2019}}")
    assert run(*FULL, "--profile-answers", flow).returncode in (0, 1)


def test_closed_stdout_and_a_closed_pipe():
    closed = subprocess.run(f"{sys.executable} -m checker org {' '.join(map(str, FULL))} --lang en >&-",
                            shell=True, capture_output=True, text=True, cwd=REPO)
    assert closed.returncode == 3 and len(closed.stderr.strip().splitlines()) == 1
    assert "cannot write" in closed.stderr
    piped = subprocess.run(f"{sys.executable} -m checker org {' '.join(map(str, FULL))} --format json | head -c 10",
                           shell=True, capture_output=True, text=True, cwd=REPO)
    assert piped.stderr == "" and len(piped.stdout) == 10


def test_the_c_locale_degrades_like_an_ascii_console(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING"))}
    env.update(LC_ALL="C", PYTHONUTF8="0")
    result = run(*FULL, env=env)
    assert result.returncode == 1 and result.stdout and "Traceback" not in result.stderr
    assert "caixa(s) de correio" in result.stdout and "\u2717" not in result.stdout  # pt-BR, ASCII marks
    config = tmp_path / "c.yaml"
    config.write_text("deployment: online\nemail_system: exchange-online\nserver_profile: exchange-online\n")
    check = subprocess.run([sys.executable, "-m", "checker", "check", str(config)], capture_output=True,
                           text=True, cwd=REPO, env=env)
    assert check.returncode == 0 and check.stdout.startswith("+ ") and check.stderr == ""


def test_internal_and_input_errors_follow_the_chosen_language():
    result = run(*FULL, BROKEN / "mailboxes-cut-off.json", "--lang", "en")
    assert "stops midway" in result.stderr and "arquivo" not in result.stderr
    result = run(*FULL, BROKEN / "mailboxes-cut-off.json")
    assert "termina no meio" in result.stderr


def test_organization_wide_questions_are_asked_once():
    """No host in a bare list: the deployment is open, asked once for the organization."""
    result = run(SHAPES / "profiles-bare-list.json", SHAPES / "mailboxes-bare-list.json", "--lang", "en")
    text = result.stdout
    assert text.count("Still open for the whole organization: deployment") == 1
    assert "Still open: deployment" not in text
    _r, report = org_json(SHAPES / "profiles-bare-list.json", SHAPES / "mailboxes-bare-list.json")
    assert report["organization"]["open_questions"][0]["field"] == "deployment"


def test_problems_are_capped_and_counted(tmp_path):
    page = json.loads((FIX / "mailboxes-page2.json").read_text())
    template = page["value"][0]
    page["value"] = [{**template, "mailboxid": f"m{n}", "incomingemaildeliverymethod": 9} for n in range(1000)]
    (tmp_path / "m.json").write_text(json.dumps(page))
    result, report = org_json(FIX / "profiles.json", tmp_path / "m.json")
    assert report["problem_counts"]["unknown_value"] == 1000 and len(report["problems"]) == 20
    assert report["summary"]["not_evaluated"] == 1000 and result.returncode == 1
    text = run(FIX / "profiles.json", tmp_path / "m.json", "--lang", "en").stdout
    assert "and 980 more problem(s) of kind unknown_value" in text and text.count("is not a value") == 20 + 10


def test_an_extra_field_per_mailbox_goes_through_annotate():
    """The hook for later per-mailbox additions (an "alert" explanation): JSON, CSV and page rows."""
    org, _report = records(base_mailboxes())
    report = org.evaluate()
    first = report.rows[0][0]
    report.annotate(first, "alert", {"code": "Crm.80048306", "count": 2})
    data = json.loads(report.to_json())
    mailbox = next(m for m in data["mailboxes"] if m["mailboxid"] == first)
    assert mailbox["alert"] == {"code": "Crm.80048306", "count": 2}
    assert all("alert" not in m for m in data["mailboxes"] if m["mailboxid"] != first)
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0][-1] == "alert" and json.loads(rows[1][-1])["code"] == "Crm.80048306"
    json.loads(report.page_json())
    group = next(i for i, g in enumerate(report._groups) if 0 in g["rows"])
    assert json.loads(report.rows_json(group, 10))[0][5] == {"alert": {"code": "Crm.80048306", "count": 2}}

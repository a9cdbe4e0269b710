"""The command line as a script or a person uses it: exit codes, output formats, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import CASES, REPO


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "checker", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, timeout=60,
    )


@pytest.mark.parametrize("case", [c for c in CASES if c["id"] in {
    "online-gmail-act", "exo-s2s-same-tenant", "xt-other-tenant", "online-exchange-se"}], ids=lambda c: c["id"])
def test_json_output_and_exit_code(case):
    result = run("check", "-", "--format", "json", "--lang", "en", stdin=json.dumps(case["config"]))
    expected_exit = 0 if case["status"] in ("supported", "limited") else 1
    assert result.returncode == expected_exit, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"status", "findings", "open_questions", "holds_if", "worse_if", "implied"}
    assert out["status"] == case["status"]
    for f in out["findings"]:
        assert set(f) == {"rule", "severity", "facts", "message", "remedy", "remedy_source", "fix", "link",
                          "fix_drops", "applies_if"}
    assert sorted(f["rule"] for f in out["findings"]) == sorted(case["rules"])


def test_yaml_file_and_text_output_in_portuguese(tmp_path):
    cfg = tmp_path / "setup.yaml"
    cfg.write_text("deployment: online\nemail_system: gmail\nsync:\n  - email\n  - appointments-contacts-tasks\n")
    result = run("check", str(cfg))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert "Situação: Sem suporte" in first
    assert "O que fazer:" in result.stdout
    assert "support-matrix/#online-webmail" in result.stdout


def test_text_output_in_english_starts_with_status():
    result = run("check", "-", "--lang", "en", stdin='{"deployment": "online", "email_system": "exchange-online", "tenant": "other"}')
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].endswith("Status: Limited support")
    assert "What to do:" in result.stdout


BAD_INPUTS = [
    ("unknown field", '{"deployment": "online", "email_system": "gmail", "colour": "blue"}', ["colour: unknown field", "deployment, email_system"]),
    ("unknown value", '{"deployment": "cloud", "email_system": "gmail"}', ['deployment: unknown value "cloud"', "online, on-premises"]),
    ("wrong type", '{"deployment": "online", "email_system": "gmail", "mfa": "true"}', ['mfa: expected true or false', '"true"']),
    ("list for a value", '{"deployment": ["online"], "email_system": "gmail"}', ["deployment: expected a single value"]),
    ("value for a list", '{"deployment": "online", "email_system": "gmail", "sync": "email"}', ["sync: expected a list"]),
    ("not a mapping", '["online", "gmail"]', ["expected a mapping"]),
    ("missing required", '{"email_system": "gmail"}', ["deployment: required field is missing", "online, on-premises"]),
    ("null", '{"deployment": "online", "email_system": "gmail", "tenant": null}', ["tenant: no value given"]),
    ("empty list", '{"deployment": "online", "email_system": "gmail", "sync": []}', ["sync: the list is empty"]),
    ("duplicate item", '{"deployment": "online", "email_system": "gmail", "sync": ["email", "email"]}', ["sync: repeated item"]),
    ("invalid json", '{"deployment": "online",', ["invalid JSON"]),
    ("invalid yaml", "deployment: online\nemail_system: [gmail\n", ["invalid YAML", "line"]),
    ("duplicate yaml key", "deployment: online\ndeployment: on-premises\nemail_system: gmail\n", ["given twice"]),
    ("empty", "   \n", ["empty"]),
    ("number", '{"deployment": "online", "email_system": 2019}', ['email_system: unknown value 2019']),
]


@pytest.mark.parametrize("name,stdin,expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_exits_2_with_a_clear_message(name, stdin, expected):
    result = run("check", "-", "--lang", "en", stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""  # no verdict
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr


def test_every_problem_is_reported_at_once():
    result = run("check", "-", "--lang", "en", stdin='{"deployment": "x", "email_system": "y", "mfa": 1, "z": 0}')
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5  # four problems and the count
    assert lines[-1].startswith("4 problem(s)")


def test_a_byte_order_mark_is_accepted(tmp_path):
    cfg = tmp_path / "setup.json"
    cfg.write_bytes(b"\xef\xbb\xbf" + b'{"deployment": "online", "email_system": "gmail"}')
    result = run("check", str(cfg), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "supported"


def test_missing_file_is_a_failure_not_an_input_error(tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"), "--lang", "en")
    assert result.returncode == 3
    assert "nope.yaml: cannot read: No such file or directory" in result.stderr


def test_unknown_option_value_is_an_input_error():
    result = run("check", "-", "--lang", "fr", stdin="{}")
    assert result.returncode == 2
    assert "pt-BR" in result.stderr and "en" in result.stderr


def test_validate_and_compile_check_pass_on_the_repository():
    assert run("validate").returncode == 0
    result = run("compile", "--check")
    assert result.returncode == 0, result.stderr


def test_readme_documents_every_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in ("python -m checker check", "python -m checker validate", "python -m checker compile",
                    "--format", "--lang"):
        assert command in readme

"""Why a mailbox fails: matrix/errors.yaml, its validation, and `checker explain`.

The fixtures (tests/fixtures/alerts/texts.json) are alert and error texts copied
from Microsoft's troubleshooting pages, each with its page; each must get the
explanation the page gives, first, in both languages."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from checker import explain as ex
from checker.cli import main
from tooling import matrix as tooling
from tooling.errors import code_tokens

from .conftest import REPO
from .test_matrix_validation import broken_copy

FIXTURES = json.loads((REPO / "tests" / "fixtures" / "alerts" / "texts.json").read_text(encoding="utf-8"))["texts"]
DATA = ex.errors_data()
LANGS = ("pt-BR", "en")


def run(*args, stdin=None, binary=False):
    return subprocess.run([sys.executable, "-m", "checker", "explain", *args], input=stdin,
                          capture_output=True, text=not binary, cwd=REPO, timeout=60)


# -- the data ------------------------------------------------------------------
def test_at_least_twenty_causes_each_from_a_dated_microsoft_troubleshooting_page():
    errors = DATA["errors"]
    assert len(errors) >= 20
    for err in errors:
        assert err["source"]["url"].startswith("https://learn.microsoft.com/troubleshoot/power-platform/dataverse/"), err["id"]
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", err["source"]["date"]), err["id"]
        for key in ("title", "meaning", "action"):
            assert all(err[key][lang].strip() for lang in LANGS), (err["id"], key)
            assert err[key]["pt-BR"] != err[key]["en"], (err["id"], key)


def test_every_cause_is_tested_by_a_real_text_from_a_page_the_matrix_cites():
    expected = {f["expect"] for f in FIXTURES}
    assert {e["id"] for e in DATA["errors"]} <= expected
    urls = {e["source"]["url"] for e in DATA["errors"]}
    for f in FIXTURES:
        assert f["source"] in urls, f["source"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f"{f['expect']}:{f['text'][:30]}")
def test_each_page_text_gets_its_page_explanation_first(fixture, lang):
    answer = ex.explain(fixture["text"], lang)
    assert answer["matched"]
    first = answer["causes"][0]
    assert first["id"] == fixture["expect"]
    err = next(e for e in DATA["errors"] if e["id"] == fixture["expect"])
    assert first["title"] == err["title"][lang] and first["meaning"] == err["meaning"][lang]
    assert first["source"] == err["source"]


def test_a_hex_code_and_its_negative_decimal_form_name_the_same_cause():
    assert code_tokens("80048306") == ["80048306", "2147187962"]
    assert code_tokens("-2147209462") == ["2147209462", "80042f0a"]
    by_hex = ex.explain("Crm.80048306", "en")["causes"][0]["id"]
    by_dec = ex.explain("Returned hr = -2147187962", "en")["causes"][0]["id"]
    assert by_hex == by_dec == "err-act-insufficient-privileges"
    # a mailbox's lastsyncerrorcode is an integer
    assert ex.explain_code(-2147187962)[0]["error"]["id"] == "err-act-insufficient-privileges"
    assert ex.explain_code(-2147220891)[0]["error"]["id"] == "err-isv-aborted"
    assert ex.explain_code(12345) == []


def test_codes_match_whole_tokens_only():
    # InvalidIncomingEmailServerProfileConfiguration is not InvalidIncomingEmailServerProfile
    ids = [c["id"] for c in ex.explain("InvalidIncomingEmailServerProfileConfiguration", "en")["causes"]]
    assert "err-profile-missing-or-inactive" not in ids
    assert ex.explain("ErrorSubmissionQuotaExceeded", "en")["causes"][0]["id"] == "err-submission-quota-exceeded"
    assert [c["id"] for c in ex.explain("ErrorSubmissionQuotaExceeded", "en")["causes"]] == ["err-submission-quota-exceeded"]


def test_the_on_premises_rest_api_cause_points_at_the_hybrid_profile_fact():
    cause = ex.explain("MailboxNotEnabledForRESTAPI", "en")["causes"][0]
    assert cause["related"] == [{"entry": "uns-exo-profile-onprem-user", "link": "en/unsupported/#uns-exo-profile-onprem-user"}]
    assert cause["fix"] == {"server_profile": "exchange-server-hybrid"}
    assert cause["fix_when"] == {"field": "mailbox_location", "in": ["exchange-on-premises"]}
    pt = ex.explain("MailboxNotEnabledForRESTAPI", "pt-BR")["causes"][0]
    assert pt["related"][0]["link"] == "unsupported/#uns-exo-profile-onprem-user"


def test_normalization_is_spelled_out():
    assert ex.normalize("  A\u00a0\tB\u2019s\n\nC ") == "a b's c"
    assert ex.normalize("İ") == "İ"  # only ASCII letters change case, as in the browser's copy


# -- validation ----------------------------------------------------------------
BROKEN = [
    ("code of two causes", "codes: [ErrorQuotaExceeded]", "codes: [ErrorQuotaExceeded, MailboxDisabled]", "also names"),
    ("unknown related entry", "related: [uns-bulk-marketing]", "related: [uns-bulk-mail]", "unknown entry 'uns-bulk-mail'"),
    ("fix value", "fix: {autodiscover: false}", "fix: {autodiscover: maybe}", "'maybe' is not a value of autodiscover"),
    ("fix_when field", "fix_when: {field: mailbox_location, in: [exchange-on-premises]}\n    related: [uns-exo",
     "fix_when: {field: mailbox_place, in: [exchange-on-premises]}\n    related: [uns-exo", "mailbox_place"),
    ("pattern case", "      - license is invalid for the mailbox", "      - License is invalid for the mailbox", "wrong form"),
    ("source host", "      url: https://learn.microsoft.com/troubleshoot/power-platform/dataverse/email-exchange-synchronization/error-code-8005e259",
     "      url: https://example.com/error-code-8005e259", "wrong form"),
    ("no date", "      date: 2024-05-13\n\n  - id: err-owner", "\n  - id: err-owner", "'date' is missing"),
    ("missing string", "  page.run: {pt-BR: Explicar, en: Explain}\n", "", "'page.run' is missing"),
    ("missing language", "  explain.action: {pt-BR: O que fazer, en: What to do}", "  explain.action: {pt-BR: O que fazer}", "'en' is missing"),
]


@pytest.mark.parametrize("name,old,new,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_errors_file_is_reported(tmp_path, name, old, new, message):
    root, _lines = broken_copy(tmp_path, "errors.yaml", old, new)
    with pytest.raises(tooling.MatrixInvalid) as info:
        tooling.load(root)
    rendered = [str(i) for i in info.value.issues]
    assert any(r.startswith("matrix/errors.yaml:") and message in r for r in rendered), rendered


def test_a_changelog_may_name_an_error_explanation(loaded):
    names = {e for c in loaded.changelog for e in c["entries"]}
    assert names & {e["id"] for e in DATA["errors"]}


# -- the command -----------------------------------------------------------------
def test_explain_text_output_exit_0_with_source_link_and_date():
    result = run("Email Server Error Code: MailboxDisabled", "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "The mailbox is deactivated" in result.stdout
    assert "https://learn.microsoft.com/troubleshoot/power-platform/dataverse/email-exchange-synchronization/email-message-cannot-be-sent" in result.stdout
    assert "2025-04-17" in result.stdout


def test_explain_reads_standard_input_and_answers_in_portuguese_by_default():
    text = next(f["text"] for f in FIXTURES if f["expect"] == "err-host-not-found")
    result = run("-", stdin=text)
    assert result.returncode == 0, result.stderr
    assert "Endereço do servidor ou porta de entrada incorretos" in result.stdout


def test_explain_json_is_the_library_answer():
    text = FIXTURES[0]["text"]
    result = run("--format", "json", "--lang", "en", "-", stdin=text)
    assert result.returncode == 0
    assert json.loads(result.stdout) == ex.explain(text, "en")


def test_unknown_text_exits_1_and_links_microsofts_troubleshooting_index():
    result = run("--format", "json", "a message nobody wrote")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["matched"] is False and out["causes"] == []
    assert out["index"]["url"].endswith("/troubleshooting-monitoring-server-side-synchronization")
    text = run("a message nobody wrote", "--lang", "en")
    assert text.returncode == 1 and "No known cause matches" in text.stdout and out["index"]["url"] in text.stdout


@pytest.mark.parametrize("args,stdin,message", [
    (["-"], b"", "the text is empty"),
    (["-"], b" \n\t ", "the text is empty"),
    (["-"], b"\xff\xfe\x00bad", "not UTF-8"),
    (["-"], b"x" * (ex.MAX_BYTES + 1), "larger than"),
    (["   "], None, "the text is empty"),
    (["x" * (ex.MAX_BYTES + 1)], None, "larger than"),
], ids=["empty", "blank", "binary", "too-large-stdin", "blank-arg", "too-large-arg"])
def test_bad_input_exits_2_with_one_line(args, stdin, message):
    result = run(*args, "--lang", "en", stdin=stdin, binary=True)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert result.stdout == b""


def test_closed_standard_input_is_exit_3(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    assert main(["explain", "-", "--lang", "en"]) == 3
    assert "cannot read standard input" in capsys.readouterr().err


def test_unwritable_output_is_exit_3():
    proc = subprocess.run(f"{sys.executable} -m checker explain MailboxDisabled >&-", shell=True,
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr


def test_json_on_a_console_that_cannot_show_accents_uses_escapes_not_question_marks():
    import os
    proc = subprocess.run([sys.executable, "-m", "checker", "explain", "MailboxDisabled", "--format", "json"],
                          capture_output=True, cwd=REPO, timeout=60, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["causes"][0]["title"] == "A caixa está desativada"

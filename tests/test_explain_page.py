"""The page "Why a mailbox fails": generated from matrix/errors.yaml in both
languages, linked from the matrix where a cause meets an entry, exported, and
its in-browser matcher gives the CLI's answer (same data, same matching)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from checker import explain as ex
from sitegen import render_pages
from tooling import matrix as tooling

from .conftest import REPO

FIXTURES = json.loads((REPO / "tests" / "fixtures" / "alerts" / "texts.json").read_text(encoding="utf-8"))["texts"]
EXTRA = [
    "a message nobody wrote",
    "Returned hr = -2147187962",
    "  MAILBOXDISABLED\u00a0\u2028 ",
    "The mailbox\u2019s location could not be determined while receiving email",
    "İstanbul 8005E274 and ErrorQuotaExceeded and ErrorSubmissionQuotaExceeded",
    "mailboxnotenabledforrestapi8005e274",  # one token: neither code
    "x" * 5000 + " hostnotfound",
]


def test_browser_matcher_gives_the_cli_answer_for_every_fixture_in_both_languages(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH (Node.js 20+ is needed)")
    texts = [[t, lang] for t in [f["text"] for f in FIXTURES] + EXTRA for lang in ("pt-BR", "en")]
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    result = subprocess.run([node, str(REPO / "tests" / "explain_parity.mjs"), str(REPO / "checker" / "rules.json"),
                             str(tmp_path / "texts.json"), str(tmp_path / "out.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    browser = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert len(browser) == len(texts)
    for (text, lang), answer in zip(texts, browser):
        assert answer == ex.explain(text, lang), (text[:60], lang)
    # and the comparison is not of empty answers
    assert sum(a["matched"] for a in browser) >= 2 * len(FIXTURES)


@pytest.fixture(scope="module")
def pages():
    return render_pages(tooling.load())


def test_a_troubleshooting_page_per_language_lists_every_cause_with_its_source(pages):
    for name, lang in (("troubleshooting.md", "pt-BR"), ("troubleshooting.en.md", "en")):
        text = pages[name]
        for err in ex.errors_data()["errors"]:
            assert f"### {err['title'][lang]} {{ #{err['id']} }}" in text
            assert f"]({err['source']['url']})" in text
        assert 'id="sss-explain-data"' in text and "javascripts/explain.js" in text


def test_the_page_data_is_the_compiled_errors(pages):
    text = pages["troubleshooting.en.md"]
    start = text.index('<script type="application/json" id="sss-explain-data">') + len('<script type="application/json" id="sss-explain-data">')
    data = json.loads(text[start:text.index("</script>", start)])
    assert data["errors"] == ex.errors_data()["errors"] and data["lang"] == "en"
    assert data["entry_titles"]["uns-exo-profile-onprem-user"] == "Exchange Online profile for an on-premises Exchange user"


def test_matrix_entries_and_grid_notes_link_to_the_alerts_that_meet_them(pages):
    unsupported = pages["unsupported.en.md"]
    assert "**Alerts that lead here:** [The Exchange mailbox is not enabled for the REST API](troubleshooting.md#err-rest-api-not-enabled)" in unsupported
    pt = pages["support-matrix.md"]
    # the grid's notes: the Exchange rows (over EWS) link to the EWS alert, Gmail's to its sending alert
    notes = pt.split('<ol class="sss-grid-notes">', 1)[1].split("</ol>", 1)[0]
    assert 'href="../troubleshooting/#err-ews-forbidden"' in notes
    assert 'href="../troubleshooting/#err-outgoing-authentication"' in notes
    assert 'href="../../troubleshooting/#err-ews-forbidden"' not in notes


def test_the_changelog_and_the_json_export_carry_the_explanations(pages):
    loaded = tooling.load()
    change = loaded.changelog[0]
    assert change["date"] == "2026-12-05"
    assert "err-rest-api-not-enabled" in change["entries"]
    assert "(troubleshooting.md#err-rest-api-not-enabled)" in pages["changes.en.md"]
    export = tooling.export(loaded)
    assert export["errors"]["errors"] == ex.errors_data()["errors"]
    assert export["errors"]["index"]["url"].startswith("https://learn.microsoft.com/")


def test_the_built_site_serves_the_page_under_its_csp():
    site = REPO / "site"
    if not (site / "troubleshooting" / "index.html").exists():
        pytest.skip("site/ is not built (python build.py)")
    from sitegen.csp import inline_script_hashes
    for page in ("troubleshooting/index.html", "en/troubleshooting/index.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert 'http-equiv="Content-Security-Policy"' in html
        assert "'wasm-unsafe-eval'" not in html  # no Python runtime on this page
        for h in inline_script_hashes(html):
            assert h in html.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    assert (site / "javascripts" / "explain-core.mjs").exists()
    export = json.loads((site / "api" / "v1" / "matrix.json").read_text(encoding="utf-8"))
    assert len(export["errors"]["errors"]) >= 20


def test_explanations_and_alerts_run_the_same_under_pyodide(tmp_path):
    """What the organization page's worker would run: the wheel's checker.explain
    and checker.alerts under Pyodide give CPython's answers."""
    import sitegen
    from checker import alerts

    node = shutil.which("node")
    pyodide = REPO / "node_modules" / "pyodide" / "pyodide.mjs"
    if node is None or not pyodide.exists():
        pytest.skip("node or node_modules/pyodide is missing (./run setup)")
    texts = [[f["text"], lang] for f in FIXTURES[:12] for lang in ("pt-BR", "en")] + [["nothing known", "en"]]
    mailboxes = [{"mailboxid": f"m{n}", "_emailserverprofile_value": "p1",
                  **({"lastsyncerrorcode": -2147187962, "lastsyncerroroccurredon": "2026-11-30T00:00:00Z"} if n == 3 else {})}
                 for n in range(1, 5)]
    tracelogs = [{"_regardingobjectid_value": f"m{n}", "level": 3, "tracecode": 0, "text": FIXTURES[n]["text"],
                  "createdon": "2026-11-20T00:00:00Z"} for n in range(1, 4)]
    tracelogs.append({"_regardingobjectid_value": "p1", "level": 2, "text": "UnknownIncomingEmailIntegrationError -2147220970",
                      "createdon": "2026-11-25T00:00:00Z"})
    (tmp_path / "in.json").write_text(json.dumps({"texts": texts, "tracelogs": tracelogs, "mailboxes": mailboxes}),
                                      encoding="utf-8")
    result = subprocess.run([node, str(REPO / "tests" / "explain_pyodide.mjs"), str(sitegen.build_wheel()),
                             str(tmp_path / "in.json"), str(tmp_path / "out.json")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert out["answers"] == [ex.explain(t, lang) for t, lang in texts]
    found = alerts.latest_alerts(tracelogs, mailboxes)
    assert out["alerts"] == {lang: {m: a.to_dict(lang) for m, a in found.items()} for lang in ("pt-BR", "en")}
    assert out["groups"] == {lang: alerts.summary_lines(alerts.group_by_cause(found, lang), lang) for lang in ("pt-BR", "en")}
    assert len(out["alerts"]["en"]) == 4 and out["python_version"].startswith("3.")

"""The page "Check your organization" in Debian's Chromium: the same results as the
command line, and no request that carries the data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import REPO
from .test_browser import LANGS, READY, base_url, browser, context, page  # noqa: F401  (fixtures)
from .test_org import FIX, FULL

playwright_api = pytest.importorskip("playwright.sync_api")

SETS = {
    "full": FULL,
    "mixed": ["profiles.json", "mixed-mailboxes.json"],
    "broken": ["broken-profiles.json", "broken-mailboxes.json"],
    "onprem": ["onprem-profiles.json", "onprem-mailboxes.json"],
    "alerts": FULL + ["tracelogs.json"],
}


def cli(names, *options, cwd=FIX):
    """The command line, run beside the files so that it names them as the page does."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "checker", "org", *names, *options],
                          capture_output=True, text=True, cwd=cwd, env=env)


def cli_json(names, lang, *options, cwd=FIX):
    result = cli(names, "--format", "json", "--lang", lang, *options, cwd=cwd)
    return json.loads(result.stdout), result.returncode


def run_page(page, base_url, lang, names):  # noqa: F811
    page.goto(base_url + LANGS[lang] + "org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    page.set_input_files("#sss-org-files", [str(FIX / n) for n in names])
    page.click("#sss-org-run")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)


def download(page, button):
    with page.expect_download() as info:
        page.click(button)
    return info.value.path().read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SETS)
def test_same_results_as_the_command_line(page, base_url, name):  # noqa: F811
    lang = "en" if name != "broken" else "pt-BR"
    run_page(page, base_url, lang, SETS[name])
    expected, code = cli_json(SETS[name], lang)
    assert json.loads(download(page, "#sss-org-json")) == expected
    assert page.get_attribute("#sss-org-result", "data-exit") == str(code)
    for key, value in expected["summary"].items():
        if isinstance(value, int) and (value or key != "duplicates"):
            assert page.inner_text(f'[data-count="{key}"] td') == str(value), key
    csv_text = download(page, "#sss-org-csv")
    cli_csv = cli(SETS[name], "--format", "csv", "--lang", lang).stdout
    assert csv_text.replace("\r\n", "\n") == cli_csv.replace("\r\n", "\n")


def test_groups_filter_links_fixes_and_answers(page, base_url):  # noqa: F811
    run_page(page, base_url, "en", FULL)
    statuses = page.eval_on_selector_all("#sss-org-groups [data-status]", "els => els.map(e => e.dataset.status)")
    assert "unsupported" in statuses and "not_using" in statuses
    page.select_option("#sss-org-filter", "unsupported")
    shown = page.eval_on_selector_all("#sss-org-groups > section", "els => els.map(e => e.dataset.status)")
    assert shown and set(shown) == {"unsupported"}
    link = page.get_attribute('#sss-org-groups [data-rule="online-webmail-act"] a', "href")
    assert link.startswith("../../en/support-matrix/#online-webmail")
    page.click('#sss-org-groups [data-status="unsupported"] details summary')
    page.wait_for_selector('#sss-org-groups [data-status="unsupported"] details[data-ready] table')
    rows = page.eval_on_selector_all('#sss-org-groups [data-status="unsupported"] tr[data-mailbox] td',
                                     "els => els.map(e => e.textContent)")
    assert rows[:2] == ["Helena Reis", "helena.reis@contoso.com"]
    page.select_option("#sss-org-filter", "")
    # the open question of a profile, answered on the page, settles its mailboxes
    profile = "aaaa0000-0000-4000-8000-000000000003"
    select = f'select[data-profile="{profile}"][data-field="email_system"]'
    page.select_option(select, "exchange-server-2019")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
    expected, _code = cli_json(FULL, "en", "--set", f"{profile}:email_system=exchange-server-2019")
    assert json.loads(download(page, "#sss-org-json")) == expected
    # the answer stays on show and can be taken back
    assert page.input_value(select) == "exchange-server-2019"
    page.select_option(select, "")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
    assert json.loads(download(page, "#sss-org-json")) == cli_json(FULL, "en")[0]


def test_pasted_json_and_a_file_that_is_not_an_export(page, base_url):  # noqa: F811
    page.goto(base_url + "en/org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    page.fill("#sss-org-paste", (FIX / "not-an-export.json").read_text())
    page.click("#sss-org-run")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
    assert page.get_attribute("#sss-org-result", "data-exit") == "2"
    assert "not a Web API export" in page.inner_text("#sss-org-problems")
    assert page.is_hidden("#sss-org-json")  # nothing evaluated: nothing to download
    # markup in the data is shown as text, never run
    profiles = json.loads((FIX / "profiles.json").read_text())
    profiles["value"][0]["name"] = '<img src=x onerror="window.pwned=1">'
    mailboxes = json.loads((FIX / "mailboxes-page1.json").read_text())
    page.fill("#sss-org-paste", json.dumps([profiles, mailboxes]))
    page.click("#sss-org-run")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
    assert '<img src=x onerror="window.pwned=1">' in page.text_content("#sss-org-groups")
    assert page.evaluate("window.pwned") is None


def test_no_request_carries_the_data(browser, base_url):  # noqa: F811
    """Every request the page makes, with its body, is recorded: none holds a
    byte of the records, and none goes anywhere but the site's own files."""
    context = browser.new_context()
    requests = []
    context.on("request", lambda r: requests.append((r.method, r.url, r.post_data or "")))
    page = context.new_page()
    try:
        run_page(page, base_url, "en", FULL)
        download(page, "#sss-org-json")
        page.wait_for_timeout(300)
    finally:
        context.close()
    markers = ["Ana Lima", "ana.lima@contoso.com", "aaaa0000-0000-4000-8000-000000000001",
               "bbbb0000-0000-4000-8000-000000000001", "Microsoft Exchange Online"]
    assert requests
    for method, url, body in requests:
        assert method in ("GET", "HEAD"), (method, url)
        assert url.startswith((base_url, "blob:", "data:")), url
        for marker in markers:
            assert marker not in url and marker not in body, (url, marker)
    # the page says so, in both languages
    assert "Nothing is uploaded" in (REPO / "docs" / "org.en.md").read_text(encoding="utf-8")
    assert "Nada é enviado" in (REPO / "docs" / "org.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("names", ["full", "alerts"])
def test_axe_finds_no_accessibility_violations(page, base_url, lang, names):  # noqa: F811
    # Injected as the browser's own init script: the pages' CSP refuses inline scripts.
    page.add_init_script(path=str(REPO / "node_modules" / "axe-core" / "axe.min.js"))
    run_page(page, base_url, lang, SETS[names])
    page.click("#sss-org-groups details summary")  # one group's mailbox table drawn (with alerts: their column)
    page.wait_for_selector("#sss-org-groups details[data-ready] table")
    # Opening the table scrolls a long page: the theme's "back to top" button fades in,
    # and a half-faded button is no contrast to measure. Let its transition end.
    page.wait_for_timeout(600)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]]
    assert violations == []


# -- any file an admin has, the same answer as the command line, and a page that never hangs -----
SHAPES, BROKEN = FIX / "shapes", FIX / "broken"


def choose_and_run(page, paths):
    page.set_input_files("#sss-org-files", [str(p) for p in paths])
    page.click("#sss-org-run")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)


def beside(tmp_path, files):
    """The files copied into one folder, so the page and the command line name them alike."""
    out = []
    for f in files:
        target = tmp_path / f.name
        target.write_bytes(f.read_bytes())
        out.append(target)
    return out


@pytest.mark.parametrize("files", [
    [FIX / "profiles.json", SHAPES / "mailboxes-page1-utf16le.json"],
    [SHAPES / "mailboxes-expand.json"],
    [SHAPES / "gov-profiles.json", SHAPES / "gov-mailboxes.json"],
    [FIX / "profiles.json", BROKEN / "mailboxes-odd-records.json"],
    [FIX / "profiles.json", FIX / "mailboxes-page1.json", FIX / "mailboxes-page1.json"],
], ids=["utf16-no-bom", "expand", "gov-default-profile", "odd-records", "same-file-twice"])
def test_export_shapes_same_as_the_command_line(page, base_url, files, tmp_path):  # noqa: F811
    page.goto(base_url + "en/org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    choose_and_run(page, files)
    expected, code = cli_json([f.name for f in files], "en", cwd=beside(tmp_path, files)[0].parent)
    assert json.loads(download(page, "#sss-org-json")) == expected
    assert page.get_attribute("#sss-org-result", "data-exit") == str(code)


@pytest.mark.parametrize("name", ["mailboxes.xlsx", "mailboxes-excel.csv", "mailboxes-powershell-dump.txt",
                                  "api-error.json", "mailboxes-cut-off.json"])
def test_refused_files_say_what_the_command_line_says(page, base_url, name, tmp_path):  # noqa: F811
    page.goto(base_url + "org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    choose_and_run(page, [FIX / "profiles.json", BROKEN / name])
    result = cli(["profiles.json", name], cwd=beside(tmp_path, [FIX / "profiles.json", BROKEN / name])[0].parent)
    assert result.returncode == 2
    assert page.get_attribute("#sss-org-result", "data-exit") == "2"
    shown = page.eval_on_selector_all("#sss-org-problems li", "els => els.map(e => e.textContent)")
    assert shown == result.stderr.strip().splitlines()


def test_the_page_never_hangs_and_runs_again(page, base_url, tmp_path):  # noqa: F811
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    page.goto(base_url + "en/org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    choose_and_run(page, [deep])
    assert page.get_attribute("#sss-org-result", "data-exit") == "2"
    assert "nests too deep" in page.inner_text("#sss-org-problems")
    # the same page runs again, and a new choice replaces the earlier one
    choose_and_run(page, [FIX / n for n in FULL])
    assert page.inner_text('[data-count="mailboxes"] td') == "13"
    choose_and_run(page, [FIX / "profiles.json", FIX / "mixed-mailboxes.json"])
    expected, _code = cli_json(["profiles.json", "mixed-mailboxes.json"], "en")
    assert page.inner_text('[data-count="mailboxes"] td') == str(expected["summary"]["mailboxes"])
    assert "through Outlook" in page.inner_text("#sss-org-org")
    # the clear button empties the choice and the result
    page.click("#sss-org-clear")
    assert page.inner_text("#sss-org-chosen") == "" and page.is_hidden("#sss-org-result")
    page.click("#sss-org-run")
    assert page.inner_text("#sss-org-progress") == "Choose or paste at least one export."


def test_a_reading_can_be_set_aside_on_the_page(page, base_url):  # noqa: F811
    page.goto(base_url + "en/org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    choose_and_run(page, [SHAPES / "gov-profiles.json", SHAPES / "gov-mailboxes.json"])
    assert "Read as Exchange Online" in page.inner_text("#sss-org-groups")
    pid = "aaaa0000-0000-4000-8000-0000000000e0"
    page.select_option(f'.sss-org-reading select[data-profile="{pid}"]', "exchange-server")
    page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
    expected, _code = cli_json(["gov-profiles.json", "gov-mailboxes.json"], "en",
                               "--set", f"{pid}:server_profile=exchange-server", cwd=SHAPES)
    assert json.loads(download(page, "#sss-org-json")) == expected


def test_the_query_links_and_the_command_use_the_typed_address(page, base_url):  # noqa: F811
    page.goto(base_url + "en/org/")
    page.fill("#sss-org-host", "contoso.crm4.dynamics.com/main.aspx?appid=1")
    link = page.get_attribute("#sss-org-link-mailboxes", "href")
    assert link.startswith("https://contoso.crm4.dynamics.com/api/data/v9.2/mailboxes?$select=mailboxid,")
    assert '$org = "https://contoso.crm4.dynamics.com/"' in page.inner_text("#sss-org-oneliner")
    alerts = page.get_attribute("#sss-org-link-tracelogs", "href")
    assert alerts.startswith("https://contoso.crm4.dynamics.com/api/data/v9.2/tracelogs?$select=tracelogid,")
    assert "LastXDays" in alerts and "tracelogs?`$select=" in page.inner_text("#sss-org-oneliner")
    page.fill("#sss-org-host", "javascript:alert(1)")
    assert page.get_attribute("#sss-org-link-mailboxes", "href") is None
    assert page.is_visible("#sss-org-host-problem")


def test_labels_fit_the_profile(page, base_url):  # noqa: F811
    run_page(page, base_url, "en", FULL)
    pop3 = page.text_content('#sss-org-groups section[data-profile="aaaa0000-0000-4000-8000-000000000005"]')
    assert "Authentication with Exchange Online" not in pop3 and "The profile's authentication" in pop3
    exo = page.text_content('#sss-org-groups section[data-profile="aaaa0000-0000-4000-8000-000000000001"]')
    assert "Authentication with Exchange Online" in exo


@pytest.mark.parametrize("lang", LANGS)
def test_alerts_explained_and_grouped_as_the_command_line_says(page, base_url, lang):  # noqa: F811
    names = SETS["alerts"]
    run_page(page, base_url, lang, names)
    expected, code = cli_json(names, lang)
    assert page.get_attribute("#sss-org-result", "data-exit") == str(code)
    drawn = page.eval_on_selector_all("#sss-org-alerts li.sss-org-alert > p:first-child strong",
                                      "els => els.map(e => e.textContent.slice(2))")
    assert drawn == [g["line"] for g in expected["alerts"]["groups"]] and len(drawn) == 6
    causes = page.eval_on_selector_all("#sss-org-alerts li.sss-org-alert", "els => els.map(e => e.dataset.cause)")
    assert causes == [g["cause"] or "" for g in expected["alerts"]["groups"]]
    owner = next(g for g in expected["alerts"]["groups"] if g["cause"] == "err-owner-lacks-privileges")
    source = owner["explanation"]["source"]["url"]
    assert page.get_attribute('#sss-org-alerts li[data-cause="err-owner-lacks-privileges"] a[data-source]', "href") == source
    text = cli(names, "--lang", lang).stdout
    assert page.inner_text("#sss-org-alerts [data-alerts=read]") in text
    # each mailbox's row carries its latest alert, with the Microsoft page
    section = '#sss-org-groups section[data-profile="aaaa0000-0000-4000-8000-000000000005"]'
    sections = page.locator(section)
    for n in range(sections.count()):  # the profile's mailboxes may have different verdicts
        sections.nth(n).locator("details summary").click()
        sections.nth(n).locator("details[data-ready] table").wait_for()
    cells = page.eval_on_selector_all(section + " td[data-alert]", "els => els.map(e => e.dataset.alert)")
    assert cells == ["err-host-not-found", "err-host-not-found"]  # the profile's alert, on both its mailboxes
    said = page.eval_on_selector_all(section + " td[data-alert] > p", "els => els.map(e => e.textContent)")
    title = next(g["title"] for g in expected["alerts"]["groups"] if g["cause"] == "err-host-not-found")
    assert said == [("Error: " if lang == "en" else "Erro: ") + title] * 2
    link = page.get_attribute(section + ' td[data-alert] a[data-source]', "href")
    assert link.endswith("/email-cannot-be-received-mailbox")


def test_alerts_alone_are_refused_on_the_page(page, base_url):  # noqa: F811
    page.goto(base_url + "en/org/")
    page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
    choose_and_run(page, [FIX / "tracelogs.json"])
    result = cli(["tracelogs.json"], "--lang", "en")
    assert page.get_attribute("#sss-org-result", "data-exit") == "2" == str(result.returncode)
    shown = page.eval_on_selector_all("#sss-org-problems li", "els => els.map(e => e.textContent)")
    assert shown == result.stderr.strip().splitlines()

"""The page "Why a mailbox fails" in Debian's Chromium: pasting an alert gives
the command line's answer in both languages, nothing leaves the tab, the CSP
holds (no console error) and axe finds nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from checker import explain as ex

from .conftest import REPO
from .test_browser import LANGS, base_url, browser, context, page  # noqa: F401  (fixtures)

playwright_api = pytest.importorskip("playwright.sync_api")

FIXTURES = json.loads((REPO / "tests" / "fixtures" / "alerts" / "texts.json").read_text(encoding="utf-8"))["texts"]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# The button just clicked is still changing colour (the theme's transition): axe
# judges the colours the reader is left with, once every transition has ended.
AXE_RUN = """async () => {
    await Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)));
    return await axe.run(document, {resultTypes: ['violations']});
}"""


def open_page(page, base_url, lang):  # noqa: F811
    page.goto(base_url + LANGS[lang] + "troubleshooting/")
    page.wait_for_selector("#sss-explain[data-ready=true]", timeout=20_000)


def paste(page, text):  # noqa: F811
    page.fill("#sss-explain-text", text)
    page.click("#sss-explain-run")
    page.wait_for_selector("#sss-explain-result:not([hidden])")
    return page.evaluate("""() => {
        const r = document.getElementById("sss-explain-result");
        return {matched: r.dataset.matched, causes: r.dataset.causes || "",
                boxes: [...r.querySelectorAll("[data-cause]")].map(b => ({
                    id: b.dataset.cause, title: b.querySelector("h3").textContent,
                    text: b.textContent, links: [...b.querySelectorAll("a")].map(a => a.getAttribute("href"))})),
                text: r.textContent};
    }""")


@pytest.mark.parametrize("lang", LANGS)
def test_pasting_every_fixture_gives_the_command_lines_answer(page, base_url, lang):  # noqa: F811
    open_page(page, base_url, lang)
    for fixture in FIXTURES:
        shown = paste(page, fixture["text"])
        answer = ex.explain(fixture["text"], lang)
        assert shown["matched"] == "true"
        assert shown["causes"].split() == [c["id"] for c in answer["causes"]], fixture["text"][:60]
        for box, c in zip(shown["boxes"], answer["causes"]):
            assert box["id"] == c["id"] and box["title"] == c["title"]
            assert c["meaning"] in box["text"] and c["action"] in box["text"]
            assert c["source"]["url"] in box["links"]
    # the command line itself, once per language, on the last fixture
    cli = subprocess.run([sys.executable, "-m", "checker", "explain", "-", "--format", "json", "--lang", lang],
                         input=FIXTURES[-1]["text"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert [c["id"] for c in json.loads(cli.stdout)["causes"]] == shown["causes"].split()


def test_unknown_and_empty_text_say_so(page, base_url):  # noqa: F811
    open_page(page, base_url, "en")
    shown = paste(page, "<img src=x onerror=alert(1)> nothing known")
    assert shown["matched"] == "false"
    assert "No known cause matches this text." in shown["text"]
    assert ex.errors_data()["index"]["url"] in shown["text"]
    assert page.locator("#sss-explain-result img").count() == 0  # text, never markup
    shown = paste(page, "   ")
    assert shown["matched"] == "error" and "the text is empty" in shown["text"]


def test_a_related_link_leads_to_the_matrix_entry(page, base_url):  # noqa: F811
    open_page(page, base_url, "en")
    shown = paste(page, "Email Server Error Code: MailboxNotEnabledForRESTAPI")
    assert "../../en/unsupported/#uns-exo-profile-onprem-user" in shown["boxes"][0]["links"]
    page.click('[data-cause="err-rest-api-not-enabled"] a[href*="uns-exo-profile-onprem-user"]')
    page.wait_for_url("**/en/unsupported/#uns-exo-profile-onprem-user")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", LANGS)
def test_axe_finds_no_accessibility_violations(browser, base_url, lang, scheme):  # noqa: F811
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        errors = []
        # Material's language switcher asks every page's folder for a sitemap (a 404 the
        # whole site shares); anything else on the console (a CSP refusal) fails the test.
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(path=str(AXE))  # the page's CSP refuses injected inline scripts
        open_page(page, base_url, lang)
        paste(page, FIXTURES[0]["text"])
        results = page.evaluate(AXE_RUN)
        assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]] == []
        paste(page, "nothing known")
        results = page.evaluate(AXE_RUN)
        assert [v["id"] for v in results["violations"]] == []
        assert errors == []  # no CSP refusal, no script error
    finally:
        context.close()


def test_no_sideways_scroll_on_a_phone(browser, base_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        for lang in LANGS:
            open_page(page, base_url, lang)
            paste(page, next(f["text"] for f in FIXTURES if f["expect"] == "err-act-insufficient-privileges"))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (lang, width)
    finally:
        context.close()

"""The checker page in Debian's Chromium (Playwright), against the built site on loopback.

Every test runs with a guard that fails it if any request leaves loopback.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from urllib.parse import urlparse

import pytest

from checker import load_matrix

from .conftest import CASES, REPO

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LANGS = {"pt-BR": "", "en": "en/"}
STRINGS = load_matrix().strings
FIELD_ORDER = list(load_matrix().fields)
READY = 60_000  # ms: loading Pyodide on a busy 2-core machine


def query(config: dict) -> str:
    """The page's own permalink format (same order and encoding as checker.js)."""
    parts = []
    for name in FIELD_ORDER:
        if name in config:
            v = config[name]
            text = ",".join(v) if isinstance(v, list) else (str(v).lower() if isinstance(v, bool) else v)
            parts.append(f"{name}={text}")
    return "?" + "&".join(parts)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Debian's chromium is not installed; `./run test` installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile whose every request must stay on loopback."""
    context = browser.new_context()
    escaped = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.escaped = escaped
    yield context
    context.close()
    assert not escaped, f"requests left loopback: {escaped}"


@pytest.fixture
def page(context):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    yield page
    assert not errors, errors


def wait_verdict(page, status=None, rules=None):
    page.wait_for_function(
        """([status, rules]) => {
            const v = document.getElementById("sss-verdict");
            if (!v.hasAttribute("data-status")) return false;
            if (status && v.getAttribute("data-status") !== status) return false;
            if (rules) {
              const got = [...v.querySelectorAll("[data-rule]")].map(e => e.dataset.rule).sort();
              return JSON.stringify(got) === JSON.stringify(rules);
            }
            return true;
        }""",
        arg=[status, sorted(rules) if rules else None], timeout=READY,
    )
    return page.get_attribute("#sss-verdict", "data-status")


def rendered_rules(page):
    return sorted(page.eval_on_selector_all("#sss-verdict [data-rule]", "els => els.map(e => e.dataset.rule)"))


@pytest.mark.parametrize("lang", LANGS)
def test_case_table_through_the_url(page, base_url, lang):
    """Every case of the table, given as a query string, gives the case's verdict."""
    first = CASES[0]
    page.goto(base_url + LANGS[lang] + "checker/" + query(first["config"]))
    wait_verdict(page, first["status"], first["rules"])
    for case in CASES:
        page.evaluate(
            """q => {
                document.getElementById("sss-verdict").removeAttribute("data-status");
                history.pushState(null, "", location.pathname + q);
                dispatchEvent(new PopStateEvent("popstate"));
            }""", query(case["config"]))
        try:
            wait_verdict(page, case["status"], case["rules"])
        except playwright_api.TimeoutError:
            pytest.fail(f"{case['id']}: page shows {page.get_attribute('#sss-verdict', 'data-status')} {rendered_rules(page)}")
        status_text = page.inner_text("#sss-verdict .sss-status strong")
        assert status_text == STRINGS["status." + case["status"]][lang], case["id"]


@pytest.mark.parametrize("lang", LANGS)
def test_fresh_load_evaluates_at_once_in_the_page_language(page, base_url, lang):
    picks = {}
    for case in CASES:
        picks.setdefault(case["status"], case)
    assert set(picks) == {"supported", "limited", "unsupported", "unknown"}
    warnings = []
    page.on("console", lambda m: warnings.append(m.text))
    for case in picks.values():
        page.goto(base_url + LANGS[lang] + "checker/" + query(case["config"]), wait_until="domcontentloaded")
        # nothing before evaluation, unless it is the verdict the build published
        assert (page.get_attribute("#sss-verdict", "data-status") is None
                or page.get_attribute("#sss-verdict", "data-source") == "build")
        assert wait_verdict(page, case["status"], case["rules"]) == case["status"]
        # the form shows what the query said
        for name, value in case["config"].items():
            if name == "sync":
                ticked = page.eval_on_selector_all('input[name="sync"]:checked', "els => els.map(e => e.value)")
                assert sorted(ticked) == sorted(value)
            else:
                assert page.input_value(f"#sss-{name}") == (str(value).lower() if isinstance(value, bool) else value)
        link = page.get_attribute("#sss-verdict [data-rule] a", "href")
        assert link.startswith("../" if lang == "pt-BR" else "../../")
    # the build's memory snapshot was used, not the slower fallback
    assert not [w for w in warnings if "without the snapshot" in w], warnings


def test_keyboard_only_and_permalink_round_trip(page, context, base_url):
    page.goto(base_url + "en/checker/")
    page.wait_for_selector("#sss-form:not([hidden])")
    page.focus("#sss-deployment")
    # every control is reachable and operable by keyboard
    page.keyboard.press("ArrowDown")            # Online (cloud)
    assert page.input_value("#sss-deployment") == "online"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "sss-email_system"
    for _ in range(9):                            # ... down to Gmail
        page.keyboard.press("ArrowDown")
    assert page.input_value("#sss-email_system") == "gmail"
    page.keyboard.press("Tab")                    # sync: Email
    page.keyboard.press("Tab")                    # sync: Appointments, contacts and tasks
    assert page.evaluate("document.activeElement.value") == "appointments-contacts-tasks"
    page.keyboard.press("Space")
    wait_verdict(page, "unsupported", ["online-webmail", "online-webmail-act"])
    page.wait_for_url(lambda url: url.endswith("en/checker/?deployment=online&email_system=gmail&sync=appointments-contacts-tasks"))
    announced = page.inner_text("#sss-announce")
    assert "Not supported" in announced
    # the permalink gives the same answers on a new page
    other = context.new_page()
    other.goto(page.url)
    wait_verdict(other, "unsupported", ["online-webmail", "online-webmail-act"])
    assert other.input_value("#sss-email_system") == "gmail"
    # questions that do not matter stay hidden: authentication is for Exchange Online
    assert other.is_hidden('[data-field="authentication"]')
    other.select_option("#sss-email_system", "exchange-online")
    assert other.get_attribute('[data-field="authentication"]', "hidden") is None
    wait_verdict(other, "supported")
    other.wait_for_url(lambda url: "email_system=exchange-online" in url)


def test_language_switch_keeps_page_and_answers(page, base_url):
    q = "?deployment=online&email_system=exchange-online&tenant=other"
    page.goto(base_url + "checker/" + q)
    wait_verdict(page, "limited")
    assert page.inner_text("#sss-verdict .sss-status strong") == STRINGS["status.limited"]["pt-BR"]
    page.hover(".md-header__option .md-select")
    page.click('a.md-select__link[hreflang="en"]')
    page.wait_for_url(lambda url: url.endswith("/en/checker/" + q))
    wait_verdict(page, "limited")
    assert page.inner_text("#sss-verdict .sss-status strong") == STRINGS["status.limited"]["en"]
    assert page.input_value("#sss-tenant") == "other"
    page.hover(".md-header__option .md-select")
    page.click('a.md-select__link[hreflang="pt-BR"]')
    page.wait_for_url(lambda url: url == base_url + "checker/" + q)
    wait_verdict(page, "limited")


HOSTILE = [
    "?deployment=<img src=x onerror=alert(1)>&email_system=gmail",
    "?deployment=online&email_system=gmail&sync=email,<script>alert(1)</script>",
    "?deployment=online&email_system=gmail&__proto__=polluted&constructor=x",
    "?deployment=online&email_system=%22%3E%3Csvg%20onload%3Dalert(1)%3E&mfa=yes",
    "?deployment=online&email_system=gmail&mfa=1&sync=",
    "?deployment=online&deployment=on-premises&email_system=gmail",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_query_strings_are_input_errors_shown_as_text(page, base_url, q):
    page.goto(base_url + "en/checker/" + q)
    page.wait_for_selector(".sss-errors li", timeout=READY)
    assert page.get_attribute("#sss-verdict", "data-status") is None  # no verdict
    assert page.locator("#sss-verdict img, #sss-verdict script, #sss-verdict svg").count() == 0
    errors = page.inner_text(".sss-errors")
    assert "allowed" in errors
    assert page.evaluate("Object.prototype.polluted") is None
    # fixing the answers in the form gives a verdict and drops the bad values from the address
    page.select_option("#sss-deployment", "online")
    page.select_option("#sss-email_system", "gmail")
    wait_verdict(page)
    page.wait_for_url(lambda url: "email_system=gmail" in url and "<" not in url and "%3C" not in url.upper())


@pytest.mark.parametrize("lang", LANGS)
def test_axe_finds_no_accessibility_violations(page, base_url, lang):
    # Injected as the browser's own init script: the pages' CSP refuses inline scripts.
    page.add_init_script(path=str(REPO / "node_modules" / "axe-core" / "axe.min.js"))
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    wait_verdict(page, "unsupported")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]]
    assert violations == []
    # and with input errors on the page
    page.goto(base_url + LANGS[lang] + "checker/?deployment=moon&email_system=gmail")
    page.wait_for_selector(".sss-errors li", timeout=READY)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert [v["id"] for v in results["violations"]] == []


def test_navigation_reload_and_back(page, base_url):
    page.goto(base_url + "en/support-matrix/")
    page.click('.md-nav a[href$="checker/"]')
    page.wait_for_url("**/en/checker/")
    page.select_option("#sss-deployment", "on-premises")
    page.select_option("#sss-email_system", "exchange-server-2010-sp3")
    wait_verdict(page, "supported", ["onprem-exchange", "lifecycle-exchange-2010"])
    page.wait_for_url(lambda url: url.endswith("?deployment=on-premises&email_system=exchange-server-2010-sp3"))
    page.reload()
    wait_verdict(page, "supported", ["onprem-exchange", "lifecycle-exchange-2010"])
    page.go_back()
    page.wait_for_url("**/en/support-matrix/")
    page.go_forward()
    wait_verdict(page, "supported", ["onprem-exchange", "lifecycle-exchange-2010"])
    assert page.input_value("#sss-email_system") == "exchange-server-2010-sp3"


# The aborted download is no page error: the worker reports it ("failed", naming
# the file) and the page says so. An aborted request has no status, so the
# browser meets no problem at all.
def test_a_runtime_that_cannot_load_is_explained(context, base_url):
    context.route("**/pyodide.asm.wasm*", lambda route: route.abort())
    page = context.new_page()
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    page.wait_for_selector(".sss-runtime.sss-failed", timeout=READY)
    said = page.inner_text("#sss-runtime")
    assert "could not load" in said
    assert re.search(r"\(pyodide/[0-9a-f]+/pyodide\.asm\.wasm: Failed to fetch\)", said), said
    href = page.get_attribute("#sss-runtime a", "href")
    assert href.endswith("en/support-matrix/")
    # no engine verdict; the one the build published stays, marked as such
    assert page.get_attribute("#sss-verdict", "data-source") == "build"


def test_other_pages_load_none_of_the_runtime(context, base_url):
    page = context.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    for path in ("", "support-matrix/", "en/unsupported/", "en/notes/"):
        page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
    assert requested and not [u for u in requested if "pyodide" in u or "/checker" in u or ".whl" in u]


@pytest.mark.parametrize("lang", LANGS)
def test_search_shows_results_in_the_page_language(page, base_url, lang):
    page.goto(base_url + LANGS[lang] + "notes/")
    page.click(".md-search__input")
    page.keyboard.type("Exchange")
    page.wait_for_selector("li.md-search-result__item a.md-search-result__link", state="attached", timeout=30_000)
    page.wait_for_timeout(300)
    shown = page.eval_on_selector_all("li.md-search-result__item a.md-search-result__link", "els => els.map(a => a.href)")
    assert shown, "no result shown"
    assert all(("/en/" in u) == (lang == "en") for u in shown), shown
    # the count counts the results of the page's language only
    count = int(page.inner_text(".md-search-result__meta").split()[0])
    pages = page.eval_on_selector_all("li.md-search-result__item", "els => els.length")
    assert count == pages

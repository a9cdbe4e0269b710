"""The site as a reader meets it, in Chromium: on a laptop (1366×900) and a phone
(390×844), in both languages. The grid, the checker's verdict in view, shared
and printed verdicts, and, on every page, no sideways scrolling at 360 px and
no axe-core violations on either palette.
"""

from __future__ import annotations

import re

import pytest

from checker import load_matrix

from .conftest import REPO
from .test_browser import (  # noqa: F401  (fixtures)
    LANGS, READY, STRINGS, base_url, browser, context, page, playwright_api, wait_verdict,
)

SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
AXE = (REPO / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
PAGES = ["", "support-matrix/", "exchange-online/", "cross-tenant/", "unsupported/", "notes/", "checker/", "org/", "troubleshooting/",
         "changes/", "404.html"]
FIELDS = load_matrix().fields


def label(field, lang):
    return FIELDS[field]["label"][lang]


def value_label(field, value, lang):
    return next(v["label"][lang] for v in FIELDS[field]["values"] if v["id"] == value)


@pytest.fixture
def sized(context):
    """A page of a given size: sized(width, height)."""
    def make(width, height):
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        return page
    return make


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def in_viewport(page, selector):
    return page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
                    return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; }""",
        selector)


# ---- every page ------------------------------------------------------------------

def test_every_page_loads_clean_in_both_languages(context, base_url):
    """No 4xx and no console error on any page load, the language selector's
    sitemap lookups included: the autouse fixture in conftest.py fails the test on
    any; here every page of both languages is loaded until the network is idle."""
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("sitemap.xml") else None)
    for prefix in LANGS.values():
        for path in PAGES:
            page.goto(base_url + prefix + path, wait_until="networkidle")
    # the theme did look the sitemaps up (so their answers were checked)
    assert base_url + "en/checker/sitemap.xml" in asked and base_url + "checker/sitemap.xml" in asked, asked


def test_no_page_scrolls_sideways_at_360_px(sized, base_url):
    page = sized(360, 740)
    for lang, prefix in LANGS.items():
        for path in PAGES:
            page.goto(base_url + prefix + path + ("?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks"
                                                   if path == "checker/" else ""))
            if path == "checker/":
                wait_verdict(page, "unsupported")
            assert no_sideways_scroll(page), (lang, path, page.evaluate("document.documentElement.scrollWidth"))
    assert not page.errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_any_page_size_language_or_palette(browser, base_url, scheme):
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.add_init_script(AXE)  # before the page's scripts: the pages' CSP allows no injected script
        found = []
        for (width, height) in SIZES.values():
            page.set_viewport_size({"width": width, "height": height})
            for lang, prefix in LANGS.items():
                for path in PAGES:
                    query = "?deployment=online&email_system=exchange-server-2016&mfa=true" if path == "checker/" else ""
                    page.goto(base_url + prefix + path + query)
                    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == (
                        "slate" if scheme == "dark" else "default")
                    if path == "checker/":
                        wait_verdict(page, "unsupported")
                    violations = page.evaluate(
                        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                        ".map(v => [v.id, v.nodes.slice(0, 2).map(n => n.target.join(' '))])")
                    if violations:
                        found.append((width, lang, path, violations))
        assert found == []
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_focus_is_visible_on_every_control(sized, base_url, lang):
    page = sized(*SIZES["laptop"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail")
    wait_verdict(page)
    page.click("#sss-more summary")
    seen = 0
    page.focus("#sss-deployment")
    for _ in range(60):
        info = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, inForm: !!e.closest('#sss-checker'),
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }""")
        if not info["inForm"]:
            break
        assert info["outline"], info
        seen += 1
        page.keyboard.press("Tab")
    assert seen >= 10
    # the grid's filters and its footnote links too
    page.goto(base_url + LANGS[lang] + "support-matrix/")
    page.focus("#sss-filter-system")
    for _ in range(8):
        info = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, cls: e.className, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }""")
        assert info["outline"], info
        page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('table.sss-grid, .sss-grid-box')")


# ---- the grid ---------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_grid_filters_without_reloading(sized, base_url, lang, size):
    page = sized(*SIZES[size])
    page.goto(base_url + LANGS[lang] + "support-matrix/")
    rows = page.locator("table.sss-grid tbody tr")
    total = rows.count()
    assert total == 2 * len(FIELDS["email_system"]["values"])
    assert no_sideways_scroll(page)
    # on a phone too, Gmail's status is there to read, in words
    gmail = page.locator('table.sss-grid[data-deployment="online"] tr[data-system="gmail"]')
    if size == "phone":  # the grids start folded there: the reader opens the online one
        page.click('.sss-grid-box[data-deployment="online"] details.sss-grid-fold > summary')
    gmail.scroll_into_view_if_needed()
    assert STRINGS["status.supported"][lang] in gmail.inner_text()
    assert STRINGS["status.unsupported"][lang] in gmail.inner_text()
    page.evaluate("window.sssLoaded = true")  # gone if the page reloads
    page.fill("#sss-filter-system", "gmail")
    visible = page.eval_on_selector_all("table.sss-grid tbody tr:not([hidden])", "els => els.map(e => e.dataset.system)")
    assert visible == ["gmail", "gmail"]
    page.fill("#sss-filter-system", "")
    for status in ("supported", "limited", "unknown"):
        page.uncheck(f'#sss-grid-filters input[value="{status}"]')
    statuses = page.eval_on_selector_all("table.sss-grid tbody tr:not([hidden])", "els => els.map(e => e.dataset.statuses)")
    assert statuses and all("unsupported" in s for s in statuses)
    assert len(statuses) < total
    assert page.inner_text("#sss-filter-count").startswith(str(len(statuses)))
    # accents typed or not: "exchange" and "Exchânge" both find the Exchange rows
    page.check('#sss-grid-filters input[value="supported"]')
    page.fill("#sss-filter-system", "Exchânge Online")
    assert page.eval_on_selector_all("table.sss-grid tbody tr:not([hidden])", "els => els.map(e => e.dataset.system)") == [
        "exchange-online", "exchange-online"]
    assert page.evaluate("window.sssLoaded") is True
    assert not page.errors


def test_grid_without_javascript_is_the_whole_grid(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base_url + "en/support-matrix/")
        assert page.is_hidden("#sss-grid-filters")
        assert page.locator("table.sss-grid tbody tr:visible").count() == 2 * len(FIELDS["email_system"]["values"])
        # the on-premises grid says it is the dated secondary source, in view of its rows
        box = page.locator('.sss-grid-secondary[data-deployment="on-premises"]')
        assert "Secondary source · 2020-05-19" in box.inner_text()
    finally:
        context.close()


# ---- the checker: the verdict in view, nothing moving -------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_the_verdict_stays_in_view_and_no_control_moves(sized, base_url, lang, size):
    page = sized(*SIZES[size])
    page.goto(base_url + LANGS[lang] + "checker/")
    page.wait_for_selector("#sss-runtime.sss-ready", timeout=READY)
    assert no_sideways_scroll(page)
    summary = "#sss-verdict .sss-status" if size == "laptop" else "#sss-bar-status"
    page.select_option("#sss-deployment", "online")
    before = page.locator("#sss-email_system").bounding_box()
    page.select_option("#sss-email_system", "gmail")
    wait_verdict(page, "supported")
    assert page.locator("#sss-email_system").bounding_box() == before
    page.wait_for_selector(summary)
    assert in_viewport(page, summary)
    # a box ticked low in the form: the verdict changes in view
    control = page.locator('input[name="sync"][value="appointments-contacts-tasks"]')
    control.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    before = control.bounding_box()
    control.check()
    wait_verdict(page, "unsupported")
    assert control.bounding_box() == before
    assert in_viewport(page, summary)
    assert STRINGS["status.unsupported"][lang] in page.inner_text(summary)
    if size == "phone":
        counts = page.inner_text("#sss-bar-counts")
        assert counts.startswith("2")
        page.click("#sss-bar-open")
        page.wait_for_function("() => document.activeElement.id === 'sss-result-title'")
        assert in_viewport(page, "#sss-result-title")
    else:
        assert page.is_hidden("#sss-bar")
    assert no_sideways_scroll(page)
    assert not page.errors


@pytest.mark.parametrize("lang", LANGS)
def test_the_verdict_lists_the_answers_it_considered(sized, base_url, lang):
    page = sized(*SIZES["laptop"])
    # MFA is stated on a pair the MFA rule does not cover: considered, and said so
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=exchange-online&mfa=true")
    wait_verdict(page, "supported")
    answers = page.inner_text("#sss-verdict .sss-considered")
    assert label("mfa", lang) in answers and label("email_system", lang) in answers
    mfa = page.inner_text('#sss-verdict .sss-considered li[data-field="mfa"]')
    assert STRINGS["page.checker.not_restricted"][lang] in mfa
    system = page.locator('#sss-verdict .sss-considered li[data-field="email_system"] a[href^="#sss-finding-"]')
    assert system.count() >= 1  # points at the reasons that looked at it
    target = system.first.get_attribute("href")
    assert page.locator(f"#sss-verdict {target}[data-rule]").count() == 1


@pytest.mark.parametrize("lang", LANGS)
def test_end_of_support_is_a_warning_in_the_headline(sized, base_url, lang):
    page = sized(*SIZES["laptop"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=on-premises&email_system=exchange-server-2013-sp1")
    wait_verdict(page, "supported")  # the status stays as the contract says
    warning = page.locator("#sss-verdict .sss-headline .sss-eos-warning")
    assert warning.count() == 1
    assert STRINGS["page.checker.eos_warning"][lang] in warning.inner_text()
    assert warning.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
    info = page.locator("#sss-verdict .sss-headline .sss-explain")
    assert warning.evaluate("e => getComputedStyle(e).backgroundColor") != info.evaluate(
        "e => getComputedStyle(e).backgroundColor")


# ---- the address ------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_partial_address_is_a_partial_form(sized, base_url, lang):
    page = sized(*SIZES["phone"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online")
    page.wait_for_selector("#sss-runtime.sss-ready", timeout=READY)
    page.wait_for_timeout(300)
    assert page.locator(".sss-errors").count() == 0
    assert page.input_value("#sss-deployment") == "online"
    assert page.inner_text("#sss-verdict") == STRINGS["page.checker.prompt"][lang]
    assert page.url.endswith("checker/?deployment=online")  # left as it was
    page.select_option("#sss-email_system", "yahoo-mail")
    wait_verdict(page, "supported")
    # the page's own address for it reloads as the same answers
    page.wait_for_url(lambda url: url.endswith("?deployment=online&email_system=yahoo-mail"))
    page.reload()
    wait_verdict(page, "supported")
    assert page.locator(".sss-errors").count() == 0


@pytest.mark.parametrize("lang", LANGS)
def test_address_errors_name_the_question_and_the_labels_allowed(sized, base_url, lang):
    page = sized(*SIZES["laptop"])
    cases = {
        "?deployment=moon&email_system=gmail": [label("deployment", lang), "moon",
                                                 value_label("deployment", "on-premises", lang)],
        "?deployment=online&deployment=online&email_system=gmail": [label("deployment", lang),
                                                                     value_label("deployment", "online", lang)],
        "?deployment=online&email_system=gmail&__proto__=x": ["__proto__", label("email_system", lang)],
        "?deployment=online&email_system=gmail&constructor=x": ["constructor", label("mfa", lang)],
        "?deployment=online&email_system=gmail&mfa=yes": [label("mfa", lang), "yes", value_label("mfa", "true", lang)],
    }
    for q, expected in cases.items():
        page.goto(base_url + LANGS[lang] + "checker/" + q)
        page.wait_for_selector(".sss-errors li", timeout=READY)
        text = page.inner_text(".sss-errors")
        for part in expected:
            assert part in text, (q, part, text)
        assert page.get_attribute("#sss-verdict", "data-status") is None
        assert page.evaluate("({}).x === undefined && Object.prototype.x === undefined")
    assert not page.errors


# ---- sharing and printing ----------------------------------------------------------

def test_copy_link_copies_the_permalink(browser, base_url):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
        wait_verdict(page, "supported")
        page.click("#sss-copy")
        page.wait_for_function("() => document.getElementById('sss-copy-status').textContent !== ''")
        assert page.inner_text("#sss-copy-status") == STRINGS["page.checker.copied"]["en"]
        assert page.evaluate("navigator.clipboard.readText()") == page.url
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_printing_shows_answers_verdict_links_date_and_address(sized, base_url, lang):
    page = sized(*SIZES["laptop"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    wait_verdict(page, "unsupported")
    page.emulate_media(media="print")
    assert page.is_hidden("#sss-form")           # not the empty form
    assert page.is_hidden("#sss-bar") and page.is_hidden("#sss-copy")
    assert page.is_visible("#sss-verdict .sss-status")
    assert page.is_visible("#sss-verdict .sss-considered")   # the answers
    assert value_label("email_system", "gmail", lang) in page.inner_text("#sss-verdict .sss-considered")
    date = page.inner_text("#sss-print-date")
    assert page.is_visible("#sss-print-date") and date.strip()
    assert page.is_visible("#sss-permalink") and page.inner_text("#sss-permalink-link") == page.url
    after = page.eval_on_selector_all(
        "#sss-verdict .sss-finding a[data-print-href]",
        "els => els.map(a => [getComputedStyle(a, '::after').content, a.href])")
    assert after and all(href in content for content, href in after)
    page.emulate_media(media="screen")
    assert page.is_visible("#sss-form") and page.is_hidden("#sss-print-date")


# ---- loading ---------------------------------------------------------------------------

def test_loading_shows_the_bytes_fetched(sized, base_url):
    page = sized(*SIZES["phone"])
    page.add_init_script("""
        window.sssSeen = [];
        new MutationObserver(() => {
            const p = document.getElementById("sss-progress");
            if (p && !p.hidden && p.hasAttribute("value")) window.sssSeen.push([p.value, p.max]);
        }).observe(document, {subtree: true, attributes: true, attributeFilter: ["value", "max", "hidden"]});
    """)
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    wait_verdict(page, "supported")
    page.wait_for_selector("#sss-verdict[data-source='engine']", timeout=READY)  # not only the build's verdict
    seen = page.evaluate("window.sssSeen")
    assert seen, "no progress shown"
    assert max(m for _v, m in seen) > 1_000_000     # real bytes: the runtime is megabytes
    assert any(0 < v < m for v, m in seen)          # seen part-way
    assert page.inner_text("#sss-runtime") == STRINGS["page.checker.ready"]["en"]


def test_a_download_that_stops_is_reported_within_15_s(context, base_url):
    context.route("**/assets/pyodide/**", lambda route: None)  # the runtime: asked, never answered
    page = context.new_page()
    page.add_init_script("""
        new MutationObserver(() => {
            const runtime = document.getElementById("sss-runtime");
            if (!runtime) return;
            if (runtime.classList.contains("sss-failed")) window.sssFailedAt ??= performance.now();
            else if (!document.getElementById("sss-progress").hidden) window.sssLastProgress = performance.now();
        }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
    """)
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    page.wait_for_selector(".sss-runtime.sss-failed", timeout=READY)
    stalled_for = page.evaluate("window.sssFailedAt - window.sssLastProgress")
    assert stalled_for < 16_500, stalled_for  # the last byte, then at most 15 s
    assert page.get_attribute("#sss-runtime a", "href").endswith("en/support-matrix/")


# ---- search ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang, typed, expected", [("pt-BR", "locatario", "cross-tenant/"), ("en", "tenant", "cross-tenant/")])
def test_search_folds_accents_and_counts_its_own_language(sized, base_url, lang, typed, expected):
    page = sized(*SIZES["laptop"])
    page.goto(base_url + LANGS[lang] + "notes/")
    page.click(".md-search__input")
    page.keyboard.type(typed)
    page.wait_for_selector("li.md-search-result__item a.md-search-result__link", state="attached", timeout=30_000)
    page.wait_for_timeout(300)
    links = page.eval_on_selector_all("li.md-search-result__item a.md-search-result__link", "els => els.map(a => a.href)")
    assert any(link.endswith(LANGS[lang] + expected) for link in links), links
    assert all(("/en/" in link) == (lang == "en") for link in links), links
    count = int(page.inner_text(".md-search-result__meta").split()[0])
    assert count == page.locator("li.md-search-result__item").count()
    # the folded words that make it match are not shown
    assert "locatario " not in page.inner_text(".md-search-result__list")


# ---- open questions, fixes, the project's own suggestions (the real engine) ------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_open_questions_are_said_and_asked_first(sized, base_url, engine, lang, size):
    page = sized(*SIZES[size])
    config = {"deployment": "online", "email_system": "exchange-online"}
    verdict = engine.evaluate(config, lang).to_dict()
    expected = [q["field"] for q in verdict["open_questions"]]
    assert "tenant" in expected and len(expected) >= 2
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=exchange-online")
    wait_verdict(page, verdict["status"])
    headline = page.inner_text("#sss-verdict .sss-headline")
    assert STRINGS["page.checker.so_far"][lang].replace("{status}", STRINGS["status." + verdict["status"]][lang]) in headline
    links = page.eval_on_selector_all("#sss-verdict .sss-open-link", "els => els.map(a => a.dataset.field)")
    assert links == [f for f in expected if f in links] and links  # most decisive first
    for field in links:
        assert label(field, lang) in headline
    # asked in the order an administrator knows the answers: the setup, what to
    # synchronize, the tenant and the profile first; then the technical questions
    # that can still change the verdict, in the matrix's order, none folded
    order = page.eval_on_selector_all("#sss-form .sss-q:not([hidden])", "els => els.map(e => e.dataset.field)")
    assert order[:5] == ["deployment", "email_system", "sync", "tenant", "server_profile"], order
    deciding = page.eval_on_selector_all("#sss-deciding .sss-q:not([hidden])", "els => els.map(e => e.dataset.field)")
    technical = [f for f in FIELDS if f in expected and f not in order[:5]]
    assert deciding == technical and order[5:5 + len(deciding)] == deciding
    assert page.evaluate("document.getElementById('sss-more').open") is False
    folded = page.eval_on_selector_all("#sss-more .sss-q", "els => els.map(e => e.dataset.field)")
    assert not set(folded) & set(expected)
    # each open question says in one line what its answers make of this verdict
    for q in verdict["open_questions"]:
        why = page.locator(f"#sss-{q['field']}-why")
        if q["field"] not in order:
            continue
        text = why.inner_text()
        assert text.startswith(STRINGS["page.checker.why"][lang].split("{")[0]), text
        for value, status in q["outcomes"].items():  # the answers that would change it, and to what
            if status != verdict["status"]:
                assert STRINGS["status." + status][lang] + ":" in text, text
                # each such answer is named, or the list is said the short way round ("any answer but ...")
                assert (value_label(q["field"], value, lang) in text
                        or STRINGS["page.checker.why_except"][lang].split("{")[0] in text), text
        lines = why.evaluate("e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)")
        assert lines <= 5.2, (q["field"], text, lines)  # one sentence, in a column a phone wide
    assert page.locator("#sss-deployment-why").is_hidden()  # answered, no longer open
    where = "#sss-bar-counts" if size == "phone" else "#sss-verdict .sss-counts"
    assert fill_count(STRINGS["page.checker.open_count"][lang], len(links)) in page.inner_text(where)
    # the link focuses its question
    page.click('#sss-verdict .sss-open-link[data-field="tenant"]')
    page.wait_for_function("() => document.activeElement.id === 'sss-tenant'")
    # answering it settles it, and the question does not move away
    before = page.locator("#sss-tenant").bounding_box()
    page.select_option("#sss-tenant", "other")
    wait_verdict(page, engine.evaluate({**config, "tenant": "other"}, lang).status)
    page.wait_for_function("() => !document.querySelector('#sss-verdict .sss-open-link[data-field=\"tenant\"]')")
    assert page.locator("#sss-tenant").bounding_box() == before
    # a question that opens later (the add-in, for another tenant) leaves the fold
    later = engine.evaluate({**config, "tenant": "other"}, lang).to_dict()["open_questions"]
    assert "app_for_outlook" in [q["field"] for q in later]
    page.wait_for_selector('#sss-deciding .sss-q[data-field="app_for_outlook"]:not([hidden])', state="attached")
    assert page.locator("#sss-app_for_outlook").is_visible()
    assert page.evaluate("document.getElementById('sss-more').open") is False
    assert page.locator("#sss-app_for_outlook-why").inner_text()
    assert not page.errors


def fill_count(template, count):
    """The template for `count`, its "{count#one|other}" word chosen as checker.js does."""
    text = re.sub(r"\{count#([^|{}]*)\|([^{}]*)\}", lambda m: m.group(1) if count == 1 else m.group(2), template)
    return text.replace("{count}", str(count))


@pytest.mark.parametrize("lang", LANGS)
def test_apply_this_fix_changes_the_answers_and_the_address(sized, base_url, engine, lang):
    page = sized(*SIZES["phone"])
    config = {"deployment": "online", "email_system": "exchange-server-2016", "server_profile": "exchange-online"}
    verdict = engine.evaluate(config, lang).to_dict()
    fixable = [f for f in verdict["findings"] if f["fix"]]
    assert fixable and fixable[0]["fix"] == {"server_profile": "exchange-server-hybrid"}
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=exchange-server-2016&server_profile=exchange-online")
    wait_verdict(page, "unsupported")
    buttons = page.locator("#sss-verdict .sss-apply-fix")
    assert buttons.count() == len(fixable)
    assert buttons.first.inner_text() == STRINGS["page.checker.apply_fix"][lang]
    buttons.first.click()
    fixed = engine.evaluate({**config, **fixable[0]["fix"]}, lang)
    wait_verdict(page, fixed.status)
    assert page.input_value("#sss-server_profile") == "exchange-server-hybrid"
    page.wait_for_url(lambda url: url.endswith("&server_profile=exchange-server-hybrid"))
    assert fixable[0]["rule"] not in [f.rule for f in fixed.findings]
    assert page.locator(f'#sss-verdict [data-rule="{fixable[0]["rule"]}"]').count() == 0
    # a fix that is a list: Gmail with appointments back to email only
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    wait_verdict(page, "unsupported")
    page.click("#sss-verdict .sss-apply-fix")
    wait_verdict(page, "supported")
    page.wait_for_url(lambda url: url.endswith("email_system=gmail&sync=email"))
    assert page.eval_on_selector_all('input[name="sync"]:checked', "els => els.map(e => e.value)") == ["email"]
    assert not page.errors


@pytest.mark.parametrize("lang", LANGS)
def test_the_projects_own_suggestions_are_marked(sized, base_url, engine, lang):
    page = sized(*SIZES["laptop"])
    config = {"deployment": "online", "email_system": "exchange-server-2016", "server_profile": "exchange-online"}
    verdict = engine.evaluate(config, lang).to_dict()
    sources = {f["rule"]: f["remedy_source"] for f in verdict["findings"] if f["remedy"]}
    assert set(sources.values()) == {"fact", "project"}
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=exchange-server-2016&server_profile=exchange-online")
    wait_verdict(page, "unsupported")
    for rule, source in sources.items():
        remedy = page.locator(f'#sss-verdict li[data-rule="{rule}"] .sss-remedy')
        marked = STRINGS["remedy.project"][lang] in remedy.inner_text()
        assert marked == (source == "project"), rule


# ---- a way back and forth (issue: "Show the details" under the sticky header) ---------

def below_header(page, selector):
    return page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
                    const h = document.querySelector('.md-header').getBoundingClientRect();
                    return r.height > 0 && r.top >= h.bottom - 1 && r.top < innerHeight; }""", selector)


@pytest.mark.parametrize("lang", LANGS)
def test_show_the_details_lands_below_the_header_and_the_verdict_leads_back(sized, base_url, lang):
    page = sized(*SIZES["phone"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    wait_verdict(page, "unsupported")
    page.click("#sss-bar-open")
    page.wait_for_function("() => document.activeElement.id === 'sss-result-title'")
    page.wait_for_timeout(100)
    assert below_header(page, "#sss-result-title")
    # every answer in the verdict links back to its question
    back = page.locator('#sss-verdict .sss-considered a.sss-answer-link[data-field="sync"]')
    assert back.inner_text() == label("sync", lang)
    assert back.get_attribute("aria-label") == STRINGS["page.checker.back_to_answer"][lang].replace("{field}", label("sync", lang))
    back.click()
    page.wait_for_function("() => document.activeElement.name === 'sync'")
    page.wait_for_timeout(100)
    assert below_header(page, '#sss-q-sync')
    assert no_sideways_scroll(page)
    assert not page.errors


# ---- plain words --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_counts_have_proper_plurals_and_links_no_fact_ids(sized, base_url, engine, lang):
    page = sized(*SIZES["phone"])
    one = {"deployment": "online", "email_system": "gmail"}
    assert len(engine.evaluate(one, lang).to_dict()["findings"]) == 1
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail")
    wait_verdict(page, "supported")
    counts = page.inner_text("#sss-bar-counts")
    assert "(s)" not in counts and "{" not in counts
    assert counts.startswith({"pt-BR": "1 motivo ·", "en": "1 reason ·"}[lang]), counts
    assert {"pt-BR": "perguntas em aberto", "en": "open questions"}[lang] in counts
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=exchange-online&tenant=same&server_profile=exchange-online")
    wait_verdict(page)
    assert {"pt-BR": "2 motivos", "en": "2 reasons"}[lang] in page.inner_text("#sss-bar-counts")
    # the panel says what it is; finding links say where, the fact ids are in their title
    assert page.inner_text("#sss-result-title") == STRINGS["page.checker.findings"][lang]
    links = page.eval_on_selector_all("#sss-verdict .sss-link a", "els => els.map(a => [a.textContent, a.title])")
    assert links and all(not re.search(r"\bF-[A-Z]", text) for text, _t in links), links
    assert any(re.search(r"\bF-[A-Z]", title) for _x, title in links)
    # the print header's date in the reader's language
    printed = page.inner_text("#sss-print-date")
    month = {"pt-BR": r"\d{1,2} de [a-zç]+ de \d{4}", "en": r"[A-Z][a-z]+ \d{1,2}, \d{4}"}[lang]
    assert re.search(month, printed), printed
    assert not page.errors


@pytest.mark.parametrize("lang", LANGS)
def test_no_string_a_reader_sees_says_s_in_parentheses(lang):
    import yaml

    strings = yaml.safe_load((REPO / "matrix" / "strings.yaml").read_text(encoding="utf-8"))["strings"]
    readers = {k: v[lang] for k, v in strings.items() if k.startswith(("page.", "status.", "severity."))}
    assert not [k for k, v in readers.items() if re.search(r"\w\((s|es)\)", v)]


# ---- compact pages ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_grid_fits_a_phone_in_a_few_screens_and_loses_nothing(browser, base_url, lang):
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    nojs = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = phone.new_page()
        page.goto(base_url + LANGS[lang] + "support-matrix/")
        page.wait_for_function("() => document.querySelector('details.sss-grid-fold[data-ready]')")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 6500, height  # 12,184 px before the grids folded and the rows became cards
        rows = page.locator("table.sss-grid tbody tr").count()
        assert rows >= 20
        summaries = page.eval_on_selector_all("details.sss-grid-fold > summary", "els => els.map(e => e.textContent)")
        assert len(summaries) == 2 and all(str(n) in s for s, n in zip(summaries, (14, 14)) if n)
        page.click("details.sss-grid-fold > summary")
        assert page.locator("details.sss-grid-fold").first.evaluate("d => d.open")
        # one row, opened: a compact card (name, two statuses side by side, protocol)
        row = page.locator("table.sss-grid tbody tr").first
        assert row.bounding_box()["height"] < 160
        assert no_sideways_scroll(page)
        # a search for a system opens every grid
        page.fill("#sss-filter-system", "gmail")
        assert page.eval_on_selector_all("details.sss-grid-fold", "els => els.every(d => d.open)")
        # without JavaScript every grid is open and every row shows
        bare = nojs.new_page()
        bare.goto(base_url + LANGS[lang] + "support-matrix/")
        assert bare.eval_on_selector_all("details.sss-grid-fold", "els => els.length === 2 && els.every(d => d.open)")
        assert bare.locator("table.sss-grid tbody tr:visible").count() == rows
    finally:
        phone.close()
        nojs.close()


@pytest.mark.parametrize("lang", LANGS)
def test_a_source_shared_by_a_section_is_said_once(site, lang):
    prefix = LANGS[lang]
    for path in ("support-matrix", "notes", "unsupported", "exchange-online", "cross-tenant"):
        text = (site / prefix / path / "index.html").read_text(encoding="utf-8")
        for section in re.split(r"<h2 ", text)[1:]:
            sources = re.findall(r'<small class="sss-meta[^"]*">[^<]*?(?:Fonte|Source): <a href="([^"]+)"', section)
            assert len(sources) == len(set(sources)), (path, sources)
        assert not re.search(r"(Fatos|Facts): F-", re.sub(r'title="[^"]*"', "", text)), path


# ---- search that answers -----------------------------------------------------------------

SEARCHES = [
    ("pt-BR", "Exchange 2010", "support-matrix/#onprem-exchange", "Customer Engagement (on-premises)"),
    ("pt-BR", "locatario", "cross-tenant/", None),
    ("pt-BR", "rastreamento", "notes/#note-manual-tracking", None),
    ("pt-BR", "tenant", "cross-tenant/", None),
    ("pt-BR", "Gmail", "support-matrix/#gmail-oauth-profile", None),
    # POP3: the matrix's section on the POP3-SMTP profile (its title says POP3 as a word of its own)
    ("pt-BR", "POP3", "support-matrix/#pop3-profile-no-act", None),
    ("pt-BR", "autenticacao multifator", "unsupported/#uns-mfa", None),
    ("pt-BR", "8005E274", "troubleshooting/#err-rest-api-not-enabled", None),  # a code leads to its cause
    ("en", "Exchange 2010", "support-matrix/#onprem-exchange", "Customer Engagement (on-premises)"),
    ("en", "tenant", "cross-tenant/", None),
    ("en", "tracking", "notes/#note-manual-tracking", None),
    ("en", "Gmail", "support-matrix/#gmail-oauth-profile", None),
    ("en", "POP3", "support-matrix/#pop3-profile-no-act", None),
    ("en", "packet inspection", "unsupported/#uns-packet-inspection", None),
    ("en", "8005E274", "troubleshooting/#err-rest-api-not-enabled", None),
]


@pytest.mark.parametrize("lang, typed, top, names", SEARCHES)
def test_search_top_results(sized, base_url, lang, typed, top, names):
    page = sized(*SIZES["laptop"])
    page.goto(base_url + LANGS[lang] + "notes/")
    page.click(".md-search__input")
    page.keyboard.type(typed)
    page.wait_for_selector("li.md-search-result__item", state="attached", timeout=30_000)
    page.wait_for_timeout(300)
    results = page.evaluate("""() => [...document.querySelectorAll('li.md-search-result__item a.md-search-result__link')]
        .map(a => ({href: a.href, title: (a.querySelector('h1, h2') || {}).innerText || '',
                    snippet: (a.querySelector('article') || {}).innerText || ''}))""")
    hrefs = [r["href"] for r in results]
    assert top in " ".join(hrefs[:2]), (typed, hrefs[:4])
    if names:  # the section's title names its deployment
        hit = next(r for r in results if r["href"].endswith(top))
        assert names in hit["title"], hit
    # a section found by a word without accents, or by Microsoft's word, shows its sentence
    hit = next(r for r in results if r["href"].endswith(top))
    body = hit["snippet"].replace(hit["title"], "").strip()
    assert len(body) > 20 and "sss-folded" not in body, hit


@pytest.mark.parametrize("lang", LANGS)
def test_the_checker_form_is_not_indexed(site, lang):
    import json

    index = json.loads((site / LANGS[lang] / "search" / "search_index.json").read_text(encoding="utf-8"))
    checker = " ".join(d["text"] for d in index["docs"] if d["location"].startswith("checker/"))
    assert checker  # the page is found, by its intro
    for field in ("email_system", "authentication", "traffic_inspection"):
        for value in FIELDS[field]["values"]:
            assert value["label"][lang] not in checker, value
    assert STRINGS["page.grid.filter_system"][lang] not in json.dumps(index, ensure_ascii=False)


def _contrast(fg, bg):
    def lum(rgb):
        parts = [int(x) / 255 for x in re.findall(r"[\d.]+", rgb)[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_org_pages_buttons_are_readable_in_both_palettes(browser, base_url, scheme):
    context = browser.new_context(color_scheme=scheme, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        for prefix in LANGS.values():
            page.goto(base_url + prefix + "org/")
            for button in page.locator("#sss-org button.md-button, .md-typeset button.md-button").all():
                if not button.is_visible():
                    continue
                fg, bg = button.evaluate("b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }")
                if bg in ("rgba(0, 0, 0, 0)", "transparent"):
                    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
                assert _contrast(fg, bg) >= 4.5, (scheme, prefix, button.inner_text(), fg, bg)
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_every_search_title_names_its_deployment(site, loaded, lang):
    """A result for a section that holds for one deployment says which, in its
    title or in the title of the section above it."""
    import json

    from hooks.reader import _names_deployment, deployment_of_anchors
    from tooling import matrix as tooling

    compiled = tooling.compile_rules(loaded)
    index = json.loads((site / LANGS[lang] / "search" / "search_index.json").read_text(encoding="utf-8"))
    titles = {d["location"]: d["title"] for d in index["docs"]}
    prefix = LANGS[lang]
    expected = {anchor[len(prefix):]: label for anchor, label in deployment_of_anchors(compiled, lang).items()}
    assert len(expected) >= 15
    for location, label in expected.items():
        assert _names_deployment(titles[location], label), (location, titles[location], label)
    online = {"pt-BR": "Online (nuvem)", "en": "Online (cloud)"}[lang]
    assert titles["exchange-online/#exo-user-credentials"].endswith("· " + online)
    assert titles["cross-tenant/"].endswith("· " + online)
    assert titles["support-matrix/#onprem-exchange"].startswith("Customer Engagement (on-premises) › ")
    assert titles["support-matrix/#online-exchange"].count("online") == 1  # named once, not twice


# ---- the verdict says under which answers it holds ------------------------------------

def conditions_text(conditions, lang):
    return "; ".join(
        STRINGS["page.checker.condition"][lang].replace("{field}", label(c["field"], lang)).replace(
            "{values}", STRINGS["page.checker.or"][lang].join(value_label(c["field"], v, lang) for v in c["values"]))
        for c in conditions)


@pytest.mark.parametrize("lang", LANGS)
def test_the_phone_bar_and_the_panel_say_under_which_answers_the_status_holds(sized, base_url, engine, lang):
    page = sized(*SIZES["phone"])
    config = {"deployment": "on-premises", "email_system": "exchange-server-2010-sp3"}
    verdict = engine.evaluate(config, lang).to_dict()
    status = STRINGS["status." + verdict["status"]][lang]
    assert verdict["open_questions"] and verdict["holds_if"]
    page.goto(base_url + LANGS[lang] + "checker/?deployment=on-premises&email_system=exchange-server-2010-sp3")
    wait_verdict(page, verdict["status"])
    # the bar: never the bare status while questions are open, in view at 390 px
    so_far = STRINGS["page.checker.so_far"][lang].replace("{status}", status)
    page.wait_for_function("t => document.getElementById('sss-bar-status').textContent.includes(t)", arg=so_far)
    holds = page.inner_text("#sss-bar-holds")
    first = conditions_text(verdict["holds_if"][:1], lang)
    assert holds.startswith(STRINGS["page.checker.holds_if"][lang].replace("{status}", status).split("{conditions}")[0] + first)
    assert in_viewport(page, "#sss-bar-holds")
    # and the end-of-support warning, not only in the details
    notice = next(f for f in verdict["findings"] if f["rule"] == "lifecycle-exchange-2010")
    eos = page.eval_on_selector("#sss-bar-eos", "e => e.textContent")  # the whole line, however cut
    assert eos == f"⚠ {STRINGS['page.checker.eos_warning'][lang]}: {notice['message']}"
    assert in_viewport(page, "#sss-bar-eos")
    # the panel: every condition, and what would make it worse
    page.click("#sss-bar-open")
    panel = page.inner_text("#sss-verdict .sss-holds-if")
    assert panel == STRINGS["page.checker.holds_if"][lang].replace("{status}", status).replace(
        "{conditions}", conditions_text(verdict["holds_if"], lang))
    worse = [c for c in verdict["worse_if"] if c["status"] == "unsupported"]
    assert worse
    assert page.inner_text('#sss-verdict .sss-worse-if[data-status="unsupported"]') == STRINGS["page.checker.worse_if"][lang].replace(
        "{status}", STRINGS["status.unsupported"][lang]).replace("{conditions}", conditions_text(worse, lang))
    # answered: the status is no longer "so far", and the bar says no condition
    answered = {**config, **{c["field"]: {"true": True, "false": False}.get(c["values"][0], c["values"][0])
                             for c in verdict["holds_if"]}}
    final = engine.evaluate(answered, lang).to_dict()
    query = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in answered.items())
    page.goto(base_url + LANGS[lang] + "checker/?" + query)
    wait_verdict(page, final["status"])
    if not final["open_questions"]:
        page.wait_for_function("() => document.getElementById('sss-bar-holds').hidden")
        assert page.inner_text("#sss-bar-status").endswith(STRINGS["status." + final["status"]][lang])
    assert not page.errors


@pytest.mark.parametrize("lang", LANGS)
def test_implied_answers_and_entailed_findings_show_in_the_panel(sized, base_url, engine, lang):
    page = sized(*SIZES["laptop"])
    config = {"deployment": "on-premises", "email_system": "gmail", "server_profile": "pop3-smtp",
              "manual_tracking_outlook": True}
    verdict = engine.evaluate(config, lang).to_dict()
    assert verdict["status"] == "unsupported"
    page.goto(base_url + LANGS[lang] + "checker/?deployment=on-premises&email_system=gmail&server_profile=pop3-smtp"
              "&manual_tracking_outlook=true")
    wait_verdict(page, "unsupported")
    implied = page.inner_text("#sss-verdict .sss-implied")
    assert STRINGS["page.checker.implied"][lang] in implied
    assert value_label("incoming_protocol", "pop3", lang) in implied and value_label("server_profile", "pop3-smtp", lang) in implied
    # without the profile: every incoming protocol gives "Not supported", each reason says for which
    page.goto(base_url + LANGS[lang] + "checker/?deployment=on-premises&email_system=gmail&manual_tracking_outlook=true")
    wait_verdict(page, "unsupported")
    applies = page.inner_text('#sss-verdict li[data-rule="note-manual-tracking"] .sss-applies-if')
    assert value_label("incoming_protocol", "pop3", lang) in applies
    assert not page.errors


@pytest.mark.parametrize("lang", LANGS)
def test_a_fix_that_drops_a_sync_item_says_so_on_its_button(sized, base_url, engine, lang):
    page = sized(*SIZES["phone"])
    page.goto(base_url + LANGS[lang] + "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    wait_verdict(page, "unsupported")
    button = page.locator('#sss-verdict .sss-apply-fix[data-fix-for="online-webmail-act"]')
    act = value_label("sync", "appointments-contacts-tasks", lang)
    expected = STRINGS["page.checker.fix_sync_only"][lang].replace("{kept}", value_label("sync", "email", lang).lower()).replace(
        "{dropped}", act[0].lower() + act[1:])
    assert button.inner_text() == expected
    if lang == "en":
        assert expected == "Synchronize only email (appointments, contacts and tasks will not be synchronized)"
    remedy = page.inner_text('#sss-verdict li[data-rule="online-webmail-act"] .sss-remedy')
    assert act.lower() in remedy.lower()
    assert not page.errors

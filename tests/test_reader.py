"""The site as a reader meets it, in Chromium: on a laptop (1366×900) and a phone
(390×844), in both languages. The grid, the checker's verdict in view, shared
and printed verdicts, and, on every page, no sideways scrolling at 360 px and
no axe-core violations on either palette.
"""

from __future__ import annotations

import pytest

from checker import load_matrix

from .conftest import REPO
from .test_browser import (  # noqa: F401  (fixtures)
    LANGS, READY, STRINGS, base_url, browser, context, page, playwright_api, wait_verdict,
)

SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
AXE = (REPO / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
PAGES = ["", "support-matrix/", "exchange-online/", "cross-tenant/", "unsupported/", "notes/", "checker/",
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
        page.wait_for_function("document.activeElement.id === 'sss-result-title'")
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
    system = page.locator('#sss-verdict .sss-considered li[data-field="email_system"] a')
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
        page.wait_for_function("document.getElementById('sss-copy-status').textContent !== ''")
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
    # asked first: right after the email system, in that order; the rest collapsed
    deciding = page.eval_on_selector_all("#sss-deciding .sss-q:not([hidden])", "els => els.map(e => e.dataset.field)")
    assert deciding == links
    assert page.evaluate("document.getElementById('sss-more').open") is False
    order = page.eval_on_selector_all("#sss-form .sss-q", "els => els.map(e => e.dataset.field)")
    assert order[:3] == ["deployment", "email_system", "sync"] and order[3:3 + len(deciding)] == deciding
    where = "#sss-bar-counts" if size == "phone" else "#sss-verdict .sss-counts"
    assert fill_count(STRINGS["page.checker.open_count"][lang], len(links)) in page.inner_text(where)
    # the link focuses its question
    page.click('#sss-verdict .sss-open-link[data-field="tenant"]')
    page.wait_for_function("document.activeElement.id === 'sss-tenant'")
    # answering it settles it, and the question does not move away
    before = page.locator("#sss-tenant").bounding_box()
    page.select_option("#sss-tenant", "other")
    wait_verdict(page, engine.evaluate({**config, "tenant": "other"}, lang).status)
    page.wait_for_function("!document.querySelector('#sss-verdict .sss-open-link[data-field=\"tenant\"]')")
    assert page.locator("#sss-tenant").bounding_box() == before
    assert not page.errors


def fill_count(template, count):
    return template.replace("{count}", str(count))


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
        page.wait_for_function("document.getElementById('sss-bar-holds').hidden")
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

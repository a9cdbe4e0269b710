"""Content-Security-Policy: every page of the built site carries one (hashes for
its inline scripts, no 'unsafe-inline', 'wasm-unsafe-eval' only on the pages
that run the Python runtime), and no page violates it in Chromium. Also: the
checker page explains a damaged rules.json or a checker.js that cannot load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker import load_matrix
from sitegen import csp

from .conftest import REPO
from .test_browser import READY, base_url, browser, context  # noqa: F401  (fixtures)

META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
RUNTIME = {"checker/index.html", "en/checker/index.html", "org/index.html", "en/org/index.html"}

# Records violations before any page script runs; console errors are caught too.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_every_page_carries_a_policy_with_its_inline_script_hashes(site):
    pages = html_pages(site)
    assert len(pages) >= 10 and RUNTIME <= set(pages)
    for name in pages:
        html = (site / name).read_text(encoding="utf-8")
        found = META.findall(html)
        assert len(found) == 1, name
        policy = found[0]
        assert "unsafe-inline" not in policy and "unsafe-eval'" not in policy.replace("wasm-unsafe-eval'", ""), name
        assert ("'wasm-unsafe-eval'" in policy) == (name in RUNTIME), name
        for token in csp.inline_script_hashes(html):
            assert token in policy, (name, token)
        assert html.index("Content-Security-Policy") < html.index("<script"), name


def test_hashes_follow_the_final_html(site):
    """The runtime pages' one inline script (overrides/main.html starts the
    worker from <head>) is hashed as the built page holds it, filled in."""
    rendered = head_script("../..")
    assert 'if (typeof WebAssembly === "object" && typeof Worker === "function") {' in rendered
    assert "<script>" + rendered + "</script>" in (site / "en" / "checker" / "index.html").read_text(encoding="utf-8")
    page = f'<html><head><meta charset="utf-8"></head><body><script>{rendered}</script>' \
           '<script type="application/json">{"a": 1}</script><script src="x.js"></script></body></html>'
    token = "'sha256-" + __import__("base64").b64encode(
        __import__("hashlib").sha256(rendered.encode()).digest()).decode() + "'"
    assert csp.inline_script_hashes(page) == [token]
    policy = META.search(csp.add_policy(page, runtime=False)).group(1)
    assert token in policy and "wasm" not in policy
    again = csp.add_policy(csp.add_policy(page, runtime=True), runtime=True)
    assert len(META.findall(again)) == 1 and "'wasm-unsafe-eval'" in META.search(again).group(1)


def head_script(base_url: str, worker: str = "checker") -> str:
    """The body of the script overrides/main.html puts in a runtime page's <head>."""
    template = (REPO / "overrides" / "main.html").read_text(encoding="utf-8")
    start = template.index("<script>") + len("<script>")
    return template[start:template.index("</script>", start)].replace(
        "{{ base_url }}", base_url).replace("{{ page.meta.sss_worker }}", worker)


@pytest.mark.parametrize("script", [
    "alert(1)",
    # a template's own script, with a value in place of base_url that ends its string
    head_script('x");alert(1);("'),
], ids=["script", "filled-with-script"])
def test_only_the_templates_inline_scripts_are_hashed(script, tmp_path):
    """Whatever a page contains is not approved: a script no template emits gets
    no hash, and applying the policy to a site holding one fails, naming the page."""
    page = f'<html><head><meta charset="utf-8"></head><body><script>{script}</script></body></html>'
    assert csp.inline_script_hashes(page) == []
    assert csp.unknown_scripts(page) == [script]
    (tmp_path / "en" / "notes").mkdir(parents=True)
    (tmp_path / "en" / "notes" / "index.html").write_text(page, encoding="utf-8")
    with pytest.raises(csp.UnknownScript, match="en/notes/index.html: an inline script that no template emits"):
        csp.apply(tmp_path, ("pt-BR", "en"))


def test_runtime_pages_are_listed_once():
    languages = load_matrix().languages
    assert csp.is_runtime_page("checker/index.html", languages)
    assert csp.is_runtime_page("en/checker/index.html", languages)
    assert csp.is_runtime_page("en/org/index.html", languages)
    assert not csp.is_runtime_page("support-matrix/index.html", languages)
    assert not csp.is_runtime_page("en/checker/other/index.html", languages)


def watched_page(context):  # noqa: F811
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    page.add_init_script(WATCH)
    return page, console


def violations(page, console) -> list[str]:
    found = page.evaluate("window.__csp || []")
    return found + [m for m in console if "Content Security Policy" in m or "Content-Security-Policy" in m]


def test_no_page_violates_its_policy(context, base_url, site):  # noqa: F811
    page, console = watched_page(context)
    for name in html_pages(site):
        path = name.removesuffix("index.html")
        if name in RUNTIME and "org/" in name:
            # The organization check: its worker loads the runtime and checks a pasted export.
            page.goto(base_url + path)
            page.wait_for_selector("#sss-org[data-ready=true]", timeout=READY)
            page.fill("#sss-org-paste", (REPO / "tests" / "fixtures" / "org" / "profiles.json").read_text())
            page.click("#sss-org-run")
            page.wait_for_selector("#sss-org-result[data-state=done]", timeout=READY)
        elif name in RUNTIME:
            # The checker evaluates in the in-browser engine: worker, WebAssembly, snapshot.
            page.goto(base_url + path + "?deployment=online&email_system=gmail")
            page.wait_for_selector('#sss-verdict[data-status]', timeout=READY)
            # ready: checker.js says so on the loading line (class sss-ready); or it failed (asserted below)
            page.wait_for_selector("#sss-runtime.sss-ready, #sss-runtime.sss-failed", state="attached", timeout=READY)
            page.select_option("#sss-deployment", "on-premises")
            page.wait_for_timeout(300)
            assert not page.query_selector("#sss-runtime.sss-failed"), page.inner_text("#sss-runtime")
        else:
            page.goto(base_url + path)
            page.wait_for_load_state("networkidle")
        found = violations(page, console)
        assert not found, (name, found)
    # the search worker too
    page.goto(base_url + "en/notes/")
    page.click(".md-search__input")
    page.keyboard.type("Exchange")
    page.wait_for_selector("li.md-search-result__item", state="attached", timeout=30_000)
    assert not violations(page, console)


@pytest.mark.browser_expects(r"^console: Executing inline script violates the following Content Security Policy")
def test_an_injected_inline_script_is_blocked(context, base_url):  # noqa: F811
    """The policy does bite: a script that is not in the build is refused."""
    page, console = watched_page(context)
    page.goto(base_url + "en/notes/")
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert violations(page, console)


def test_a_damaged_rules_json_is_explained(context, base_url):  # noqa: F811
    def rules_differ(route):
        # The worker loads rules.json only when the served rules differ from
        # the snapshot's (a matrix edited since the wheel was built): say so,
        # in the manifest the page hands its worker.
        response = route.fetch()
        page_text, count = re.subn(r'"rules_sha256": "[0-9a-f]{64}"', '"rules_sha256": "' + "0" * 64 + '"', response.text())
        assert count == 1
        route.fulfill(response=response, body=page_text)

    context.route("**/en/checker/?*", rules_differ)
    context.route("**/assets/checker/rules.json", lambda route: route.fulfill(status=200, body="{not json"))
    page = context.new_page()
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    page.wait_for_selector(".sss-runtime.sss-failed", timeout=READY)
    text = page.inner_text("#sss-runtime")
    assert "rules.json: json.decoder.JSONDecodeError: Expecting" in text and "Traceback" not in text, text
    assert page.get_attribute("#sss-runtime a", "href").endswith("support-matrix/")


@pytest.mark.parametrize("how", [
    pytest.param("missing", marks=pytest.mark.browser_expects(
        r"^response: 404 GET .*/javascripts/checker\.js$", r"^console: Failed to load resource: .*404.*checker\.js")),
    pytest.param("broken", marks=pytest.mark.browser_expects(r"^pageerror: broken$")),
])
def test_a_checker_js_that_cannot_load_is_explained(context, base_url, how):  # noqa: F811
    if how == "missing":
        context.route("**/javascripts/checker.js", lambda route: route.fulfill(status=404, body="not found"))
    else:
        context.route("**/javascripts/checker.js", lambda route: route.fulfill(
            status=200, content_type="text/javascript", body="throw new Error('broken');"))
    page = context.new_page()
    page.goto(base_url + "checker/?deployment=online&email_system=gmail")
    page.wait_for_selector("#sss-not-loaded:not([hidden])", timeout=10_000)
    assert "checker.js" in page.inner_text("#sss-not-loaded")
    assert page.get_attribute("#sss-not-loaded a", "href") == "../support-matrix/"

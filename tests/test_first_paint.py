"""The checker's first answer: the verdicts the build publishes, the snapshot
restore the worker depends on, and how the worker loads (progress, failures).

The browser tests reuse test_browser's fixtures: Debian's Chromium, the built
site on loopback, no request leaving it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

from checker import evaluate_json
from tooling import matrix as tooling
from sitegen import published

from .conftest import REPO
from .test_browser import LANGS, READY, base_url, browser, context, page, playwright_api  # noqa: F401

SCRIPT = re.compile(r'<script type="application/json" id="sss-published">(.*?)</script>', re.S)


def page_published(site, lang: str) -> dict:
    html = (site / LANGS[lang] / "checker" / "index.html").read_text(encoding="utf-8")
    found = SCRIPT.search(html)
    assert found, "the checker page embeds no published verdicts"
    return json.loads(found.group(1).replace("<\\/", "</"))


def engine_answer(config: dict, lang: str) -> dict:
    return json.loads(evaluate_json(json.dumps({"config": config, "lang": lang})))


# -- the published verdicts ------------------------------------------------------------
# Parity with the engine: the build publishes what the engine answers and the test
# compares with the same engine, so a logic error in the engine passes both sides;
# the hand-written verdicts below (from the facts) catch that.
HAND_WRITTEN_PUBLISHED = {
    "?deployment=online&email_system=gmail": "supported",
    "?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks": "unsupported",
    "?deployment=online&email_system=exchange-server-2010-sp3": "unsupported",
    "?deployment=on-premises&email_system=exchange-server-2019": "supported",
    "?deployment=online&email_system=exchange-online": "supported",
}


@pytest.mark.parametrize("lang", LANGS)
def test_hand_written_published_verdicts(site, lang):
    data = page_published(site, lang)
    assert {key: published.expand(data, key)["status"] for key in HAND_WRITTEN_PUBLISHED} == HAND_WRITTEN_PUBLISHED


@pytest.mark.parametrize("lang", LANGS)
def test_every_published_verdict_is_the_engines(site, lang):
    """Every combination of the first questions, the tenant and the server
    profile: the built page carries exactly the engine's answer where the
    engine gives a verdict, and nothing where it does not."""
    compiled = tooling.compile_rules(tooling.load())
    data = page_published(site, lang)
    assert data["fields"] == ["deployment", "email_system", "sync", "tenant", "server_profile"]
    configs = published.configurations(compiled)
    assert len(configs) == len(data["index"]) // data["width"] == 3 * 15 * 4 * 3 * 7
    order = [f["id"] for f in compiled["fields"]]
    verdicts = 0
    for config in configs:
        key = published.query_key(config, order)
        answer = engine_answer(config, lang)
        got = published.expand(data, key)
        assert got == (None if "errors" in answer else answer), key
        verdicts += got is not None
    assert verdicts >= 2 * 14 * 4 * 3 * 7  # every deployment × email system × sync × tenant × profile


def test_published_verdicts_are_small_and_follow_the_rules_in_use(loaded):
    """A few KB compressed (about 5 KB for 3,780 combinations, 77 KB as it
    is); built from the rules given, not the packaged ones."""
    import gzip

    compiled = tooling.compile_rules(loaded)
    text = published.page_json(compiled, "en")
    assert len(gzip.compress(text.encode())) < 8_000
    # A changed rule changes the published verdict, and the engine is put back.
    before = engine_answer({"deployment": "online", "email_system": "gmail"}, "en")
    changed = json.loads(json.dumps(compiled))
    for rule in changed["rules"]:
        rule["severity"] = "unsupported"
    data = published.published_verdicts(changed, "en")
    assert published.expand(data, "?deployment=online&email_system=gmail")["status"] == "unsupported"
    assert engine_answer({"deployment": "online", "email_system": "gmail"}, "en") == before


def test_published_keys_are_the_pages_permalinks():
    compiled = tooling.compile_rules(tooling.load())
    order = [f["id"] for f in compiled["fields"]]
    config = {"sync": ["email", "appointments-contacts-tasks"], "email_system": "gmail", "deployment": "online"}
    key = published.query_key(config, order)
    assert key == "?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks"
    assert published.config_from_key(key, compiled) == config
    assert published.query_key({"deployment": "on line"}, order) is None


# -- the snapshot restore, on every build ------------------------------------------------
def test_the_served_snapshot_restores_and_answers_as_cpython(site, tmp_path):
    """The built site's snapshot, unpacked with the worker's code and restored
    in Pyodide under Node.js, answers as CPython does (no fallback there)."""
    node = shutil.which("node")
    assert node, "Node.js is needed"
    configs = [{"deployment": "online", "email_system": "gmail", "sync": ["email", "appointments-contacts-tasks"]},
               {"deployment": "on-premises", "email_system": "exchange-server-2019"},
               {"deployment": "online", "email_system": "exchange-online", "tenant": "other"},
               {"deployment": "moon", "email_system": "gmail"}]
    requests = [json.dumps({"config": c, "lang": lang}) for c in configs for lang in LANGS]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests))
    result = subprocess.run([node, str(REPO / "tests" / "restore_snapshot.mjs"), str(site), str(path)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    responses = json.loads(result.stdout.strip().splitlines()[-1])["responses"]
    assert [json.loads(r) for r in responses] == [json.loads(evaluate_json(r)) for r in requests]


def test_the_manifest_names_the_served_runtime(site):
    manifest = json.loads((site / "assets" / "checker" / "manifest.json").read_text())
    runtime = manifest["runtime_files"]
    assert all(runtime[name].startswith(manifest["runtime"]) for name in ("wasm", "module", "stdlib"))
    for name in ("wasm", "module", "stdlib"):
        served = site / "assets" / runtime[name]
        assert served.stat().st_size == runtime["bytes"][name], name
    assert (site / "assets" / "checker" / manifest["snapshot_gz"]).stat().st_size == manifest["snapshot_bytes"]
    assert (site / "assets" / "checker" / manifest["snapshot"]).stat().st_size == manifest["snapshot_size"]
    assert runtime["wasm_size"] == (REPO / "node_modules" / "pyodide" / "pyodide.asm.wasm").stat().st_size
    # what the first verdict costs on the wire, checker page's own files aside
    first = runtime["bytes"]["wasm"] + runtime["bytes"]["module"] + manifest["snapshot_bytes"]
    assert first < 9_000_000, first


# -- in the browser --------------------------------------------------------------------------
def start_worker(page, base: str) -> dict:
    """A fresh checker worker (on a page that starts none of its own): its
    messages until ready or failed."""
    page.goto(base + "en/changes/", wait_until="domcontentloaded")
    return page.evaluate("""async () => {
        const worker = new Worker("../../javascripts/checker-worker.mjs", {type: "module"});
        const messages = [];
        const started = performance.now();
        const last = await new Promise((resolve) => {
          worker.onmessage = (e) => {
            messages.push({...e.data, at: performance.now() - started});
            if (e.data.type === "ready" || e.data.type === "failed") resolve(e.data);
          };
          worker.onerror = (e) => resolve({type: "failed", error: e.message});
        });
        const answer = last.type !== "ready" ? null : await new Promise((resolve) => {
          worker.onmessage = (e) => e.data.id === 1 && resolve(e.data);
          worker.postMessage({id: 1, request: JSON.stringify({config: {deployment: "online", email_system: "gmail"}, lang: "en"})});
        });
        worker.terminate();
        return {messages, last, answer, seconds: (performance.now() - started) / 1000};
    }""")


def test_the_worker_restores_the_snapshot_and_reports_progress(page, base_url):
    """Fails when the restore falls back to starting Python from the wheel."""
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    got = start_worker(page, base_url)
    assert (got["last"]["type"], got["last"]["via"]) == ("ready", "snapshot"), got["last"]
    assert json.loads(got["answer"]["response"]) == engine_answer({"deployment": "online", "email_system": "gmail"}, "en")
    steps = [m for m in got["messages"] if m["type"] == "progress"]
    assert steps, "no progress messages"
    loaded = [m["loaded"] for m in steps]
    # the first report comes with the manifest, before any byte of the runtime
    assert loaded == sorted(loaded) and loaded[0] == 0 and all(0 <= m["loaded"] <= m["total"] for m in steps)
    assert steps[-1]["loaded"] == steps[-1]["total"]
    # no wheel, no lock file, no standard library before the answer; the rules are the snapshot's own
    assert not [u for u in requests if u.endswith((".whl", "pyodide-lock.json", "python_stdlib.zip", "rules.json"))], requests


# the missing snapshot is the 404 itself; the worker falls back and says why (no page error)
@pytest.mark.browser_expects(r"^response: 404 GET .*/checker/[0-9a-f]+/snapshot\.ssz\.gz$")
def test_without_the_snapshot_the_worker_starts_python_from_the_trimmed_library(context, base_url):
    """The fallback still answers (and says it fell back)."""
    context.route("**/snapshot.ssz*", lambda route: route.fulfill(status=404, body="gone"))
    page = context.new_page()
    got = start_worker(page, base_url)
    assert (got["last"]["type"], got["last"]["via"], got["last"]["path"]) == ("ready", "plain", "snapshot"), got["last"]
    assert re.search(r"; the snapshot failed \(checker/[0-9a-f]+/snapshot\.ssz\.gz: HTTP 404\)$",
                     got["last"]["reason"]), got["last"]
    assert json.loads(got["answer"]["response"]) == engine_answer({"deployment": "online", "email_system": "gmail"}, "en")


# Each damage is no page error: the worker reports it ("failed", naming the file,
# or the watchdog's stall) and the page says what, in the reason it shows.
# (A truncated gzip ends the body's stream with an error: the browser's reading
# of it says only "Failed to fetch".)
WASM_FILE = r"pyodide/[0-9a-f]+/pyodide\.asm\.wasm"


@pytest.mark.parametrize("damage, reason", [
    ("truncated", rf"{WASM_FILE}: Failed to fetch"),
    ("not-gzip", rf"{WASM_FILE}: 38 bytes, expected \d+"),
    ("not-wasm", rf"{WASM_FILE}: 2004 bytes, expected \d+"),
    ("never-answers", r"the runtime stopped arriving \(nothing for \d+ s\)"),
], ids=["truncated", "not-gzip", "not-wasm", "never-answers"])
def test_a_broken_or_stalled_runtime_is_reported_within_15_s(context, base_url, damage, reason):
    import gzip

    wasm = (REPO / "node_modules" / "pyodide" / "pyodide.asm.wasm").read_bytes()
    held = []

    def broken(route):
        if damage == "never-answers":
            held.append(route)  # never answered
        elif damage == "truncated":
            route.fulfill(status=200, body=gzip.compress(wasm, 1)[:1_000_000])
        elif damage == "not-gzip":
            route.fulfill(status=200, body=b"<!doctype html><title>Not here</title>", content_type="text/html")
        else:
            route.fulfill(status=200, body=gzip.compress(b"\0asm" + bytes(2000), 1))

    context.route("**/pyodide.asm.wasm.gz", broken)
    page = context.new_page()
    started = time.monotonic()
    page.goto(base_url + "en/checker/?deployment=online&email_system=exchange-online&tenant=other&authentication=oauth-cross-tenant")
    page.wait_for_selector(".sss-runtime.sss-failed", timeout=20_000)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"{damage}: reported after {elapsed:.1f} s"
    said = page.inner_text("#sss-runtime")
    assert "could not load" in said
    assert re.search(rf"in this browser \({reason}\)\.", said), said
    assert page.get_attribute("#sss-verdict", "data-status") is None
    for route in held:
        route.abort()


def test_the_build_verdict_shows_first_then_the_engine_confirms_it(context, base_url):
    """While the snapshot is held back, the page shows the build's verdict
    (data-source="build") and the download's progress; once it arrives, the
    engine's verdict replaces it (data-source="engine"), the same verdict."""
    held = []
    context.route("**/snapshot.ssz*", lambda route: held.append(route) if held is not None else route.continue_())
    page = context.new_page()
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks")
    page.wait_for_selector('#sss-verdict[data-source="build"]', timeout=READY)
    assert page.get_attribute("#sss-verdict", "data-status") == "unsupported"
    rules = sorted(page.eval_on_selector_all("#sss-verdict [data-rule]", "els => els.map(e => e.dataset.rule)"))
    assert page.is_visible("#sss-verdict .sss-source")
    page.wait_for_function("() => /of [0-9.]+ MB/.test(document.getElementById('sss-runtime').textContent)", timeout=READY)
    assert page.get_attribute("#sss-verdict", "data-source") == "build"
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    routes, held = held, None
    for route in routes:
        route.continue_()
    page.wait_for_selector('#sss-verdict[data-source="engine"]', timeout=READY)
    assert page.get_attribute("#sss-verdict", "data-status") == "unsupported"
    assert sorted(page.eval_on_selector_all("#sss-verdict [data-rule]", "els => els.map(e => e.dataset.rule)")) == rules
    assert not page.is_visible("#sss-verdict .sss-source")
    # the tenant is among the published answers; the authentication is not: that waits for the engine
    page.goto(base_url + "en/checker/?deployment=online&email_system=exchange-online&tenant=other",
              wait_until="domcontentloaded")
    page.wait_for_selector('#sss-verdict[data-source]', timeout=READY)
    page.goto(base_url + "en/checker/?deployment=online&email_system=exchange-online&tenant=other"
              "&authentication=oauth-cross-tenant", wait_until="domcontentloaded")
    assert page.get_attribute("#sss-verdict", "data-source") != "build"
    page.wait_for_selector('#sss-verdict[data-source="engine"]', timeout=READY)


def test_answers_the_build_has_no_verdict_for_wait_for_the_engine(context, base_url):
    """While the engine loads, answers the build did not precompute show no
    verdict, not the one of the answers before, and say the result will come."""
    held = []
    context.route("**/snapshot.ssz*", lambda route: held.append(route) if held is not None else route.continue_())
    page = context.new_page()
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    page.wait_for_selector('#sss-verdict[data-source="build"]', timeout=READY)
    page.evaluate("""() => {
        const select = document.getElementById("sss-incoming_protocol");
        select.value = "imap";
        select.dispatchEvent(new Event("change", {bubbles: true}));
    }""")
    waiting = "The result for these answers appears as soon as the checker has loaded."
    assert page.get_attribute("#sss-verdict", "data-source") is None
    assert page.inner_text("#sss-verdict .sss-prompt") == waiting
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    routes, held = held, None
    for route in routes:
        route.continue_()
    page.wait_for_selector('#sss-verdict[data-source="engine"]', timeout=READY)
    assert "incoming_protocol=imap" in page.url

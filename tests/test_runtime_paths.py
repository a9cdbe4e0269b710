"""The two ways the pages start the engine, each on its own, with no silent
fallback: the memory snapshot (with the organization check in it) and the
plain start from the trimmed standard library. Node.js tests run the built
site's files in Pyodide; browser tests force each way in the workers and read
what they say of it (`via`, the page's data-runtime-* attributes).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest

from checker import evaluate_json, orgmap
from sitegen import publish, published

from .conftest import REPO
from .test_browser import LANGS, READY, base_url, browser, context, page, playwright_api  # noqa: F401

FIX = REPO / "tests" / "fixtures" / "org"
ORG_FILES = ["profiles.json", "mailboxes-page1.json", "mailboxes-page2.json"]
CONFIGS = [{"deployment": "online", "email_system": "gmail", "sync": ["email", "appointments-contacts-tasks"]},
           {"deployment": "on-premises", "email_system": "exchange-server-2019", "incoming_protocol": "pop3"},
           {"deployment": "online", "email_system": "exchange-online", "tenant": "other"},
           {"deployment": "moon", "email_system": "gmail"}]


def node() -> str:
    found = shutil.which("node")
    assert found, "Node.js is needed"
    return found


def cpython_org(lang: str, names: list[str]) -> dict:
    orgmap.start(json.dumps({"lang": lang}))
    for name in names:
        orgmap.add_file(name, (FIX / name).read_text(encoding="utf-8"))
    return {"report": json.loads(orgmap.finish()), "json": json.loads(orgmap.export("json")),
            "csv": orgmap.export("csv")}


# -- the trimmed standard library ---------------------------------------------------------
def test_the_trimmed_stdlib_runs_the_checker_the_org_check_and_the_cli(site, tmp_path):
    """Python starts from the site's trimmed zip alone and answers as CPython
    does: the checker's requests, the organization check, the CLI commands."""
    manifest = json.loads((site / "assets" / "checker" / "manifest.json").read_text())
    trimmed = site / "assets" / "checker" / manifest["stdlib"]
    whole = REPO / "node_modules" / "pyodide" / "python_stdlib.zip"
    with zipfile.ZipFile(trimmed) as zf, zipfile.ZipFile(whole) as wf:
        names = set(zf.namelist())
        assert len(names) < len(wf.namelist()) / 2
    # on the wire (gzipped, compiled), under half the whole one (sources, deflated file by file),
    # with the checker it holds in place of the wheel
    assert manifest["stdlib_bytes"] < whole.stat().st_size / 2 + manifest["wheel_bytes"]
    assert "argparse.pyc" in names and "csv.pyc" in names and not [n for n in names if n.endswith(".py")]
    assert not [n for n in names if n.startswith("sqlite3/")]
    assert (trimmed.with_name(trimmed.name + ".gz")).stat().st_size == manifest["stdlib_bytes"]

    requests = [json.dumps({"config": c, "lang": lang}) for c in CONFIGS for lang in LANGS] + ["{", "[]"]
    # JSON: YAML needs PyYAML, which Pyodide does not have whatever the standard library
    config = tmp_path / "config.json"
    config.write_text('{"deployment": "on-premises", "email_system": "exchange-server-2016", "sync": ["email"]}')
    exports = {str(tmp_path / n): (FIX / n).read_text(encoding="utf-8") for n in ORG_FILES}
    for name, text in exports.items():
        Path(name).write_text(text, encoding="utf-8")
    cli = [["check", str(config)], ["check", "--format", "json", "--lang", "en", str(config)],
           ["check", str(tmp_path / "missing.json")],
           ["org", "--lang", "en", *exports], ["org", "--format", "csv", *exports]]
    jobs = {"requests": requests,
            "org": [{"lang": lang, "files": [[n, (FIX / n).read_text(encoding="utf-8")] for n in ORG_FILES]}
                    for lang in LANGS],
            "cli": [{"argv": argv, "files": {str(config): config.read_text(), **exports}} for argv in cli]}
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(jobs))
    result = subprocess.run([node(), str(REPO / "tests" / "trimmed_stdlib.mjs"), str(site), str(path)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["absent"], "a module outside the trimmed zip imported: the whole standard library is in use"
    assert "checker/engine.pyc" in names and "checker/rules.json" in names
    assert got["checker_file"].endswith(".zip/checker/engine.pyc"), got["checker_file"]  # compiled, from the zip
    assert [json.loads(r) for r in got["responses"]] == [json.loads(evaluate_json(r)) for r in requests]
    for lang, out in zip(LANGS, got["org"]):
        expected = cpython_org(lang, ORG_FILES)
        assert json.loads(out["report"]) == expected["report"]
        assert json.loads(out["json"]) == expected["json"]
        assert out["csv"] == expected["csv"]
    for argv, out in zip(cli, got["cli"]):
        # bytes: the CSV's own line ends (\r\n) as written
        ran = subprocess.run([sys.executable, "-m", "checker", *argv], capture_output=True, cwd=REPO,
                             env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        assert (out["code"], out["stdout"], out["stderr"]) == \
            (ran.returncode, ran.stdout.decode(), ran.stderr.decode()), argv


# -- the snapshot, with the organization check in it ------------------------------------------
def test_the_snapshot_holds_the_org_check_and_fits_the_starting_memory(site, tmp_path):
    """Restored in Node.js with no fallback: checker.orgmap is already imported,
    its memory fits what the runtime starts with (pyodide#6254), and with its
    free memory zeroed it still answers every combination of the page's first
    questions (hundreds of allocations and frees) exactly as CPython does."""
    manifest = json.loads((site / "assets" / "checker" / "manifest.json").read_text())
    cleared = manifest["snapshot_cleared"]
    assert "kept" not in cleared, cleared
    assert cleared["free"] > 1_000_000, cleared  # the allocator's free chunks were found and zeroed
    compiled = json.loads((REPO / "checker" / "rules.json").read_text(encoding="utf-8"))
    configs = published.configurations(compiled)
    requests = [json.dumps({"config": config, "lang": ("pt-BR", "en")[i % 2]}) for i, config in enumerate(configs[::7] + CONFIGS)]
    assert len(requests) > 500
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests))
    result = subprocess.run([node(), str(REPO / "tests" / "restore_snapshot.mjs"), str(site), str(path)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert "checker.orgmap" in got["modules"]
    assert got["memory"] <= got["initial_memory"], got
    assert [json.loads(r) for r in got["responses"]] == [json.loads(evaluate_json(r)) for r in requests]


# -- in the browser -----------------------------------------------------------------------------
# A host that sends the build's precompressed copies (nginx gzip_static,
# brotli_static): foo.br as foo with Content-Encoding: br.
Precompressed = publish.precompressed_handler()


@pytest.fixture(scope="module")
def precompressed_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Precompressed, directory=str(site)))
    server.handle_error = lambda *args: None  # a download the worker dropped on purpose
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def start_worker(page, base: str, worker: str, message: dict) -> dict:
    """A worker started on a page that starts none of its own: ready (or
    failed), then its answer to `message`."""
    page.goto(base + "en/changes/", wait_until="domcontentloaded")
    return page.evaluate("""async ([worker, message]) => {
        const w = new Worker("../../javascripts/" + worker, {type: "module"});
        const last = await new Promise((resolve) => {
          w.onmessage = (e) => (e.data.type === "ready" || e.data.type === "failed") && resolve(e.data);
          w.onerror = (e) => resolve({type: "failed", error: e.message});
        });
        const answer = last.type !== "ready" ? null : await new Promise((resolve) => {
          w.onmessage = (e) => e.data.id === 1 && !e.data.progress && resolve(e.data);
          w.postMessage({id: 1, ...message});
        });
        w.terminate();
        return {last, answer};
    }""", [worker, message])


GMAIL = {"request": json.dumps({"config": CONFIGS[0], "lang": "en"})}


def test_forced_plain_start_answers_from_the_trimmed_stdlib(context, base_url):
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    got = start_worker(context.new_page(), base_url, "checker-worker.mjs?path=plain", GMAIL)
    assert (got["last"]["type"], got["last"].get("via")) == ("ready", "plain"), got["last"]
    assert json.loads(got["answer"]["response"]) == json.loads(evaluate_json(GMAIL["request"]))
    assert [u for u in requests if u.endswith("/stdlib.zip.gz")], requests
    assert not [u for u in requests if "python_stdlib.zip" in u or "snapshot.ssz" in u], requests


def test_forced_snapshot_restores_without_falling_back(context, base_url):
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    got = start_worker(context.new_page(), base_url, "checker-worker.mjs?path=snapshot", GMAIL)
    assert (got["last"]["type"], got["last"].get("via")) == ("ready", "snapshot"), got["last"]
    assert json.loads(got["answer"]["response"]) == json.loads(evaluate_json(GMAIL["request"]))
    assert not [u for u in requests if u.endswith((".whl", "stdlib.zip", "pyodide-lock.json", "rules.json"))], requests


# the 404 is the damage itself; the worker falls back and says why (no page error)
@pytest.mark.browser_expects(r"^response: 404 GET .*/checker/[0-9a-f]+/snapshot\.ssz\.gz$")
def test_a_failed_snapshot_says_so(context, base_url):
    """The fallback answers, and `via` tells it apart from the way chosen."""
    context.route("**/snapshot.ssz*", lambda route: route.fulfill(status=404, body="gone"))
    got = start_worker(context.new_page(), base_url, "checker-worker.mjs?path=snapshot", GMAIL)
    assert got["last"]["via"] == "plain" and got["last"]["path"] == "snapshot", got["last"]
    assert "the snapshot failed (checker/" in got["last"]["reason"], got["last"]
    assert got["last"]["reason"].endswith("/snapshot.ssz.gz: HTTP 404)"), got["last"]


def test_a_precompressing_host_gets_the_wasm_compiled_as_it_streams(context, precompressed_url):
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    got = start_worker(context.new_page(), precompressed_url, "checker-worker.mjs?path=snapshot", GMAIL)
    assert got["last"].get("via") == "snapshot", got["last"]
    assert got["last"]["compiled"] == "streaming, from its own address", got["last"]
    assert not [u for u in requests if u.endswith((".wasm.gz", ".ssz.gz"))], requests


@pytest.mark.parametrize("path", ["snapshot", "plain"])
def test_the_org_worker_starts_each_way_and_checks(context, base_url, path):
    """The organization page's worker: the snapshot (checker.orgmap in it) or
    the plain start, each answering as CPython does."""
    files = [{"name": n, "text": (FIX / n).read_text(encoding="utf-8")} for n in ORG_FILES]
    message = {"type": "run", "options": json.dumps({"lang": "en"}), "files": files}
    got = start_worker(context.new_page(), base_url, f"org-worker.mjs?path={path}", message)
    assert (got["last"]["type"], got["last"].get("via")) == ("ready", path), got["last"]
    assert json.loads(got["answer"]["response"]) == cpython_org("en", ORG_FILES)["report"]


def test_the_page_says_how_and_why_the_engine_started(context, base_url):
    """The line decides (loopback: the snapshot), and the page's data-runtime-*
    attributes say which way and why; #sss-path=plain forces the other way."""
    page = context.new_page()
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail")
    page.wait_for_selector("#sss-checker[data-runtime-via]", timeout=READY)
    root = page.eval_on_selector("#sss-checker", "e => ({...e.dataset})")
    assert root["runtimeVia"] == root["runtimePath"] == "snapshot", root
    assert root["runtimeReason"].startswith("line "), root
    page.goto(base_url + "en/checker/?deployment=online&email_system=gmail#sss-path=plain")
    page.reload()
    page.wait_for_selector("#sss-checker[data-runtime-via]", timeout=READY)
    assert page.get_attribute("#sss-checker", "data-runtime-via") == "plain"
    page.wait_for_selector('#sss-verdict[data-source="engine"]', timeout=READY)


def test_the_checker_page_hands_its_worker_the_manifest_and_searches_after_the_answer(context, precompressed_url):
    """The worker starts from <head> with the manifest the page carries (no
    request for manifest.json), and the theme's search worker is fetched only
    once the engine's first verdict is on screen; search works then as on any
    page."""
    requests = []
    context.on("request", lambda r: requests.append((r.url, time.time() * 1000)))
    page = context.new_page()
    page.goto(precompressed_url + "en/checker/?deployment=online&email_system=exchange-online&tenant=other",
              wait_until="commit")
    page.wait_for_function("() => performance.getEntriesByName('sss-first-verdict').length > 0", timeout=READY)
    verdict = page.evaluate("performance.timeOrigin + performance.getEntriesByName('sss-first-verdict')[0].startTime")
    assert page.get_attribute("#sss-checker", "data-runtime-via") == "snapshot"
    search = lambda: [t for u, t in requests if "/workers/search." in u]  # noqa: E731
    deadline = time.time() + 10
    while not search() and time.time() < deadline:
        page.wait_for_timeout(100)
    assert search() and min(search()) >= verdict - 5, (search(), verdict)
    assert not [u for u, _ in requests if u.endswith("/manifest.json")], requests
    assert [u for u, _ in requests if "/workers/sss-search-later.js?search." in u]
    page.click(".md-search__input")
    page.keyboard.type("POP3")
    page.wait_for_selector("li.md-search-result__item a.md-search-result__link", state="attached", timeout=30_000)


def test_other_pages_keep_the_theme_search_worker(site):
    """Only the pages that start Python defer the theme's search worker."""
    for rel in ("index.html", "en/index.html", "en/support-matrix/index.html"):
        html = (site / rel).read_text(encoding="utf-8")
        assert re.search(r'"search": "[^"]*/workers/search\.[0-9a-f]{8}\.min\.js"', html), rel
    for rel in ("checker/index.html", "en/checker/index.html", "org/index.html", "en/org/index.html"):
        html = (site / rel).read_text(encoding="utf-8")
        assert re.search(r'"search": "[^"]*/workers/sss-search-later\.js\?search\.[0-9a-f]{8}\.min\.js"', html), rel


KEPT = "() => caches.open('sss-runtime').then((c) => c.keys()).then((keys) => keys.map((r) => r.url))"


def test_a_return_visit_starts_from_the_files_this_browser_kept(browser, precompressed_url, tmp_path, clean_browser_console):
    """After a start, the wasm, the snapshot and the trimmed standard library
    are kept in Cache Storage; the next visit downloads none and says so; a kept file of the wrong size is
    dropped and fetched again, and the page still answers."""
    from .conftest import _watch
    from .test_browser import CHROMIUM_ARGS

    url = precompressed_url + "en/checker/?deployment=online&email_system=gmail"
    # a profile kept on disk, from the same Playwright as the other tests
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
    _watch(context, clean_browser_console)
    requests = []
    context.on("request", lambda r: requests.append(r.url))

    def visit():
        requests.clear()
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector('#sss-verdict[data-source="engine"]', timeout=READY)
        return page

    try:
        page = visit()
        deadline = time.time() + 30
        while len(kept := page.evaluate(KEPT)) < 3 and time.time() < deadline:
            page.wait_for_timeout(200)
        # the snapshot's start fetches the trimmed standard library after its first answer
        assert sorted(u.rsplit("/", 1)[1] for u in kept) == ["pyodide.asm.wasm", "snapshot.ssz", "stdlib.zip"], kept
        page.close()

        page = visit()
        assert page.get_attribute("#sss-checker", "data-runtime-reason") == "kept in this browser from an earlier visit"
        assert page.get_attribute("#sss-checker", "data-runtime-via") == "snapshot"
        assert not [u for u in requests if u.endswith((".wasm", ".wasm.gz", ".ssz", ".ssz.gz", "stdlib.zip"))], requests

        # A kept snapshot of the wrong size is dropped: the page starts the plain
        # way from the kept standard library, still with no download.
        snapshot = next(u for u in kept if u.endswith("snapshot.ssz"))
        page.evaluate("""async (url) => {
            const cache = await caches.open("sss-runtime");
            await cache.put(url, new Response(new Uint8Array(10), {headers: {"X-SSS-Size": "10"}}));
        }""", snapshot)
        page.close()
        page = visit()
        assert page.get_attribute("#sss-checker", "data-runtime-via") == "plain"
        assert page.get_attribute("#sss-checker", "data-runtime-reason") == "kept in this browser from an earlier visit"
        assert not [u for u in requests if u.endswith((".wasm", ".wasm.gz", ".ssz", ".ssz.gz", "stdlib.zip"))], requests
        assert snapshot not in page.evaluate(KEPT)
    finally:
        context.close()

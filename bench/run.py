"""Benchmark: every figure of README's Performance section, each beside its
target and the baseline measured in the same run.

    ./run bench [--runs N] [--only NAME ...]

Serves site/ on loopback, drives Debian's headless Chromium, runs the engine on
CPython and in Pyodide under Node.js, times the build and a live edit. Prints a
table (median, min, max over the runs) and writes bench/results/latest.json.
Not a test: the machines are shared and noisy, so read figures side by side.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from sitegen import publish  # noqa: E402
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHECKER_QUERY = "checker/?deployment=online&email_system=gmail&sync=email,appointments-contacts-tasks"
RUNTIME_MARKERS = ("/assets/pyodide/", "/assets/checker/", "checker-worker.mjs")


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


# -- serving --------------------------------------------------------------------
class Handler(http.server.SimpleHTTPRequestHandler):
    """site/ at the root, and bench/ under /bench/ for the baseline page. Plain
    files, as Python's server gives them."""

    def translate_path(self, path):
        parsed = urlparse(path).path
        if parsed.startswith("/bench/"):
            return str(REPO / "bench" / parsed[len("/bench/"):])
        return super().translate_path(path)

    def log_message(self, *args):
        pass


class GzipHandler(Handler):
    """The same, with text compressed on the fly when the browser accepts it,
    as ordinary static hosts (GitHub Pages, Netlify, nginx's gzip) do. Files
    that are already compressed (.gz, the wasm, zip) go as they are."""

    TEXT = (".html", ".css", ".js", ".mjs", ".json", ".xml", ".svg", ".txt")
    cache: dict = {}

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if ("gzip" not in self.headers.get("Accept-Encoding", "") or not path.is_file()
                or path.suffix not in self.TEXT or not urlparse(self.path).path.endswith(("/", *self.TEXT))):
            return super().send_head()
        import email.utils
        import gzip
        import io

        stat = path.stat()
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                if int(stat.st_mtime) <= email.utils.parsedate_to_datetime(since).timestamp():
                    self.send_response(304)
                    self.end_headers()
                    return None
            except (TypeError, ValueError):
                pass
        key = (str(path), stat.st_mtime_ns)
        body = self.cache.get(key)
        if body is None:
            body = self.cache[key] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)


class PrecompressedHandler(Handler, publish.precompressed_handler()):
    """The same, as a host that sends the build's precompressed copies
    (sitegen.publish.precompressed_handler: nginx's gzip_static and brotli_static)."""


def serve(root: Path, handler=GzipHandler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    server.handle_error = lambda *args: None  # a download the worker dropped on purpose
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# -- browser figures -----------------------------------------------------------------
# Chromium 156 starts its WebUI omnibox popup renderer in every new window,
# which burns 350-700 ms of CPU during a cold load: off, as in a real tab.
CHROMIUM_ARGS = CHROMIUM_ARGS + [
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI",
]
# The throttled figures: DevTools protocol network emulation (down, up in bit/s; round trip in ms).
LINES = {"20 Mbit/s": (20e6, 5e6, 40)}


def mark_time(page, name: str, timeout_ms: int = 120_000) -> float:
    """Seconds from navigation start to a User Timing mark."""
    # A function, not an expression: the pages' Content-Security-Policy forbids eval.
    page.wait_for_function(f"() => performance.getEntriesByName({name!r}).length > 0", timeout=timeout_ms)
    return page.evaluate(f"performance.getEntriesByName({name!r})[0].startTime") / 1000


def mark_if_any(page, name: str):
    value = page.evaluate(f"(performance.getEntriesByName({name!r})[0] || {{}}).startTime")
    return None if value is None else value / 1000


class Transfers:
    """Bytes on the wire per request (headers and body as received), with the
    moment each finished, for every request of a context, workers included."""

    def __init__(self, context):
        self.finished = []
        context.on("requestfinished", lambda request: self.finished.append(request))

    def bytes_until(self, wall_ms: float | None = None) -> int:
        total = 0
        for request in self.finished:
            if not request.url.startswith("http"):
                continue  # blob: and data: are not on the wire
            timing = request.timing
            if wall_ms is not None and timing["startTime"] + max(timing["responseEnd"], 0) > wall_ms:
                continue
            sizes = request.sizes()
            body = sizes["responseBodySize"] or int((request.response() and request.response().headers.get("content-length")) or 0)
            total += sizes["responseHeadersSize"] + body
        return total


def throttle(context, page, line):
    down, up, rtt = line
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": rtt, "downloadThroughput": down / 8, "uploadThroughput": up / 8})
    return cdp


def load() -> float:
    return os.getloadavg()[0]


def checker_visit(context, url: str, line=None, measure_bytes=True) -> dict:
    """One visit to the checker page in this context: the build's verdict, the
    engine's first verdict, the bytes transferred before the latter, and how
    the engine started (the page's data-runtime-* attributes)."""
    transfers = Transfers(context) if measure_bytes else None
    page = context.new_page()
    if line:
        throttle(context, page, line)
    before = load()
    page.goto(url, wait_until="commit")
    engine = mark_time(page, "sss-first-verdict", timeout_ms=180_000)
    build = mark_if_any(page, "sss-build-verdict")
    page.wait_for_selector("#sss-checker[data-runtime-via]", timeout=60_000)
    runtime = page.eval_on_selector("#sss-checker", "e => ({via: e.dataset.runtimeVia, path: e.dataset.runtimePath, "
                                    "reason: e.dataset.runtimeReason, compiled: e.dataset.runtimeCompiled})")
    # The worker's moments of the start (runtime-loader.mjs), as the page marked them.
    moments = page.evaluate("Object.fromEntries(performance.getEntriesByType('mark')"
                            ".filter((m) => m.name.startsWith('sss-runtime-'))"
                            ".map((m) => [m.name.slice(12), m.startTime / 1000]))")
    out = {"engine": engine, "build": build, "page": page, "runtime": runtime, "load": max(before, load()),
           "moments": {**moments, "verdict": engine}}
    if transfers:
        verdict_wall = page.evaluate("performance.timeOrigin + performance.getEntriesByName('sss-first-verdict')[0].startTime")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        out["bytes_before_verdict"] = transfers.bytes_until(verdict_wall)
        out["bytes_total"] = transfers.bytes_until(None)
    return out


def org_visit(context, url: str, line=None) -> float:
    """Seconds from navigation until the organization page's engine is ready."""
    page = context.new_page()
    if line:
        throttle(context, page, line)
    page.goto(url, wait_until="commit")
    page.wait_for_selector('#sss-org[data-ready="true"]', timeout=180_000, state="attached")
    seconds = page.evaluate("performance.now()") / 1000
    page.close()
    return seconds


# The engine's verdict is timed on a query the build did not precompute (the
# tenant and the authentication stated; the build covers the tenant, not the
# authentication); the build's verdict on one it did.
UNPUBLISHED_QUERY = "checker/?deployment=online&email_system=exchange-online&tenant=other&authentication=oauth-cross-tenant"
LINE = "20 Mbit/s"


def browser_figures(base: str, runs: int, plain_base: str) -> dict:
    """`base`: a host that sends the build's precompressed copies; `plain_base`:
    one that sends every file as it is. Every figure of a run is measured in
    the same run as its baseline, interleaved, so all see the same load."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    line = LINES[LINE]
    with sync_playwright() as p:
        executable = shutil.which("chromium")
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        fig: dict[str, list] = {}
        paths: dict[str, list] = {}
        moments: dict[str, dict[str, list]] = {}

        def add(name, value, load_avg=None):
            fig.setdefault(name, []).append(value)
            if load_avg is not None:
                fig.setdefault(name + ":load", []).append(load_avg)

        def visit(name, url, throttled=None, measure_bytes=True):
            context = browser.new_context()
            got = checker_visit(context, url, line=throttled, measure_bytes=measure_bytes)
            add(name, got["engine"], got["load"])
            add(name + ":build", got["build"])
            if measure_bytes:
                add(name + ":bytes", got["bytes_before_verdict"])
            paths.setdefault(name, []).append(got["runtime"])
            for moment, at in got["moments"].items():
                moments.setdefault(name, {}).setdefault(moment, []).append(at)
            context.close()
            return got

        def baseline(name, throttled=None):
            context = browser.new_context()
            transfers = Transfers(context)
            page = context.new_page()
            if throttled:
                throttle(context, page, throttled)
            before = load()
            page.goto(base + "bench/baseline.html")
            add(name, mark_time(page, "baseline-done", timeout_ms=180_000), max(before, load()))
            page.wait_for_load_state("networkidle")
            add(name + ":bytes", transfers.bytes_until(None))
            context.close()

        for i in range(runs):
            # Loopback: the engine's verdict beside bare loadPyodide().
            baseline("baseline")
            visit("loopback", base + UNPUBLISHED_QUERY)
            # 20 Mbit/s from the precompressing host: the line picks; then each way forced.
            baseline("baseline_20", line)
            visit("line", base + UNPUBLISHED_QUERY, line)
            visit("line_snapshot", base + UNPUBLISHED_QUERY + "#sss-path=snapshot", line, measure_bytes=False)
            visit("line_plain", base + UNPUBLISHED_QUERY + "#sss-path=plain", line, measure_bytes=False)
            visit("line_published", base + CHECKER_QUERY, line, measure_bytes=False)
            # The same line from a host that compresses nothing.
            visit("plain_host", plain_base + UNPUBLISHED_QUERY, line)
            # Return visit in a persistent profile (disk cache, compiled-code cache).
            with tempfile.TemporaryDirectory() as profile:
                persistent = p.chromium.launch_persistent_context(profile, executable_path=executable, args=CHROMIUM_ARGS)
                first = checker_visit(persistent, base + UNPUBLISHED_QUERY, measure_bytes=False)
                first["page"].wait_for_timeout(5000)  # reading the answer, as a reader would
                first["page"].goto(base + "support-matrix/")
                first["page"].close()
                again = checker_visit(persistent, base + UNPUBLISHED_QUERY)
                add("warm", again["engine"], again["load"])
                for moment, at in again["moments"].items():
                    moments.setdefault("warm", {}).setdefault(moment, []).append(at)
                add("warm:bytes", again["bytes_total"])
                paths.setdefault("warm", []).append(again["runtime"])
                persistent.close()
            # The organization page's start.
            for name, throttled in (("org", None), ("org_20", line)):
                context = browser.new_context()
                before = load()
                add(name, org_visit(context, base + "org/", throttled), max(before, load()))
                context.close()

        def row(name):
            values = [v for v in fig.get(name, []) if v is not None]
            if not values:
                return None
            got = summary(values)
            loads = fig.get(name + ":load")
            if loads:
                got["load"] = [round(min(loads), 2), round(max(loads), 2)]
            return got

        for name in ("baseline", "loopback", "baseline_20", "line", "line_snapshot", "line_plain", "plain_host",
                     "warm", "org", "org_20"):
            out[name + "_s"] = row(name)
        out["line_published_build_s"] = row("line_published:build")
        out["loopback_build_s"] = row("loopback:build")
        out["loopback_vs_baseline"] = out["loopback_s"]["median"] / out["baseline_s"]["median"]
        for name in ("line", "plain_host", "loopback", "baseline", "baseline_20", "warm"):
            out[name + "_bytes"] = int(statistics.median(fig[name + ":bytes"]))
        out["paths"] = {name: [f"{r['via']} ({r['compiled']}): {r['reason']}" for r in runs_]
                        for name, runs_ in paths.items()}
        # Where the time to the engine's verdict went: each moment's median, in seconds from navigation.
        out["moments"] = {name: dict(sorted(((moment, round(statistics.median(at), 3)) for moment, at in got.items()),
                                            key=lambda item: item[1]))
                          for name, got in moments.items() if name in ("loopback", "line", "line_snapshot", "line_plain", "warm")}

        # Other pages: bytes of the runtime they fetch (should be none).
        context = browser.new_context()
        runtime_bytes = []
        context.on("response", lambda r: any(m in r.url for m in RUNTIME_MARKERS)
                   and runtime_bytes.append(int(r.headers.get("content-length", 0))))
        page = context.new_page()
        for path in ("", "support-matrix/", "unsupported/", "en/notes/", "en/changes/"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
        out["other_pages_runtime_bytes"] = sum(runtime_bytes)
        context.close()

        # Re-evaluation: a form change until the verdict shows the new answer.
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "en/" + CHECKER_QUERY)
        mark_time(page, "sss-first-verdict")
        # A reader reads the first verdict before changing an answer: meanwhile
        # the worker warms up (checker.js warmUp()); without the pause the first
        # hundred or so answers come while the runtime's code is still being
        # optimized (p95 18 ms against 5 ms in one run).
        page.wait_for_timeout(2000)
        before = load()
        samples = page.evaluate("""async (n) => {
            const select = document.getElementById("sss-email_system");
            const verdict = document.getElementById("sss-verdict");
            const times = [];
            for (let i = 0; i < n; i++) {
              const next = select.value === "gmail" ? "yahoo-mail" : "gmail";
              const done = new Promise((resolve) => {
                const seen = new MutationObserver(() => {
                  if (verdict.textContent.includes(next === "gmail" ? "Gmail" : "Yahoo")) { seen.disconnect(); resolve(); }
                });
                seen.observe(verdict, {childList: true, subtree: true, characterData: true});
              });
              const t0 = performance.now();
              select.value = next;
              select.dispatchEvent(new Event("change", {bubbles: true}));
              await done;
              times.push(performance.now() - t0);
            }
            return times;
        }""", 200)
        samples.sort()
        out["reevaluation_ms"] = {
            "p50": samples[len(samples) // 2], "p95": samples[int(len(samples) * 0.95) - 1],
            "max": samples[-1], "runs": len(samples), "load": [round(before, 2), round(load(), 2)],
        }
        context.close()
        browser.close()
    return out


# -- engine figures -----------------------------------------------------------------
def engine_figures() -> dict:
    import sitegen
    from checker import evaluate_json, load_matrix
    from tests.configs import generate

    matrix = load_matrix()
    configs = generate(10_000)
    for c in configs:
        matrix.evaluate(c, "en")
    rounds = []
    for _ in range(7):
        t = time.perf_counter()
        for c in configs:
            matrix.evaluate(c, "en")
        rounds.append(len(configs) / (time.perf_counter() - t))
    out = {"cpython_evaluations_per_s": summary(rounds),
           "cpython_engine_us": statistics.median(1e6 / r for r in rounds)}

    # The same JSON path the browser takes, on both interpreters, in this run.
    requests = [json.dumps({"config": c, "lang": "en"}) for c in configs]
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "requests.json"
        req_file.write_text(json.dumps(requests))
        node = subprocess.run(["node", str(REPO / "bench" / "node_engine.mjs"), str(sitegen.build_wheel()), str(req_file)],
                              capture_output=True, text=True, timeout=600, cwd=REPO)
        if node.returncode != 0:
            raise RuntimeError(node.stderr[-2000:])
        pyodide = json.loads(node.stdout.strip().splitlines()[-1])
    cp_rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for r in requests:
            evaluate_json(r)
        cp_rounds.append((time.perf_counter() - t) * 1e6 / len(requests))
    cp = statistics.median(cp_rounds)
    out["cpython_json_us"] = summary(cp_rounds)
    out["pyodide_json_us"] = {"median": pyodide["per_evaluation_us"], "min": pyodide["min_us"],
                              "max": pyodide["max_us"], "runs": 5, "python": pyodide["python"]}
    out["pyodide_json_vs_cpython"] = pyodide["per_evaluation_us"] / cp
    out["pyodide_engine_us"] = pyodide["engine_only_us"]
    out["pyodide_vs_cpython"] = pyodide["engine_only_us"] / out["cpython_engine_us"]
    return out


# -- build figures ------------------------------------------------------------------
def build_figures(runs: int) -> dict:
    full, plain = [], []
    plain_config = REPO / ".mkdocs-plain.yml"
    # The same pages, without the hook that generates them: a plain mkdocs build
    # (with the hook that gives the theme's templates their strings: they need them).
    plain_config.write_text("INHERIT: mkdocs.yml\nhooks: [hooks/reader.py]\nwatch: []\n")
    try:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                # Both as a person runs them: a new process each.
                t = time.perf_counter()
                subprocess.run([sys.executable, "build.py"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
                full.append(time.perf_counter() - t)
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(plain_config),
                                "-d", str(Path(tmp) / "plain")], check=True, cwd=REPO)
                plain.append(time.perf_counter() - t)
    finally:
        plain_config.unlink(missing_ok=True)
    return {"build_s": summary(full), "plain_mkdocs_build_s": summary(plain),
            "build_vs_plain": statistics.median(full) / statistics.median(plain)}


def live_edit_figure(runs: int) -> dict:
    """Edit a value in matrix/ while serving, until the open page shows it."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "build.py", "--serve", f"127.0.0.1:{port}"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = REPO / "matrix" / "notes.yaml"
    original = target.read_text(encoding="utf-8")
    old = "en: Two email server profiles"
    times = []
    try:
        url = f"http://127.0.0.1:{port}/en/notes/"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#note-two-profiles", timeout=120_000)
            for i in range(runs):
                marker = f"Two email server profiles (edit {i})"
                t = time.perf_counter()
                target.write_text(original.replace(old, "en: " + marker), encoding="utf-8")
                page.wait_for_function("m => document.body && document.body.innerText.includes(m)", arg=marker, timeout=60_000)
                times.append(time.perf_counter() - t)
                time.sleep(1.0)
            browser.close()
    finally:
        target.write_text(original, encoding="utf-8")
        server.terminate()
        server.wait(timeout=30)
        import sitegen

        sitegen.generate_docs()  # the server may have stopped before seeing the file restored
    return {"live_edit_s": summary(times)}


# -- report ----------------------------------------------------------------------------
ROWS = [
    # (label, value, baseline measured in the same run or None, target text, met?)
    # The table: a precompressing host, cache off, 20 Mbit/s down, 5 up, 40 ms.
    ("engine's verdict, unpublished query (tenant stated), 20 Mbit/s (s)", lambda r: r["line_s"],
     lambda r: r["baseline_20_s"]["median"], "≤ 3.0", lambda r: r["line_s"]["median"] <= 3.0),
    ("  the same, snapshot forced (s)", lambda r: r["line_snapshot_s"], None, "reported", None),
    ("  the same, plain start forced (s)", lambda r: r["line_plain_s"], None, "reported", None),
    ("  the same from a host that compresses nothing (s)", lambda r: r["plain_host_s"], None, "reported", None),
    ("bytes before the engine's verdict, 20 Mbit/s", lambda r: r["line_bytes"],
     lambda r: r["baseline_20_bytes"], "≤ 5,000,000", lambda r: r["line_bytes"] <= 5_000_000),
    ("  the same from a host that compresses nothing", lambda r: r["plain_host_bytes"], None, "reported", None),
    ("build's verdict at first paint, published query, 20 Mbit/s (s)", lambda r: r["line_published_build_s"], None,
     "≤ 0.5", lambda r: r["line_published_build_s"]["median"] <= 0.5),
    ("engine's verdict, loopback (s)", lambda r: r["loopback_s"], lambda r: r["baseline_s"]["median"],
     "≤ 0.5, ≤ 0.3 × baseline", lambda r: r["loopback_s"]["median"] <= 0.5 and r["loopback_vs_baseline"] <= 0.3),
    ("  loopback / baseline", lambda r: r["loopback_vs_baseline"], None, "≤ 0.3", lambda r: r["loopback_vs_baseline"] <= 0.3),
    ("second visit, persistent profile, loopback (s)", lambda r: r["warm_s"], None, "≤ 0.35",
     lambda r: r["warm_s"]["median"] <= 0.35),
    ("  second visit: bytes", lambda r: r["warm_bytes"], None, "reported", None),
    ("re-evaluation after one answer (ms)", lambda r: r["reevaluation_ms"], None, "p95 ≤ 16 (quiet machine)",
     lambda r: r["reevaluation_ms"]["p95"] <= 16),
    ("organization page: engine ready, loopback (s)", lambda r: r["org_s"], None, "reported", None),
    ("organization page: engine ready, 20 Mbit/s (s)", lambda r: r["org_20_s"], None, "reported", None),
    ("other pages: runtime bytes", lambda r: r["other_pages_runtime_bytes"], None, "0", lambda r: r["other_pages_runtime_bytes"] == 0),
    ("engine, CPython (evaluations/s)", lambda r: r["cpython_evaluations_per_s"], None, "≥ 100,000",
     lambda r: r["cpython_evaluations_per_s"]["median"] >= 100_000),
    ("engine, CPython (µs/evaluation)", lambda r: r["cpython_engine_us"], None, "measured", None),
    ("engine, Pyodide in Node (µs/evaluation)", lambda r: r["pyodide_engine_us"], lambda r: r["cpython_engine_us"], "≤ 2 × CPython", None),
    ("engine: Pyodide / CPython", lambda r: r["pyodide_vs_cpython"], None, "≤ 2", lambda r: r["pyodide_vs_cpython"] <= 2),
    ("JSON in and out, CPython (µs/evaluation)", lambda r: r["cpython_json_us"], None, "measured", None),
    ("JSON in and out, Pyodide in Node (µs/evaluation)", lambda r: r["pyodide_json_us"], None, "measured", None),
    ("JSON in and out: Pyodide / CPython", lambda r: r["pyodide_json_vs_cpython"], None, "measured", None),
    ("python build.py (s)", lambda r: r["build_s"], lambda r: r["plain_mkdocs_build_s"]["median"], "≤ 10, ≤ 1.3 × plain",
     lambda r: r["build_s"]["median"] <= 10 and r["build_vs_plain"] <= 1.3),
    ("build / plain", lambda r: r["build_vs_plain"], None, "≤ 1.3", lambda r: r["build_vs_plain"] <= 1.3),
    ("live edit until the page shows it (s)", lambda r: r["live_edit_s"], None, "≤ 3", lambda r: r["live_edit_s"]["median"] <= 3),
]


def fmt(value) -> str:
    if isinstance(value, dict):
        if "p95" in value:
            return (f"p50 {value['p50']:.2f}, p95 {value['p95']:.2f}, max {value['max']:.2f} (n={value['runs']})"
                    + (f" load {value['load'][0]:.1f}–{value['load'][1]:.1f}" if "load" in value else ""))
        big = value["median"] >= 1000
        f = (lambda v: f"{v:,.0f}") if big else (lambda v: f"{v:.3f}")
        text = f"{f(value['median'])} (min {f(value['min'])}, max {f(value['max'])}, n={value['runs']})"
        if "load" in value:
            text += f" load {value['load'][0]:.1f}–{value['load'][1]:.1f}"
        return text
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=["browser", "engine", "build", "live"],
                        default=["browser", "engine", "build", "live"])
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "latest.json"))
    args = parser.parse_args(argv)
    if not (REPO / "site" / "checker" / "index.html").exists():
        print("site/ is not built: run ./run bench (or python build.py first)", file=sys.stderr)
        return 2
    results: dict = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                     "python": platform.python_version(), "load_average_start": os.getloadavg()}
    if "engine" in args.only:
        results.update(engine_figures())
    if "build" in args.only:
        results.update(build_figures(args.runs))
    if "browser" in args.only:
        server, base = serve(REPO / "site", PrecompressedHandler)
        plain_server, plain_base = serve(REPO / "site", Handler)
        try:
            results.update(browser_figures(base, args.runs, plain_base))
        finally:
            server.shutdown()
            plain_server.shutdown()
    if "live" in args.only:
        results.update(live_edit_figure(args.runs))
    width = max(len(r[0]) for r in ROWS)
    print("Baselines are bare loadPyodide() (bench/baseline.html) from the same files, in the same run;")
    print("the machine is shared, so compare figures of one run only; each figure shows the 1-minute")
    print("load average seen around its visits.\n")
    print(f"{'figure':<{width}}  {'measured: median (min, max, runs)':<58}  {'baseline':<12}  {'target':<24}  met")
    for label, get, baseline, target, met in ROWS:
        try:
            value = get(results)
            base = "" if baseline is None else fmt(baseline(results))
        except (KeyError, TypeError):
            continue
        verdict = "" if met is None else ("yes" if met(results) else "NO")
        print(f"{label:<{width}}  {fmt(value):<58}  {base:<12}  {target:<24}  {verdict}")
    if "paths" in results:
        print("\nHow the engine started (the page's data-runtime-* attributes), per visit:")
        for name, reasons in results["paths"].items():
            for reason in reasons:
                print(f"  {name}: {reason}")
    if "moments" in results:
        print("\nWhere the time went: the worker's moments (median seconds from navigation; see runtime-loader.mjs)")
        for name, got in results["moments"].items():
            print(f"  {name}: " + ", ".join(f"{moment} {at:.3f}" for moment, at in got.items()))
    results["load_average_end"] = os.getloadavg()
    print(f"\nload average at the start {results['load_average_start'][0]:.2f}, at the end {results['load_average_end'][0]:.2f} "
          f"(1 min; {os.cpu_count()} cores)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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


def serve(root: Path, handler=GzipHandler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# -- browser figures -----------------------------------------------------------------
# Chromium 156 starts its WebUI omnibox popup renderer in every new window,
# which burns 350-700 ms of CPU during a cold load: off, as in a real tab.
CHROMIUM_ARGS = CHROMIUM_ARGS + [
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI",
]
# The throttled figures: DevTools protocol network emulation (down, up in bit/s; round trip in ms).
LINES = {"20 Mbit/s": (20e6, 5e6, 40), "5 Mbit/s": (5e6, 5e6, 40)}


def mark_time(page, name: str, timeout_ms: int = 120_000) -> float:
    """Seconds from navigation start to a User Timing mark."""
    page.wait_for_function(f"performance.getEntriesByName({name!r}).length > 0", timeout=timeout_ms)
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


def checker_visit(context, url: str, line=None, measure_bytes=True) -> dict:
    """One visit to the checker page in this context: the build's verdict, the
    engine's first verdict, and the bytes transferred before the latter."""
    transfers = Transfers(context) if measure_bytes else None
    page = context.new_page()
    if line:
        throttle(context, page, line)
    page.goto(url, wait_until="commit")
    engine = mark_time(page, "sss-first-verdict", timeout_ms=180_000)
    build = mark_if_any(page, "sss-build-verdict")
    out = {"engine": engine, "build": build, "page": page}
    if transfers:
        verdict_wall = page.evaluate("performance.timeOrigin + performance.getEntriesByName('sss-first-verdict')[0].startTime")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        out["bytes_before_verdict"] = transfers.bytes_until(verdict_wall)
        out["bytes_total"] = transfers.bytes_until(None)
    return out


def browser_figures(base: str, runs: int, plain_base: str) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    url = base + CHECKER_QUERY
    with sync_playwright() as p:
        executable = shutil.which("chromium")
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        fig: dict[str, list] = {k: [] for k in (
            "baseline", "cold", "cold_build", "bytes", "bytes_total", "warm_otr", "warm_otr_bytes",
            "warm", "warm_bytes", "baseline_20", "baseline_bytes", "bytes_plain", *[f"{k}:{n}" for n in LINES for k in ("cold", "build")])}
        for i in range(runs):
            # Interleaved, so every figure sees the same machine load.
            context = browser.new_context()
            transfers = Transfers(context)
            page = context.new_page()
            page.goto(base + "bench/baseline.html")
            fig["baseline"].append(mark_time(page, "baseline-done"))
            page.wait_for_load_state("networkidle")
            fig["baseline_bytes"].append(transfers.bytes_until(None))
            context.close()

            # Cold, loopback, in an off-the-record context; then come back in it.
            context = browser.new_context()
            visit = checker_visit(context, url)
            fig["cold"].append(visit["engine"])
            fig["cold_build"].append(visit["build"])
            fig["bytes"].append(visit["bytes_before_verdict"])
            fig["bytes_total"].append(visit["bytes_total"])
            visit["page"].goto(base + "support-matrix/")
            visit["page"].close()
            again = checker_visit(context, url)
            fig["warm_otr"].append(again["engine"])
            fig["warm_otr_bytes"].append(again["bytes_total"])
            context.close()

            # The same cold visit from Python's plain server, which compresses nothing.
            context = browser.new_context()
            fig["bytes_plain"].append(checker_visit(context, plain_base + CHECKER_QUERY)["bytes_before_verdict"])
            context.close()

            # Return visit in a persistent profile (disk cache, code cache).
            with tempfile.TemporaryDirectory() as profile:
                persistent = p.chromium.launch_persistent_context(profile, executable_path=executable, args=CHROMIUM_ARGS)
                first = checker_visit(persistent, url, measure_bytes=False)
                first["page"].wait_for_timeout(5000)  # reading the answer, as a reader would
                first["page"].goto(base + "support-matrix/")
                first["page"].close()
                again = checker_visit(persistent, url)
                fig["warm"].append(again["engine"])
                fig["warm_bytes"].append(again["bytes_total"])
                persistent.close()

            # Throttled, cold.
            for name, line in LINES.items():
                if name == "5 Mbit/s" and i >= max(1, runs // 2):
                    continue  # 20 s a visit: fewer runs
                context = browser.new_context()
                visit = checker_visit(context, url, line=line, measure_bytes=False)
                fig[f"cold:{name}"].append(visit["engine"])
                fig[f"build:{name}"].append(visit["build"])
                context.close()
            context = browser.new_context()
            page = context.new_page()
            throttle(context, page, LINES["20 Mbit/s"])
            page.goto(base + "bench/baseline.html")
            fig["baseline_20"].append(mark_time(page, "baseline-done", timeout_ms=180_000))
            context.close()

        out["cold_first_verdict_s"] = summary(fig["cold"])
        out["cold_build_verdict_s"] = summary([v for v in fig["cold_build"] if v is not None] or [float("nan")])
        out["baseline_bare_pyodide_s"] = summary(fig["baseline"])
        out["cold_vs_baseline"] = statistics.median(fig["cold"]) / statistics.median(fig["baseline"])
        out["bytes_before_first_verdict"] = int(statistics.median(fig["bytes"]))
        out["bytes_before_first_verdict_plain_server"] = int(statistics.median(fig["bytes_plain"]))
        out["checker_page_bytes_cold"] = int(statistics.median(fig["bytes_total"]))
        out["warm_return_visit_s"] = summary(fig["warm"])
        out["warm_return_visit_bytes"] = int(statistics.median(fig["warm_bytes"]))
        out["warm_off_the_record_s"] = summary(fig["warm_otr"])
        out["warm_off_the_record_bytes"] = int(statistics.median(fig["warm_otr_bytes"]))
        out["baseline_bare_pyodide_20mbit_s"] = summary(fig["baseline_20"])
        out["baseline_bare_pyodide_bytes"] = int(statistics.median(fig["baseline_bytes"]))
        for name in LINES:
            key = name.split()[0]
            out[f"cold_first_verdict_{key}mbit_s"] = summary(fig[f"cold:{name}"])
            out[f"cold_build_verdict_{key}mbit_s"] = summary([v for v in fig[f"build:{name}"] if v is not None] or [float("nan")])

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
            "max": samples[-1], "runs": len(samples),
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
    # The same pages, without the hook that generates them: a plain mkdocs build.
    plain_config.write_text("INHERIT: mkdocs.yml\nhooks: []\nwatch: []\n")
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
    ("bytes before the engine's first verdict, cold", lambda r: r["bytes_before_first_verdict"],
     lambda r: r["baseline_bare_pyodide_bytes"], "≤ 9,000,000",
     lambda r: r["bytes_before_first_verdict"] <= 9_000_000),
    ("the same from a server that compresses nothing", lambda r: r["bytes_before_first_verdict_plain_server"],
     None, "reported", None),
    ("engine's first verdict, cold, 20 Mbit/s (s)", lambda r: r["cold_first_verdict_20mbit_s"],
     lambda r: r["baseline_bare_pyodide_20mbit_s"]["median"], "≤ 4.0",
     lambda r: r["cold_first_verdict_20mbit_s"]["median"] <= 4.0),
    ("engine's first verdict, cold, 5 Mbit/s (s)", lambda r: r["cold_first_verdict_5mbit_s"], None, "reported", None),
    ("a verdict on screen (the build's), cold, 20 Mbit/s (s)", lambda r: r["cold_build_verdict_20mbit_s"], None, "≤ 0.5",
     lambda r: r["cold_build_verdict_20mbit_s"]["median"] <= 0.5),
    ("a verdict on screen (the build's), cold, 5 Mbit/s (s)", lambda r: r["cold_build_verdict_5mbit_s"], None, "reported", None),
    ("engine's first verdict, cold, loopback (s)", lambda r: r["cold_first_verdict_s"],
     lambda r: r["baseline_bare_pyodide_s"]["median"], "≤ 0.5, ≤ 0.3 × baseline",
     lambda r: r["cold_first_verdict_s"]["median"] <= 0.5 and r["cold_vs_baseline"] <= 0.3),
    ("cold / baseline, loopback", lambda r: r["cold_vs_baseline"], None, "≤ 0.3", lambda r: r["cold_vs_baseline"] <= 0.3),
    ("a verdict on screen (the build's), cold, loopback (s)", lambda r: r["cold_build_verdict_s"], None, "reported", None),
    ("return visit, persistent profile, loopback (s)", lambda r: r["warm_return_visit_s"], None, "≤ 0.35",
     lambda r: r["warm_return_visit_s"]["median"] <= 0.35),
    ("return visit, persistent profile: bytes", lambda r: r["warm_return_visit_bytes"], None, "reported", None),
    ("return visit, off-the-record context (s)", lambda r: r["warm_off_the_record_s"], None, "reported", None),
    ("return visit, off-the-record context: bytes", lambda r: r["warm_off_the_record_bytes"], None, "reported", None),
    ("re-evaluation (ms)", lambda r: r["reevaluation_ms"], None, "p95 ≤ 16", lambda r: r["reevaluation_ms"]["p95"] <= 16),
    ("checker page bytes, cold, all", lambda r: r["checker_page_bytes_cold"], None, "reported", None),
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
            return f"p50 {value['p50']:.2f}, p95 {value['p95']:.2f}, max {value['max']:.2f} (n={value['runs']})"
        big = value["median"] >= 1000
        f = (lambda v: f"{v:,.0f}") if big else (lambda v: f"{v:.3f}")
        return f"{f(value['median'])} (min {f(value['min'])}, max {f(value['max'])}, n={value['runs']})"
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
                     "python": platform.python_version()}
    if "engine" in args.only:
        results.update(engine_figures())
    if "build" in args.only:
        results.update(build_figures(args.runs))
    if "browser" in args.only:
        server, base = serve(REPO / "site")
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
    print("the machine is shared, so compare figures of one run only.\n")
    print(f"{'figure':<{width}}  {'measured: median (min, max, runs)':<58}  {'baseline':<12}  {'target':<24}  met")
    for label, get, baseline, target, met in ROWS:
        try:
            value = get(results)
            base = "" if baseline is None else fmt(baseline(results))
        except KeyError:
            continue
        verdict = "" if met is None else ("yes" if met(results) else "NO")
        print(f"{label:<{width}}  {fmt(value):<58}  {base:<12}  {target:<24}  {verdict}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

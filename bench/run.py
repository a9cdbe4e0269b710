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
    """site/ at the root, and bench/ under /bench/ for the baseline page."""

    def translate_path(self, path):
        parsed = urlparse(path).path
        if parsed.startswith("/bench/"):
            return str(REPO / "bench" / parsed[len("/bench/"):])
        return super().translate_path(path)

    def log_message(self, *args):
        pass


def serve(root: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# -- browser figures -----------------------------------------------------------------
def mark_time(page, name: str, timeout_ms: int = 120_000) -> float:
    """Seconds from navigation start to a User Timing mark."""
    page.wait_for_function(f"performance.getEntriesByName({name!r}).length > 0", timeout=timeout_ms)
    return page.evaluate(f"performance.getEntriesByName({name!r})[0].startTime") / 1000


def browser_figures(base: str, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        cold, warm, baseline, cold_bytes = [], [], [], []
        for _ in range(runs):
            # Interleaved, so both see the same machine load.
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "bench/baseline.html")
            baseline.append(mark_time(page, "baseline-done"))
            context.close()

            context = browser.new_context()
            sizes: list[int] = []
            context.on("response", lambda r, sizes=sizes: r.request.method == "GET" and sizes.append(int(r.headers.get("content-length", 0))))
            page = context.new_page()
            page.goto(base + CHECKER_QUERY)
            cold.append(mark_time(page, "sss-first-verdict"))
            page.wait_for_load_state("networkidle")
            cold_bytes.append(sum(sizes))
            page.goto(base + "support-matrix/")   # then come back: HTTP cache warm
            page.goto(base + CHECKER_QUERY)
            warm.append(mark_time(page, "sss-first-verdict"))
            context.close()
        out["cold_first_verdict_s"] = summary(cold)
        out["baseline_bare_pyodide_s"] = summary(baseline)
        out["cold_vs_baseline"] = statistics.median(cold) / statistics.median(baseline)
        out["warm_return_visit_s"] = summary(warm)
        out["checker_page_bytes_cold"] = int(statistics.median(cold_bytes))

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
    # (label, value, target text, met?)
    ("cold first verdict (s)", lambda r: r["cold_first_verdict_s"], "≤ 1.0 median, ≤ 0.8 × baseline",
     lambda r: r["cold_first_verdict_s"]["median"] <= 1.0 and r["cold_vs_baseline"] <= 0.8),
    ("baseline: bare loadPyodide + 1+1 (s)", lambda r: r["baseline_bare_pyodide_s"], "measured", None),
    ("cold / baseline", lambda r: r["cold_vs_baseline"], "≤ 0.8", lambda r: r["cold_vs_baseline"] <= 0.8),
    ("return visit, warm cache (s)", lambda r: r["warm_return_visit_s"], "≤ 0.5", lambda r: r["warm_return_visit_s"]["median"] <= 0.5),
    ("re-evaluation (ms)", lambda r: r["reevaluation_ms"], "p95 ≤ 16", lambda r: r["reevaluation_ms"]["p95"] <= 16),
    ("checker page bytes, cold", lambda r: r["checker_page_bytes_cold"], "reported", None),
    ("other pages: runtime bytes", lambda r: r["other_pages_runtime_bytes"], "0", lambda r: r["other_pages_runtime_bytes"] == 0),
    ("engine, CPython (evaluations/s)", lambda r: r["cpython_evaluations_per_s"], "≥ 100,000", lambda r: r["cpython_evaluations_per_s"]["median"] >= 100_000),
    ("engine, CPython (µs/evaluation)", lambda r: r["cpython_engine_us"], "measured", None),
    ("engine, Pyodide in Node (µs/evaluation)", lambda r: r["pyodide_engine_us"], "≤ 2 × CPython", None),
    ("engine: Pyodide / CPython", lambda r: r["pyodide_vs_cpython"], "≤ 2", lambda r: r["pyodide_vs_cpython"] <= 2),
    ("JSON in and out, CPython (µs/evaluation)", lambda r: r["cpython_json_us"], "measured", None),
    ("JSON in and out, Pyodide in Node (µs/evaluation)", lambda r: r["pyodide_json_us"], "measured", None),
    ("JSON in and out: Pyodide / CPython", lambda r: r["pyodide_json_vs_cpython"], "measured", None),
    ("python build.py (s)", lambda r: r["build_s"], "≤ 10, ≤ 1.3 × plain", lambda r: r["build_s"]["median"] <= 10 and r["build_vs_plain"] <= 1.3),
    ("plain mkdocs build (s)", lambda r: r["plain_mkdocs_build_s"], "measured", None),
    ("build / plain", lambda r: r["build_vs_plain"], "≤ 1.3", lambda r: r["build_vs_plain"] <= 1.3),
    ("live edit until the page shows it (s)", lambda r: r["live_edit_s"], "≤ 3", lambda r: r["live_edit_s"]["median"] <= 3),
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
        try:
            results.update(browser_figures(base, args.runs))
        finally:
            server.shutdown()
    if "live" in args.only:
        results.update(live_edit_figure(args.runs))
    width = max(len(r[0]) for r in ROWS)
    print(f"{'figure':<{width}}  {'measured':<58}  {'target':<28}  met")
    for label, get, target, met in ROWS:
        try:
            value = get(results)
        except KeyError:
            continue
        verdict = "" if met is None else ("yes" if met(results) else "NO")
        print(f"{label:<{width}}  {fmt(value):<58}  {target:<28}  {verdict}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

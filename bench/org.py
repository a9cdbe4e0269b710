"""Benchmark of the organization check: a generated export of 20,000 mailboxes on
50 profiles, evaluated on CPython and, with --page, in the page "Check your
organization" (headless Chromium, after the runtime is ready).

    python bench/org.py [--mailboxes N] [--profiles N] [--runs N] [--page] [--keep DIR]

Prints each figure beside its target. The export is written in Web API pages of
5,000 records, as Dataverse returns them, with the columns of the core $select.
Not a test: the machines are shared and noisy, so read figures side by side.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HOST = "https://contoso.crm.dynamics.com/api/data/v9.2/"
PAGE_SIZE = 5000
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Profile shapes an organization has (server type, template name, authentication).
SHAPES = [
    (0, "Exchange Online", 2, True), (0, "Exchange Online", 7, True), (3, "Exchange Online (Hybrid)", 7, True),
    (0, "Exchange Server (On Prem)", 1, False), (2, "Exchange Server (Hybrid)", 6, True),
    (1, "POP3/SMTP", 0, False), (1, "Gmail", 5, False), (4, "IMAP/SMTP", 0, False),
]


def guid(kind: int, n: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def generate(folder: Path, mailboxes: int = 20_000, profiles: int = 50, seed: int = 10) -> list[Path]:
    """Write the export: one page of profiles and pages of 5,000 mailboxes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    prof = []
    for n in range(profiles):
        st, name, cred, auto = SHAPES[n % len(SHAPES)]
        prof.append({"emailserverprofileid": guid(0xAAAA0000, n), "name": f"{name} {n}", "servertype": st,
                     "emailservertypename": name, "incomingcredentialretrieval": cred,
                     "outgoingcredentialretrieval": cred, "useautodiscover": auto,
                     "incominguseimpersonation": False, "outgoinguseimpersonation": False, "statecode": 0})
    files = [folder / "emailserverprofiles-1.json"]
    files[0].write_text(json.dumps({"@odata.context": HOST + "$metadata#emailserverprofiles", "value": prof}))
    page, number = [], 1
    for n in range(mailboxes):
        profile = prof[rng.randrange(profiles)]["emailserverprofileid"]
        page.append({
            "mailboxid": guid(0xBBBB0000, n), "name": f"User {n}", "emailaddress": f"user{n}@contoso.com",
            "_regardingobjectid_value": guid(0xCCCC0000, n),
            "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "queue" if n % 20 == 0 else "systemuser",
            "_emailserverprofile_value": profile,
            "incomingemaildeliverymethod": 2 if n % 50 else 0, "outgoingemaildeliverymethod": 2 if n % 50 else 0,
            "actdeliverymethod": rng.choice((0, 1, 1, 2)), "incomingemailstatus": 2 if n % 97 == 0 else 1,
            "outgoingemailstatus": 1, "actstatus": 1, "emailrouteraccessapproval": 1 if n % 31 else 2,
            "enabledforincomingemail": True, "enabledforoutgoingemail": True, "enabledforact": True, "statecode": 0,
        })
        if len(page) == PAGE_SIZE or n == mailboxes - 1:
            path = folder / f"mailboxes-{number}.json"
            body = {"@odata.context": HOST + "$metadata#mailboxes", "value": page}
            if n != mailboxes - 1:
                body["@odata.nextLink"] = HOST + f"mailboxes?$skiptoken=page{number + 1}"
            path.write_text(json.dumps(body))
            files.append(path)
            page, number = [], number + 1
    return files


def cpython(files: list[Path], runs: int) -> dict:
    """Read every file, evaluate every mailbox, write the JSON: what `org --format json` does."""
    from checker import load_matrix
    from checker.orgmap import Organization

    load_matrix()  # reading rules.json is start-up, not evaluation
    evaluate, total, cpu, verdicts = [], [], [], 0
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        org = Organization(load_matrix(), "en")
        for path in files:
            org.add_bytes(path.name, path.read_bytes())
        t1 = time.perf_counter()
        report = org.evaluate()
        t2 = time.perf_counter()
        text = report.to_json()
        t3 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        evaluate.append(t2 - t1)
        total.append(t3 - t0)
        verdicts = len(report.verdicts)
    return {"total": total, "cpu": cpu, "evaluate": evaluate, "verdicts": verdicts, "bytes": len(text),
            "mailboxes": len(report.rows)}


def memory(files: list[Path], folder: Path) -> dict:
    """Peak memory of `python -m checker org` on the whole export in one file, beside
    the same command on the profiles alone: what reading costs above start-up."""
    import resource
    import subprocess

    records = []
    for path in files[1:]:
        records += json.loads(path.read_text(encoding="utf-8"))["value"]
    big = folder / "mailboxes-all.json"
    big.write_text(json.dumps({"@odata.context": HOST + "$metadata#mailboxes", "value": records}))
    small = folder / "mailboxes-none.json"
    small.write_text(json.dumps({"@odata.context": HOST + "$metadata#mailboxes", "value": []}))

    def peak(path: Path) -> int:
        code = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'checker', 'org', "
                f"{str(files[0])!r}, {str(path)!r}, '--format', 'json'], stdout=subprocess.DEVNULL); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
        return int(out.stdout.strip()) * 1024

    del resource
    base, full = peak(small), peak(big)
    return {"size": big.stat().st_size, "base": base, "full": full}


def page(files: list[Path], runs: int) -> list[float]:
    """Submit the files on en/org/ once the runtime is ready; time until the result shows."""
    from playwright.sync_api import sync_playwright

    site = REPO / "site"
    if not (site / "en" / "org" / "index.html").exists():
        raise SystemExit("site/ has no en/org/ page; run: python build.py")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    times = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for _ in range(runs):
                tab = browser.new_page()
                tab.goto(base + "en/org/")
                tab.wait_for_selector("#sss-org[data-ready=true]", timeout=120_000)
                tab.set_input_files("#sss-org-files", [str(f) for f in files])
                start = time.perf_counter()
                tab.click("#sss-org-run")
                tab.wait_for_selector("#sss-org-result[data-state=done]", timeout=120_000)
                times.append(time.perf_counter() - start)
                tab.close()
            browser.close()
    finally:
        server.shutdown()
    return times


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=20_000)
    parser.add_argument("--profiles", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", action="store_true", help="also time the page in headless Chromium")
    parser.add_argument("--keep", type=Path, default=None, help="write the generated export here and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="org-bench-"))
    try:
        files = generate(folder, args.mailboxes, args.profiles)
        size = sum(f.stat().st_size for f in files)
        print(f"export: {args.mailboxes:,} mailboxes on {args.profiles} profiles, {len(files)} files, {size:,} bytes")
        result = cpython(files, args.runs)
        met = "yes" if statistics.median(result["total"]) <= 1.0 else "no"
        print(f"CPython {sys.version.split()[0]}, read + evaluate + JSON: {fmt(result['total'])}, target ≤ 1 s: {met}")
        print(f"  CPU time of the same: {fmt(result['cpu'])} (the machine's load does not count in it)")
        print(f"  of which evaluation: {fmt(result['evaluate'])}; {result['verdicts']} distinct verdicts; "
              f"JSON {result['bytes']:,} bytes for {result['mailboxes']:,} mailboxes")
        mem = memory(files, folder)
        ratio = (mem["full"] - mem["base"]) / mem["size"]
        print(f"memory, the {args.mailboxes:,} mailboxes in one file of {mem['size'] / 1e6:.1f} MB: peak "
              f"{mem['full'] / 1e6:.0f} MB, {mem['base'] / 1e6:.0f} MB with no mailboxes: {ratio:.2f} × the file, "
              f"target ≤ 2 ×: {'yes' if ratio <= 2 else 'no'}")
        if args.page:
            times = page(files, max(1, min(args.runs, 3)))
            met = "yes" if statistics.median(times) <= 3.0 else "no"
            print(f"page en/org/ (runtime ready), files chosen until the result shows: {fmt(times)}, target ≤ 3 s: {met}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

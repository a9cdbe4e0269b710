"""`./run test` checks the committed generated files before anything rebuilds them.

The build rewrites checker/rules.json and matrix/schema.json, so a test that runs
after it can never see them stale; yet a wheel made from a clone ships whatever was
committed. Each test here clones this repository, commits a stale file in the clone,
and runs the clone's own `./run test`, with this checkout's installed packages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import REPO

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@invalid", "-c", "commit.gpgsign=false"]
# `build.py --check` prints this on success; the build starts right after it.
CHECKED = "up to date:"


def clone(tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], check=True)
    # This checkout's installed packages, so `./run`'s setup has nothing to install
    # (it reinstalls only when the pins differ from what was installed).
    for name, marker, pins in ((".venv", ".requirements.installed", "requirements.txt"),
                               ("node_modules", ".package-lock.installed", "package-lock.json")):
        installed = REPO / name / marker
        if not installed.exists() or installed.read_bytes() != (target / pins).read_bytes():
            pytest.fail(f"{name} is not installed from this commit's {pins}: run ./run setup first")
        os.symlink(REPO / name, target / name)
    # This checkout's uncommitted edits too (of `run`, say), committed in the clone.
    changed = subprocess.run(["git", "diff", "--name-only", "-z", "HEAD"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, changed):
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, target / name)
    subprocess.run([*GIT, "commit", "--quiet", "--allow-empty", "-am", "this checkout's edits"], cwd=target,
                   check=True)
    return target


def run_test_until_build(checkout: Path, limit: float = 180) -> tuple[int | None, str]:
    """Run `./run test` in `checkout` and stop it once its checks passed (the
    build would start next). Returns (exit status or None when stopped, output)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(["./run", "test"], cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    lines, deadline = [], time.monotonic() + limit
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(CHECKED) or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return None, "".join(lines)
        return proc.wait(timeout=30), "".join(lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def commit_change(checkout: Path, rel: str, change) -> None:
    path = checkout / rel
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    subprocess.run([*GIT, "commit", "--quiet", "-am", f"stale {rel}"], cwd=checkout, check=True)


def stale_rules(text: str) -> str:
    rules = json.loads(text)
    rules["stale"] = True  # what an edit of matrix/ without `compile` leaves
    return json.dumps(rules, indent=1)


def stale_schema(text: str) -> str:
    schema = json.loads(text)
    schema["description"] = "an older schema"
    return json.dumps(schema, indent=2) + "\n"


def test_a_clean_clone_passes_the_checks_and_goes_on_to_build(tmp_path):
    checkout = clone(tmp_path)
    status, output = run_test_until_build(checkout)
    assert "compiled files are up to date" in output, output[-2000:]
    assert status is None and CHECKED in output, output[-2000:]


@pytest.mark.parametrize(("rel", "change"), [("checker/rules.json", stale_rules),
                                             ("matrix/schema.json", stale_schema)])
def test_a_stale_committed_file_fails_run_test_before_the_build(tmp_path, rel, change):
    checkout = clone(tmp_path)
    commit_change(checkout, rel, change)
    status, output = run_test_until_build(checkout)
    assert status == 1, f"./run test went on past a stale {rel}:\n{output[-2000:]}"
    assert f"{rel}: out of date with matrix/" in output
    assert "run: .venv/bin/python -m checker compile" in output
    # nothing was rebuilt: the stale file is still the committed one
    assert subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout,
                          capture_output=True, text=True, check=True).stdout.strip() == ""
    assert not (checkout / "site").exists()

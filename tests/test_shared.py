"""Tests that read ../shared/ fail without it, unless the run says so knowingly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .conftest import REPO, WITHOUT_SHARED_ENV


def run_without_shared(tmp_path, **env):
    """The two shared/ tests, in a copy of tests/ whose parent has no shared/."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("checker", "tooling", "matrix"):
        os.symlink(REPO / name, checkout / name)
    # copied, not linked: the tests find shared/ beside the folder they are in
    shutil.copytree(REPO / "tests", checkout / "tests", ignore=shutil.ignore_patterns("__pycache__", "history"))
    clean = {k: v for k, v in os.environ.items() if k != WITHOUT_SHARED_ENV}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         "tests/test_matrix_validation.py", "-k", "contract_fields or fact_ids_match"],
        cwd=checkout, capture_output=True, text=True, timeout=300, env={**clean, **env})


def test_a_missing_shared_folder_fails_with_what_to_do(tmp_path):
    assert not (tmp_path / "shared").exists()
    result = run_without_shared(tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "2 failed" in result.stdout
    assert "shared/FACTS.md" in result.stdout and f"{WITHOUT_SHARED_ENV}=1" in result.stdout


def test_a_run_that_says_it_has_no_shared_folder_skips_them(tmp_path):
    result = run_without_shared(tmp_path, **{WITHOUT_SHARED_ENV: "1"})
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 skipped" in result.stdout and "has no shared/" in result.stdout

"""A broken or hostile matrix, and hostile revisions for ``diff``: every problem is
``FILE:LINE: ...``, never a segfault or a traceback, and ``diff`` never runs
anything a repository configures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO


def cli(*args, cwd=REPO, timeout=60):
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def matrix_copy(tmp_path):
    target = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", target)
    return target


BROKEN = [
    ("100k-deep flow", "x: " + "[" * 100_000 + "]" * 100_000 + "\n", "matrix/evil.yaml:1: nested more than 40"),
    ("deep block nesting", "".join(" " * i + "a:\n" for i in range(200)) + " " * 200 + "b: 1\n",
     "matrix/evil.yaml:41: nested more than 40"),
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
     "matrix/evil.yaml:1: YAML anchors and aliases"),
    ("python tag", "kind: !!python/object/apply:os.system [echo hi]\n", "matrix/evil.yaml:1: kind: YAML tag"),
    ("scalar tag", "kind: !!binary '@@'\n", "matrix/evil.yaml:1: kind: YAML tag"),
    ("bad float", "kind: !!float abc\n", "matrix/evil.yaml:1: kind: invalid value"),
    ("unhashable key", "? [a, b]\n: c\n", "matrix/evil.yaml:1: a key must be plain text"),
    ("bad YAML", "kind: [\n", "matrix/evil.yaml:2: invalid YAML"),
    ("escape sequences in a key", '"\\e[2J\\e[31mkind\\n": facts\n', "\\x1b[2J\\x1b[31mkind\\n' was unexpected"),
    ("huge integer", "kind: " + "9" * 5000 + "\n", "matrix/evil.yaml:1: kind: invalid value"),
]


@pytest.mark.parametrize("name,text,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_validate_reports_a_broken_matrix_file_with_its_line(matrix_copy, name, text, expected):
    (matrix_copy / "evil.yaml").write_text(text)
    result = cli("validate", "--matrix", str(matrix_copy))
    assert result.returncode == 1, result.stderr  # never a signal (a segfault is -11)
    assert "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr
    assert "\x1b" not in result.stderr


def test_a_symlinked_matrix_file_is_refused(matrix_copy, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: facts\nfacts: []\n")
    (matrix_copy / "link.yaml").symlink_to(outside)
    result = cli("validate", "--matrix", str(matrix_copy))
    assert result.returncode == 1
    assert "matrix/link.yaml: not a regular file" in result.stderr


# -- diff reads revisions as plain objects ---------------------------------------------
def git(repo, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copytree(REPO / "matrix", repo / "matrix")
    git(repo, "add", "matrix")
    git(repo, "commit", "-qm", "matrix")
    return repo


def test_diff_runs_no_filter_and_no_hook_of_the_repository(repo, tmp_path):
    marker = tmp_path / "PWNED"
    command = f"touch {marker}; cat"
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    # Configured after the commits, so only reading a revision could run them.
    git(repo, "config", "filter.evil.smudge", command)
    git(repo, "config", "filter.evil.clean", command)
    git(repo, "config", "filter.evil.required", "true")
    git(repo, "config", "diff.evil.textconv", command)
    git(repo, "config", "core.fsmonitor", f"touch {marker}; true")
    hooks = repo / ".git" / "hooks"
    for hook in ("post-checkout", "post-index-change", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / hook).chmod(0o755)
    result = cli("diff", "HEAD~1", "HEAD", "--repo", str(repo), "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "0 of" in result.stdout and "configurations change verdict" in result.stdout
    assert not marker.exists(), "diff ran something the repository configures"


def test_a_symlink_in_a_revision_is_refused(repo, tmp_path):
    (repo / "matrix" / "link.yaml").symlink_to("/etc/passwd")
    git(repo, "add", "matrix/link.yaml")
    git(repo, "commit", "-qm", "link")
    result = cli("diff", "HEAD", "--repo", str(repo), "--lang", "en")
    assert result.returncode == 2
    assert "HEAD: matrix/link.yaml is a symbolic link in this revision; refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_symlinked_matrix_folder_in_a_revision_is_refused(repo):
    git(repo, "rm", "-rq", "matrix")
    (repo / "real").mkdir()
    (repo / "matrix").symlink_to("real")
    git(repo, "add", "matrix")
    git(repo, "commit", "-qm", "link the folder")
    result = cli("diff", "HEAD", "HEAD~1", "--repo", str(repo), "--lang", "en")
    assert result.returncode == 2
    assert "HEAD: matrix/ is a symbolic link in this revision; refused" in result.stderr


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "-h", "--end-of-options"])
def test_a_revision_is_never_an_option(repo, rev, tmp_path):
    result = cli("diff", "--repo", str(repo), "--lang", "en", "--", rev)
    assert result.returncode == 2
    assert "not a folder, nor a git revision" in result.stderr


def test_a_revision_with_options_inside_is_only_a_name(repo, tmp_path):
    target = tmp_path / "written"
    result = cli("diff", f"HEAD --output={target}", "--repo", str(repo), "--lang", "en")
    assert result.returncode == 2
    assert "no such folder, nor a revision" in result.stderr
    assert not target.exists()


def test_a_broken_matrix_in_a_revision_is_reported_with_its_line(repo):
    (repo / "matrix" / "evil.yaml").write_text("x: " + "[" * 50_000 + "]" * 50_000 + "\n")
    git(repo, "add", "matrix/evil.yaml")
    git(repo, "commit", "-qm", "deep")
    result = cli("diff", "HEAD", "HEAD~1", "--repo", str(repo), "--lang", "en")
    assert result.returncode == 2
    assert "matrix/evil.yaml:1: nested more than 40" in result.stderr
    assert "Traceback" not in result.stderr

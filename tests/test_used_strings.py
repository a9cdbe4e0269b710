"""`validate` refuses a matrix that lacks an interface string the code uses: the keys
are found in the code (engine, CLI, tools, templates, hooks, the pages' scripts),
not in a list kept by hand."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tooling import matrix as tooling

from .conftest import REPO


def cli(*args):
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def without(tmp_path, key: str, lang: str | None = None):
    target = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", target)
    path = target / "strings.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(f"  {key}:"))
    end = at + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    if lang is None:
        del lines[at:end]
        path.write_text("".join(lines), encoding="utf-8")
    else:  # keep the key, drop one language
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        del data["strings"][key][lang]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.mark.parametrize("key,used_in", [
    ("cli.remedy", "checker/cli.py"),                       # the CLI's verdict with a remedy
    ("page.checker.so_far", "docs/javascripts/checker.js"),  # the checker page's script
    ("page.org.title", "sitegen/templates/"),               # a page template
    ("diff.no_answer", "tooling/diff.py"),                  # the diff's words, word("no_answer")
])
def test_a_string_the_code_uses_cannot_go_missing(tmp_path, key, used_in):
    result = cli("validate", "--matrix", str(without(tmp_path, key)))
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert re.search(rf"matrix/strings.yaml:\d+: strings: string '{re.escape(key)}' is missing; "
                     rf"{re.escape(used_in)}\S*:\d+ uses it", result.stderr), result.stderr


def test_a_string_in_one_language_only_is_refused(tmp_path):
    result = cli("validate", "--matrix", str(without(tmp_path, "cli.remedy", "en")))
    assert result.returncode == 1
    assert "cli.remedy" in result.stderr and "'en' is missing" in result.stderr, result.stderr


def test_the_keys_are_found_in_the_code():
    """The scan finds the keys where they are written, and every one exists today."""
    loaded = tooling.load()
    checker = tooling._Checker(loaded)
    checker.check_used_strings()
    assert checker.issues == []
    checker.m.strings = {k: v for k, v in loaded.strings.items() if k != "page.grid.filter_count"}
    checker.check_used_strings()
    macros = (REPO / "sitegen" / "templates" / "_macros.j2").read_text(encoding="utf-8")
    line = macros[:macros.index('"page.grid.filter_count"')].count("\n") + 1
    assert [i.message for i in checker.issues] == [
        f"string 'page.grid.filter_count' is missing; sitegen/templates/_macros.j2:{line} uses it"]

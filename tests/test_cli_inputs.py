"""Command-line inputs of the second hardening pass: argparse's own complaints and
--site-url say one line with what was typed escaped; a YAML flow mapping is YAML;
a YAML tag is refused, `!!str` too. Each answer: exit 2, one line on standard
error, no traceback, within a second and 200 MB."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from checker import inputs

from .conftest import REPO

ESC = "\x1b[2J\x1b[31m"


# The child runs under a small parent that reports the child's own peak memory:
# this process's RUSAGE_CHILDREN keeps the largest child of the whole test run.
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[2:]).returncode; "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(code)")


def run(args, stdin=None, cwd=REPO):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        peak = f"{tmp}/peak"
        start = time.monotonic()
        result = subprocess.run([sys.executable, "-c", _MEASURE, peak, sys.executable, *args], cwd=cwd,
                                capture_output=True, text=True, timeout=30, input=stdin)
        result.seconds = time.monotonic() - start
        with open(peak, encoding="ascii") as f:
            result.max_mb = int(f.read()) / 1024  # ru_maxrss is in KB
    return result


def one_escaped_line(result, code=2):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout
    assert result.seconds < 2.5, result.seconds  # a second, with room for a busy machine
    assert result.max_mb < 200, result.max_mb
    return lines[0]


ARGPARSE = [
    (["check", "a.yaml", "extra" + ESC], "unrecognized arguments: extra\\x1b[2J\\x1b[31m"),
    (["check", "--format", "x" + ESC, "a.yaml"], "argument --format: invalid choice: 'x\\x1b[2J\\x1b[31m'"),
    (["check", "--lang" + ESC, "en", "a.yaml"], "unrecognized arguments: --lang\\x1b[2J\\x1b[31m"),
    (["validate", "--matrix"], "argument --matrix: expected one argument"),
    (["validate", "x" + ESC], "unrecognized arguments: x\\x1b[2J\\x1b[31m"),
    (["compile", "--check", "--" + ESC], "unrecognized arguments: --\\x1b[2J\\x1b[31m"),
    (["diff"], "the following arguments are required: old"),
    (["diff", "a", "b", "c" + ESC], "unrecognized arguments: c\\x1b[2J\\x1b[31m"),
    (["ch" + ESC + "eck"], "invalid choice: 'ch\\x1b[2J\\x1b[31meck'"),
]


@pytest.mark.parametrize("args,said", ARGPARSE, ids=[" ".join(a).encode("unicode_escape").decode() for a, _ in ARGPARSE])
def test_argparse_complaints_are_one_escaped_line(args, said):
    line = one_escaped_line(run(["-m", "checker", *args]))
    assert said in line and line.startswith("python -m checker") and line.endswith("--help)"), line


@pytest.mark.parametrize("url", ["https://example.org/" + ESC, "https://example.org/a\nb", "javascript:x" + ESC,
                                 "https://exa mple.org/", "https://[::1/"])
def test_a_bad_site_url_is_one_escaped_line(tmp_path, url):
    config = tmp_path / "c.yaml"
    config.write_text("deployment: online\nemail_system: gmail\n")
    line = one_escaped_line(run(["-m", "checker", "check", str(config), "--site-url", url]))
    assert line.startswith("--site-url '") and "expected an absolute http(s) address" in line, line


def test_build_refuses_a_site_url_with_escapes_in_one_line():
    line = one_escaped_line(run(["build.py", "--site-url", "https://example.org/" + ESC]))
    assert "site URL 'https://example.org/\\x1b[2J\\x1b[31m': expected an absolute http(s) address" in line, line


def test_the_site_url_rule():
    assert inputs.normalize_site_url(" https://example.org/sss ") == "https://example.org/sss/"
    for bad in ("https://x.org/\x1b", "https://x.org/\u202e", "ftp://x.org/", "https://x.org/?q", "/sss/"):
        with pytest.raises(inputs.SiteURLError):
            inputs.normalize_site_url(bad)


# -- YAML flow mappings and tags ---------------------------------------------------------
@pytest.mark.parametrize("text", ["{deployment: online, email_system: gmail}\n",
                                  "{deployment: online,\n email_system: gmail}\n",
                                  "  {'deployment': online, email_system: gmail}"])
def test_a_yaml_flow_mapping_is_yaml(text):
    result = run(["-m", "checker", "check", "-", "--lang", "en"], stdin=text)
    assert result.returncode == 0, result.stderr
    assert "Supported" in result.stdout
    assert inputs.load_config_text(text, "-") == {"deployment": "online", "email_system": "gmail"}


def test_json_stays_json():
    assert inputs.load_config_text('{"deployment": "online"}', "c.yaml") == {"deployment": "online"}
    # a .json file must be JSON, and text meant as JSON reports its JSON problem
    for text, name in (("{deployment: online}", "c.json"), ('{"deployment": "online",, }', "c.yaml")):
        with pytest.raises(inputs.InputError) as caught:
            inputs.load_config_text(text, name)
        assert caught.value.code == "invalid_json"
    with pytest.raises(inputs.InputError) as caught:
        inputs.load_config_text('{"a": 1, "a": 2}', "c.yaml")
    assert caught.value.code == "duplicate_key"


@pytest.mark.parametrize("text", ["deployment: !!str online\n", "deployment: !str online\n",
                                  "!!map {deployment: online}\n", "deployment: !!python/name:os.system x\n",
                                  "sync: !!seq [email]\n", "{deployment: !!str online}\n"])
def test_every_yaml_tag_is_refused(text):
    line = one_escaped_line(run(["-m", "checker", "check", "-", "--lang", "en"], stdin=text))
    assert "line 1" in line and "tag" in line.lower(), line


def test_the_matrix_keeps_its_plain_tags(tmp_path):
    """The matrix reader has its own rule (tooling/matrix.py): plain tags stay allowed there."""
    inputs.check_yaml_events("a: !!str x\n", 5)
    with pytest.raises(inputs.InputError):
        inputs.check_yaml_events("a: !!str x\n", 5, tags=False)

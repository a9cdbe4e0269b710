"""Hostile input to the command line and to evaluate_json: every answer is an exit
code that means what it says, one clean line per problem, within 1 s of CPU and
100 MB of memory over a valid run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import pytest

from checker import inputs
from checker.engine import evaluate_json, fill_placeholders

from .conftest import REPO

CPU_BUDGET = 1.0            # seconds of CPU over a valid run
MEMORY_BUDGET = 100 * 1024  # KB of peak resident memory over a valid run

VALID = '{"deployment": "online", "email_system": "gmail"}'
BOMB = ('a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")))


def run_measured(args, stdin_bytes=None, stdin=None):
    """Run the CLI; return (exit, stdout, stderr, cpu seconds, peak KB) of that process alone."""
    with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        if stdin_bytes is not None:
            given.write(stdin_bytes)
            given.seek(0)
            stdin = given
        proc = subprocess.Popen([sys.executable, "-m", "checker", *args], cwd=REPO,
                                stdin=stdin, stdout=out, stderr=err)
        deadline = time.monotonic() + 30
        while True:  # os.wait4 gives this child's own CPU time and peak memory
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"{args} did not finish in 30 s")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@pytest.fixture(scope="module")
def baseline():
    code, _out, _err, cpu, rss = run_measured(["check", "-", "--lang", "en"], VALID.encode())
    assert code == 0
    return cpu, rss


def write(tmp_path, name, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


# name, file name, content, exit, texts that must appear on standard error
HOSTILE = [
    ("alias bomb", "bomb.yaml", BOMB, 2, ["line 1", "anchors and aliases"]),
    ("anchor alone", "anchor.yaml", "deployment: &d online\nemail_system: gmail\n", 2, ["line 1", "anchors"]),
    ("100k-deep JSON", "deep.json", "[" * 100_000 + "]" * 100_000, 2, ["nested more than"]),
    ("100k-deep JSON object", "deep2.json", '{"a":' * 100_000 + "1" + "}" * 100_000, 2, ["nested more than"]),
    ("100k-deep YAML flow", "deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000, 2, ["nested more than"]),
    ("deep nesting in a value", "nest.json", '{"deployment": [[[[["online"]]]]], "email_system": "gmail"}', 2,
     ["nested more than 5"]),
    ("100 MB file", "big.yaml", b"a" * 100_000_000, 2, ["larger than 1 MB"]),
    ("just over 1 MB", "over.json", b" " * (1024 * 1024) + b"{}", 2, ["larger than 1 MB"]),
    ("a long flat list", "list.json", '{"sync": [' + ",".join(['"email"'] * 100_000) + "]}", 2,
     ["more than 19 entries"]),
    ("wide and deep within each limit", "wide.yaml",
     "\n".join(f"k{i}: [" + ",".join(["[" + ",".join(["x"] * 19) + "]"] * 19) + "]" for i in range(19)), 2,
     ["more than 19 entries"]),
    ("wide and deep JSON within each limit", "wide.json",
     "{" + ",".join(f'"k{i}": [' + ",".join(["[" + ",".join(['"x"'] * 19) + "]"] * 19) + "]" for i in range(19))
     + "}", 2, ["more than 19 entries"]),
    ("too many items for the field", "sync.yaml", "deployment: online\nemail_system: gmail\nsync: [email, email, email]\n",
     2, ["sync: a list of 3 items, but the field has only 2 values"]),
    ("duplicate JSON key", "dup.json", '{"deployment": "online", "deployment": "online", "email_system": "gmail"}', 2,
     ["deployment: field given twice"]),
    ("duplicate YAML key", "dup.yaml", "deployment: online\nemail_system: gmail\ndeployment: online\n", 2,
     ["line 3", "deployment: field given twice"]),
    ("python tag", "tag.yaml", "deployment: !!python/object/apply:os.system [echo hi]\n", 2,
     ["line 1", "YAML tag", "not accepted"]),
    ("local tag", "tag2.yaml", "deployment: !custom online\nemail_system: gmail\n", 2, ["line 1", "!custom"]),
    ("bad timestamp as a value", "ts.yaml", "deployment: online\nemail_system: 2024-13-45\n", 2,
     ['email_system: unknown value "2024-13-45"']),
    ("binary tag", "bin.yaml", "deployment: !!binary '@@@'\n", 2, ["line 1"]),
    ("unhashable key", "key.yaml", "? [a, b]\n: online\nemail_system: gmail\n", 2, ["line 1", "field name must be text"]),
    ("mapping key", "key2.yaml", "deployment: online\n{a: 1}: online\n", 2, ["line 2", "field name must be text"]),
    ("tagged mapping", "tag3.yaml", "!!python/object:os.system {a: 1}\n", 2, ["line 1", "YAML tag"]),
    ("two documents", "docs.yaml", "deployment: online\n---\nemail_system: gmail\n", 2, ["line 2", "invalid YAML"]),
    ("bad YAML", "bad.yaml", "deployment: online\nemail_system: [gmail\n", 2, ["line 3", "invalid YAML"]),
    ("bad JSON", "bad.json", '{"deployment": "online",\n', 2, ["line 2", "invalid JSON"]),
    ("not UTF-8", "latin.yaml", b"deployment: onl\xe9ne\n", 2, ["not UTF-8"]),
    ("NUL bytes", "nul.yaml", b"deployment: online\x00\n", 2, ["invalid YAML"]),
    ("empty", "empty.yaml", "  \n\n", 2, ["empty"]),
    ("placeholder text in a field name", "ph.json",
     '{"{allowed}{allowed}{allowed}": 1, "deployment": "online", "email_system": "gmail"}', 2,
     ["{allowed}{allowed}{allowed}: unknown field"]),
    ("placeholder text in a value", "ph2.json", '{"deployment": "{allowed}", "email_system": "gmail"}', 2,
     ['deployment: unknown value "{allowed}"']),
    ("escape sequences in a field name", "esc.json",
     '{"\\u001b[2J\\u001b[31mred\\r\\n\\u202eevil\\u0085": 1, "deployment": "online", "email_system": "gmail"}', 2,
     ["\\x1b[2J\\x1b[31mred\\r\\n\\u202eevil\\x85: unknown field"]),
    ("escape sequences in a YAML key", "esc.yaml", 'deployment: online\nemail_system: gmail\n"\\e[31m": 1\n', 2,
     ["\\x1b[31m: unknown field"]),
    ("huge integer", "int.yaml", "deployment: online\nemail_system: " + "9" * 5000 + "\n", 2, ["line 2", "invalid YAML"]),
    ("a scalar", "scalar.yaml", "online\n", 2, ["expected a mapping"]),
]


@pytest.mark.parametrize("name,filename,content,expected_exit,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_file(tmp_path, baseline, name, filename, content, expected_exit, expected):
    path = write(tmp_path, filename, content)
    code, out, err, cpu, rss = run_measured(["check", path, "--lang", "en"], b"")
    assert code == expected_exit, err
    assert out == ""
    assert "Traceback" not in err
    for text in expected:
        assert text in err
    for char in err:  # no raw control character reaches the terminal but the line ends
        assert char == "\n" or (ord(char) >= 0x20 and not 0x7F <= ord(char) <= 0x9F and char not in "\u202e\u2028"), repr(err)
    assert cpu - baseline[0] <= CPU_BUDGET, f"{cpu:.2f} s of CPU"
    assert rss - baseline[1] <= MEMORY_BUDGET, f"{rss} KB peak"


def test_dev_zero_is_too_large(baseline):
    code, out, err, cpu, rss = run_measured(["check", "/dev/zero", "--lang", "en"], b"")
    assert (code, out) == (2, "")
    assert err.strip() == "/dev/zero: the input is larger than 1 MB; a configuration is a few lines of field: value"
    assert cpu - baseline[0] <= CPU_BUDGET and rss - baseline[1] <= MEMORY_BUDGET


def test_endless_standard_input_is_too_large(baseline):
    with open("/dev/zero", "rb") as zero:
        code, out, err, cpu, rss = run_measured(["check", "-", "--lang", "en"], stdin=zero)
    assert (code, out) == (2, "")
    assert "-: the input is larger than 1 MB" in err
    assert cpu - baseline[0] <= CPU_BUDGET and rss - baseline[1] <= MEMORY_BUDGET


# -- exit 3: the command could not do its work -------------------------------------
def test_closed_standard_input_is_exit_3():
    result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", "en"], cwd=REPO,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                            preexec_fn=lambda: os.close(0))
    assert result.returncode == 3
    assert result.stderr.strip() == "-: cannot read: standard input is closed"


def test_closed_standard_output_is_exit_3():
    result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", "en"], cwd=REPO,
                            input=VALID, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            timeout=30, preexec_fn=lambda: os.close(1))
    assert result.returncode == 3
    assert result.stderr.strip() == "cannot write the output: standard output is closed"


def test_full_standard_output_is_exit_3():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", "en"], cwd=REPO,
                                input=VALID, stdout=full, stderr=subprocess.PIPE, text=True, timeout=30)
    assert result.returncode == 3
    assert result.stderr.strip() == "cannot write the output: No space left on device"


def test_broken_pipe_is_exit_3_without_a_traceback():
    read, write_end = os.pipe()
    os.close(read)  # nobody will ever read what the command writes
    try:
        result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", "en"], cwd=REPO,
                                input=VALID.encode(), stdout=write_end, stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(write_end)
    err = result.stderr.decode()
    assert result.returncode == 3, err
    assert err.strip() == "cannot write the output: Broken pipe"


@pytest.mark.parametrize("target", ["nope.yaml", "."], ids=["missing", "a folder"])
def test_unreadable_file_is_exit_3(tmp_path, target):
    path = tmp_path / target
    result = subprocess.run([sys.executable, "-m", "checker", "check", str(path), "--lang", "en"], cwd=REPO,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ": cannot read: " in lines[0]


def test_a_bug_is_exit_3_in_one_line(tmp_path):
    """A crash inside the command (here: the compiled rules are broken) is named in one line, exit 3."""
    fake = tmp_path / "checker"
    fake.mkdir()
    for src in (REPO / "checker").glob("*.py"):
        (fake / src.name).write_bytes(src.read_bytes())
    (fake / "rules.json").write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "checker", "check", "-"], cwd=tmp_path,
                            input=VALID, capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error (JSONDecodeError:"), result.stderr


# -- evaluate_json: the page's entry point, same bounds -------------------------------
EVALUATE = [
    ("not JSON", "{", "bad_json"),
    ("100k deep", "[" * 100_000 + "]" * 100_000, "too_deep"),
    ("deep config", '{"config": {"deployment": [[[[["x"]]]]]}}', "too_deep"),
    ("2 MB", '{"config": {}, "pad": "' + "x" * 2_000_000 + '"}', "too_large"),
    ("duplicate keys", '{"config": {"deployment": "online", "deployment": "online"}}', "duplicate_key"),
    ("long list", '{"config": {"sync": [' + ",".join(['"email"'] * 100_000) + "]}}", "too_many_items"),
    ("list longer than the field", '{"config": {"deployment": "online", "email_system": "gmail", '
     '"sync": ["email", "email", "email"]}}', "list_too_long"),
    ("placeholder text", '{"config": {"{allowed}": 1, "deployment": "online", "email_system": "gmail"}}',
     "unknown_field"),
    ("not text", None, "bad_json"),
]


@pytest.mark.parametrize("name,request_text,code", EVALUATE, ids=[e[0] for e in EVALUATE])
def test_evaluate_json_bounds(name, request_text, code):
    tracemalloc.start()
    start = time.process_time()
    try:
        answer = json.loads(evaluate_json(request_text))
        cpu = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [e["code"] for e in answer["errors"]] == [code]
    assert cpu <= CPU_BUDGET and peak <= MEMORY_BUDGET * 1024, (cpu, peak)
    if name == "placeholder text":
        message = answer["errors"][0]["message"]
        assert message.startswith("{allowed}: ") and message.count("deployment") == 1


def test_evaluate_json_speaks_the_requested_language():
    answer = json.loads(evaluate_json('{"lang": "en", "config": {"a": 1, "a": 2}}'))
    assert answer["errors"][0]["message"] == "a: field given twice; give each field once"
    answer = json.loads(evaluate_json('{"lang": "pt-BR", "config": {"a": 1, "a": 2}}'))
    assert answer["errors"][0]["message"] == "a: campo informado duas vezes; informe cada campo uma vez"


def test_evaluate_json_still_answers_valid_requests():
    answer = json.loads(evaluate_json('{"lang": "en", "config": ' + VALID + "}"))
    assert answer["status"] == "supported"


# -- the pieces ----------------------------------------------------------------------
def test_placeholders_are_filled_in_one_pass():
    assert fill_placeholders("{field}: {allowed}", {"field": "{allowed}", "allowed": "a, b"}) == "{allowed}: a, b"
    assert fill_placeholders("{a}{b}{a}", {"a": "{b}", "b": "x"}) == "{b}x{b}"
    assert fill_placeholders("{unknown} and {}", {"a": "1"}) == "{unknown} and {}"


def test_printable_escapes_every_control_character():
    assert inputs.printable("a\x1b[31mb\nc\td\x7f\x9b\u202e\u2028é") == "a\\x1b[31mb\\nc\\td\\x7f\\x9b\\u202e\\u2028é"


def test_read_limited_reads_one_byte_past_the_limit():
    class Stream:
        asked = []

        def read(self, n):
            self.asked.append(n)
            return b"x" * n

    with pytest.raises(inputs.InputError) as exc:
        inputs.read_limited(Stream(), 10)
    assert exc.value.code == "too_large" and Stream.asked == [11]


def test_limits_come_from_the_matrix(engine):
    max_items, sizes = inputs.limits_for(engine.fields)
    assert max_items == len(engine.fields)
    assert sizes == {"sync": 2}


def test_resource_module_reports_kilobytes():
    # ru_maxrss is in kilobytes on Linux (bytes on macOS): the budgets above assume Linux.
    assert sys.platform.startswith("linux")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 1000

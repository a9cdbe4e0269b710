"""The dev server (`mkdocs serve` with hooks/matrix_site.py) keeps serving the last
good pages through every kind of failure while regenerating (a broken matrix, a
template error, an engine that does not compile), names the file and line, and
recovers on the next good save. Runs on a copy of the checkout."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from .conftest import REPO

# tests/fixtures/org: the sample exports the build runs the organization check on
# to find the standard library files the page needs (sitegen/runtime.py).
COPIED = ["checker", "tooling", "sitegen", "hooks", "overrides", "matrix", "mkdocs.yml", "pyproject.toml", "README.md",
          "hatch_build.py", "tests/fixtures/org"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root):
        self.root = root
        self.port = free_port()
        self.log = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{self.port}"],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(root)}, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def text(self) -> str:
        return "".join(self.log)

    def get(self, path: str) -> str:
        """The page, without the live-reload script's build counters."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{path}", timeout=10) as response:
            assert response.status == 200
            return re.sub(r"reload\(\d+, \d+\)", "reload()", response.read().decode())

    def wait_for(self, predicate, what: str, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the server stopped:\n" + self.text()
            try:
                if predicate():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}; server said:\n{self.text()[-3000:]}")

    def wait_log(self, text: str, after: int):
        self.wait_for(lambda: text in "".join(self.log[after:]), repr(text))

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "checkout"
    root.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / name)
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("*.md", "api", "feeds", "pyodide"))
    shutil.copytree(REPO / "build" / "wheel", root / "build" / "wheel")  # the same inputs: no new wheel
    os.symlink(REPO / "node_modules", root / "node_modules")
    server = Server(root)
    try:
        server.wait_for(lambda: "Notes" in server.get("en/notes/"), "the first build")
        # every language is served, the root one too (it once went missing: the
        # served folder was swapped in before the other languages were built)
        assert 'lang="pt-BR"' in server.get("notes/") and 'lang="pt-BR"' in server.get("")
        yield server
    finally:
        server.stop()


def edit(path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_serve_keeps_the_last_good_pages_through_every_failure(server):
    root = server.root
    strings = root / "matrix" / "strings.yaml"
    notes = root / "matrix" / "notes.yaml"
    template = root / "sitegen" / "templates" / "page.md.j2"
    engine = root / "checker" / "engine.py"
    override = root / "overrides" / "main.html"
    good = {path: path.read_text(encoding="utf-8") for path in (strings, template, engine, override)}
    page = "en/notes/"
    intro = "Points that qualify the support matrix"

    def spoil(path, tail):
        return lambda: path.write_text(good[path] + tail, encoding="utf-8")

    def restore(path):
        return lambda: path.write_text(good[path], encoding="utf-8")

    failures = [
        ("a broken matrix", spoil(strings, "\nbroken: [\n"), restore(strings),
         ["matrix/strings.yaml:", "invalid YAML", "still serving the last good pages"]),
        ("a matrix nested too deep", spoil(strings, "\nbroken: " + "[" * 50_000 + "]" * 50_000 + "\n"),
         restore(strings), ["matrix/strings.yaml:", "nested more than", "still serving the last good pages"]),
        ("a template error", spoil(template, "\n{% if %}\n"), restore(template),
         ["sitegen/templates/page.md.j2:", "still serving the last good pages"]),
        ("an engine that does not compile", spoil(engine, "\ndef broken(:\n"), restore(engine),
         ["checker/engine.py:", "SyntaxError", "still serving the last good pages"]),
        # the theme's templates: MkDocs' server stopped answering on these
        ("a theme override that does not parse", spoil(override, "\n{% if %}\n"), restore(override),
         ["overrides/main.html:", "TemplateSyntaxError", "still serving the last good pages"]),
        ("a theme override that fails while rendering",
         lambda: edit(override, "{{ super() }}", "{{ super() }}{{ page.nothing.more() }}"), restore(override), ["overrides/main.html:", "UndefinedError", "still serving the last good pages"]),
    ]
    before = server.get(page)
    # live reload is an inline script no policy hash can allow: served pages go without one
    assert "livereload(" in before and "Content-Security-Policy" not in before
    for round_, (what, break_it, fix_it, said) in enumerate(failures, 1):
        mark = len(server.log)
        break_it()
        for text in [*said, "Reloading browsers"]:  # the rebuild is over
            server.wait_log(text, mark)
        assert server.get(page) == before, f"{what}: the page changed"
        assert "Traceback" not in "".join(server.log[mark:]), what
        # The next good save recovers: the fix and a visible edit show up.
        fix_it()
        marker = f"Round {round_}."
        text = notes.read_text(encoding="utf-8")
        notes.write_text(text.replace(intro, f"{marker} {intro}", 1).replace(f"Round {round_ - 1}. ", ""),
                         encoding="utf-8")
        server.wait_for(lambda: marker in server.get(page), f"recovery after {what}")
        before = server.get(page)

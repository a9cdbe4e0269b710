"""Builds at the same time: two `python build.py` into one site/, and a build beside
`mkdocs serve` rebuilding after a matrix edit. Each round leaves a whole site
(home page, checker and organization pages in both languages), every build exits
0 without a traceback, and no build folder another build writes is removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import build

from .conftest import REPO
from .test_serve import server  # noqa: F401  (fixture: mkdocs serve on a copy of the checkout)

PAGES = ("index.html", "en/index.html", "checker/index.html", "en/checker/index.html", "org/index.html",
         "en/org/index.html", "en/notes/index.html")

BUILD = "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import build; " \
        "sys.exit(build.build_site(Path(sys.argv[2])))"


def start_build(root: Path, site: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BUILD, str(root), str(site)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


def assert_whole(site: Path) -> None:
    assert site.is_symlink(), "site/ is a link to a complete build"
    for page in PAGES:
        assert (site / page).is_file(), f"{page} is missing from the published site"
    leftovers = [p.name for p in site.parent.glob(f".{site.name}-*") if p.resolve() != site.resolve()]
    assert not leftovers, leftovers


def test_two_builds_at_once_publish_a_whole_site(tmp_path):
    site = tmp_path / "site"
    for round_ in range(2):
        procs = [start_build(REPO, site) for _ in range(2)]
        results = [finish(p) for p in procs]
        for code, said in results:
            assert code == 0 and "Traceback" not in said, (round_, said)
        assert_whole(site)
        # the second build waited for the first, and said for which process
        assert any("another build (process " in said for _code, said in results), results


def test_a_build_beside_serve_after_a_matrix_edit(server):  # noqa: F811
    root = server.root
    (root / "build.py").write_text((REPO / "build.py").read_text(encoding="utf-8"), encoding="utf-8")
    # the precompressed runtime (once per machine: minutes of brotli on a busy one)
    for cache in ("precompressed", "gzip-stamps"):
        if (REPO / "build" / cache).is_dir():
            shutil.copytree(REPO / "build" / cache, root / "build" / cache, dirs_exist_ok=True)
    notes = root / "matrix" / "notes.yaml"
    site = root / "site"
    intro = "Points that qualify the support matrix"
    for round_ in range(2):
        marker = f"Concurrent {round_}."
        text = notes.read_text(encoding="utf-8")
        notes.write_text(text.replace(intro, f"{marker} {intro}", 1), encoding="utf-8")
        time.sleep(0.2)  # the server notices the edit and starts rebuilding
        code, said = finish(start_build(root, site))
        assert code == 0 and "Traceback" not in said, said
        assert_whole(site)
        assert marker in (site / "en" / "notes" / "index.html").read_text(encoding="utf-8")
        server.wait_for(lambda: marker in server.get("en/notes/"), "the server's rebuild")
        assert "Traceback" not in server.text()


def test_a_build_whose_folder_is_removed_publishes_nothing(tmp_path):
    site = tmp_path / "site"
    old = tmp_path / ".site-build-old"
    (old / "en").mkdir(parents=True)
    (old / "index.html").write_text("old")
    os.symlink(old.name, site)
    gone = tmp_path / ".site-build-1-gone"
    gone.mkdir()  # what a build finds when its folder was emptied under it
    with pytest.raises(build.BuildGone, match="nothing was published"):
        build.swap_in(gone, site)
    assert (site / "index.html").read_text() == "old"


def test_a_running_builds_folder_is_not_cleaned(tmp_path):
    site = tmp_path / "site"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        running = tmp_path / f".site-build-{other.pid}-abc"
        running.mkdir()
        dead = tmp_path / ".site-build-left-over"
        dead.mkdir()
        build.clean_interrupted(site)
        assert running.is_dir(), "the folder of a running build was removed"
        assert not dead.exists()
    finally:
        other.kill()
        other.wait()
    build.clean_interrupted(site)
    assert not running.exists(), "the folder of a build that ended is a left-over"


def test_a_checkout_without_the_sample_exports_is_told_what_is_missing(tmp_path, monkeypatch):
    """The build runs the organization check on tests/fixtures/org to find the
    standard library the page imports; a copy without them is told so, not handed
    a Python traceback from inside the runtime (or a library that lacks modules)."""
    from sitegen import runtime

    monkeypatch.setattr(runtime, "REPO", tmp_path)
    with pytest.raises(RuntimeError, match=r"needs the sample exports tests/fixtures/org/profiles\.json, .*which are missing"):
        runtime.build_stdlib(tmp_path / "no.whl")

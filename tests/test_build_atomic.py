"""A build killed at any moment leaves the previous complete site/ or the new one;
site/ is world-readable; what interrupted builds leave is cleaned by the next."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import build

from .conftest import REPO

# The child makes a new build and publishes it, killing itself with SIGKILL just
# before its Nth file-system change (N from the command line), so the test can
# stop it at every step in turn.
CHILD = textwrap.dedent("""
    import os, signal, sys, tempfile
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import build
    site, kill_at = Path(sys.argv[2]), int(sys.argv[3])
    count = 0
    def wrap(name):
        real = getattr(os, name)
        def call(*args, **kwargs):
            global count
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(os, name, call)
    for name in ("mkdir", "symlink", "replace", "rename", "unlink", "rmdir", "chmod"):
        wrap(name)
    build.clean_interrupted(site)
    built = Path(tempfile.mkdtemp(prefix=build._build_prefix(site), dir=site.parent))
    os.chmod(built, 0o700)
    os.mkdir(built / "en")
    (built / "en" / "index.html").write_text("new")
    (built / "index.html").write_text("new")
    build.swap_in(built, site)
    print(count)
""")


def run_child(site, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(site), str(kill_at)],
                          capture_output=True, text=True, timeout=60)


def make_old_site(site, as_link: bool) -> None:
    if as_link:
        built = site.parent / ".site-build-old"
        built.mkdir()
        (built / "index.html").write_text("old")
        (built / "en").mkdir()
        (built / "en" / "index.html").write_text("old")
        os.symlink(built.name, site)
    else:  # a site/ folder from before site/ was a link
        site.mkdir()
        (site / "index.html").write_text("old")
        (site / "en").mkdir()
        (site / "en" / "index.html").write_text("old")


def next_build(site) -> None:
    """What build_site does around mkdocs: clean, build into a new folder, publish."""
    build.clean_interrupted(site)
    built = Path(tempfile.mkdtemp(prefix=build._build_prefix(site), dir=site.parent))
    (built / "en").mkdir()
    (built / "en" / "index.html").write_text("new")
    (built / "index.html").write_text("new")
    build.swap_in(built, site)


def leftovers(site) -> list[str]:
    return sorted(p.name for p in site.parent.iterdir() if p.name.startswith(".site-"))


@pytest.mark.parametrize("as_link", [True, False], ids=["site is a link", "site is a folder"])
def test_a_kill_at_every_step_leaves_a_complete_site(tmp_path, as_link):
    steps = None
    kill_at = 1
    while steps is None:
        folder = tmp_path / f"kill-{kill_at}"
        folder.mkdir()
        site = folder / "site"
        make_old_site(site, as_link)
        result = run_child(site, kill_at)
        if result.returncode == 0:
            steps = int(result.stdout)
        else:
            assert result.returncode == -9, result.stderr
        # Whatever the moment, site/ is one whole build: the old or the new.
        page, nested = (site / "index.html").read_text(), (site / "en" / "index.html").read_text()
        assert page == nested and page in ("old", "new"), (kill_at, page, nested)
        # The next build cleans what the killed one left, and publishes.
        next_build(site)
        assert (site / "index.html").read_text() == "new"
        assert leftovers(site) == [os.readlink(site)], (kill_at, leftovers(site))
        kill_at += 1
        assert kill_at < 200
    assert steps >= 5  # the test did stop the build at several points


def test_site_is_world_readable(site):
    for path in (site.resolve(), site / "index.html", site / "en", site / "en" / "checker" / "index.html"):
        mode = path.stat().st_mode
        assert mode & stat.S_IROTH, path
        if path.is_dir():
            assert mode & stat.S_IXOTH, path


def test_interrupted_builds_are_ignored_by_git():
    for name in ("site", ".site-build-abc123", ".site-link-4242"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO)
        assert result.returncode == 0, name


def test_a_real_build_is_published_as_a_link(site):
    assert site.is_symlink()
    target = site.resolve()
    assert target.parent == site.parent.resolve() and target.name.startswith(build._build_prefix(site))

"""Two builds of the same commit, in two different folders and on two different
days, give byte-identical sites: no build output carries the build machine's
paths, clocks or random bytes. sitemap.xml.gz is compared too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .clock import later_env
from .conftest import REPO
from .test_site import digest_tree

DAYS_AHEAD = 400.55  # another year, and past midnight UTC whatever the hour


def test_two_folders_on_two_days_build_byte_identical_sites(site, tmp_path):
    assert "SOURCE_DATE_EPOCH" not in os.environ, "unset SOURCE_DATE_EPOCH: the builds must find the date"
    other = tmp_path / "another" / "place-for-the-checkout"
    # A clone has the same commits, so the same date; this checkout's uncommitted
    # and untracked files are copied over it, as the first build saw them.
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(other)], check=True)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file() and not src.is_symlink():
            (other / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, other / name)
    os.symlink(REPO / "node_modules", other / "node_modules")
    # Compressed copies are cached by the digest of what they compress: sharing
    # the cache saves minutes and cannot hide a difference (other content, other key).
    # The wheel and the snapshot are made anew.
    shutil.copytree(REPO / "build" / "precompressed", other / "build" / "precompressed")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH")}
    result = subprocess.run([sys.executable, "build.py"], cwd=other, capture_output=True, text=True,
                            timeout=900, env=later_env(env, DAYS_AHEAD))
    assert result.returncode == 0, result.stderr[-3000:]
    # its own wheel and snapshot, made in that folder
    assert (other / "build" / "wheel" / "snapshot.ssz.gz").is_file()
    assert len(list((other / "build" / "wheel").glob("*.whl"))) == 1
    first, second = digest_tree(site), digest_tree(other / "site")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    # nor does any asset name either folder
    for root in (REPO, other):
        needle = str(root).encode()
        for path in (other / "site").resolve().rglob("*"):
            if path.is_file() and path.suffix != ".gz":
                assert needle not in path.read_bytes(), (path, root)

"""Two builds of the same commit in two different folders give byte-identical
sites: no build output carries the build machine's paths, clocks or random bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .conftest import REPO
from .test_site import digest_tree


def test_two_folders_build_byte_identical_sites(site, tmp_path):
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    other = tmp_path / "another" / "place-for-the-checkout"
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
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "build.py"], cwd=other, capture_output=True, text=True,
                            timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    # its own wheel and snapshot, made in that folder
    assert (other / "build" / "wheel" / "snapshot.ssz.gz").is_file()
    assert len(list((other / "build" / "wheel").glob("*.whl"))) == 1
    first, second = digest_tree(site), digest_tree(other / "site")
    # sitemap.xml.gz carries the gzip time stamp of the moment it was written
    first.pop("sitemap.xml.gz"), second.pop("sitemap.xml.gz")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    # nor does any asset name either folder
    for root in (REPO, other):
        needle = str(root).encode()
        for path in (other / "site").resolve().rglob("*"):
            if path.is_file() and path.suffix != ".gz":
                assert needle not in path.read_bytes(), (path, root)

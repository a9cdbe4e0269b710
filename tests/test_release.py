"""`python -m build` from the repository root, in a venv that has nothing but
PyPA's build (as README says it works), gives an sdist and a wheel that both
carry the LICENSE the package metadata names."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile

from .conftest import REPO


def pinned(*names: str) -> str:
    """Those packages' lines of requirements.txt, hashes included."""
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    wanted = {n.lower() for n in names}
    found = [m.group(0) for m in re.finditer(r"^([A-Za-z][\w.-]*)==.*?(?=^[A-Za-z#]|\Z)", text, flags=re.M | re.S)
             if m.group(1).lower() in wanted]
    assert len(found) == len(wanted), names
    return "".join(found)


def test_python_m_build_in_a_clean_venv_and_the_license_ships(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    reqs = tmp_path / "build-only.txt"
    # PyPA's build and the backend pyproject.toml names, from the pins (--no-isolation
    # then needs no index: the suite stays quick and the venv holds nothing else)
    reqs.write_text(pinned("build", "packaging", "pyproject_hooks", "hatchling", "pathspec", "pluggy",
                           "trove-classifiers", "tomlkit"), encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--require-hashes", "--no-deps", "-r", str(reqs)], check=True, capture_output=True)
    assert subprocess.run([str(python), "-c", "import yaml"], capture_output=True).returncode != 0  # really clean
    out = tmp_path / "dist"
    result = subprocess.run([str(python), "-m", "build", "--no-isolation", "--outdir", str(out), "."], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Successfully built" in result.stdout  # PyPA's build, not the site's
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    (sdist,) = out.glob("sss_checker-*.tar.gz")
    with tarfile.open(sdist) as tar:
        (member,) = [m for m in tar.getmembers() if m.name.endswith("/LICENSE")]
        assert tar.extractfile(member).read().decode("utf-8") == license_text
    (wheel,) = out.glob("sss_checker-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (licensed,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(licensed).decode("utf-8") == license_text
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode("utf-8")
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert not (out / "index.html").exists()

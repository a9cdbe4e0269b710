"""The GitHub Pages workflow can run: actions pinned by commit, the image by
digest, no credentials left for the package code, and ``./run setup``'s pins
installable on every CPython README supports, the workflow's included.

What this cannot do here: start the workflow's container (no container engine
on the project's machines). The pins are checked against PyPI for each
version instead: pip, told the target version and platform, fetches the exact
wheel it would install there and refuses it unless its hash is listed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# The CPython each Debian release ships as python3 (what the workflow's image runs).
DEBIAN_PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64", "any"]


def supported_pythons() -> list[str]:
    """README's promise, e.g. 'CPython 3.11 (3.11.5 or later) or 3.13' -> ['3.11.5', '3.13']."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"On a Debian machine with CPython (3\.\d+) \((3\.\d+\.\d+) or later\) or (3\.\d+),", text)
    assert found, "README's Quick start should say which CPython versions are supported"
    first, floor, second = found.groups()
    assert floor.startswith(first + ".")
    return [floor, second]


def test_actions_are_pinned_by_commit_and_the_image_by_digest():
    assert WORKFLOWS
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        uses = re.findall(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", text, flags=re.M)
        assert uses, path
        for ref, rest in uses:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by commit"
            assert re.fullmatch(r"\s+# v\d+(\.\d+)*", rest), f"{path.name}: {ref} should name its tag in a comment"
        for job in yaml.safe_load(text)["jobs"].values():
            image = job.get("container")
            if isinstance(image, dict):
                image = image["image"]
            if image:
                assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), f"{image} has no digest"


def test_checkout_leaves_no_credentials_for_the_package_code():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            steps = job.get("steps", [])
            for i, step in enumerate(steps):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, path.name
                    # nothing of the repository's ran before the checkout either
                    assert not any("./run" in s.get("run", "") for s in steps[:i])


def test_the_workflow_image_runs_a_supported_python_and_installs_what_run_test_needs():
    flow = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    job = flow["jobs"]["test-and-build"]
    release = re.match(r"debian:(\w+)", job["container"]).group(1)
    assert release in DEBIAN_PYTHON, f"which python3 does debian:{release} ship? (add it to DEBIAN_PYTHON)"
    python = DEBIAN_PYTHON[release]
    assert any(v == python or v.startswith(python + ".") for v in supported_pythons()), (release, python)
    tools = next(s["run"] for s in job["steps"] if "apt-get install" in s.get("run", ""))
    packages = set(tools.split("--no-install-recommends", 1)[1].replace("\\", " ").split(">", 1)[0].split())
    # run's setup needs python3 -m venv, npm ci and git; `./run test` needs chromium and nginx
    assert {"python3", "python3-venv", "nodejs", "npm", "git", "ca-certificates", "chromium", "nginx"} <= packages
    run = (REPO / "run").read_text(encoding="utf-8")
    wanted = {pkg for line in re.findall(r"^\s*apt_install ([^\n]+)", run, flags=re.M) for pkg in line.split()}
    assert {"chromium", "nginx", "libnginx-mod-http-brotli-static"} <= wanted
    assert wanted <= packages, f"./run installs {wanted - packages}; the image should have them before ./run test"


def pip_download(version: str, dest) -> subprocess.Popen:
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--require-hashes", "--implementation", "cp",
            "--python-version", version, *(f"--platform={p}" for p in PLATFORMS),
            "-d", str(dest), "-r", str(REPO / "requirements.txt")]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_every_pin_has_the_hash_of_each_supported_pythons_wheel(tmp_path):
    """What `./run setup` (pip install --require-hashes) meets on each version
    README promises, 3.12 as the control: it is not promised and must fail."""
    versions = supported_pythons()
    assert "3.13" in versions
    runs = {v: pip_download(v, tmp_path / v) for v in [*versions, "3.12"]}
    results = {v: (p.wait(timeout=300), p.stderr.read()) for v, p in runs.items()}
    for p in runs.values():
        p.stdout.close()
        p.stderr.close()
    if any("Could not fetch URL" in err or "NewConnectionError" in err for _, err in results.values()):
        pytest.fail("PyPI could not be reached; ./run setup needs it too")
    for version in versions:
        code, err = results[version]
        assert code == 0, f"CPython {version}: {err[-2000:]}"
        wheels = sorted(p.name for p in (tmp_path / version).iterdir())
        pins = [line for line in (REPO / "requirements.txt").read_text().splitlines() if re.match(r"^[A-Za-z]", line)]
        assert len(wheels) == len(pins), (version, wheels)
        tag = "cp" + version.replace(".", "")[:3]
        assert any(f"-{tag}-" in w for w in wheels), wheels  # it really fetched that version's wheels
    code, err = results["3.12"]
    assert code != 0 and "DO NOT MATCH THE HASHES" in err

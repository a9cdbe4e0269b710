"""Shared fixtures: the compiled matrix, the loaded YAML, and the case table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checker import load_matrix
from tooling import matrix as tooling

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CASES_DIR = TESTS / "cases"


def load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            cases.append({**case, "file": path.name})
    return cases


CASES = load_cases()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The whole site, built once for the session with build.py."""
    import build

    target = tmp_path_factory.mktemp("build") / "site"
    assert build.build_site(target) == 0
    return target


PUBLIC = "https://example.org/sss/"


@pytest.fixture(scope="session")
def public_site(tmp_path_factory) -> Path:
    """The site built once for a public address under a sub-path (/sss/), as a
    project site on GitHub Pages or a location on another server is."""
    import build

    target = tmp_path_factory.mktemp("public") / "site"
    assert build.build_site(target, site_url=PUBLIC) == 0
    return target


@pytest.fixture(scope="session")
def engine():
    return load_matrix()


@pytest.fixture(scope="session")
def loaded():
    return tooling.load()

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

# The project's facts and contract (FACTS.md, CONTRACT.md) live in shared/ beside the
# clone, as in development and CI. A test that reads them fails when they are missing,
# unless the run says it has no shared/ knowingly: SSS_TESTS_WITHOUT_SHARED=1 (the
# GitHub Pages workflow, whose checkout is the repository alone), where it skips.
SHARED = REPO.parent / "shared"
WITHOUT_SHARED_ENV = "SSS_TESTS_WITHOUT_SHARED"


def shared_file(name: str) -> Path:
    path = SHARED / name
    if path.is_file():
        return path
    import os

    if os.environ.get(WITHOUT_SHARED_ENV) == "1":
        pytest.skip(f"{WITHOUT_SHARED_ENV}=1: this run has no shared/ beside the checkout")
    pytest.fail(f"{path} is missing: this test checks the matrix against the project's shared/{name}, "
                f"which belongs beside the clone; a run without shared/ must say so with {WITHOUT_SHARED_ENV}=1",
                pytrace=False)


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


# -- a clean console in every browser test ------------------------------------------
# Every browser context a test opens (however it opens it) is watched: any response
# with a 4xx or 5xx status, any console error and any uncaught page error fails the
# test. BROWSER_ALLOWED is the reviewed list of what a page may still log, as
# (kind, regular expression over the message) pairs, kind being "response",
# "console" or "pageerror". It is empty: every page loads clean in both languages.
# Adding to it needs a reason written beside the entry.
BROWSER_ALLOWED: tuple[tuple[str, str], ...] = ()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser_expects(*patterns): problems this test provokes on purpose (regular "
                   "expressions over 'kind: message'); each must occur, and nothing else may")


def _watch(context, problems: list[str]) -> None:
    def on_response(response):
        if response.status >= 400:
            problems.append(f"response: {response.status} {response.request.method} {response.url}")

    def on_console(message):
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            problems.append(f"console: {message.text} ({where})")

    context.on("response", on_response)
    context.on("console", on_console)
    context.on("weberror", lambda error: problems.append(f"pageerror: {error.error}"))


def browser_problems(problems: list[str], expected: tuple[str, ...]) -> list[str]:
    """What fails the test: each problem neither allowed nor expected, and each
    expected pattern that never occurred."""
    import re

    allowed = [re.compile(rf"{kind}: (?:{pattern})") for kind, pattern in BROWSER_ALLOWED]
    wanted = [re.compile(pattern) for pattern in expected]
    unexpected = [p for p in problems if not any(r.match(p) for r in allowed) and not any(w.search(p) for w in wanted)]
    missing = [f"expected but never seen: {w.pattern}" for w in wanted if not any(w.search(p) for p in problems)]
    return unexpected + missing


@pytest.fixture(autouse=True)
def clean_browser_console(request, monkeypatch):
    """Fail any browser test on a 4xx/5xx response or a console error (see BROWSER_ALLOWED)."""
    try:
        from playwright.sync_api import Browser, BrowserContext  # noqa: F401
    except ImportError:
        yield []
        return
    problems: list[str] = []
    new_context, new_page = Browser.new_context, Browser.new_page

    def watched_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        _watch(context, problems)
        return context

    def watched_page(self, *args, **kwargs):
        page = new_page(self, *args, **kwargs)
        _watch(page.context, problems)
        return page

    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    yield problems
    marker = request.node.get_closest_marker("browser_expects")
    failed = browser_problems(problems, tuple(marker.args) if marker else ())
    if failed:
        pytest.fail("the browser met problems no test expects:\n  " + "\n  ".join(failed), pytrace=False)

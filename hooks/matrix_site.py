"""MkDocs hook: regenerate the pages and the checker's assets before every build,
and finish the built site after it (the pages' Content-Security-Policy, then
what a public host needs).

With `mkdocs serve`, an edit in matrix/, sitegen/ or checker/ rebuilds what it
affects and reloads the browser. Any failure while regenerating (a matrix with
problems, a template error, an engine error) prints what went wrong, with file
and line, and leaves the last good pages in place, so the server keeps serving
them; the next good save recovers. So does a failure later in the rebuild (a
theme override in overrides/): see on_config and on_serve. A plain build stops
on the same failures. Builds take the checkout's build lock (sitegen/buildlock.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from pathlib import Path

# The hook runs inside mkdocs, which does not put the repository on the path.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tooling import matrix as tooling  # noqa: E402

import sitegen  # noqa: E402
from sitegen import buildlock, csp, publish  # noqa: E402

_state = {"command": "build", "loaded": None, "locked": False}


def _lock() -> None:
    """One build at a time (sitegen/buildlock.py): `mkdocs serve` rebuilding after
    an edit waits for a `python build.py` at work, and the other way round.
    build.py already holds the lock around MkDocs' build."""
    if not buildlock.is_held():
        buildlock.acquire()
        _state["locked"] = True


def _unlock() -> None:
    if _state["locked"]:
        _state["locked"] = False
        buildlock.release()


def on_config(config, **kwargs):
    """`mkdocs serve` cleans its folder before it builds, so a build that fails
    half-way (a theme override in overrides/ that does not parse or render, a
    plugin, a page) would leave nothing to serve. While serving, each build
    goes to a folder beside the served one and replaces it only when complete."""
    # The language builds (mkdocs-static-i18n) go inside it: en/ of the staging folder.
    if _serving() and not any(part.endswith(_STAGING) for part in Path(config.site_dir).parts):
        config.site_dir = config.site_dir.rstrip("/") + _STAGING
        _state["staging"] = config.site_dir
    return config


_STAGING = ".next"


def _publish_staging() -> None:
    staging = _state.get("staging")
    if staging and Path(staging).is_dir():
        _publish_served(Path(staging))


def _publish_served(staging: Path) -> None:
    served = staging.with_name(staging.name[:-len(_STAGING)])
    if not _exchange(staging, served):
        old = served.with_name(served.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(served, old)
        os.replace(staging, served)
        staging = old
    shutil.rmtree(staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False where unavailable."""
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def on_serve(server, config, builder, **kwargs):
    """`mkdocs serve` stops answering (every request waits) once a rebuild raises.
    Whatever breaks a rebuild, say what and where, and keep serving the last
    good pages (see on_config)."""
    build_once = server.builder
    # The staging folder holds the whole site only once a build has returned:
    # mkdocs-static-i18n builds the other languages, and the reader hook splits
    # the search index, from their own on_post_build, after this hook's. So it
    # is published here, after the first build and after each good rebuild.
    _publish_staging()

    def keep_serving():
        try:
            build_once()
        except Exception as exc:  # noqa: BLE001  (any failure: the server must keep answering)
            print(describe(exc), file=sys.stderr)
            print("the site could not be rebuilt; still serving the last good pages", file=sys.stderr)
        else:
            _publish_staging()

    server.builder = keep_serving
    return server


def on_build_error(error, **kwargs):
    _unlock()


def on_shutdown(**kwargs):
    _unlock()
    if _state.get("staging"):  # what a failed rebuild left beside the served folder
        shutil.rmtree(_state["staging"], ignore_errors=True)


def on_startup(command, dirty=False, **kwargs):
    # `mkdocs serve` says so here; build.py calls MkDocs' build() directly.
    _state["command"] = command


def _serving() -> bool:
    return _state["command"] == "serve"


def describe(exc: BaseException) -> str:
    """One line naming the file and line of the project where `exc` happened."""
    filename = getattr(exc, "filename", None)
    lineno = getattr(exc, "lineno", None)
    if filename and lineno and not isinstance(exc, OSError):  # a template or syntax error
        return f"{_short(filename)}:{lineno}: {type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    ours = [frame for frame in traceback.extract_tb(exc.__traceback__)
            if _inside(frame.filename) and "/.venv/" not in frame.filename]
    where = f"{_short(ours[-1].filename)}:{ours[-1].lineno}: " if ours else ""
    return f"{where}{type(exc).__name__}: {exc}"


def _inside(filename: str) -> bool:
    try:
        Path(filename).resolve().relative_to(REPO)
        return True
    except (ValueError, OSError):
        return filename.endswith(".j2")


def _short(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(REPO))
    except (ValueError, OSError):
        return filename


def on_pre_build(config, **kwargs):
    try:
        _lock()
        _state["loaded"] = sitegen.generate_docs()
        # An engine that does not compile is named here, file and line, rather
        # than deep inside the wheel's or the snapshot's build.
        for path in sorted((REPO / "checker").glob("*.py")):
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        sitegen.place_checker_assets()
    except tooling.MatrixInvalid as exc:
        if not _serving():
            raise
        # Printed, not logged: in strict mode a logged warning would stop the
        # build, and `serve` would then hang instead of serving the last pages.
        print("\n".join(str(i) for i in exc.issues), file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in the matrix; still serving the last good pages", file=sys.stderr)
    except Exception as exc:
        if not _serving():
            raise
        print(describe(exc), file=sys.stderr)
        print("the pages could not be regenerated; still serving the last good pages", file=sys.stderr)


def on_post_page(output, page, config, **kwargs):
    # Alternates absolute under the site's address, like the canonical link.
    return publish.absolute_alternates(output, page.canonical_url)


def on_post_build(config, **kwargs):
    try:
        _finish(config)
    finally:
        _unlock()


def _finish(config):
    site_dir = Path(config.site_dir)
    if not _serving():
        # `mkdocs serve` injects an inline live-reload script that changes with
        # every response: no hash can allow it, so the dev server's pages go
        # without the policy. Built sites (build.py, mkdocs build) carry it,
        # added before the pages are precompressed.
        from checker.engine import load_matrix

        try:
            languages = load_matrix().languages
        except Exception:  # the packed rules are being rewritten: the known languages will do
            languages = ("pt-BR", "en")
        csp.apply(site_dir, languages)
    publish.finish_site(site_dir, config.site_url, _state["loaded"], serving=_serving())

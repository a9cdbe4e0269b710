"""Build the site: validate the matrix, render the pages, build the checker
wheel, and build the MkDocs site into site/.

    python build.py            build site/ (a failed build leaves site/ as it was)
    python build.py --check    exit 1 if anything generated is out of date with matrix/
    python build.py --serve [ADDR]
                               serve with live reload (default 127.0.0.1:8000)
    python build.py --site-url https://example.org/sss/
                               build for that public address (default: $SITE_URL,
                               else mkdocs.yml's local one)
    python build.py --check-links
                               check every link and anchor of the built site/

A thin orchestrator: every step is a tested function in tooling.matrix or sitegen.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent


def pypa_build() -> int:
    """`python -m build` from the repository root means PyPA's build, which this
    file would shadow: hand over to it, with the root off the import path. It
    runs before this file imports anything outside the standard library, so it
    works in a venv that has only PyPA's build."""
    import runpy

    sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != REPO]
    try:
        runpy.run_module("build", run_name="__main__", alter_sys=True)
    except ImportError:
        print("python -m build: PyPA's build is not installed (pip install build); "
              "to build the site, run: python build.py", file=sys.stderr)
        return 2
    return 0


# `python build.py` has no module spec; `python -m build` has one.
if __name__ == "__main__" and __spec__ is not None:
    sys.exit(pypa_build())

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
sys.path.insert(0, str(REPO))

from tooling import matrix as tooling  # noqa: E402

import sitegen  # noqa: E402
from sitegen import buildlock, publish  # noqa: E402


def fail(issues) -> int:
    for issue in issues:
        print(issue, file=sys.stderr)
    print(f"{len(issues)} problem(s) in the matrix; nothing was written", file=sys.stderr)
    return 1


def check() -> int:
    """Report what is stale: compiled files, generated pages; render every template."""
    try:
        loaded = tooling.load()
        pages = sitegen.render_pages(loaded)
    except tooling.MatrixInvalid as exc:
        return fail(exc.issues)
    stale = [str(p.relative_to(REPO)) for p in tooling.stale_outputs(loaded)]
    for name, text in {**pages, **sitegen.data_files(loaded)}.items():
        path = sitegen.DOCS / name
        # Pages not generated yet (a fresh clone: git ignores them) are not stale:
        # the build writes them. Only what is there and differs is reported.
        if path.exists() and path.read_text(encoding="utf-8") != text:
            stale.append(f"docs/{name}")
    for path in sitegen.generated_files():
        if path.name not in pages:
            stale.append(f"docs/{path.name} (no longer generated)")
    for name in stale:
        print(f"{name}: out of date with matrix/; run: python build.py", file=sys.stderr)
    if stale:
        return 1
    print(f"up to date: {len(pages)} pages, compiled rules and schema")
    return 0


def build_site(site_dir: Path = REPO / "site", matrix_dir: Path = tooling.MATRIX_DIR,
               site_url: str | None = None) -> int:
    # One build at a time: a build writes docs/, the compiled rules and the
    # wheel, which another build (or `mkdocs serve`'s hook) would read half-written.
    try:
        with buildlock.held():
            return _build_site(site_dir, matrix_dir, site_url)
    except buildlock.BuildLockTimeout as exc:
        print(f"{exc}; site/ was left as it was", file=sys.stderr)
        return 1


def _build_site(site_dir: Path, matrix_dir: Path, site_url: str | None) -> int:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    try:
        sitegen.generate_docs(matrix_dir)
        sitegen.place_checker_assets()
    except tooling.MatrixInvalid as exc:
        return fail(exc.issues)
    except (OSError, RuntimeError) as exc:  # npm packages missing, the wheel or snapshot failing
        print(f"build failed: {exc}; site/ was left as it was", file=sys.stderr)
        return 1
    clean_interrupted(site_dir)
    # The folder's name carries this process's id: no other build removes it
    # while this process lives (see clean_interrupted).
    tmp = Path(tempfile.mkdtemp(prefix=f"{_build_prefix(site_dir)}{os.getpid()}-", dir=site_dir.parent))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        # The pages' date (the sitemap's lastmod, sitemap.xml.gz's time stamp) is
        # the inputs' date, not today's: builds of one commit agree on any day.
        os.environ["SOURCE_DATE_EPOCH"] = epoch or source_date_epoch(matrix_dir)
        overrides = {"site_url": site_url} if site_url else {}
        config = load_config(str(REPO / "mkdocs.yml"), site_dir=str(tmp), **overrides)
        build(config)
        swap_in(tmp, site_dir)
    except (MkDocsException, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"mkdocs build failed: {exc}; site/ was left as it was", file=sys.stderr)
        return 1
    except Exception as exc:  # a hook's or a plugin's error: one line, not a traceback
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"mkdocs build failed: {type(exc).__name__}: {exc}; site/ was left as it was", file=sys.stderr)
        return 1
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
    print(f"built {site_dir}/")
    return 0


# What the site is built from: a commit touching none of these leaves its date.
DATED_INPUTS = ("matrix", "docs", "overrides", "hooks", "sitegen", "checker", "tooling", "mkdocs.yml",
                "build.py", "pyproject.toml", "hatch_build.py", "requirements.txt", "package-lock.json")


def source_date_epoch(matrix_dir: Path = tooling.MATRIX_DIR) -> str:
    """The build's date in seconds since 1970 (SOURCE_DATE_EPOCH's format): the
    time of the last commit touching the inputs; outside a git checkout (an
    unpacked archive), midnight UTC of the matrix changelog's newest date."""
    import subprocess
    from datetime import datetime, timezone

    try:
        found = subprocess.run(["git", "log", "-1", "--format=%ct", "--", *DATED_INPUTS], cwd=REPO,
                               capture_output=True, text=True, timeout=60)
        if found.returncode == 0 and found.stdout.strip().isdigit():
            return found.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    newest = max(str(change["date"]) for change in tooling.load(matrix_dir).changelog)
    return str(int(datetime.fromisoformat(newest).replace(tzinfo=timezone.utc).timestamp()))


# -- publishing: site/ is a symbolic link to the latest complete build ---------
# The link is replaced in one rename, so a build killed at any moment leaves
# site/ pointing at the previous complete build or at the new one. Builds live
# beside it as .site-build-*; those no link points to are left by interrupted
# builds and removed by the next one (git ignores them).
def _build_prefix(site_dir: Path) -> str:
    return f".{site_dir.name}-build-"


def _link_prefix(site_dir: Path) -> str:
    return f".{site_dir.name}-link-"


def _readable(root: Path) -> None:
    """World-readable, as a web server running as another user needs."""
    for path in (root, *root.rglob("*")):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        os.chmod(path, mode | (0o755 if path.is_dir() else 0o644))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unavailable."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) != 0:
        return False
    return True


class BuildGone(OSError):
    """The folder a build wrote is gone or incomplete: nothing is published."""


def swap_in(built: Path, site_dir: Path) -> None:
    """Make the complete build in `built` the site, atomically, and remove the previous one.

    Raises BuildGone, publishing nothing, when `built` lost its home page (something
    removed the folder under the build)."""
    if not (built / "index.html").is_file():
        raise BuildGone(f"{built} was removed or emptied while this build wrote it; nothing was published")
    _readable(built)
    previous = site_dir.resolve() if site_dir.is_symlink() else None
    link = site_dir.with_name(f"{_link_prefix(site_dir)}{os.getpid()}-")
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(built.name, link)
    if site_dir.is_dir() and not site_dir.is_symlink():
        # A site/ folder from before site/ was a link: swap it for the link in one
        # step where the system can; otherwise move it aside first.
        if _exchange(link, site_dir):
            shutil.rmtree(link, ignore_errors=True)
            return
        aside = Path(tempfile.mkdtemp(prefix=_build_prefix(site_dir), dir=site_dir.parent))
        os.replace(site_dir, aside / "old")
    os.replace(link, site_dir)
    if previous is not None and previous != built.resolve() and previous.parent == site_dir.parent.resolve():
        shutil.rmtree(previous, ignore_errors=True)
    clean_interrupted(site_dir)


def _owner_alive(name: str, prefix: str) -> bool:
    """Whether the build folder `name` (prefix + PID + '-' + random) belongs to a
    running process other than this one. Folders without a PID are left-overs."""
    pid, dash, _rest = name[len(prefix):].partition("-")
    if not dash or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def clean_interrupted(site_dir: Path) -> None:
    """Remove the builds and links that interrupted builds left beside `site_dir`;
    never the folder or link of a build whose process is still running."""
    current = site_dir.resolve() if site_dir.is_symlink() else None
    for path in site_dir.parent.glob(f".{site_dir.name}-*"):
        name = path.name
        if name.startswith(_link_prefix(site_dir)):
            if _owner_alive(name, _link_prefix(site_dir)):
                continue
            # a new link not yet in place, or (after a swap) the old site/ folder
            if path.is_symlink():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(_build_prefix(site_dir)) and path.resolve() != current and not path.is_symlink():
            if not _owner_alive(name, _build_prefix(site_dir)):
                shutil.rmtree(path, ignore_errors=True)


def serve(address: str) -> int:
    build_site()
    os.chdir(REPO)
    os.execv(sys.executable, [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", address,
                              "--livereload"])


def main(argv=None) -> int:
    from checker.cliargs import ArgumentParser  # one escaped line and exit 2 for a bad option

    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report generated files that are out of date")
    mode.add_argument("--serve", nargs="?", const="127.0.0.1:8000", metavar="ADDR",
                      help="serve with live reload (default 127.0.0.1:8000)")
    mode.add_argument("--check-links", nargs="?", const=str(REPO / "site"), metavar="DIR",
                      help="check every internal link and anchor of the built site (default site/), "
                           "and that external links go only to the hosts the matrix cites")
    parser.add_argument("--site-url", metavar="URL", default=os.environ.get(publish.SITE_URL_ENV) or None,
                        help=f"the site's public address, e.g. https://owner.github.io/project/ "
                             f"(default: ${publish.SITE_URL_ENV}, else mkdocs.yml's local address)")
    args = parser.parse_args(argv)
    site_url = None
    if args.site_url:
        try:
            site_url = publish.normalize_site_url(args.site_url)
        except publish.SiteURLError as exc:
            parser.error(str(exc))
    if args.check:
        return check()
    if args.check_links:
        return check_links(Path(args.check_links), site_url)
    if args.serve:
        return serve(args.serve)
    return build_site(site_url=site_url)


def check_links(site_dir: Path, site_url: str | None = None) -> int:
    if not (site_dir / "index.html").exists():
        print(f"{site_dir}/ has no built site; run: python build.py", file=sys.stderr)
        return 1
    allowed = publish.allowed_hosts(tooling.load())
    problems = publish.check_links(site_dir, allowed, site_url)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} broken or disallowed link(s) in {site_dir}/", file=sys.stderr)
        return 1
    print(f"links ok: every internal link and anchor resolves; external hosts: {', '.join(sorted(allowed))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

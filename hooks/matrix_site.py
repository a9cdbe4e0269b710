"""MkDocs hook: regenerate the pages and the checker's assets before every build.

With `mkdocs serve`, an edit in matrix/, sitegen/ or checker/ rebuilds what it
affects and reloads the browser. A matrix with problems prints every problem
and leaves the last good pages in place, so the server keeps serving them.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The hook runs inside mkdocs, which does not put the repository on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling import matrix as tooling  # noqa: E402

import sitegen  # noqa: E402
from sitegen import publish  # noqa: E402

_state = {"command": "build", "loaded": None}


def on_startup(command, dirty, **kwargs):
    # `mkdocs serve` says so here; build.py calls MkDocs' build() directly.
    _state["command"] = command


def on_pre_build(config, **kwargs):
    try:
        _state["loaded"] = sitegen.generate_docs()
    except tooling.MatrixInvalid as exc:
        # Printed, not logged: in strict mode a logged warning would stop the
        # build, and `serve` would then hang instead of serving the last pages.
        print("\n".join(str(i) for i in exc.issues), file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in the matrix; still serving the last good pages", file=sys.stderr)
        return
    sitegen.place_checker_assets()


def on_post_page(output, page, config, **kwargs):
    # Alternates absolute under the site's address, like the canonical link.
    return publish.absolute_alternates(output, page.canonical_url)


def on_post_build(config, **kwargs):
    publish.finish_site(Path(config.site_dir), config.site_url, _state["loaded"],
                        serving=_state["command"] == "serve")

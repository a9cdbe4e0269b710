"""MkDocs hook: regenerate the pages and the checker's assets before every build.

With `mkdocs serve`, an edit in matrix/, sitegen/ or checker/ rebuilds what it
affects and reloads the browser. A matrix with problems prints every problem
and leaves the last good pages in place, so the server keeps serving them.
"""

from __future__ import annotations

import sys

from checker import matrix as tooling

import sitegen


def on_pre_build(config, **kwargs):
    try:
        sitegen.generate_docs()
    except tooling.MatrixInvalid as exc:
        # Printed, not logged: in strict mode a logged warning would stop the
        # build, and `serve` would then hang instead of serving the last pages.
        print("\n".join(str(i) for i in exc.issues), file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in the matrix; still serving the last good pages", file=sys.stderr)
        return
    sitegen.place_checker_assets()

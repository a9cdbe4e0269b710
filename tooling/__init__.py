"""Maintainer tooling: load, validate and compile ``matrix/`` (``tooling.matrix``)
and compare two versions of it (``tooling.diff``). It needs the repository's
checkout, PyYAML and jsonschema, so it is not part of the ``sss-checker``
wheel, which ships the ``checker`` package alone; ``python -m checker
validate|compile|diff`` reach it from the repository root."""

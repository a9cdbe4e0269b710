"""The command line: ``check`` answers for a configuration, ``validate`` and
``compile`` are for maintainers of ``matrix/``, and ``diff`` tells a reviewer
what a change to ``matrix/`` does to users' verdicts.

Exit status of ``check``: 0 supported or limited, 1 unsupported or unknown,
2 bad input (one line per problem on standard error, and no verdict), 3 the
command could not do its work for another reason (an unreadable file, closed
standard input, output that cannot be written, a bug): one line on standard
error, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .engine import ConfigError, Problem, load_matrix
from .inputs import InputError, check_list_sizes, decode, limits_for, load_json, load_yaml, printable, read_limited

EXIT_OK, EXIT_NOT_SUPPORTED, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3
MARK = {"supported": "✓", "limited": "!", "unsupported": "✗", "unknown": "?", "info": "i"}


class _Failure(Exception):
    """The command cannot do its work for a reason other than bad input (exit 3)."""


def main(argv: list[str] | None = None) -> int:
    """Run the command; whatever goes wrong ends in one line and an exit code, never a traceback."""
    try:
        return _main(argv)
    except _Failure as exc:
        _stderr(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: name it in one line, exit 3 (never 1, which means "unsupported")
        _stderr(_text("cli.failed", None, "internal error ({reason}); nothing was checked; please report it",
                      reason=printable(f"{type(exc).__name__}: {exc}")))
    return EXIT_FAILED


def _text(key: str, lang: str | None, fallback: str, **values: str) -> str:
    """A string of the matrix, or `fallback` when even the compiled rules cannot be read."""
    try:
        matrix = load_matrix()
        return matrix.text(key, lang or matrix.default_language, **values)
    except Exception:
        from .engine import fill_placeholders
        return fill_placeholders(fallback, values)


def _stderr(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, AttributeError, ValueError):
        pass  # nowhere left to say it: the exit status still tells


def _emit(text: str, lang: str | None = None) -> None:
    """Write the answer to standard output; a closed or full output is exit 3."""
    try:
        if sys.stdout is None:
            raise OSError("standard output is closed")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        try:  # Python would try again at exit and print its own traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, AttributeError, ValueError):
            pass
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _Failure(_text("cli.cannot_write", lang, "cannot write the output: {reason}", reason=reason)) from None


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m checker",
        description="Is an email setup supported by server-side synchronization?",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="evaluate a configuration (YAML or JSON)")
    check.add_argument("file", help="configuration file, or - for standard input")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--lang", choices=load_matrix().languages, default=load_matrix().default_language)
    validate = sub.add_parser("validate", help="validate matrix/ and report every problem")
    validate.add_argument("--matrix", default=None, help="matrix folder (default: matrix/ of this checkout)")
    comp = sub.add_parser("compile", help="validate matrix/ and write checker/rules.json")
    comp.add_argument("--check", action="store_true", help="only report whether rules.json is out of date")
    diff = sub.add_parser(
        "diff", help="what a change to matrix/ does: verdicts, entries and rules that differ",
        description="Compare two versions of the matrix: the configurations whose verdict changes, "
                    "then the entries, rules, questions, sources and pages that differ. "
                    "Exit status: 0, or 1 with --fail-on-verdict-change when a verdict changes; "
                    "2 for an unknown revision or an invalid matrix.")
    diff.add_argument("old", help="the older version: a matrix folder, or a git revision of matrix/ (HEAD~1, main, a commit)")
    diff.add_argument("new", nargs="?", default=None,
                      help="the newer version, given the same way (default: matrix/ of the working tree)")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--lang", choices=load_matrix().languages, default=load_matrix().default_language)
    diff.add_argument("--fail-on-verdict-change", action="store_true",
                      help="exit 1 when any configuration's verdict changes")
    diff.add_argument("--show-texts", action="store_true", help="print changed texts in full, old and new")
    diff.add_argument("--repo", default=None,
                      help="git repository to read revisions from (default: this checkout)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "diff":
        return _diff(args)
    return _maintain(args)


def _check(args) -> int:
    matrix = load_matrix()
    lang = args.lang
    try:
        config = _read_config(args.file, matrix, lang)
    except InputError as exc:
        _stderr(_input_error_line(matrix, lang, args.file, exc))
        return EXIT_INPUT
    try:
        verdict = matrix.evaluate(config, lang)
    except ConfigError as exc:
        for problem in exc.problems:
            _stderr(printable(problem.message))
        _stderr(matrix.text("cli.input_errors", lang, count=str(len(exc.problems))))
        return EXIT_INPUT
    if args.format == "json":
        _emit(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2), lang)
    else:
        _emit(render_text(verdict, lang, matrix), lang)
    return EXIT_OK if verdict.status in ("supported", "limited") else EXIT_NOT_SUPPORTED


def _input_error_line(matrix, lang: str, name: str, exc: InputError) -> str:
    message = matrix.text("error." + exc.code, lang, **exc.values)
    shown = "-" if name == "-" else printable(name)
    if exc.line:
        return matrix.text("cli.at_line", lang, file=shown, line=str(exc.line), message=message)
    return matrix.text("cli.at_file", lang, file=shown, message=message)


def render_text(verdict, lang: str, matrix) -> str:
    status = matrix.text("status." + verdict.status, lang)
    lines = [
        f"{MARK[verdict.status]} " + matrix.text("cli.status", lang, status=status),
        "  " + matrix.text("status.explain." + verdict.status, lang),
    ]
    for f in verdict.findings:
        lines.append("")
        lines.append(f"{MARK[f.severity]} [{matrix.text('severity.' + f.severity, lang)}] {f.message}")
        if f.remedy:
            lines.append("  " + matrix.text("cli.remedy", lang, remedy=f.remedy))
        lines.append("  " + matrix.text("cli.facts", lang, facts=", ".join(f.facts) or "-") + f"  ({f.rule})")
        lines.append("  " + matrix.text("cli.link", lang, link=f.link))
    return "\n".join(lines)


def _read_config(name: str, matrix, lang: str):
    """The configuration in file `name` (``-``: standard input), read within the
    bounds of checker.inputs. A file that cannot be read is a _Failure (exit 3);
    what it holds, an InputError (exit 2)."""
    shown = "-" if name == "-" else printable(name)
    try:
        if name == "-":
            if sys.stdin is None:
                raise OSError("standard input is closed")
            data = read_limited(sys.stdin.buffer)
        else:
            with open(name, "rb") as fh:
                data = read_limited(fh)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _Failure(matrix.text("cli.cannot_read", lang, file=shown, reason=reason)) from None
    text = decode(data)
    max_items, sizes = limits_for(matrix.fields)
    if name.endswith(".json") or text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        config = load_json(text, max_items=max_items)
    else:
        config = load_yaml(text, max_items=max_items)
    check_list_sizes(config, sizes)
    return config


def _diff(args) -> int:
    try:
        from . import diff as semantic
    except ImportError as exc:
        _stderr(f"diff needs the project's checkout and its tools: {exc}")
        return EXIT_FAILED
    from pathlib import Path

    repo = Path(args.repo) if args.repo else None
    try:
        old = semantic.load_version(args.old, repo)
        new = semantic.load_version(args.new, repo) if args.new is not None else semantic.working_tree(repo)
    except semantic.DiffError as exc:
        for issue in exc.issues:
            _stderr(printable(str(issue)))
        _stderr(printable(exc.message))
        return EXIT_INPUT
    result = semantic.diff(old, new)
    if args.format == "json":
        _emit(json.dumps(semantic.to_json(result, args.lang), ensure_ascii=False, indent=2), args.lang)
    else:
        _emit(semantic.render_text(result, args.lang, show_texts=args.show_texts), args.lang)
    return EXIT_NOT_SUPPORTED if args.fail_on_verdict_change and result.verdicts else EXIT_OK


def _maintain(args) -> int:
    try:
        from . import matrix as tooling
    except ImportError as exc:
        _stderr(f"{args.command} needs the project's checkout and its tools: {exc}")
        return EXIT_FAILED
    from pathlib import Path

    root = Path(args.matrix) if getattr(args, "matrix", None) else tooling.MATRIX_DIR
    try:
        loaded = tooling.load(root)
    except tooling.MatrixInvalid as exc:
        for issue in exc.issues:
            _stderr(printable(str(issue)))
        _stderr(f"{len(exc.issues)} problem(s) in the matrix")
        return 1
    if args.command == "validate":
        _emit(f"{printable(str(root))}: valid")
        return 0
    if args.check:
        stale = tooling.stale_outputs(loaded)
        for path in stale:
            _stderr(f"{path}: out of date with matrix/; run: python -m checker compile")
        if stale:
            return 1
        _emit("compiled files are up to date")
        return 0
    changed = tooling.write_outputs(loaded)
    for path in changed:
        _emit(f"{path}: written")
    if not changed:
        _emit("compiled files already up to date")
    return 0

__all__ = ["main", "render_text", "Problem"]

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
from .cliargs import ArgumentParser
from .console import ASCII_MARK, MARK, open_input, tolerant_output
from .console import encodes as _encodes
from .inputs import (InputError, SiteURLError, check_list_sizes, decode, limits_for, load_config_text,
                     normalize_site_url, printable, read_limited)

EXIT_OK, EXIT_NOT_SUPPORTED, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3


class _Failure(Exception):
    """The command cannot do its work for a reason other than bad input (exit 3)."""


def main(argv: list[str] | None = None) -> int:
    """Run the command; whatever goes wrong ends in one line and an exit code, never a traceback."""
    lang = _argv_lang(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except _Failure as exc:
        _stderr(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: name it in one line, exit 3 (never 1, which means "unsupported")
        _stderr(_text("cli.failed", lang, "internal error ({reason}); nothing was checked; please report it",
                      reason=printable(f"{type(exc).__name__}: {exc}")))
    return EXIT_FAILED


def _argv_lang(argv) -> str | None:
    """The --lang given, if it is one of the matrix's languages, for the last-resort messages."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _text(key: str, lang: str | None, fallback: str, **values: str) -> str:
    """A string of the matrix, or `fallback` when even the compiled rules cannot be read."""
    try:
        matrix = load_matrix()
        return matrix.text(key, lang if lang in matrix.languages else matrix.default_language, **values)
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
    tolerant_output()
    argv = sys.argv[1:] if argv is None else list(argv)
    matrix = load_matrix()
    parser = ArgumentParser(  # its own complaints in one line, escaped, exit 2
        prog=_prog(),
        description="Is an email setup supported by server-side synchronization?",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="evaluate a configuration (YAML or JSON)",
                           description="Evaluate a configuration against the support matrix.",
                           epilog=fields_help(matrix, _peek_lang(argv, matrix)),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", help="configuration file, or - for standard input")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--lang", choices=matrix.languages, default=matrix.default_language)
    check.add_argument("--site-url", metavar="URL", default=None,
                       help="the site's public address: finding links become absolute under it "
                            "(default: the address built into this package, if any; else links "
                            "are relative to the site's root)")
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
    from . import orgcli  # the organization check keeps its options and logic in its own module
    orgcli.add_parser(sub)
    from . import explain  # why a mailbox fails: alerts and error codes (its own module)
    explain.add_parser(sub, matrix)
    args = parser.parse_args(argv)
    if args.command == "org":
        return orgcli.run(args)
    if args.command == "explain":
        return explain.run(args, _emit, _Failure)
    if args.command == "check" and not _site_url_ok(args):
        _stderr(printable(f"--site-url {args.site_url!r}: expected an absolute http(s) address such as "
                          "https://example.org/sss/"))
        return EXIT_INPUT
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
            _stderr(printable(with_suggestion(problem, matrix, lang)))
        _stderr(matrix.text("cli.input_errors", lang, count=str(len(exc.problems))))
        return EXIT_INPUT
    verdict = absolute_links(verdict, args.site_url)
    if args.format == "json":
        text = json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2)
        _emit(text if _encodes(sys.stdout, text) else json.dumps(verdict.to_dict(), indent=2), lang)
    else:
        _emit(render_text(verdict, lang, matrix, marks=MARK if _encodes(sys.stdout, "".join(MARK.values()))
                          else ASCII_MARK), lang)
    return EXIT_OK if verdict.status in ("supported", "limited") else EXIT_NOT_SUPPORTED


def _input_error_line(matrix, lang: str, name: str, exc: InputError) -> str:
    message = matrix.text("error." + exc.code, lang, **exc.values)
    shown = "-" if name == "-" else printable(name)
    if exc.line:
        return matrix.text("cli.at_line", lang, file=shown, line=str(exc.line), message=message)
    return matrix.text("cli.at_file", lang, file=shown, message=message)


def render_text(verdict, lang: str, matrix, marks: dict | None = None) -> str:
    marks = marks or MARK
    status = matrix.text("status." + verdict.status, lang)
    lines = [
        f"{marks[verdict.status]} " + matrix.text("cli.status", lang, status=status),
        "  " + matrix.text("status.explain." + verdict.status, lang),
    ]
    if verdict.open_questions:
        lines.append("  " + matrix.text("cli.so_far", lang, status=status,
                                        questions="; ".join(_open_question(q, lang, matrix)
                                                            for q in verdict.open_questions)))
        lines.append("  " + matrix.text("cli.holds_if", lang, status=status,
                                        conditions=_conditions(verdict.holds_if(), lang, matrix)))
        for worse in ("unsupported", "unknown", "limited"):
            conditions = [c for c in verdict.worse_if() if c["status"] == worse]
            if conditions:
                lines.append("  " + matrix.text("cli.worse_if", lang, status=matrix.text("status." + worse, lang),
                                                conditions=_conditions(conditions, lang, matrix)))
    if verdict.implied:
        lines.append("  " + matrix.text("cli.implied", lang, answers="; ".join(
            matrix.text("cli.implied_answer", lang, field=matrix.fields[name]["label"][lang],
                        value=matrix.value_label(name, value, lang),
                        by=matrix.fields[by]["label"][lang],
                        by_value=matrix.value_label(by, by_value, lang))
            for name, value, by, by_value in verdict.implied)))
    for f in verdict.findings:
        lines.append("")
        lines.append(f"{marks[f.severity]} [{matrix.text('severity.' + f.severity, lang)}] {f.message}")
        if f.applies_if:
            lines.append("  " + matrix.text("cli.applies_if", lang, conditions=_conditions(
                [{"field": name, "values": [_value_text(v) for v in values]} for name, values in f.applies_if],
                lang, matrix)))
        if f.remedy:
            remedy = f.remedy
            if f.remedy_source == "project":
                remedy += f" ({matrix.text('remedy.project', lang)})"
            lines.append("  " + matrix.text("cli.remedy", lang, remedy=remedy))
        if f.fix:
            fix = ", ".join(f"{name} = {_value_text(value)}" for name, value in f.fix)
            for name, values in f.drops or ():
                dropped = ", ".join(matrix.value_label(name, v, lang) for v in values)
                fix += " (" + matrix.text("cli.fix_drops", lang, values=dropped[:1].lower() + dropped[1:]) + ")"
            lines.append("  " + matrix.text("cli.fix", lang, fix=fix))
        lines.append("  " + matrix.text("cli.facts", lang, facts=", ".join(f.facts) or "-") + f"  ({f.rule})")
        lines.append("  " + matrix.text("cli.link", lang, link=f.link))
    return "\n".join(lines)


# -- output, links and help ------------------------------------------------------
def _prog() -> str:
    """`sss-checker` when installed, `python -m checker` from a checkout."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m checker" if name in ("", "-c", "__main__.py") else name


def baked_site_url() -> str | None:
    """The public address built into this package (``SSS_CHECKER_SITE_URL`` when
    the wheel was built), or None."""
    try:
        from ._site import SITE_URL
    except ImportError:
        return None
    return SITE_URL or None


def _site_url_ok(args) -> bool:
    url = args.site_url if args.site_url is not None else baked_site_url()
    if url is None:
        return True
    try:  # no control character either: the address goes into every link printed
        args.site_url = normalize_site_url(url)
    except SiteURLError:
        return False
    return True


def absolute_links(verdict, site_url: str | None):
    """Finding links under the site's public address, so a terminal can open them."""
    if not site_url:
        return verdict
    from dataclasses import replace
    from urllib.parse import urljoin

    return replace(verdict, findings=tuple(replace(f, link=urljoin(site_url, f.link)) if f.link else f
                                           for f in verdict.findings))


def _peek_lang(argv: list[str], matrix) -> str:
    """The --lang given, for the help text; English (argparse's own) otherwise."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in matrix.languages:
            return value
    return "en" if "en" in matrix.languages else matrix.default_language


def fields_help(matrix, lang: str) -> str:
    """Every field of a configuration and its values, for ``check --help``."""
    import textwrap

    if "cli.help.fields" not in matrix.strings:  # rules.json older than the strings: compile first
        return ""
    lines = [matrix.text("cli.help.fields", lang)]
    width = max(len(name) for name in matrix.fields) + 3
    for name, spec in matrix.fields.items():
        values = [v["id"] for v in spec["values"]]
        text = matrix.text("cli.help.list", lang, values=", ".join(values)) if spec["type"] == "multi" \
            else " | ".join(values)
        default = spec.get("default")
        if default is not None:
            shown = ", ".join(default) if isinstance(default, list) else str(default).lower()
            text += " (" + matrix.text("cli.help.default", lang, value=shown) + ")"
        label = ("  " + name + ("*" if spec["required"] else "")).ljust(width + 2)
        wrapped = textwrap.wrap(text, 100 - len(label), break_on_hyphens=False) or [""]
        lines.append(label + wrapped[0])
        lines.extend(" " * len(label) + more for more in wrapped[1:])
    return "\n".join(lines)


def _normal(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def suggestion(problem: Problem, matrix) -> str | None:
    """The known field or value closest to an unknown one, if one is close."""
    import difflib

    if problem.code == "unknown_field":
        given, known = problem.field, list(matrix.fields)
    elif problem.code == "unknown_value":
        try:
            given = json.loads(problem.given) if problem.given is not None else None
        except ValueError:
            given = problem.given
        known = list(problem.allowed)
    else:
        return None
    if not isinstance(given, str) or not given.strip():
        return None
    by_normal = {_normal(k): k for k in known}
    if _normal(given) in by_normal:
        return by_normal[_normal(given)]
    close = difflib.get_close_matches(_normal(given), list(by_normal), n=1, cutoff=0.75)
    return by_normal[close[0]] if close else None


def with_suggestion(problem: Problem, matrix, lang: str) -> str:
    found = suggestion(problem, matrix)
    if found is None or "cli.did_you_mean" not in matrix.strings:
        return problem.message
    return f"{problem.message}; " + matrix.text("cli.did_you_mean", lang, suggestion=found)


def _value_text(value) -> str:
    if type(value) is tuple:
        return ",".join(value)
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def _conditions(conditions: list, lang: str, matrix) -> str:
    """``Authentication with Exchange Online is Server-to-server (S2S); ...``."""
    return "; ".join(
        matrix.text("cli.condition", lang, field=matrix.fields[c["field"]]["label"][lang],
                    values=matrix.text("cli.or", lang).join(
                        matrix.value_label(c["field"], v, lang) for v in c["values"]))
        for c in conditions)


def _open_question(question, lang: str, matrix) -> str:
    """``Tenant (The same tenant: Supported, Another tenant: Limited support)``."""
    label = matrix.fields[question.field]["label"][lang]
    outcomes = ", ".join(
        f"{matrix.value_label(question.field, value, lang)}: {matrix.text('status.' + status, lang)}"
        for value, status in question.outcomes)
    return matrix.text("cli.open_question", lang, field=label, outcomes=outcomes)


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
            with open_input(name) as fh:  # a FIFO with no writer gives end of file, never a wait
                data = read_limited(fh)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _Failure(matrix.text("cli.cannot_read", lang, file=shown, reason=reason)) from None
    text = decode(data)
    max_items, sizes = limits_for(matrix.fields)
    config = load_config_text(text, name, max_items=max_items)
    check_list_sizes(config, sizes)
    return config


def _diff(args) -> int:
    try:
        semantic = _tooling("diff")
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


def _tooling(name: str):
    """A module of the maintainer tooling (``tooling/`` beside ``checker/`` in the
    repository; not in the wheel), from wherever the checkout's checker runs."""
    import importlib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if (root / "tooling" / "__init__.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("tooling." + name)


def _maintain(args) -> int:
    try:
        tooling = _tooling("matrix")
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

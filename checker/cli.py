"""The command line: ``check`` answers for a configuration, ``validate`` and
``compile`` are for maintainers of ``matrix/``, and ``diff`` tells a reviewer
what a change to ``matrix/`` does to users' verdicts.

Exit status of ``check``: 0 supported or limited, 1 unsupported or unknown,
2 bad input (one line per problem on standard error, and no verdict).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .engine import ConfigError, Problem, load_matrix

EXIT_OK, EXIT_NOT_SUPPORTED, EXIT_INPUT = 0, 1, 2
MARK = {"supported": "✓", "limited": "!", "unsupported": "✗", "unknown": "?", "info": "i"}
# For a console that cannot show the marks (a Windows code page, say).
ASCII_MARK = {"supported": "+", "limited": "!", "unsupported": "x", "unknown": "?", "info": "i"}


def main(argv: list[str] | None = None) -> int:
    _tolerant_output()
    argv = sys.argv[1:] if argv is None else list(argv)
    matrix = load_matrix()
    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    if args.command == "org":
        return orgcli.run(args)
    if args.command == "check" and not _site_url_ok(args):
        print(f"--site-url {args.site_url!r}: expected an absolute http(s) address such as "
              "https://example.org/sss/", file=sys.stderr)
        return EXIT_INPUT
    if args.command == "check":
        return _check(args)
    if args.command == "diff":
        return _diff(args)
    return _maintain(args)


def _check(args) -> int:
    matrix = load_matrix()
    try:
        config = _read_config(args.file)
    except _InputError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        verdict = matrix.evaluate(config, args.lang)
    except ConfigError as exc:
        for problem in exc.problems:
            print(with_suggestion(problem, matrix, args.lang), file=sys.stderr)
        print(matrix.text("cli.input_errors", args.lang, count=str(len(exc.problems))), file=sys.stderr)
        return EXIT_INPUT
    verdict = absolute_links(verdict, args.site_url)
    if args.format == "json":
        text = json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2)
        print(text if _encodes(sys.stdout, text) else json.dumps(verdict.to_dict(), indent=2))
    else:
        print(render_text(verdict, args.lang, matrix, marks=MARK if _encodes(sys.stdout, "".join(MARK.values()))
                          else ASCII_MARK))
    return EXIT_OK if verdict.status in ("supported", "limited") else EXIT_NOT_SUPPORTED


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
    for f in verdict.findings:
        lines.append("")
        lines.append(f"{marks[f.severity]} [{matrix.text('severity.' + f.severity, lang)}] {f.message}")
        if f.remedy:
            remedy = f.remedy
            if f.remedy_source == "project":
                remedy += f" ({matrix.text('remedy.project', lang)})"
            lines.append("  " + matrix.text("cli.remedy", lang, remedy=remedy))
        if f.fix:
            fix = ", ".join(f"{name} = {_value_text(value)}" for name, value in f.fix)
            lines.append("  " + matrix.text("cli.fix", lang, fix=fix))
        lines.append("  " + matrix.text("cli.facts", lang, facts=", ".join(f.facts) or "-") + f"  ({f.rule})")
        lines.append("  " + matrix.text("cli.link", lang, link=f.link))
    return "\n".join(lines)


# -- output, links and help ------------------------------------------------------
def _prog() -> str:
    """`sss-checker` when installed, `python -m checker` from a checkout."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m checker" if name in ("", "-c", "__main__.py") else name


def _tolerant_output() -> None:
    """A character the console cannot encode becomes '?' instead of a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a stream that refuses
                pass


def _encodes(stream, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def baked_site_url() -> str | None:
    """The public address built into this package (``SSS_CHECKER_SITE_URL`` when
    the wheel was built), or None."""
    try:
        from ._site import SITE_URL
    except ImportError:
        return None
    return SITE_URL or None


def _site_url_ok(args) -> bool:
    from urllib.parse import urlsplit

    url = args.site_url if args.site_url is not None else baked_site_url()
    if url is None:
        return True
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return False
    args.site_url = url.strip() if url.strip().endswith("/") else url.strip() + "/"
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


def _open_question(question, lang: str, matrix) -> str:
    """``Tenant (The same tenant: Supported, Another tenant: Limited support)``."""
    label = matrix.fields[question.field]["label"][lang]
    outcomes = ", ".join(
        f"{matrix.value_label(question.field, value, lang)}: {matrix.text('status.' + status, lang)}"
        for value, status in question.outcomes)
    return matrix.text("cli.open_question", lang, field=label, outcomes=outcomes)


class _InputError(Exception):
    pass


def _read_config(name: str):
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8-sig") as fh:  # a BOM from Windows editors is fine
                text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _InputError(f"cannot read the file: {getattr(exc, 'strerror', None) or exc}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _InputError("the file is empty; expected a YAML or JSON mapping of field: value")
    if name.endswith(".json") or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise _InputError(f"invalid JSON: {exc}") from None
    return _read_yaml(text)


def _read_yaml(text: str):
    try:
        import yaml
    except ImportError:  # pragma: no cover - the wheel declares PyYAML for the CLI
        raise _InputError("reading YAML needs PyYAML; install it, or give the configuration as JSON") from None

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        keys = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in keys:
                raise _InputError(f"line {key_node.start_mark.line + 1}: field {key!r} is given twice")
            keys.add(key)
        return loader.construct_mapping(node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _InputError(f"invalid YAML: {where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise _InputError(f"invalid YAML: {exc}") from None


def _diff(args) -> int:
    try:
        semantic = _tooling("diff")
    except ImportError as exc:
        print(f"diff needs the project's checkout and its tools: {exc}", file=sys.stderr)
        return EXIT_INPUT
    from pathlib import Path

    repo = Path(args.repo) if args.repo else None
    try:
        old = semantic.load_version(args.old, repo)
        new = semantic.load_version(args.new, repo) if args.new is not None else semantic.working_tree(repo)
    except semantic.DiffError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(exc.message, file=sys.stderr)
        return EXIT_INPUT
    result = semantic.diff(old, new)
    if args.format == "json":
        print(json.dumps(semantic.to_json(result, args.lang), ensure_ascii=False, indent=2))
    else:
        print(semantic.render_text(result, args.lang, show_texts=args.show_texts))
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
        print(f"{args.command} needs the project's checkout and its tools: {exc}", file=sys.stderr)
        return EXIT_INPUT
    from pathlib import Path

    root = Path(args.matrix) if getattr(args, "matrix", None) else tooling.MATRIX_DIR
    try:
        loaded = tooling.load(root)
    except tooling.MatrixInvalid as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in the matrix", file=sys.stderr)
        return 1
    if args.command == "validate":
        print(f"{root}: valid")
        return 0
    if args.check:
        stale = tooling.stale_outputs(loaded)
        for path in stale:
            print(f"{path}: out of date with matrix/; run: python -m checker compile", file=sys.stderr)
        if stale:
            return 1
        print("compiled files are up to date")
        return 0
    changed = tooling.write_outputs(loaded)
    for path in changed:
        print(f"{path}: written")
    if not changed:
        print("compiled files already up to date")
    return 0

__all__ = ["main", "render_text", "Problem"]

"""``python -m checker org FILE...``: a result for every mailbox of an organization.

Each FILE is a Dataverse Web API response for ``emailserverprofiles``,
``mailboxes`` or ``tracelogs`` (the alerts; optional) (or a JSON list of them, or
a bare list of records; ``-`` reads standard input). Alerts never change a
verdict or the exit status (their files count as any file: missing tracelogs
pages are missing pages). Exit status: 0 when every mailbox that uses server-side
synchronization was evaluated and is supported or limited; 1 when any is
unsupported or unknown, could not be evaluated, or pages are missing; 2 when a
file is refused (not an export, with what it is and what to do), no file holds
mailboxes, or an option is wrong (one line per problem on standard error, and
nothing on standard output); 3 when a file cannot be read or the output cannot
be written.
"""

from __future__ import annotations

import os
import sys

from .console import NotRegular, kind_key, marks_for, open_regular, printable
from .engine import load_matrix
from .inputs import InputError, decode as decode_utf8, load_json, read_limited
from .orgmap import MAX_FILE_BYTES, Organization, OrgError, parse_answers, refusal_lines
from .orgread import Refusal, decode, size_text

EXIT_INPUT, EXIT_FAILURE = 2, 3


def add_parser(sub) -> None:
    matrix = load_matrix()
    org = sub.add_parser(
        "org", help="a verdict for every mailbox of Dataverse exports (email server profiles, mailboxes, alerts)",
        description="Read Dataverse Web API responses for emailserverprofiles and mailboxes (several pages "
                    "of each may be given), and optionally tracelogs (alerts), and give a result for every "
                    "mailbox, with its latest alert explained. Alerts never change a verdict or the exit "
                    "status. Exit status: 0 when every "
                    "mailbox that uses server-side synchronization was evaluated and is supported or limited; "
                    "1 when any is unsupported or unknown, was not evaluated, or pages are missing; 2 when a "
                    "file is not an export, no file holds mailboxes, or an option is wrong; 3 when a file "
                    f"cannot be read or the output cannot be written. At most {size_text(MAX_FILE_BYTES)} a file.")
    org.add_argument("files", nargs="+", metavar="FILE", help="a Web API response (JSON); - reads standard input")
    org.add_argument("--deployment", choices=("online", "on-premises"), default=None,
                     help="default: online when the exports come from a Dynamics 365 online host, else not stated")
    org.add_argument("--format", choices=("text", "json", "csv"), default="text")
    org.add_argument("--lang", choices=matrix.languages, default=matrix.default_language)
    org.add_argument("--set", action="append", default=[], metavar="PROFILEID:FIELD=VALUE",
                     help="state a field the records cannot tell, for one profile (or * for all); repeatable, "
                          "e.g. --set 2f1c...:email_system=exchange-server-2019")
    org.add_argument("--profile-answers", metavar="FILE", default=None,
                     help="a JSON (or YAML) mapping {PROFILEID: {FIELD: VALUE}} of such answers")
    org.add_argument("--site-url", metavar="URL", default=None,
                     help="the site's public address: finding links become absolute under it "
                          "(default: the address built into this package, if any)")


class _Unreadable(Exception):
    """A file that cannot be read (exit 3)."""


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, AttributeError, ValueError):
        pass


def _read(name: str, limit: int, matrix, lang: str) -> bytes:
    """At most `limit` bytes of the file `name` (``-``: standard input). A special
    file is a Refusal; one that cannot be read, _Unreadable."""
    shown = "-" if name == "-" else printable(name)
    try:
        if name == "-":
            if sys.stdin is None:
                raise OSError("standard input is closed")
            return sys.stdin.buffer.read(limit + 1)
        with open_regular(name) as fh:
            return fh.read(limit + 1)
    except NotRegular as exc:
        raise Refusal("not_regular", what=matrix.text(kind_key(exc.what), lang)) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _Unreadable(matrix.text("org.error.unreadable", lang, file=shown, reason=printable(reason))) from None


def _write(parts) -> None:
    """The answer on standard output, piece by piece, then a newline."""
    if sys.stdout is None:
        raise OSError("standard output is closed")
    for part in parts:
        sys.stdout.write(part)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _quiet_stdout() -> None:
    """Python would try to flush again at exit and print its own traceback."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def run(args) -> int:
    from .cli import _site_url_ok

    matrix = load_matrix()
    lang = args.lang
    if not _site_url_ok(args):
        _say(printable(f"--site-url {args.site_url!r}: expected an absolute http(s) address such as "
                       "https://example.org/sss/"))
        return EXIT_INPUT
    try:
        answers = parse_answers(args.set, matrix, lang)
        if args.profile_answers:
            more = parse_answers(_read_answers(args.profile_answers, matrix, lang), matrix, lang)
            for profile, fields in more.items():
                answers.setdefault(profile, {}).update(fields)
    except OrgError as exc:
        for message in exc.messages:
            _say(printable(message))
        return EXIT_INPUT
    except _Unreadable as exc:
        _say(str(exc))
        return EXIT_FAILURE
    org = Organization(matrix, lang)
    for name in args.files:
        try:
            data = _read(name, MAX_FILE_BYTES, matrix, lang)
        except Refusal as refusal:
            org.refuse(name, refusal)
            continue
        except _Unreadable as exc:
            _say(str(exc))
            return EXIT_FAILURE
        try:
            text = decode(data)
        except Refusal as refusal:
            org.refuse(name, refusal)
            continue
        finally:
            del data  # the text alone from here: memory stays near the file's size
        org.add_text(name, text)
        del text
    refused = refusal_lines(org)
    if refused:
        for line in refused:
            _say(line)
        return EXIT_INPUT
    report = org.evaluate(args.deployment, answers)
    if args.site_url:
        report.absolute_links(args.site_url)
    if args.format == "json":
        parts = report.iter_json()
    elif args.format == "csv":
        parts = [report.to_csv().removesuffix("\r\n")]
    else:
        parts = [report.to_text(marks=marks_for(sys.stdout, "→"))]
    try:
        _write(parts)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_FAILURE  # the reader stopped (| head): nothing more to say
    except (OSError, ValueError) as exc:
        _quiet_stdout()
        reason = getattr(exc, "strerror", None) or str(exc)
        _say(matrix.text("cli.cannot_write", lang, reason=printable(reason)))
        return EXIT_FAILURE
    if args.format == "csv":
        for line in report.problem_lines():
            _say(line)
    return report.exit_code()


def _read_answers(name: str, matrix, lang: str):
    """The answers file: JSON, or YAML when it is not JSON; at most a megabyte."""
    shown = "-" if name == "-" else printable(name)
    try:
        data = _read(name, 1024 * 1024, matrix, lang)
    except Refusal as refusal:
        raise OrgError([matrix.text("org.refuse." + refusal.code, lang, file=shown, **refusal.values)]) from None
    if len(data) > 1024 * 1024:
        raise OrgError([f"{shown}: " + matrix.text("error.too_large", lang, limit="1 MB")])
    try:
        text = decode_utf8(data)
    except InputError as exc:
        raise OrgError([f"{shown}: " + matrix.text("error." + exc.code, lang, **exc.values)]) from None
    if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        try:
            return load_json(text, max_depth=3, max_items=4096)
        except InputError:
            pass  # a YAML flow mapping reads as YAML
    try:
        import yaml
        data = yaml.safe_load(text)
    except Exception as exc:  # PyYAML absent or the text is neither JSON nor YAML
        raise OrgError([f"{shown}: not JSON or YAML: {printable(str(exc))[:200]}"]) from None
    if not isinstance(data, dict):
        raise OrgError([matrix.text("org.error.answers_mapping", lang)])
    return data

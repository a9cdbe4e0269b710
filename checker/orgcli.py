"""``python -m checker org FILE...``: a verdict for every mailbox of an organization.

Each FILE is one Dataverse Web API response for ``emailserverprofiles`` or
``mailboxes`` (``-`` reads standard input). Exit status: 0 when every evaluated
mailbox is supported or limited, 1 when any is unsupported or unknown, 2 when no
file is a recognizable export or an option is wrong (one line per problem on
standard error), 3 when a file cannot be read.
"""

from __future__ import annotations

import json
import sys

from .engine import load_matrix
from .orgmap import Organization, OrgError, parse_answers

EXIT_INPUT, EXIT_FAILURE = 2, 3


def add_parser(sub) -> None:
    matrix = load_matrix()
    org = sub.add_parser(
        "org", help="a verdict for every mailbox of Dataverse exports (email server profiles and mailboxes)",
        description="Read Dataverse Web API responses for emailserverprofiles and mailboxes (several pages "
                    "of each may be given) and give a verdict for every mailbox. Exit status: 0 when every "
                    "evaluated mailbox is supported or limited, 1 when any is unsupported or unknown, 2 when "
                    "no file is a recognizable export or an option is wrong, 3 when a file cannot be read.")
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


def run(args) -> int:
    from .cli import ASCII_MARK, MARK, _encodes, _site_url_ok

    matrix = load_matrix()
    lang = args.lang
    if not _site_url_ok(args):
        print(f"--site-url {args.site_url!r}: expected an absolute http(s) address such as "
              "https://example.org/sss/", file=sys.stderr)
        return EXIT_INPUT
    try:
        answers = parse_answers(args.set, matrix, lang)
        if args.profile_answers:
            more = parse_answers(_read_answers(args.profile_answers), matrix, lang)
            for profile, fields in more.items():
                answers.setdefault(profile, {}).update(fields)
    except OrgError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return EXIT_INPUT
    except _Unreadable as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    org = Organization(matrix, lang)
    for name in args.files:
        try:
            if name == "-":
                text = sys.stdin.read()
            else:
                with open(name, encoding="utf-8-sig") as fh:
                    text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            print(matrix.text("org.error.unreadable", lang, file=name, reason=reason), file=sys.stderr)
            return EXIT_FAILURE
        org.add_text(name, text)
        del text
    report = org.evaluate(args.deployment, answers)
    if args.site_url:
        report.absolute_links(args.site_url)
    if not org.recognized:
        for problem in report.problems:
            print(problem["message"], file=sys.stderr)
        print(matrix.text("org.error.no_export", lang), file=sys.stderr)
        return EXIT_INPUT
    if args.format == "json":
        sys.stdout.write(report.to_json() + "\n")
    elif args.format == "csv":
        sys.stdout.write(report.to_csv())
        for problem in report.problems:
            print(problem["message"], file=sys.stderr)
    else:
        marks = MARK if _encodes(sys.stdout, "".join(MARK.values()) + "→") else ASCII_MARK
        print(report.to_text(marks=marks))
    return report.exit_code()


class _Unreadable(Exception):
    pass


def _read_answers(name: str):
    try:
        with open(name, encoding="utf-8-sig") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"{name}: cannot read the file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
        data = yaml.safe_load(text)
    except Exception as exc:  # PyYAML absent or the text is neither JSON nor YAML
        raise OrgError([f"{name}: not JSON or YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise OrgError([f"{name}: expected a mapping {{PROFILEID: {{FIELD: VALUE}}}}"])
    return data

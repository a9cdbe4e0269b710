"""Why a mailbox fails: an alert's text or an error code in, the known causes
it matches out, each explained from Microsoft's own troubleshooting page.

The causes come from ``matrix/errors.yaml``, compiled into ``rules.json`` (key
``errors``). Matching is deliberately plain so the browser's copy of it
(``docs/javascripts/explain-core.mjs``) gives the same answer, which a test
checks on every fixture in both languages:

- the text is normalized: ASCII letters lower-cased, typographic quotes made
  plain, every run of white space made one space, the ends trimmed;
- its tokens are the runs of ``[a-z0-9]`` in the normalized text;
- a cause matches when one of its codes' tokens is a token of the text, or one
  of its patterns is part of the normalized text;
- matching causes come most specific first: more codes matched, then more
  pattern characters matched, then the order of the file.

``python -m checker explain TEXT|-``: exit 0 when some cause matched, 1 when
none did, 2 for bad input (empty, not UTF-8, too large), 3 when the command
could not do its work (standard input unreadable, output unwritable, a bug).
"""

from __future__ import annotations

import json
import re
import sys

from .console import encodes as _encodes
from .engine import fill_placeholders, load_matrix
from .inputs import InputError, decode, printable, read_limited

__all__ = ["normalize", "tokens", "match", "explain", "explain_code", "cause", "render_text",
           "STRING_KEYS", "MAX_BYTES", "errors_data", "code_tokens_of_int", "condition_text"]

MAX_BYTES = 64 * 1024  # an alert with its details is a few kilobytes
EXIT_MATCHED, EXIT_UNKNOWN, EXIT_INPUT, EXIT_FAILED = 0, 1, 2, 3

# The keys of `strings` in matrix/errors.yaml that the CLI, the page and the
# organization summary use; the matrix check requires each.
STRING_KEYS = ("explain.meaning", "explain.action", "explain.project", "explain.source", "explain.codes",
               "explain.related", "explain.fix", "explain.fix_when", "explain.count", "explain.unknown",
               "explain.index", "explain.empty", "explain.too_large", "explain.not_text", "explain.cannot_read",
               "alerts.group", "alerts.group_one", "alerts.unexplained",
               "page.title", "page.intro", "page.paste", "page.run", "page.private", "page.noscript",
               "page.result", "page.list_title", "page.cli", "page.alerts_here", "page.codes", "page.patterns", "page.retries")

_UPPER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_QUOTES = {0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"'}
# Spelled out (not \s), so Python and JavaScript agree on what a space is.
_SPACE = re.compile("[ \t\n\r\f\v\u00a0\u2028\u2029]+")
_TOKEN = re.compile("[a-z0-9]+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_UPPER).translate(_QUOTES)).strip(" ")


def tokens(normalized: str) -> set[str]:
    return set(_TOKEN.findall(normalized))


def errors_data(compiled: dict | None = None) -> dict:
    """The compiled errors: `index`, `errors`, `strings`."""
    data = (compiled if compiled is not None else load_matrix().data).get("errors")
    if not data:
        raise RuntimeError("these compiled rules carry no error explanations (rules.json has no `errors`)")
    return data


def match(text: str, data: dict | None = None) -> list[dict]:
    """The causes `text` matches, most specific first: each ``{"error": ...,
    "codes": [codes matched], "patterns": [patterns matched]}``."""
    data = data or errors_data()
    norm = normalize(text)
    toks = tokens(norm)
    found = []
    for i, err in enumerate(data["errors"]):
        codes = [err["codes"][k] for k, alts in enumerate(err["match"]["codes"]) if any(t in toks for t in alts)]
        patterns = [p for p in err["match"]["patterns"] if p in norm]
        if codes or patterns:
            found.append((-len(codes), -sum(len(p) for p in patterns), i,
                          {"error": err, "codes": codes, "patterns": patterns}))
    return [item[3] for item in sorted(found, key=lambda f: f[:3])]


def code_tokens_of_int(value: int) -> str:
    """The text an integer error code (``lastsyncerrorcode``) is matched as: a
    negative HRESULT as its 8-digit hex form, anything else as its digits."""
    if -0x80000000 <= value < 0:
        return f"{value & 0xFFFFFFFF:08x}"
    return str(value)


def explain_code(value: int, data: dict | None = None) -> list[dict]:
    """The causes an integer error code matches (a mailbox's ``lastsyncerrorcode``)."""
    return match(code_tokens_of_int(value), data)


def cause(found: dict, lang: str) -> dict:
    """One matched cause as the JSON output gives it, in one language."""
    err = found["error"]
    return {
        "id": err["id"],
        "title": err["title"][lang],
        "meaning": err["meaning"][lang],
        "action": err["action"][lang],
        "remedy_source": err["remedy_source"],
        "fix": err["fix"],
        "fix_when": err["fix_when"],
        "matched": {"codes": found["codes"], "patterns": found["patterns"]},
        "related": [{"entry": r["entry"], "link": r["link"][lang]} for r in err["related"]],
        "source": {"url": err["source"]["url"], "date": err["source"]["date"]},
    }


def explain(text: str, lang: str, data: dict | None = None) -> dict:
    """The whole answer for one text: ``{"matched", "causes", "index"}``."""
    data = data or errors_data()
    causes = [cause(f, lang) for f in match(text, data)]
    return {"matched": bool(causes), "causes": causes, "index": dict(data["index"])}


def _t(data: dict, key: str, lang: str, **values) -> str:
    return fill_placeholders(data["strings"][key][lang], {k: str(v) for k, v in values.items()})


def render_text(answer: dict, lang: str, data: dict | None = None) -> str:
    data = data or errors_data()
    if not answer["matched"]:
        return "\n".join([_t(data, "explain.unknown", lang),
                          _t(data, "explain.index", lang, date=answer["index"]["date"]),
                          "  " + answer["index"]["url"]])
    lines = [_t(data, "explain.count", lang, count=len(answer["causes"]))]
    for c in answer["causes"]:
        lines += ["", f"* {c['title']}  [{c['id']}]",
                  "  " + _t(data, "explain.codes", lang, codes=", ".join(c["matched"]["codes"] + [
                      f'"{p}"' for p in c["matched"]["patterns"]])),
                  f"  {_t(data, 'explain.meaning', lang)}: {c['meaning']}",
                  f"  {_t(data, 'explain.action', lang)}: {c['action']}"
                  + (f" ({_t(data, 'explain.project', lang)})" if c["remedy_source"] == "project" else "")]
        if c["fix"]:
            fix = ", ".join(f"{k}={json.dumps(v)}" for k, v in c["fix"].items())
            when = c["fix_when"]
            cond = f" ({_t(data, 'explain.fix_when', lang, condition=condition_text(when))})" if when else ""
            lines.append(f"  {_t(data, 'explain.fix', lang)}: {fix}{cond}")
        for r in c["related"]:
            lines.append(f"  {_t(data, 'explain.related', lang)}: {r['link']}")
        lines.append(f"  {_t(data, 'explain.source', lang, date=c['source']['date'])}")
        lines.append(f"    {c['source']['url']}")
    return "\n".join(lines)


def condition_text(cond: dict) -> str:
    """A condition of the questions written out plainly: ``mailbox_location in exchange-on-premises``."""
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        return f" {'and' if key == 'all' else 'or'} ".join(condition_text(c) for c in cond[key])
    if "absent" in cond:
        return f"{cond['field']} absent"
    op = "in" if "in" in cond else "not in"
    return f"{cond['field']} {op} {', '.join(map(str, cond.get('in') or cond.get('not_in')))}"


# -- the command --------------------------------------------------------------
def add_parser(sub, matrix) -> None:
    p = sub.add_parser(
        "explain", help="explain a mailbox alert or error code from Microsoft's troubleshooting pages",
        description="Match an alert's text or an error code (a mailbox's Alerts, its last sync error) "
                    "against the known causes, each explained from Microsoft's own troubleshooting page "
                    "with its link and date. Exit status: 0 when a cause matched, 1 when none did, "
                    "2 for bad input, 3 when the command could not do its work.")
    p.add_argument("text", nargs="+", metavar="TEXT",
                   help="the alert's text or an error code (several words are joined); - reads standard input")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=matrix.languages, default=matrix.default_language)


def run(args, emit, fail) -> int:
    """`emit(text, lang)` writes the answer; `fail(message)` is the CLI's exit-3
    exception (both from checker.cli, so output failures end the same way)."""
    data = errors_data()
    lang = args.lang
    if args.text == ["-"]:
        try:
            if sys.stdin is None:
                raise OSError("standard input is closed")
            raw = read_limited(sys.stdin.buffer, MAX_BYTES)
        except InputError as exc:
            return _bad(data, lang, exc)
        except (OSError, ValueError, AttributeError) as exc:
            raise fail(_t(data, "explain.cannot_read", lang, reason=getattr(exc, "strerror", None) or str(exc))) from None
        try:
            text = decode(raw)
        except InputError as exc:
            return _bad(data, lang, exc)
    else:
        text = " ".join(args.text)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            return _bad(data, lang, InputError("too_large", None, limit=f"{MAX_BYTES // 1024} KB"))
        if any("\udc80" <= ch <= "\udcff" for ch in text):  # bytes the locale could not decode
            return _bad(data, lang, InputError("not_text", None, position="?"))
        if not text.strip():
            return _bad(data, lang, InputError("empty"))
    answer = explain(text, lang, data)
    if args.format == "json":
        text = json.dumps(answer, ensure_ascii=False, indent=2)
        # A console that cannot show every character gets \u escapes, never a "?" in the data.
        emit(text if _encodes(sys.stdout, text) else json.dumps(answer, indent=2), lang)
    else:
        # Only the matrix's own words are shown (never the text given), each line kept printable.
        emit("\n".join(printable(line) for line in render_text(answer, lang, data).split("\n")), lang)
    return EXIT_MATCHED if answer["matched"] else EXIT_UNKNOWN




def _bad(data: dict, lang: str, exc: InputError) -> int:
    key = {"too_large": "explain.too_large", "not_text": "explain.not_text"}.get(exc.code, "explain.empty")
    print(printable(_t(data, key, lang, **exc.values)), file=sys.stderr)
    return EXIT_INPUT

"""Matrix text on the site: text is text.

Every string the matrix gives the page templates (titles, texts, intros, remedies,
labels, interface strings, source titles...) reaches the page through `md_text`,
which the template environment applies to every ``{{ value }}`` by itself
(``finalize``): whatever a string holds is shown as text, in Markdown and in
the HTML the templates write around it (element content and quoted attributes).

Two Markdown forms are the only markup a matrix text may carry, by rule:

- a link, ``[label](target)``, whose target is an ``https://`` address or a page
  of the site (``checker.md``, ``notes.md#anchor``); its label is escaped like
  any text. Any other target (``javascript:``, ``data:``...) leaves it as text;
- a code span, ``` `text` ```, whose content holds none of ``< > & " '``; one
  that does is shown as text, backticks and all.

Everything else that Markdown, its attribute lists (``{ onclick=... }``) or HTML
would read as markup is written as a character reference. `validate` also
refuses HTML tags in any text (tooling/matrix.py), because a page title also
reaches places the theme writes without escaping (navigation, ``<title>``).

Values a template builds as markup itself are `Markup` (jinja2's, from
markupsafe) and pass unchanged: the few named places are the JSON blocks
(`inert_json`) and what a template marks with ``{% set name %}...{% endset %}``.
"""

from __future__ import annotations

import re

from markupsafe import Markup

# Characters written as references outside links and code spans. `_` and `*`
# stay: emphasis is harmless, and identifiers in code blocks carry `_`; so does
# `'`: every attribute the templates write is in double quotes.
_REFERENCES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;",
    "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;", "\\": "&#92;",
    "`": "&#96;", "|": "&#124;",
}
_ESCAPE = re.compile("[" + re.escape("".join(_REFERENCES)) + "]")
_SAFE_TARGET = re.compile(
    r"https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~:/?#@!$&*+,;=%-]*)?"
    r"|[A-Za-z0-9][A-Za-z0-9/._-]*(?:#[A-Za-z0-9_-]+)?"
)
# A link [label](target) (no brackets in the label) or a code span.
_MARKUP = re.compile(r"\[(?P<label>[^\[\]\n]*)\]\((?P<target>[^()\s]*)\)|`(?P<code>[^`\n]+)`")
_CODE_UNSAFE = set("<>&\"'")


def _plain(text: str) -> str:
    return _ESCAPE.sub(lambda m: _REFERENCES[m.group(0)], text)


def md_text(value) -> Markup:
    """`value` as text in a Markdown page or in the HTML around it (see the module)."""
    if hasattr(value, "__html__"):
        return Markup(value)
    text = str(value)
    out, pos = [], 0
    for match in _MARKUP.finditer(text):
        out.append(_plain(text[pos:match.start()]))
        pos = match.end()
        if match.group("code") is not None:
            code = match.group("code")
            out.append(f"`{code}`" if not _CODE_UNSAFE & set(code) else _plain(match.group(0)))
        elif _SAFE_TARGET.fullmatch(match.group("target")):
            target = match.group("target").replace("&", "&amp;")
            out.append(f"[{_plain(match.group('label'))}]({target})")
        else:
            out.append(_plain(match.group(0)))
    out.append(_plain(text[pos:]))
    return Markup("".join(out))


def finalize(value):
    """The template environment's finalize: every ``{{ value }}`` is text unless markup."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return md_text(value)


def fill(template: str, values: dict, fill_placeholders) -> Markup:
    """An interface string with its ``{placeholders}`` filled: the string's own text
    escaped by md_text, each value escaped too unless it is Markup."""
    escaped = [md_text(v) for v in values.values()]
    marks = {name: f"\x00{i}\x00" for i, name in enumerate(values)}
    filled = md_text(fill_placeholders(template, marks))
    return Markup(re.sub("\x00(\\d+)\x00", lambda m: str(escaped[int(m.group(1))]), str(filled)))


def inert_json(text: str) -> Markup:
    """JSON for a ``<script type="application/json">``: nothing in it can end the
    element early or open a comment there."""
    return Markup(text.replace("</", "<\\/").replace("<!", "<\\u0021"))

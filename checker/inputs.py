"""Bounded reading of a configuration, shared by the command line and the page.

Standard library only (PyYAML is imported when YAML is read). Every limit is
checked before anything is built from the text, so no input costs more than a
bounded amount of time and memory:

- at most ``MAX_BYTES`` of text;
- containers nested at most ``MAX_DEPTH`` deep (a configuration is flat);
- at most ``max_items`` entries in any mapping or list, and ``max_items`` squared
  values in all;
- no YAML anchors or aliases, no duplicate keys (in YAML and in JSON);
- only plain YAML values: a tag (``!!str`` too) or a value PyYAML cannot build
  is a problem with its line, never an exception.

A problem raises ``InputError`` with a code (a key ``error.CODE`` of the
matrix's strings), the line when known, and the values its message names.
"""

from __future__ import annotations

import json
import re

__all__ = ["InputError", "MAX_BYTES", "MAX_DEPTH", "SiteURLError", "check_list_sizes", "check_yaml_events", "decode",
           "limits_for", "load_config_text", "load_json", "load_yaml", "normalize_site_url", "printable", "read_limited"]

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 5
MAX_ITEMS = 64


class InputError(ValueError):
    """One problem with the text given: ``code`` names the message, ``line`` is 1-based or None."""

    def __init__(self, code: str, line: int | None = None, **values: str):
        self.code = code
        self.line = line
        self.values = {k: str(v) for k, v in values.items()}
        super().__init__(f"{code}: {self.values}")


def read_limited(stream, limit: int = MAX_BYTES) -> bytes:
    """At most `limit` bytes from a binary stream; one byte more is a problem (so
    ``/dev/zero`` or a 100 MB file is refused after reading ``limit + 1`` bytes)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError("too_large", None, limit=_size(limit))
    return data


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # a BOM from Windows editors is fine
    except UnicodeDecodeError as exc:
        raise InputError("not_text", None, position=str(exc.start)) from None
    if not text.strip():
        raise InputError("empty")
    return text


# -- JSON -----------------------------------------------------------------------
def _check_shape(value, max_depth: int, max_items: int) -> None:
    """Depth and sizes of parsed data, walked without recursion."""
    stack, seen = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > max_items * max_items:
            raise InputError("too_many_items", None, limit=str(max_items))
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise InputError("too_deep", None, limit=str(max_depth))
            if len(item) > max_items:
                raise InputError("too_many_items", None, limit=str(max_items))
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))


def load_json(text: str, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS):
    """Parse JSON within the bounds; duplicate keys are a problem, as in YAML.
    The text is already bounded in size; the parser stops deep nesting itself
    (RecursionError), and the parsed data is then checked for depth and sizes."""

    duplicates = []

    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        value = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        raise InputError("too_deep", None, limit=str(max_depth)) from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        problem = getattr(exc, "msg", None) or str(exc)
        raise InputError("invalid_json", line, problem=printable(problem)) from None
    _check_shape(value, max_depth, max_items)
    if duplicates:
        error = InputError("duplicate_key", None, field=printable(duplicates[0]))
        error.data = value  # what was read, so a caller can still tell the language asked for
        raise error
    return value


# -- YAML -----------------------------------------------------------------------
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}


def load_yaml(text: str, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS):
    """Parse one YAML document of plain mappings, lists and scalars within the
    bounds. The event stream is checked first (no anchors, aliases, depth,
    sizes); only then are values built, each scalar on its own, so a bad tag or
    timestamp is a problem on its line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        check_yaml_events(text, max_depth, max_items, tags=False)
        node = yaml.compose(text, Loader=loader)
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError("invalid_yaml", mark.line + 1 if mark else None,
                         problem=printable(str(exc.problem or exc.context or "syntax error"))) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise InputError("invalid_yaml", None, problem=printable(str(exc))) from None
    return None if node is None else _build(node, yaml)


def check_yaml_events(text: str, max_depth: int, max_items: int | None = None, tags: bool = True) -> None:
    """Walk YAML's event stream (the parser keeps its own stack, it does not
    recurse) and stop at the first anchor or alias, at nesting deeper than
    `max_depth`, or at a mapping or list with more than `max_items` entries;
    with `tags` False, at the first tag written out (``!!str``, ``!x``).
    Only after this is it safe to compose nodes (which recurses) or to expand
    anything. PyYAML's own syntax errors propagate as yaml.MarkedYAMLError."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth, counts, seen = 0, [], 0
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise InputError("yaml_alias", line)
        if not tags and getattr(event, "tag", None) is not None:
            raise InputError("bad_tag", line, tag=printable(str(event.tag)))
        if max_items is not None and counts and isinstance(event, (yaml.ScalarEvent, *opening)):
            seen += 1  # and in all: a few hundred values are more than any configuration has
            if seen > 2 * max_items * max_items:
                raise InputError("too_many_items", line, limit=str(max_items))
            counts[-1][0] += 1
            if counts[-1][0] > counts[-1][1]:
                raise InputError("too_many_items", line, limit=str(max_items))
        if isinstance(event, opening):
            depth += 1
            if depth > max_depth:
                raise InputError("too_deep", line, limit=str(max_depth))
            if max_items is not None:
                # a mapping's events are its keys and its values
                counts.append([0, 2 * max_items if isinstance(event, yaml.MappingStartEvent) else max_items])
        elif isinstance(event, closing):
            depth -= 1
            if max_items is not None:
                counts.pop()


def _build(node, yaml):
    """Values from composed nodes; depth is already bounded, so recursion is safe."""
    line = node.start_mark.line + 1
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise InputError("bad_tag", line, tag=printable(node.tag))
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _build(key_node, yaml)
            if isinstance(key, (list, dict)):
                raise InputError("bad_key", key_node.start_mark.line + 1)
            if key in out:
                raise InputError("duplicate_key", key_node.start_mark.line + 1, field=printable(str(key)))
            out[key] = _build(value_node, yaml)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, yaml) for item in node.value]
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # a date is no value of any field: keep the text the user wrote
    if node.tag not in _PLAIN_TAGS:
        raise InputError("bad_tag", line, tag=printable(node.tag))
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        raise InputError("invalid_yaml", line, problem=printable(str(getattr(exc, "problem", None) or exc))) from None


def load_config_text(text: str, name: str, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS):
    """A configuration in JSON or YAML: JSON when the file is named ``*.json``;
    otherwise text that opens with ``{`` or ``[`` is read as JSON first and, when
    it is no JSON, as YAML (``{deployment: online}`` is a YAML flow mapping), and
    anything else as YAML. A text that is neither reports its JSON problem when
    it was meant as JSON (a ``.json`` name, or a quoted key)."""
    if name.endswith(".json"):
        return load_json(text, max_depth, max_items)
    if not text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return load_yaml(text, max_depth, max_items)
    try:
        return load_json(text, max_depth, max_items)
    except InputError as json_error:
        if json_error.code != "invalid_json":
            raise
        try:
            return load_yaml(text, max_depth, max_items)
        except InputError as yaml_error:
            if yaml_error.code in ("invalid_yaml",) and '"' in text.lstrip("\ufeff \t\r\n")[:2]:
                raise json_error from None
            raise


def check_list_sizes(config, sizes: dict[str, int]) -> None:
    """A list longer than its field has values cannot be valid: say so before
    looking at its items."""
    if not isinstance(config, dict):
        return
    for name, value in config.items():
        limit = sizes.get(name) if isinstance(name, str) else None
        if limit is not None and isinstance(value, list) and len(value) > limit:
            raise InputError("list_too_long", None, field=name, count=str(len(value)), limit=str(limit))


# -- echoing what a user typed --------------------------------------------------
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with control, bidirectional and invisible format characters escaped
    (``\\x1b``, ``\\n``, ``\\u202e``), so nothing a user typed moves the cursor,
    colours a terminal or reorders a line."""
    return _CONTROL.sub(_escape, text)


def _escape(match) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# -- the site's public address (--site-url) ---------------------------------------
class SiteURLError(ValueError):
    """An address that is not an absolute http(s) one; the message names it, escaped."""


def normalize_site_url(value: str, option: str = "--site-url") -> str:
    """The public address as links want it: absolute http(s), no query, fragment,
    spaces or control characters, ending in '/'. Raises SiteURLError naming the
    value with its control characters escaped."""
    from urllib.parse import urlsplit

    text = value.strip()
    problem = any(c.isspace() for c in text) or _CONTROL.search(text) is not None
    if not problem:
        try:
            parts = urlsplit(text)
            problem = parts.scheme not in ("http", "https") or not parts.netloc or bool(parts.query) \
                or bool(parts.fragment)
        except ValueError:  # an invalid IPv6 host, say
            problem = True
    if problem:
        raise SiteURLError(printable(f"{option} {value!r}: expected an absolute http(s) address without query, "
                                     f"fragment, spaces or control characters, such as https://example.org/sss/"))
    return text if text.endswith("/") else text + "/"


def limits_for(fields: dict[str, dict]) -> tuple[int, dict[str, int]]:
    """The bounds a matrix's fields imply: no mapping or list needs more entries
    than there are fields or values of the largest field; a list field holds at
    most as many items as it has values."""
    sizes = {name: len(spec["values"]) for name, spec in fields.items() if spec.get("type") == "multi"}
    largest = max([len(fields), *(len(spec["values"]) for spec in fields.values())])
    return max(largest, 2), sizes

"""Step 1 of the organization check: a file's bytes in, records out.

What an administrator may hand over, and what becomes of it:

- a Web API response ``{"@odata.context": ..., "value": [records], "@odata.nextLink": ...}``,
  a JSON list of such responses, or a bare JSON list of records;
- in UTF-8 with or without a byte order mark, or UTF-16 (what ``>`` writes in
  Windows PowerShell 5.1), with or without its mark;
- anything else is refused with a ``Refusal`` that says what the file looks
  like (an Excel workbook, a CSV, PowerShell's display of the objects, a Web API
  error, an HTML page, JSON cut off) and how to get the JSON instead.

Bounds: a file holds at most ``MAX_FILE_BYTES``; the records of ``value`` are
parsed one at a time, so memory stays near the size of the text; a value nested
deeper than Python's parser allows is a refusal, never a crash.

Standard library only: the same code runs in the page under Pyodide.
"""

from __future__ import annotations

import json
import re
import sys
from json.decoder import scanstring

__all__ = ["MAX_FILE_BYTES", "Refusal", "decode", "events", "size_text"]

MAX_FILE_BYTES = 64 * 1024 * 1024
# Containers nested deeper than this are refused before parsing: an export has a
# few levels, and Pyodide's parser exhausts the browser's stack (a fatal error,
# not a RecursionError) a few thousand levels down.
MAX_DEPTH = 64
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# A record with no container inside it (the usual case), matched at C speed.
_FLAT = re.compile(r"\{[^{}\[\]\"]*(?:" + _STRING + r"[^{}\[\]\"]*)*\}")
_TOKEN = re.compile(_STRING + r"|[\[\]{}]")
# Faster still: up to the first brace or bracket, which is the object's end when the
# quotes before it pair up (no backslash to escape one).
_SIMPLE = re.compile(r"\{[^{}\[\]]*\}")


class Refusal(ValueError):
    """A file that is not an export this check reads: ``code`` names the message
    (``org.refuse.CODE`` of the strings), ``values`` fill it."""

    def __init__(self, code: str, /, **values):
        self.code = code
        self.values = {k: str(v) for k, v in values.items()}
        super().__init__(f"{code}: {self.values}")


def size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


# -- bytes to text -------------------------------------------------------------
def decode(data: bytes) -> str:
    """The text of a file, from UTF-8 (with or without BOM) or UTF-16 (with or
    without BOM); a workbook or text in another encoding is a Refusal."""
    if len(data) > MAX_FILE_BYTES:
        raise Refusal("too_large", limit=size_text(MAX_FILE_BYTES))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Refusal("workbook")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    elif len(data) >= 2 and data[0] == 0 and data[1] != 0:
        codec = "utf-16-be"
    elif len(data) >= 2 and data[0] != 0 and data[1] == 0:
        codec = "utf-16-le"
    else:
        codec = "utf-8-sig"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Refusal("encoding", position=exc.start) from None
    return text


# -- text to records ---------------------------------------------------------------
def _where(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _bad_json(text: str, pos: int) -> Refusal:
    line, column = _where(text, pos)
    if _WS.match(text, pos).end() >= len(text) or text.rstrip()[-1:] not in ("]", "}"):
        return Refusal("cut_off", line=line, column=column)
    return Refusal("bad_json", line=line, column=column)


def _shallow(text: str, pos: int) -> bool:
    """Whether the value at `pos` nests at most MAX_DEPTH deep (a value cut off
    counts as shallow: the parser then says where it stops)."""
    if text.startswith("{", pos):
        simple = _SIMPLE.match(text, pos)
        if simple and text.find("\\", pos, simple.end()) < 0 and text.count('"', pos, simple.end()) % 2 == 0:
            return True
        if _FLAT.match(text, pos):
            return True
    depth = 0
    for match in _TOKEN.finditer(text, pos):
        char = text[match.start()]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        else:
            depth -= 1
            if depth <= 0:
                return True
    return True


# CPython's parser stops deep nesting with a RecursionError; Pyodide's exhausts the
# browser's stack first, so there the depth is checked before parsing.
_GUARD = sys.platform == "emscripten"


def _too_deep(value) -> bool:
    """Whether parsed data nests deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))
    return False


def _value(text: str, pos: int):
    if _GUARD and text.startswith(("{", "["), pos) and not _shallow(text, pos):
        raise Refusal("too_deep")
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except RecursionError:
        raise Refusal("too_deep") from None
    except json.JSONDecodeError as exc:
        raise _bad_json(text, exc.pos) from None
    # The same limit on both, so the page and the command line refuse alike.
    if isinstance(value, (dict, list)) and any(isinstance(v, (dict, list)) for v in
                                               (value.values() if isinstance(value, dict) else value)):
        if _too_deep(value):
            raise Refusal("too_deep")
    return value, end


def _sniff(text: str) -> None:
    """Name what a file that does not start as JSON is."""
    head = text.lstrip()[:4000]
    if not head:
        raise Refusal("empty")
    first = head.split("\n", 1)[0]
    if head.startswith("<"):
        raise Refusal("html")
    if re.match(r"\s*(@odata\.\w+|value|error)\s*:", first) or re.search(r"^\s*value\s*:\s*\{@\{", head, re.M):
        raise Refusal("powershell")
    if re.match(r"^\s*(#TYPE|\"?[^\"\n,;\t]*\"?\s*[,;\t])", first):
        raise Refusal("csv")
    raise Refusal("not_json")


def events(text: str):
    """The parts of one file's text, in order, as ``(kind, value)``:

    - ``("page", None)`` at the start of each Web API response,
    - ``("meta", (key, value))`` for its other keys (``@odata.context``, ``@odata.nextLink``, ...),
    - ``("record", value)`` for each item of its ``value`` (or of a bare list),
    - ``("error", value)`` for a Web API error body.

    Records are parsed one at a time. Raises Refusal for text that is not JSON,
    JSON cut off, or nesting deeper than the parser allows."""
    pos = _WS.match(text, 0).end()
    opening = text[pos:pos + 1]
    if opening == "{":
        end = yield from _page(text, pos)
        pos = _WS.match(text, end).end()
    elif opening == "[":
        pos = _WS.match(text, pos + 1).end()
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                item, pos = _value(text, pos)
                if isinstance(item, dict) and isinstance(item.get("value"), list):
                    yield "page", None
                    for key, value in item.items():
                        if key != "value":
                            yield "meta", (key, value)
                    for record in item["value"]:
                        yield "record", record
                else:
                    yield "record", item
                pos = _WS.match(text, pos).end()
                if text.startswith(",", pos):
                    pos = _WS.match(text, pos + 1).end()
                elif text.startswith("]", pos):
                    pos += 1
                    break
                else:
                    raise _bad_json(text, pos)
        pos = _WS.match(text, pos).end()
    else:
        _sniff(text)
    if pos < len(text):
        raise _bad_json(text, pos)


def _page(text: str, pos: int):
    """One response object, its ``value`` read record by record; returns where it ends."""
    pos = _WS.match(text, pos + 1).end()
    started = False
    if text.startswith("}", pos):
        return pos + 1
    while True:
        if not text.startswith('"', pos):
            raise _bad_json(text, pos)
        try:
            key, pos = scanstring(text, pos + 1)
        except json.JSONDecodeError as exc:
            raise _bad_json(text, exc.pos) from None
        pos = _WS.match(text, pos).end()
        if not text.startswith(":", pos):
            raise _bad_json(text, pos)
        pos = _WS.match(text, pos + 1).end()
        if key == "value" and text.startswith("[", pos):
            if not started:
                started = True
                yield "page", None
            pos = _WS.match(text, pos + 1).end()
            if text.startswith("]", pos):
                pos += 1
            else:
                while True:
                    record, pos = _value(text, pos)
                    yield "record", record
                    pos = _WS.match(text, pos).end()
                    if text.startswith(",", pos):
                        pos = _WS.match(text, pos + 1).end()
                    elif text.startswith("]", pos):
                        pos += 1
                        break
                    else:
                        raise _bad_json(text, pos)
        else:
            value, pos = _value(text, pos)
            if key == "error" and isinstance(value, dict):
                yield "error", value
            else:
                if not started and key.startswith("@odata."):
                    started = True
                    yield "page", None
                yield "meta", (key, value)
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif text.startswith("}", pos):
            return pos + 1
        else:
            raise _bad_json(text, pos)


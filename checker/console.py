"""What the commands share about the console and the files they are given:
the status marks (and their ASCII fallback), output that degrades instead of
failing on a console that cannot show a character, and opening a file without
ever waiting on a FIFO or reading a device.

Standard library only; used by ``cli.py`` (``check``) and ``orgcli.py`` (``org``).
"""

from __future__ import annotations

import os
import stat
import sys

from .inputs import printable

__all__ = ["MARK", "ASCII_MARK", "NotRegular", "encodes", "kind_key", "open_input", "marks_for", "open_regular", "printable",
           "tolerant_output"]

MARK = {"supported": "✓", "limited": "!", "unsupported": "✗", "unknown": "?", "info": "i"}
# For a console that cannot show the marks (a Windows code page, the C locale).
ASCII_MARK = {"supported": "+", "limited": "!", "unsupported": "x", "unknown": "?", "info": "i"}


def tolerant_output() -> None:
    """A character the console cannot encode becomes '?' instead of a traceback.

    Under the C locale (``LC_ALL=C``, no UTF-8 mode) Python writes ASCII with
    ``surrogateescape``, which fails on any other character just like ``strict``:
    both become ``replace``, so the answer still prints, as on an ASCII console."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) in ("strict", "surrogateescape") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a stream that refuses
                pass


def encodes(stream, text: str) -> bool:
    """Whether `stream` can show `text` as it is."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def marks_for(stream, extra: str = "") -> dict:
    """The marks `stream` can show: the symbols, or their ASCII stand-ins."""
    return MARK if encodes(stream, "".join(MARK.values()) + extra) else ASCII_MARK


class NotRegular(OSError):
    """A path that names a FIFO, a device, a socket or a folder: never read."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(what)


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special"


_KIND_KEYS = {"directory": "console.kind.directory", "fifo": "console.kind.fifo", "device": "console.kind.device",
              "socket": "console.kind.socket", "special": "console.kind.special"}


def kind_key(what: str) -> str:
    """The key of the strings that name a kind of special file in each language."""
    return _KIND_KEYS.get(what, _KIND_KEYS["special"])


def open_input(name: str):
    """A binary file object for `name`, opened without blocking: a FIFO with no
    writer would otherwise wait forever (with none, reading it gives end of file at
    once; a pipe that has a writer, as ``<(...)`` gives, reads as usual)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(name, flags)
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_regular(name: str):
    """A binary file object for the regular file `name`, refused with
    ``NotRegular`` (a FIFO, a device, a folder) before a single byte is read.
    Other failures raise ``OSError`` as ``open`` does."""
    try:
        fh = open_input(name)
    except IsADirectoryError:
        raise NotRegular("directory") from None
    try:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(_what(mode))
        return fh
    except BaseException:
        fh.close()
        raise

"""One build at a time in a checkout.

A build writes shared files (docs/, checker/rules.json, build/wheel/) before it
builds its own folder beside site/, so two builds at once, or a build beside
`mkdocs serve` regenerating after an edit, would read each other's half-written
inputs. `held()` takes an exclusive lock on build/build.lock (released by the
system when the process ends, however it ends) and writes the holder's process
id into it, so a build that has to wait can say which process it waits for.

The lock is re-entrant within a process: build.py holds it around MkDocs' build,
whose hook (hooks/matrix_site.py) asks for it again.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "build" / "build.lock"
WAIT_SECONDS = 600.0

_state = {"fd": None, "depth": 0}


class BuildLockTimeout(Exception):
    """Another process held the lock for longer than we wait."""


def holder(path: Path = LOCK) -> str:
    """The process id written by the lock's holder, or '?'."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"


def acquire(path: Path = LOCK, wait: float = WAIT_SECONDS, say=None) -> None:
    import fcntl

    if _state["depth"]:
        _state["depth"] += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not told:
                (say or _say)(f"another build (process {holder(path)}) is using this checkout; "
                              f"waiting for it to finish")
                told = True
            if time.monotonic() > deadline:
                os.close(fd)
                raise BuildLockTimeout(
                    f"another build (process {holder(path)}) has held {path} for over {int(wait)} s; "
                    f"wait for it or stop that process") from None
            time.sleep(0.1)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _state["fd"], _state["depth"] = fd, 1


def release() -> None:
    if not _state["depth"]:
        return
    _state["depth"] -= 1
    if _state["depth"] == 0:
        fd, _state["fd"] = _state["fd"], None
        os.close(fd)  # closing the file releases the lock


def is_held() -> bool:
    return bool(_state["depth"])


@contextmanager
def held(path: Path = LOCK, wait: float = WAIT_SECONDS, say=None):
    acquire(path, wait, say)
    try:
        yield
    finally:
        release()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

"""The command line's argument parser: argparse, with its own complaints (an
unknown option, a missing argument, an extra one) said in one line, what the
user typed escaped (`checker.inputs.printable`), and exit status 2.

Shared by every command (`check`, `validate`, `compile`, `diff`, `org`: the
subcommands' parsers are made by the top one, so they are of this class too)
and by build.py.
"""

from __future__ import annotations

import argparse
import sys

from .inputs import printable

EXIT_INPUT = 2


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line on standard error, then exit 2 (argparse prints its usage, then
        the message as typed: an escape sequence in an option would reach the terminal)."""
        line = printable(f"{self.prog}: error: {message} (see {self.prog} --help)")
        try:
            print(line, file=sys.stderr, flush=True)
        except (OSError, AttributeError, ValueError):
            pass  # no standard error left: the exit status still tells
        raise SystemExit(EXIT_INPUT)

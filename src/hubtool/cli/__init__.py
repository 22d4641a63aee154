"""The `hubtool` command line: the only place that prints, draws progress or reads the terminal.

Each command parses its options, builds the library's objects, calls the
library, and renders what it returns (about 20 lines each).  A failure becomes
its message and exit code in one place (`failures.exit_code_for`).  Nothing
imports this package; it imports every part.  Heavy modules are imported inside
the commands that need them, and `hubtool check` (the pre-commit hook) is read
without typer at all when it can be (`quickcheck`), so that it starts fast; the
typer application with every command is `hubtool.cli.commands.app`.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    if _command(sys.argv[1:]) == "golden":
        from ..runtimes.mslite.spawn import prespawn

        # first of all (even the fast check's module is 15 ms): the worker's own start (~0.3 s) overlaps
        # hubtool's imports; the golden command adopts it (or kills it when no card needs it)
        prespawn(replenish=True)
    else:
        from .quickcheck import fast_check

        code = fast_check(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from .commands import app

    app()


def _command(argv: list[str]) -> str | None:
    """The command word of a command line (after global options; --color takes a value)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--color":
            skip = True
        elif not token.startswith("-"):
            return token
    return None


__all__ = ["main"]

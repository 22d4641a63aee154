"""The `hubtool` command line: the only place that prints, draws progress or reads the terminal.

Each command parses its options, builds the library's objects, calls the
library, and renders what it returns (about 20 lines each).  A failure becomes
its message and exit code in one place (`failures.exit_code_for`).  Nothing
imports this package; it imports every part.  Heavy modules are imported inside
the commands that need them, and `hubtool check` (the pre-commit hook) is read
without typer at all when it can be (`quickcheck`), so that it starts fast (and so are a
publish replay and `upgrade-ms`: `quickpublish`, `quickupgrade`); the
typer application with every command is `hubtool.cli.commands.app`.

Once a command has finished, the process ends without the interpreter's teardown (see
`_end_without_teardown`).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

_STATUS: list[int] = []  # the finished command's exit status, once there is one


def main() -> None:
    """Console-script entry point."""
    # only when no exit handler came before (a coverage hook in a .pth file, say): those would be skipped
    if getattr(atexit, "_ncallbacks", lambda: 1)() == 0:
        atexit.register(_end_without_teardown)  # the first handler registered is the last one run
    try:
        _run()
    except SystemExit as stop:
        _STATUS.append(stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1)
        raise
    _STATUS.append(0)


def _end_without_teardown() -> None:
    """Exit now, after the other exit handlers, with the command's status.

    Tearing the interpreter down (freeing every module and object, numpy's and requests' among
    them) took 40-60 ms after `hubtool golden` had printed its verdict, and a few ms for the
    pre-commit check; nothing is lost by skipping it.  Python has already joined the threads that
    were not daemons, the exit handlers (spares, temporary folders, logging) have run, and what is
    left (open SQLite connections, a partial download) is what a SIGKILL leaves, which every store
    write is built to survive.  Without a status (a traceback) the teardown runs as usual.
    """
    if not _STATUS:
        return
    status = _STATUS[0]
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError) as exc:  # the last of the output could not be written
        from .failures import output_failed  # imported by every command already

        status = output_failed(exc)
    os._exit(status)


def _run() -> None:
    command = _command(sys.argv[1:])
    if command == "check":
        # a check makes no reference cycle (tests/cards/test_checkrun.py) and soon ends: the cyclic collector
        # would only scan its imports and its verdicts again and again (~17 ms of a 0.46 s check of 2,970
        # real cards).  The typer app below, which may run anything, has it back.
        gc.disable()
    if command == "golden":
        from ..runtimes.mslite.spawn import prespawn

        # first of all (even the fast check's module is 15 ms): the worker's own start (~0.3 s) overlaps
        # hubtool's imports; the golden command adopts it (or kills it when no card needs it)
        prespawn(replenish=True)
    else:
        from .quickcheck import fast_check

        code = fast_check(sys.argv[1:])
        if code is None and command == "publish":
            from .quickpublish import fast_publish  # a replay of an unchanged hub

            code = fast_publish(sys.argv[1:])
        elif code is None and command == "upgrade-ms":
            from .quickupgrade import fast_upgrade

            code = fast_upgrade(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    gc.enable()
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

"""How a failed command ends: the message, the exit code, Ctrl-C (no click or typer here).

Both ways into a command use this: the typer application (`app.handled`) and the
pre-commit fast path (`quickcheck`), so a failure reads the same whichever parsed the
command line.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from .. import cancel
from ..diagnostics import printable_lines
from ..errors import HubtoolError

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL, EXIT_INTERRUPTED = 0, 1, 2, 130  # 130: 128 + SIGINT, as shells say
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell shows for `yes | head`
#: the functions every line of a command's output goes through (click's echo is typer's)
_PRINTERS = {("click.utils", "echo"), ("hubtool.cli.quickcheck", "write_out")}


class Settings:
    """The global options, for the CLI's own rendering (the library never sees them)."""

    __slots__ = ("color", "quiet", "verbose")

    def __init__(self) -> None:
        self.color = "auto"  # auto | always | never
        self.quiet = False
        self.verbose = False


SETTINGS = Settings()


def color() -> bool:
    """Colour on stdout: --color always/never, else a terminal without NO_COLOR."""
    if SETTINGS.color != "auto":
        return SETTINGS.color == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def say(text: str) -> None:
    """A line on stderr; one that cannot be written is dropped (the exit code still says what happened)."""
    try:
        sys.stderr.write(printable_lines(text) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is a closed pipe or a full disk too: the exit code is all that is left to say it


def exit_code_for(exc: BaseException) -> int:
    """Say what went wrong on stderr, and give the exit code: 130 for Ctrl-C, else 2.

    A HubtoolError is said as it is; anything else is a bug in hubtool: one line on stderr,
    the traceback in a log file that line names, and still exit code 2, so that a crash is
    never mistaken for findings (1) by a pre-commit hook or CI.
    """
    if isinstance(exc, KeyboardInterrupt):
        done = "; ".join(cancel.notes())
        say(f"hubtool: interrupted{': ' + done if done else ''}")  # a download begun notes that partials are kept
        return EXIT_INTERRUPTED
    if isinstance(exc, OSError) and _raised_printing(exc):
        return output_failed(exc)
    if isinstance(exc, HubtoolError):
        say(f"hubtool: {exc.kind} error: {exc.message}")
        if exc.hint:
            say(f"    hint: {exc.hint}")
        return EXIT_TOOL
    _say_unexpected(exc)
    return EXIT_TOOL


def _raised_printing(exc: OSError) -> bool:
    """Whether the error came from writing the command's output (a closed pipe, a full disk), not a bug."""
    tb = exc.__traceback__
    while tb is not None:
        if (tb.tb_frame.f_globals.get("__name__"), tb.tb_frame.f_code.co_name) in _PRINTERS:
            return True
        tb = tb.tb_next
    return False


def output_failed(exc: OSError | ValueError) -> int:
    """`hubtool check | head` closed its end: stop quietly, as other tools do; any other failure to write
    the output (a full disk, an I/O error, a closed stream) is said on stderr, exit code 2.  Also for the
    last flush at exit (cli._end_without_teardown)."""
    if isinstance(exc, BrokenPipeError):
        try:  # what is still buffered goes nowhere, rather than failing again at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
        return EXIT_CLOSED_PIPE
    say(f"hubtool: output error: cannot write the output: {getattr(exc, 'strerror', None) or exc}")
    return EXIT_TOOL


def _say_unexpected(exc: BaseException) -> None:
    """A part the installation left out, or a bug: one line (the traceback in a log, and with -v here too)."""
    missing = missing_extra(exc)
    if missing is not None:
        say(f"hubtool: {missing}")
        return
    from ..crashlog import one_line, write_crash_log

    log = write_crash_log(exc)
    say(f"hubtool: internal error: {one_line(exc)}")
    if SETTINGS.verbose:
        import traceback

        say("".join(traceback.format_exception(exc)).rstrip())
    say(f"    the traceback is in {log}; please report it" if log else "    (no log file could be written)")


# which extra of pyproject.toml brings which import: the core installs the checker only
EXTRAS = {"requests": "assets", "urllib3": "assets", "rich": "assets", "flatbuffers": "legacy", "numpy": "golden",
          "PIL": "golden", "boto3": "s3", "botocore": "s3"}


def missing_extra(exc: BaseException) -> str | None:
    """What to install when a command needs a part the installation left out (None: a real bug)."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    module = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        return None
    return (f"this command needs hubtool's '{extra}' extra ({module} is not installed)\n"
            f"    hint: pip install 'hubtool[{extra}]', or 'hubtool[all]' for every command")


Handler = signal.Handlers | Callable[..., object] | int | None


def catch_sigint() -> Handler:
    """Ctrl-C stops every thread (cancel.request_stop), then interrupts the main thread as usual.

    Returns the handler it replaced (None off the main thread, where signals cannot be set).
    """
    cancel.reset()
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigint(signum: int, frame: object) -> None:
        cancel.request_stop()
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, on_sigint)


def restore_sigint(previous: Handler) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def run_guarded(command: Callable[[], int]) -> int:
    """A fast path's command, run as `app.handled` runs a typer one: Ctrl-C and every failure become
    their message and exit code (`exit_code_for`)."""
    previous = catch_sigint()
    try:
        return command()
    except (KeyboardInterrupt, Exception) as exc:  # the fast paths' catch-all, as app.handled's
        return exit_code_for(exc)
    finally:
        restore_sigint(previous)

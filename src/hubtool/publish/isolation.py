"""One card cannot take down a publish: an unexpected error in its step fails that card only.

This and the CLI are the two places where hubtool catches everything (the
architecture test allows exactly these).  A HubtoolError is not caught here:
those are either per-card verdicts already (each step turns its own into a
Step) or about the whole run (a full disk, a broken store) and must stop it.
Ctrl-C is a BaseException and passes through.  The traceback goes to a crash
log that the card's reason names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..crashlog import one_line, write_crash_log
from ..errors import HubtoolError, InternalError
from .runs import CardRun, Step

T = TypeVar("T")


def internal_reason(exc: Exception, context: str) -> str:
    log = write_crash_log(exc, context=context)
    where = f"the traceback is in {log}" if log else "no log file could be written"
    return f"internal error: {one_line(exc)} ({where}; please report it)"


def isolated_step(run: CardRun, step: str, work: Callable[[], None]) -> None:
    """Run one card's step; a bug in it becomes that step's failure."""
    try:
        work()
    except HubtoolError:
        raise
    except Exception as exc:  # the per-card boundary (see the module docstring)
        run.steps[step] = Step("failed", internal_reason(exc, f"publish: {step} of {run.display}"))


def isolated_asset(what: str, work: Callable[[], T]) -> T:
    """Run one asset's work; a bug in it becomes an InternalError (an AssetError: that card's failure)."""
    try:
        return work()
    except HubtoolError:
        raise
    except Exception as exc:  # the per-card boundary (see the module docstring)
        raise InternalError(internal_reason(exc, f"publish: {what}")) from exc


def isolated_task(what: str, work: Callable[[], T]) -> T | str:
    """A task's result, or why it failed: whatever went wrong on the machine that ran it is that card's failure."""
    try:
        return work()
    except HubtoolError as exc:
        return exc.message
    except Exception as exc:  # the per-card boundary (see the module docstring)
        return internal_reason(exc, what)

"""Where a bug's traceback goes: a log file under the cache dir that the one-line message names.

Two places turn an unexpected exception into a message: the CLI (the whole
command fails, exit 2) and publish (one card's step fails, the run goes on).
Both write the traceback here, so the user sees one line and a maintainer gets
the whole story.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .places import cache_dir


def write_crash_log(exc: BaseException, *, context: str = "") -> Path | None:
    """The log file written for `exc`, or None when no log could be written."""
    try:
        folder = cache_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        log = folder / f"crash-{stamp}.log"
        log.write_text(f"hubtool {__version__}\n{' '.join(sys.argv)}\n{context}\n\n"
                       + "".join(traceback.format_exception(exc)), encoding="utf-8")
        return log
    except OSError:
        return None


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line, whatever the exception carries."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"

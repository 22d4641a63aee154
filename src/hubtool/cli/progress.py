"""The terminal's `Progress`: notices on stderr, rich bars on a terminal, a line every few seconds in CI logs.

On a terminal, transfers get bars with size, percent, rate and ETA as soon as
the server says the size, and status lines show where a run is.  When stderr
is not a terminal (a CI log), nothing is redrawn: one summary line every
HUBTOOL_PROGRESS_SECONDS (5) seconds says what moved and where the run is, so
a long job is never silent until the end.  `-q` keeps only what must be said
(errors go through the error handler); `-v` also shows status lines in logs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from .failures import SETTINGS

if TYPE_CHECKING:
    from rich.progress import Progress as Bars
    from rich.progress import TaskID


class TerminalProgress:
    def __init__(self, *, bars: bool = False) -> None:
        self.interactive = sys.stderr.isatty() or SETTINGS.color == "always"
        self.quiet = SETTINGS.quiet
        self._bars: Bars | None = _make_bars() if bars and self.interactive and not self.quiet else None
        self._total: TaskID | None = self._bars.add_task("total", total=None) if self._bars else None
        self._files: dict[str, TaskID] = {}
        self._sizes: dict[str, int] = {}
        self._moved = 0
        self._every = float(os.environ.get("HUBTOOL_PROGRESS_SECONDS", "5"))
        self._last = time.monotonic()
        self._started = self._last
        self._where = ""

    def notice(self, text: str) -> None:
        if not self.quiet:
            typer.echo(f"hubtool: {text}", err=True)

    def status(self, text: str) -> None:
        self._where = text
        if self.quiet:
            return
        if self.interactive or SETTINGS.verbose:
            typer.echo(f"hubtool: {text}", err=True)
        else:
            self._maybe_line()

    def transfer_started(self, key: str, label: str) -> None:
        if self._bars is not None:
            self._files[key] = self._bars.add_task(label, total=None)

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        self._sizes[key] = total
        if self._bars is not None and key in self._files:
            self._bars.update(self._files[key], total=total, completed=done)
            if self._total is not None:
                self._bars.update(self._total, total=sum(self._sizes.values()))

    def transferred(self, key: str, nbytes: int) -> None:
        self._moved += nbytes
        if self._bars is not None and self._total is not None:
            self._bars.advance(self._total, nbytes)
            if key in self._files:
                self._bars.advance(self._files[key], nbytes)
        elif not self.quiet:
            self._maybe_line()

    def transfer_done(self, key: str) -> None:
        if self._bars is not None and key in self._files:
            self._bars.remove_task(self._files.pop(key))

    def _maybe_line(self) -> None:
        """In a log: one line every few seconds, never one per chunk."""
        now = time.monotonic()
        if now - self._last < self._every:
            return
        self._last = now
        rate = self._moved / max(now - self._started, 1e-9)
        parts = [f"{self._where}" if self._where else "working"]
        if self._moved:
            total = sum(self._sizes.values())
            of = f" of {_mb(total)}" if total else ""
            parts.append(f"{_mb(self._moved)}{of} done, {_mb(rate)}/s")  # downloaded, or hashed in the store
        typer.echo(f"hubtool: {'; '.join(parts)} ({now - self._started:.0f} s)", err=True)

    @contextmanager
    def shown(self) -> Iterator[TerminalProgress]:
        """Draw the bars (if any) while the block runs."""
        if self._bars is None:
            yield self
            return
        with self._bars:
            yield self


def _mb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _make_bars() -> Bars:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bars

    console = Console(stderr=True, force_terminal=SETTINGS.color == "always" or None,
                      no_color=SETTINGS.color == "never" or None)
    return Bars(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=False)

"""The terminal's `Progress`: notices on stderr, status lines on a terminal, rich transfer bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.progress import Progress as Bars
    from rich.progress import TaskID


class TerminalProgress:
    """Notices always go to stderr; status lines and bars only when stderr is a terminal."""

    def __init__(self, *, bars: bool = False) -> None:
        self.interactive = sys.stderr.isatty()
        self._bars: Bars | None = _make_bars() if bars and self.interactive else None
        self._total: TaskID | None = self._bars.add_task("total", total=None) if self._bars else None
        self._files: dict[str, TaskID] = {}

    def notice(self, text: str) -> None:
        typer.echo(f"hubtool: {text}", err=True)

    def status(self, text: str) -> None:
        if self.interactive:
            typer.echo(f"hubtool: {text}", err=True)

    def transfer_started(self, key: str, label: str) -> None:
        if self._bars is not None:
            self._files[key] = self._bars.add_task(label, total=None)

    def transferred(self, key: str, nbytes: int) -> None:
        if self._bars is None or self._total is None:
            return
        self._bars.advance(self._total, nbytes)
        if key in self._files:
            self._bars.advance(self._files[key], nbytes)

    def transfer_done(self, key: str) -> None:
        if self._bars is not None and key in self._files:
            self._bars.remove_task(self._files.pop(key))

    @contextmanager
    def shown(self) -> Iterator[TerminalProgress]:
        """Draw the bars (if any) while the block runs."""
        if self._bars is None:
            yield self
            return
        with self._bars:
            yield self


def _make_bars() -> Bars:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
    from rich.progress import Progress as Bars

    return Bars(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=False)

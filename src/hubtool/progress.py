"""The one way the library tells the user anything while it works: a `Progress` it is given.

The library never prints, draws or looks at the terminal; `hubtool.cli` implements
this protocol (lines on stderr, rich progress bars on a terminal) and tests use
`SILENT` or a recorder of their own.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def notice(self, text: str) -> None:
        """Something the user should know now (a mirror failed over, a lock is awaited)."""

    def status(self, text: str) -> None:
        """Where a long run is ("fetching assets"): worth showing on a terminal only."""

    def transfer_started(self, key: str, label: str) -> None:
        """A transfer identified by `key` (a blob's digest) begins."""

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        """Transfer `key` will be `total` bytes, of which `done` are already here (a resume)."""

    def transferred(self, key: str, nbytes: int) -> None:
        """`nbytes` more bytes of transfer `key` arrived."""

    def transfer_done(self, key: str) -> None:
        """Transfer `key` ended (done or failed)."""


class Silent:
    """A Progress that shows nothing."""

    def notice(self, text: str) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def transfer_started(self, key: str, label: str) -> None:
        pass

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        pass

    def transferred(self, key: str, nbytes: int) -> None:
        pass

    def transfer_done(self, key: str) -> None:
        pass


SILENT: Progress = Silent()

"""A card's digest without reading its bytes, when its file is provably the one read last time.

The last normal publish keeps, for each card it read, the file's status (`filestatus`: device,
inode, size, mtime, ctime) beside the sha256 of the bytes.  A card whose status is the same now
has the same bytes; a card written just before it was read is not kept (git's racy entries).

The digests only decide whether the last run may be replayed: when it is not, the normal
path keys every card again from its bytes (`Publisher.run`), so a record that says the
wrong thing costs a replay at most, never a wrong verdict.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from .. import textdecode
from ..errors import SpecialFile
from ..filestatus import identity, settled

#: the digest of what is not read (a special file, one gone, one over the limit): the check says why
NOTHING = hashlib.sha256(b"").hexdigest()


class CardDigests:
    """The sha256 of cards' bytes: from the last run's `known` entries where the file's status is the same,
    else read; `kept` is what the next run may use (file -> identity and digest)."""

    def __init__(self, known: Mapping[str, str], limit: int) -> None:
        self.known = known
        self.limit = limit
        self.kept: dict[str, str] = {}  # file -> "identity digest"
        self.reused = 0  # digests taken from `known`, not from the bytes

    def digest(self, file: str) -> str:
        """The digest of the card's bytes: the known one if the file's status is the same, else as read."""
        entry = self.known.get(file)
        if isinstance(entry, str):
            was, _, digest = entry.rpartition(" ")
            try:
                found = os.stat(file)
            except (OSError, ValueError):
                found = None
            if found is not None and stat.S_ISREG(found.st_mode) and identity(found) == was and len(digest) == 64:
                self.kept[file] = entry
                self.reused += 1
                return digest
        return self.read(file)

    def take(self) -> dict[str, str]:
        """What the next run may use, given away: file -> "identity digest"."""
        kept, self.kept = self.kept, {}
        return kept

    def read(self, file: str | Path) -> str:
        """The digest of the bytes as read now (NOTHING when they are not read: the check says why)."""
        read_at = time.time_ns()
        try:
            data, found = textdecode.read_regular_stat(file, self.limit)
        except (SpecialFile, OSError):
            return NOTHING
        if not isinstance(data, bytes):
            return NOTHING  # over the limit
        digest = hashlib.sha256(data).hexdigest()
        if len(data) == found.st_size and settled(found, read_at):  # one that grew as it was read is read again
            self.kept[str(file)] = f"{identity(found)} {digest}"
        return digest

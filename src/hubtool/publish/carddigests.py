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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from .. import textdecode
from ..cards import twins
from ..errors import SpecialFile
from ..filestatus import identity, settled

#: the digest of what is not read (a special file, one gone, one over the limit): the check says why
NOTHING = hashlib.sha256(b"").hexdigest()
#: the status of a path that holds no regular file (or nothing): never a read card's
NO_FILE = "-"


class Keyed(NamedTuple):
    """A card as the check step finds it: its file as found, display path, hub path and check key."""

    file: str
    display: str
    card: str
    key: str


class CardDigests:
    """The sha256 of cards' bytes: from the last run's `known` entries where the file's status is the same,
    else read; `kept` is what the next run may use (file -> identity and digest)."""

    def __init__(self, known: Mapping[str, str], limit: int) -> None:
        self.known = known
        self.limit = limit
        self.kept: dict[str, str] = {}  # file -> "identity digest"
        self.absent: set[str] = set()  # twins looked for and not found (`twin`)
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

    def twin(self, english: Path) -> str | None:
        """The digest of a `_cn.md` card's English card outside the run's files; None when no file is there."""
        try:
            present = english.is_file()
        except OSError:  # a folder on the way that cannot be searched: the twin's check says so
            present = False
        if not present:
            self.absent.add(str(english))
            return None
        return self.read(english)

    def status(self, file: str) -> str | None:
        """The status a digest was read under (NO_FILE for a twin found absent); None when it does not stand
        for the bytes (not settled, not read)."""
        entry = self.kept.get(file)
        if entry is not None:
            return entry.rpartition(" ")[0]
        return NO_FILE if file in self.absent else None

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


def current_status(path: str) -> str:
    """A path's status now, as `CardDigests.status` says it (NO_FILE for anything but a regular file)."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return NO_FILE
    return identity(found) if stat.S_ISREG(found.st_mode) else NO_FILE


def status_listing(files: Sequence[str], status_of: Callable[[str], str | None]) -> str | None:
    """A digest of every card's file status, in order, and of the status of each English twin outside `files`
    (a `_cn.md` card's key has its twin's bytes): the same listing means the same bytes, and so the same
    check keys, without reading or keying a card.  None when a status does not stand for its file's bytes."""
    lines = []  # hashed at once: a sha256 update per card was a fifth of the listing
    inside: set[str] | None = None
    for file in files:
        found = status_of(file)
        if found is None or found == NO_FILE:
            return None  # a card not read (the check says why), or not there
        lines.append(f"{file}\0{found}\n")
        if twins.is_twin(file):
            inside = set(files) if inside is None else inside
            english = str(twins.english_path(Path(file)))
            if english not in inside:
                found = status_of(english)
                if found is None:
                    return None
                lines.append(f"\1{english}\0{found}\n")
    return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest()

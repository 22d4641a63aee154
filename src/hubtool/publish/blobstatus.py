"""Whether the blobs a remembered run used (`unchanged`) are in the store as it found them, by file status.

A replay of 10k cards lstats 10k blobs: ~35 ms of 0.23 s, so the loop is kept tight.  (On a thread beside
the cards' listing it was slower, not faster: each lstat is ~2 us, less than handing the GIL over.)
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from ..assets import layout
from ..filestatus import identity

#: digests as layout.HEX64 has them, back to back: every digest of a record checked with one match
_DIGESTS = re.compile(f"(?:{layout.HEX64.pattern})*")


def blob_path(root: Path, digest: str) -> str | None:
    """Where the store keeps a blob, as text (a Path per blob was a tenth of a replay); None for a digest that
    is no digest: no file holds it."""
    return f"{root}/{layout.blob_rel(digest)}" if layout.HEX64.fullmatch(digest) else None


def same_blobs(root: Path, kept: Mapping[str, object]) -> bool:
    """Whether each blob's status in the store is the one kept (None: no regular file held it then either)."""
    all_digests = all(len(d) == 64 for d in kept) and _DIGESTS.fullmatch("".join(kept)) is not None
    regular, blob_rel = stat.S_ISREG, layout.blob_rel
    for digest, found in kept.items():  # one loop, lstat inline: per blob, a call was 10% of it
        now = None  # not there, or no digest (`blob_path`): absent
        if all_digests or layout.HEX64.fullmatch(digest):
            try:
                st = os.lstat(f"{root}/{blob_rel(digest)}")  # spelled by layout, as every blob path is
                now = identity(st) if regular(st.st_mode) else None
            except (OSError, ValueError):
                pass
        if now != found:
            return False
    return True

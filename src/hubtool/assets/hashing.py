"""The SHA-256 of a file hubtool reads back (a blob, a published index), in the chunks it reads and writes in.

One reader for every part that hashes a file already on disk: opened as a regular file only, so a name
swapped for a FIFO (whose read would wait for a writer) or a link to /dev/zero (whose read never ends)
between a listing and the hash is refused, not waited on.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from ..textdecode import open_regular

CHUNK = 1024 * 1024  # bytes per read and write of a blob's bytes, everywhere


def hash_regular(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, os.stat_result]:
    """The SHA-256 of the regular file at `path` (a link is followed to one), and its status as it was opened;
    each chunk's size is given to `on_bytes` as it is hashed.  SpecialFile for anything but a regular file,
    OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        found = os.fstat(fh.fileno())
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest(), found

"""A file's status as a stand-in for its bytes, the way git's index uses it.

A cache that trusts a file's status instead of reading it must compare what any write changes:
the ctime.  Size, mtime and inode are not enough: an editor or `cp -p`, `rsync -t`, `touch -r`
can rewrite a file with its size and mtime as they were, but nothing (not `os.utime`) can set a
ctime back.  So the status is the device, inode, size, mtime and ctime.

One gap is left, git's "racy" entries: a write in the same tick of the file system's clock as
the status that was kept (the same second, on a file system with whole-second times) leaves
every field as it was.  So a status is only trusted when the file's mtime and ctime were older
than `SETTLE_NS` when the status was taken; a file written just before is read again next time.
The margin covers file systems with times in seconds or in 2 s steps; it does not cover a
network file server whose clock is behind this machine's by more than that.
"""

from __future__ import annotations

import os

#: how old a file's mtime and ctime must be, when its status is taken, for the status to stand for its bytes
SETTLE_NS = 3_000_000_000


def identity(found: os.stat_result) -> str:
    """What any change of a file's bytes changes, as one text (10k cards' statuses as lists of numbers
    were 8 MiB of a publish's peak; as text, 2)."""
    return f"{found.st_dev}:{found.st_ino}:{found.st_size}:{found.st_mtime_ns}:{found.st_ctime_ns}"


def settled(found: os.stat_result, taken_at_ns: int) -> bool:
    """Whether the file was last written long enough before `taken_at_ns` (time.time_ns(), taken before the
    status was) that any later write must show in its status."""
    return max(found.st_mtime_ns, found.st_ctime_ns) < taken_at_ns - SETTLE_NS

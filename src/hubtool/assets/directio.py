"""A large blob's temp file written around the page cache (O_DIRECT), where the file system allows it.

Written through the page cache, a 1 GiB download copied every byte into it and then wrote it back
(`sync_file_range`, then the fsync before the rename), on the same two cores as the hash: 2.3-2.9 s
against 1.04 s for `curl -o`, and slower from one run to the next as the page cache filled.  Written
around it, the same download took 1.16-1.33 s, fsync included (measured in one script, the same
server).  So a body known to be large goes through `DirectOut`: the bytes are staged in a
page-aligned buffer and written in whole blocks with O_DIRECT; the unaligned tail goes through the
page cache at `finish`, and the fsync before the rename covers both, so the door's contract (no
blob without every byte on disk, hashed) is as before.  Where O_DIRECT is refused (tmpfs, an
unaligned resume offset, a file system that says EINVAL), the writer stays on the page cache.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
from pathlib import Path

#: O_DIRECT's alignment of buffers, file offsets and lengths (the largest logical block size in use)
ALIGN = 4096
#: the staging buffer: a write of this many bytes at a time (a multiple of ALIGN)
STAGE = 4 * 1024 * 1024
#: bodies smaller than this stay on the page cache (a few MiB is written back before anyone waits for it)
DIRECT_AT_LEAST = 64 * 1024 * 1024


class DirectOut:
    """The end of one file from `at` on, written in whole aligned blocks around the page cache."""

    def __init__(self, fd: int, at: int) -> None:
        self._fd = fd
        self._at = at  # where the staged bytes go: a multiple of ALIGN until `finish`
        self._stage = mmap.mmap(-1, STAGE)  # anonymous, so page-aligned, as O_DIRECT wants its buffers
        self._fill = 0
        self._direct = True

    @classmethod
    def open(cls, path: Path, at: int) -> DirectOut | None:
        """`path` (which exists) opened to be written from `at` around the page cache; None where it cannot be:
        no O_DIRECT here, a file system without it, or `at` not on a block boundary (a resumed partial)."""
        flag = getattr(os, "O_DIRECT", 0)
        if not flag or at % ALIGN:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | flag)
        except OSError:
            return None
        return cls(fd, at)

    def fileno(self) -> int:
        return self._fd

    def write(self, chunk: bytes | memoryview) -> None:
        with memoryview(chunk) as data:
            done = 0
            while done < len(data):
                n = min(STAGE - self._fill, len(data) - done)
                self._stage[self._fill:self._fill + n] = data[done:done + n]
                self._fill += n
                done += n
                if self._fill == STAGE:
                    self._put(STAGE)

    def finish(self) -> None:
        """Write what is staged: the whole blocks around the page cache, the tail through it.  The file then
        holds every byte written; the caller's fsync makes them durable."""
        aligned = self._fill // ALIGN * ALIGN
        if aligned:
            self._put(aligned)
        if self._fill:
            self._through_page_cache()
            self._put(self._fill)

    def reset(self) -> None:
        """Start again at the file's beginning (the caller truncated it)."""
        self._at, self._fill = 0, 0
        if not self._direct:
            try:
                fcntl.fcntl(self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) | os.O_DIRECT)
                self._direct = True
            except OSError:
                pass  # stays on the page cache: only slower

    def close(self) -> None:
        try:
            os.close(self._fd)
        finally:
            self._stage.close()

    def _put(self, length: int) -> None:
        """The first `length` staged bytes to the file at `_at`; what follows them is staged first."""
        with memoryview(self._stage) as stage:
            done = 0
            while done < length:
                try:
                    done += os.pwrite(self._fd, stage[done:length], self._at + done)
                except OSError as exc:
                    # refused on this file system or for this length (a short write left a ragged offset)
                    if exc.errno != errno.EINVAL or not self._direct:
                        raise
                    self._through_page_cache()
            rest = self._fill - length  # less than ALIGN: copied out first, as the two ranges may overlap
            stage[:rest] = bytes(stage[length:self._fill])
        self._at += length
        self._fill = rest

    def _through_page_cache(self) -> None:
        if self._direct:
            fcntl.fcntl(self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) & ~os.O_DIRECT)
            self._direct = False

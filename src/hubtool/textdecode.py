"""Card and settings files as text: read only when they are regular files, UTF-8 (an optional
BOM dropped), line breaks made LF."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .diagnostics import Diagnostic, error
from .errors import SpecialFile

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _refuse_special(path: str | Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise SpecialFile(f"{path} is {what}, not a regular file: not read", what=what)


def open_regular(path: str | Path) -> BinaryIO:
    """`path` opened for reading, if it is a regular file; SpecialFile (or OSError) otherwise.

    Opened non-blocking and checked on the open descriptor, not only on the name: a FIFO (or a
    link to /dev/zero) is refused before a read could hang or never end, and a name swapped
    between the check and the open cannot slip through.
    """
    fd, _ = _open_regular_fd(path)
    return os.fdopen(fd, "rb")


def _open_regular_fd(path: str | Path) -> tuple[int, os.stat_result]:
    """`open_regular`'s descriptor, with the status of what it opened."""
    # the name first: a device is never opened (opening one can act: a tape rewinds, a watchdog starts),
    # and a socket cannot even be opened
    _refuse_special(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        found = os.fstat(fd)
        _refuse_special(path, found.st_mode)  # what was opened, whatever the name was before
    except BaseException:
        os.close(fd)
        raise
    return fd, found


def read_regular(path: str | Path, max_bytes: int) -> bytes | int:
    """The regular file's bytes, or its size when that is over `max_bytes` (nothing read then)."""
    return read_regular_stat(path, max_bytes)[0]


def read_intact(path: str | Path, max_bytes: int) -> bytes | None:
    """`read_regular` for a file hubtool reads as a record (a cache, a manifest, a ledger's record): a special
    file or one over `max_bytes` in its place is damage, None, as a record that does not parse is; OSError
    (a missing file among them) is raised as by `read_regular`."""
    try:
        data = read_regular(path, max_bytes)
    except SpecialFile:
        return None
    return None if isinstance(data, int) else data


def read_regular_stat(path: str | Path, max_bytes: int) -> tuple[bytes | int, os.stat_result]:
    """`read_regular`, with the open file's status as it was before the first byte was read.

    On the bare descriptor: a buffered file object around it (and a second fstat) was more than half the
    cost of reading a 2 KB card, ~8 µs of 14, on every card of every check.
    """
    fd, found = _open_regular_fd(path)
    try:
        size = found.st_size
        if size > max_bytes:
            return size, found
        # One byte more than the size says whether the file grew meanwhile (asking for the limit, 1 MiB,
        # reserved a buffer of that size for every 2 KB card); a file growing as it is read is read on, as far
        # as the limit tells.
        chunks = [os.read(fd, size + 1)]
        got = len(chunks[0])
        while chunks[-1] and got != size and got <= max_bytes:
            chunks.append(os.read(fd, min(max_bytes + 1 - got, 1 << 24)))
            got += len(chunks[-1])
        return b"".join(chunks), found  # one read (the usual case): that very bytes object
    finally:
        os.close(fd)


BOM = b"\xef\xbb\xbf"


def decode(data: bytes, path: str) -> str | Diagnostic:
    """UTF-8 (an optional BOM is dropped); CRLF and lone CR become LF.

    Replacing a line break by another keeps every line and column number."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start:exc.start + 4].hex(" ")
        return error(path, line, col, "HUB004",
                     f"the card is not valid UTF-8 (bytes {bad} at line {line})",
                     hint="save the file as UTF-8; hub cards must be UTF-8 text")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def undecodable_name(display: str) -> Diagnostic | None:
    """HUB004 for a card whose path (as shown) is not UTF-8 (bytes the file system gave, kept by os.fsdecode
    as lone surrogates): the index, the catalog, the ledger and a mirror's manifest name cards in UTF-8, and
    cannot name it.  (`check` names the card by its bytes, as every finding on it; publish by `utf8_name`.)"""
    if is_utf8(display):
        return None
    return error(display, 0, 0, "HUB004", f"the card's path is not UTF-8: {utf8_name(display)}",
                 hint="rename it in UTF-8: the hub's index, catalog and mirrors name cards in UTF-8")


def is_utf8(text: str) -> bool:
    """Whether `text` has UTF-8 bytes (no lone surrogate); ASCII, nearly every path, without encoding it."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_name(path: str) -> str:
    """`path` as UTF-8 text: the bytes of a name that is not UTF-8 (which os.fsdecode keeps as lone
    surrogates, and no UTF-8 document can hold) written as escapes, `caf\\xe9.md`.  Such a card is
    held back (HUB004); this is the name it is shown by."""
    if is_utf8(path):
        return path
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name decodes to: as its code point, \\ud800
        return path.encode("utf-8", "backslashreplace").decode("utf-8")

"""Writes a reader may look at: atomic replacement, fsync, canonical JSON, and the JSON value type.

A file written here appears under its name only complete: the bytes go to a
temp file in the same folder, are fsynced, and `os.replace` swaps them in
(atomic on POSIX).  A crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import ctypes

#: what JSON (and a card's YAML front matter, once read) can hold
JSON: TypeAlias = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]
JSONObject: TypeAlias = dict[str, JSON]


def parse_json(text: str | bytes | bytearray) -> JSON:
    """`json.loads` for text from outside this process (a file that may be corrupted, a server's body).

    Nesting deeper than the decoder's recursion limit (`[[[[...`) raises a JSONDecodeError, a ValueError like any
    other malformed JSON, where json.loads raises RecursionError past every reader's `except ValueError`."""
    try:
        value: JSON = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    return value


def json_object(data: str | bytes | bytearray | None) -> JSONObject | None:
    """The JSON object in `data` from outside this process (a record, a server's body); None for no data, for
    malformed or too deeply nested JSON, and for any other JSON value (a list, a number): not a record."""
    if data is None:
        return None
    try:
        doc = parse_json(data)
    except ValueError:  # UnicodeDecodeError among them: bytes json cannot decode
        return None
    return doc if isinstance(doc, dict) else None


def canonical(doc: object) -> bytes:
    """Sorted keys, compact separators, UTF-8, one trailing newline: equal input, equal bytes.

    (No indentation: json's C encoder only runs without it, 10x faster on a big hub.)
    """
    return (compact_text(doc) + "\n").encode()


def objects_in(value: JSON) -> list[JSONObject]:
    """The objects of a JSON list read back from a file (anything else in it, or a non-list: none)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def compact(value: object) -> bytes:
    """`canonical` without its newline: the encoding of a value inside a canonical document."""
    return compact_text(value).encode()


def compact_text(value: object) -> str:
    """`compact` before its UTF-8 encoding (a text with a lone surrogate has one, and no bytes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_object(fields: Iterable[tuple[str, bytes]]) -> bytes:
    """The compact encoding of an object from its already `compact`-encoded values, byte for byte
    what `compact` gives for the same dict (keys sorted as text, as json sorts them): a big document
    is assembled without holding it as dicts."""
    return b"{" + b",".join(compact(key) + b":" + value for key, value in sorted(fields)) + b"}"


def pretty_json(doc: object) -> bytes:
    """Indented, sorted JSON for files people read (a mirror's manifest)."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write_atomic(path: Path, data: bytes | memoryview, *, durable: bool = True, parents: bool = True) -> None:
    """Write `data` to `path` through a temp file and a rename; fsync first unless `durable` is off.

    `durable=False` is for caches whose loss costs a recomputation only; `parents` creates the folder.
    """
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: a part of a file to write: bytes, or (fd, offset, length): a range of an open file
Part: TypeAlias = bytes | memoryview | tuple[int, int, int]


def write_atomic_parts(path: Path, parts: Iterable[Part], *, parents: bool = True) -> None:
    """As write_atomic, for `parts` one after the other: buffers as they are, ranges of open files copied by
    the kernel (copy_file_range) where it can, so that their bytes never pass through this process's memory."""
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            for part in parts:
                if isinstance(part, tuple):
                    fh.flush()  # what is buffered goes first: the kernel writes at the file's position
                    src_fd, offset, length = part
                    at = fh.tell()
                    _copy_range(src_fd, fh.fileno(), offset, length)
                    # the disk starts on these bytes while the rest is copied: the fsync below then
                    # waits for the tail only (80 MB: 56 -> 36 ms for the copy and the fsync together)
                    writeback_hint(fh.fileno(), at, length)
                else:
                    fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_range(src_fd: int, dst_fd: int, offset: int, length: int) -> None:
    end = offset + length
    kernel = hasattr(os, "copy_file_range")
    while offset < end:
        done = 0
        if kernel:
            try:
                done = os.copy_file_range(src_fd, dst_fd, end - offset, offset)
            except OSError:  # another filesystem's limits, an old kernel: read and write instead
                kernel = False
        if not kernel:
            block = os.pread(src_fd, min(end - offset, 8 << 20), offset)
            done = os.write(dst_fd, block) if block else 0
        if done == 0:
            raise OSError(f"{end - offset:,} bytes are missing from the source of the copy")
        offset += done


def fsync_dir(path: Path) -> None:
    """Make a rename or a new name in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded at first use (ctypes costs the pre-commit path's start-up otherwise)."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing these bytes of `fd` to the disk without waiting for them (Linux sync_file_range);
    where that call does not exist, fdatasync, which waits.  Durability still comes from the fsync
    before the rename: this only spreads the disk's work over the write."""
    if not writeback_hint(fd, offset, length):
        os.fdatasync(fd)


def writeback_hint(fd: int, offset: int, length: int) -> bool:
    """Ask the kernel to start writing these bytes of `fd` to the disk, without waiting (Linux
    sync_file_range); False where it cannot be asked, and nothing is done."""
    import ctypes

    function = getattr(_libc(), "sync_file_range", None)
    return function is not None and function(fd, ctypes.c_longlong(offset), ctypes.c_longlong(length),
                                             ctypes.c_uint(_SYNC_FILE_RANGE_WRITE)) == 0


def _syncfs(path: Path) -> bool:
    """syncfs(2) on the filesystem holding `path`: one call instead of one fsync per file."""
    try:
        libc = _libc()
        if libc is None:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return int(libc.syncfs(fd)) == 0
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        return False


def fsync_tree(root: Path) -> None:
    """Every file and folder under `root` on disk (syncfs where the platform has it)."""
    if _syncfs(root):
        return
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def pid_alive(pid: int) -> bool:
    """Is process `pid` running? Temp files carry their writer's pid; 0 means "given up, anyone's"."""
    if pid == 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

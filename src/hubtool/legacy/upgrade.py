"""The library entry points: analyse a legacy file, or translate it to MSL2 (never half-written)."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from pathlib import Path

from .. import textdecode
from ..durable import write_atomic, write_atomic_range
from ..errors import LegacyFormatError, SpecialFile, TranslationRefused
from .model import LegacyModel, read_model
from .refusals import Refusal, grouped
from .translate import Analysis, Translation, analyze, translate
from .writer import output_size_hint, write_msl2


def map_file(path: Path) -> mmap.mmap:
    """The file, memory-mapped read-only (models are large; the translator reads them in place)."""
    try:
        fh = textdecode.open_regular(path)
    except SpecialFile as exc:
        raise LegacyFormatError(f"it is {exc.what}, not a regular file: not read") from None
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise LegacyFormatError("the file is empty")
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):  # parsing hops between tables: read-ahead would map most of the weights
        mapped.madvise(mmap.MADV_RANDOM)
    return mapped


def release(data: mmap.mmap) -> None:
    try:
        data.close()
    except BufferError:
        pass  # views into it are still referenced (by a traceback): it closes when they go


def analyze_file(path: Path) -> Analysis:
    """Operator histogram and compatibility verdict of a 1.0/1.1 file, without writing anything."""
    data = map_file(path)
    try:
        return analyze(read_model(data))
    finally:
        release(data)


def legacy_verdict(path: Path) -> Analysis:
    """What `hubtool inspect` says of a 1.0/1.1 file: its operators and whether it translates.

    A file that is not a well-formed v0 FlatBuffer is an analysis with one refusal, the reason.
    """
    try:
        return analyze_file(path)
    except LegacyFormatError as exc:
        return Analysis("?", "?", {}, [Refusal(exc.message)])


def _translated(data: bytes | mmap.mmap) -> tuple[LegacyModel, Translation]:
    model = read_model(data)
    translation = translate(model)
    if translation.refusals:
        raise TranslationRefused(grouped(translation.refusals))
    return model, translation


def _input_release(data: bytes | mmap.mmap) -> Callable[[int, int], None] | None:
    """Drop the input's pages once their weights are in the output (a mapped file only)."""
    if not isinstance(data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    # what parsing faulted in goes before the output is built, and the weights are then read in order
    data.madvise(mmap.MADV_DONTNEED)
    if hasattr(mmap, "MADV_SEQUENTIAL"):
        data.madvise(mmap.MADV_SEQUENTIAL)
    page = mmap.PAGESIZE

    def release(offset: int, length: int) -> None:
        start = -(-offset // page) * page
        end = (offset + length) // page * page
        if end > start:
            data.madvise(mmap.MADV_DONTNEED, start, end - start)

    return release


def upgrade_bytes(data: bytes | mmap.mmap) -> memoryview:
    model, translation = _translated(data)
    return write_msl2(model, translation, _input_release(data))


def upgrade_ms(src: Path, dest: Path) -> int:
    """Translate `src` (1.0 / 1.1) into an MSL2 file at `dest`; returns its size.

    Every refusal is raised (TranslationRefused) before anything is written; the
    output appears at `dest` only complete (temp file, fsync, rename).  The FlatBuffer
    is built in a mapped scratch file beside `dest` whose finished pages leave this
    process's memory as it goes, then copied in the kernel to `dest`'s temp file: the
    peak memory is the interpreter and one tensor, not the model twice.
    """
    data = map_file(src)
    try:
        model, translation = _translated(data)
        return _write_through_file(model, translation, _input_release(data), dest)
    finally:
        release(data)


def _write_through_file(model: LegacyModel, translation: Translation,
                        release_input: Callable[[int, int], None] | None, dest: Path) -> int:
    size = output_size_hint(model, translation)
    scratch = dest.with_name(f".{dest.name}.{os.getpid()}.build")
    fd = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, size)  # sparse: untouched room costs nothing
        with mmap.mmap(fd, size) as buffer:
            view = write_msl2(model, translation, release_input, into=buffer, done=_done_pages(buffer))
            try:
                length = len(view)
                if view.obj is not buffer:  # the tables outgrew the hint: the builder moved to memory
                    write_atomic(dest, view, parents=False)
                    return length
            finally:
                view.release()
        write_atomic_range(dest, fd, size - length, length, parents=False)
        return length
    finally:
        os.close(fd)
        scratch.unlink(missing_ok=True)


def _done_pages(buffer: mmap.mmap) -> Callable[[int], None] | None:
    """Unmap the output's finished pages (a shared file mapping keeps them in the page cache)."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return None
    page = mmap.PAGESIZE
    done_from = [len(buffer) // page * page]

    def done(head: int) -> None:
        start = -(-head // page) * page
        if start < done_from[0]:
            buffer.madvise(mmap.MADV_DONTNEED, start, done_from[0] - start)
            done_from[0] = start

    return done

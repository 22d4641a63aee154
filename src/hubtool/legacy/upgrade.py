"""The library entry points: analyse a legacy file, or translate it to MSL2 (never half-written)."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .. import textdecode
from ..durable import Part, write_atomic_parts
from ..errors import LegacyFormatError, SpecialFile, TranslationRefused
from .model import LegacyModel, read_model
from .refusals import Refusal, grouped
from .translate import Analysis, Translation, analyze, translate
from .writer import output_size_hint, write_msl2


def map_file(path: Path) -> mmap.mmap:
    """The file, memory-mapped read-only (models are large; the translator reads them in place)."""
    with _open_model(path) as fh:
        return _map(fh)


def _open_model(path: Path) -> BinaryIO:
    try:
        return textdecode.open_regular(path)
    except SpecialFile as exc:
        raise LegacyFormatError(f"it is {exc.what}, not a regular file: not read") from None


def _map(fh: BinaryIO) -> mmap.mmap:
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


def _drop_parsed(data: mmap.mmap) -> None:
    """What parsing faulted in of the mapped file leaves this process's memory."""
    if hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def _input_release(data: bytes | mmap.mmap) -> Callable[[int, int], None] | None:
    """Drop the input's pages once their weights are in the output (a mapped file only)."""
    if not isinstance(data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    _drop_parsed(data)  # before the output is built; the weights are then read in order
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
    output appears at `dest` only complete (temp file, fsync, rename).  The FlatBuffer's
    tables are built in anonymous memory with the weights left out (untouched pages cost
    nothing), and the output is then written in order, each tensor's weights copied from
    `src` by the kernel: the weights never pass through this process, and are written once.
    """
    with _open_model(src) as fh:
        data = _map(fh)
        try:
            model, translation = _translated(data)
            _drop_parsed(data)  # the weights are never read here: the kernel copies them from the file
            return _write_through_file(model, translation, fh.fileno(), dest)
        finally:
            release(data)


def _write_through_file(model: LegacyModel, translation: Translation, source_fd: int, dest: Path) -> int:
    weights: list[tuple[int, int, int]] = []  # (offset from the end, offset in the source, length)
    with mmap.mmap(-1, output_size_hint(model, translation)) as buffer:
        view = write_msl2(model, translation, into=buffer,
                          place=lambda from_end, at, length: weights.append((from_end, at, length)))
        try:
            write_atomic_parts(dest, _parts(view, weights, source_fd), parents=False)
            return len(view)
        finally:
            view.release()


def _parts(view: memoryview, weights: list[tuple[int, int, int]], source_fd: int) -> Iterator[Part]:
    """The output in order: the built bytes between the weights (copied, so that no view outlives the
    buffer), and each tensor's weights as a range of the source file."""
    written = 0
    for from_end, at, length in sorted(weights, reverse=True):  # the farthest from the end comes first
        start = len(view) - from_end
        yield bytes(view[written:start])
        yield source_fd, at, length
        written = start + length
    yield bytes(view[written:])

"""The library entry points: analyse a legacy file, or translate it to MSL2 (never half-written)."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from .. import textdecode
from ..durable import write_atomic
from ..errors import LegacyFormatError, SpecialFile, TranslationRefused
from .model import read_model
from .refusals import Refusal, grouped
from .translate import Analysis, analyze, translate
from .writer import write_msl2


def map_file(path: Path) -> mmap.mmap:
    """The file, memory-mapped read-only (models are large; the translator reads them in place)."""
    try:
        fh = textdecode.open_regular(path)
    except SpecialFile as exc:
        raise LegacyFormatError(f"it is {exc.what}, not a regular file: not read") from None
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise LegacyFormatError("the file is empty")
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


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


def upgrade_bytes(data: bytes | mmap.mmap) -> memoryview:
    model = read_model(data)
    translation = translate(model)
    if translation.refusals:
        raise TranslationRefused(grouped(translation.refusals))
    release = None
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        page = mmap.PAGESIZE
        # reading the tables faulted in much of the file around them (61 of 79 MiB for a ResNet50): drop it
        # all before the output buffer is allocated, so the peak is the output plus one tensor, not both files
        data.madvise(mmap.MADV_DONTNEED)

        def release(offset: int, length: int) -> None:
            # the weights are in the output now: drop their pages of the input from memory
            start = -(-offset // page) * page
            end = (offset + length) // page * page
            if end > start:
                data.madvise(mmap.MADV_DONTNEED, start, end - start)

    return write_msl2(model, translation, release)


def upgrade_ms(src: Path, dest: Path) -> int:
    """Translate `src` (1.0 / 1.1) into an MSL2 file at `dest`; returns its size.

    Every refusal is raised (TranslationRefused) before anything is written; the
    output appears at `dest` only complete (temp file, fsync, rename).
    """
    data = map_file(src)
    try:
        out = upgrade_bytes(data)
    finally:
        release(data)
    write_atomic(dest, out, parents=False)
    return len(out)

"""The library entry points: analyse a legacy file, or translate it to MSL2 (never half-written)."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from ..errors import HubtoolError
from .flatread import LegacyFormatError
from .model import read_model
from .translate import Analysis, analyze, translate
from .writer import write_msl2


class TranslationRefused(HubtoolError):
    """The model uses something the translator cannot carry over faithfully; every reason is listed."""

    kind = "refused"

    def __init__(self, reasons: list[str]) -> None:
        shown = "; ".join(reasons[:10]) + (f"; and {len(reasons) - 10} more" if len(reasons) > 10 else "")
        super().__init__(f"cannot translate this model to MSL2: {shown}",
                         hint="reconvert the original model with converter >= 1.2, if you have it")
        self.reasons = reasons


def _mapped(path: Path) -> mmap.mmap:
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise LegacyFormatError("the file is empty")
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def _release(data: mmap.mmap) -> None:
    try:
        data.close()
    except BufferError:
        pass  # views into it are still referenced (by a traceback): it closes when they go


def analyze_file(path: Path) -> Analysis:
    """Operator histogram and compatibility verdict of a 1.0/1.1 file, without writing anything."""
    data = _mapped(path)
    try:
        return analyze(read_model(data))
    finally:
        _release(data)


def upgrade_bytes(data: bytes | mmap.mmap) -> memoryview:
    model = read_model(data)
    translation = translate(model)
    if translation.refusals:
        raise TranslationRefused(translation.refusals)
    release = None
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        page = mmap.PAGESIZE

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
    data = _mapped(src)
    try:
        out = upgrade_bytes(data)
    finally:
        _release(data)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(out)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return len(out)

"""Reading protobuf's wire format in place: MindSpore checkpoints (ckpt.py) and MindIR models (mindir.py).

Three message schemas are too few to bring the protobuf package into the checker's install, and a
hand-written cursor can promise what a model file needs: nothing is copied or decoded that is
not asked for (tensor contents are skipped by their length), and every length is bounded by the
message that holds it, so a hostile or truncated file is an error with a byte offset, never a
huge allocation.  The tests check it against files the protobuf library and MindSpore wrote.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .. import textdecode
from ..errors import ProtobufFormatError

T = TypeVar("T")


def read_mapped(path: Path, parse: Callable[[mmap.mmap], T], error: type[ProtobufFormatError]) -> T:
    """`parse` over the file at `path`, memory-mapped (a regular file only: SpecialFile otherwise)."""
    with textdecode.open_regular(path) as fh:
        if fh.seek(0, 2) == 0:
            raise error("the file is empty")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return parse(data)


class Wire:
    """A cursor over one protobuf message in `data[pos:end]`; every read is checked against `end`, and a
    malformed field raises `error` (the caller's ProtobufFormatError) with where it is."""

    def __init__(self, data: bytes | mmap.mmap, pos: int, end: int,
                 error: type[ProtobufFormatError] = ProtobufFormatError) -> None:
        self.data, self.pos, self.end, self.error = data, pos, end, error

    def sub(self, start: int, end: int) -> Wire:
        """A cursor over the embedded message at data[start:end] (a span() this cursor gave)."""
        return Wire(self.data, start, end, self.error)

    def done(self) -> bool:
        return self.pos >= self.end

    def varint(self) -> int:
        value = shift = 0
        while self.pos < self.end and shift < 64:
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise self.error(f"a broken varint at byte {self.pos:,}")

    def signed(self) -> int:
        value = self.varint()
        return value - (1 << 64) if value >= 1 << 63 else value  # int64 is two's complement on the wire

    def signed_values(self, wire: int) -> list[int]:
        """The int64s of one occurrence of a repeated field: one value (wire type 0, proto2's default) or a
        packed run (wire type 2)."""
        if wire == 0:
            return [self.signed()]
        if wire != 2:
            raise self.error(f"an integer field of wire type {wire} at byte {self.pos:,}")
        packed = self.sub(*self.span())
        values = []
        while not packed.done():
            values.append(packed.signed())
        return values

    def key(self) -> tuple[int, int]:
        key = self.varint()
        return key >> 3, key & 7

    def span(self) -> tuple[int, int]:
        length = self.varint()
        start = self.pos
        if length > self.end - start:
            raise self.error(f"a field of {length:,} bytes at byte {start:,} runs past its message "
                                 "(a truncated file?)")
        self.pos = start + length
        return start, self.pos

    def text(self) -> str:
        start, end = self.span()
        if end - start > 4096:
            raise self.error(f"a name of {end - start:,} bytes at byte {start:,}")
        return bytes(self.data[start:end]).decode("utf-8", "replace")

    def skip(self, wire: int) -> None:
        if wire == 0:
            self.varint()
        elif wire == 2:
            self.span()
        elif wire in (1, 5):
            self.pos += 8 if wire == 1 else 4
            if self.pos > self.end:
                raise self.error("a fixed-size field runs past its message")
        else:  # groups (3, 4) and 6, 7 never occur in checkpoint.proto
            raise self.error(f"protobuf wire type {wire} at byte {self.pos:,}")

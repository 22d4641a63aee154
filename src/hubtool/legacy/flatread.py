"""A bounds-checked FlatBuffers reader for untrusted files.

flatbuffers' own Python Table reads whatever offsets a file holds; a corrupt
or hostile .ms file would raise IndexError deep inside, or (worse) produce
absurd sizes.  Here every offset, vector length and string is checked against
the buffer before use, and violations raise LegacyFormatError.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator

from ..errors import LegacyFormatError

Scalar = int | float | bool  # what a FlatBuffers scalar field holds
MAX_VECTOR = 50_000_000  # elements: far beyond any real model, small enough to refuse absurd claims


_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")
_SCALARS = {"bool": struct.Struct("<?"), "byte": struct.Struct("<b"), "ubyte": struct.Struct("<B"),
            "int": struct.Struct("<i"), "uint": struct.Struct("<I"), "long": struct.Struct("<q"),
            "float": struct.Struct("<f"), "double": struct.Struct("<d")}


class Buffer:
    def __init__(self, data: bytes | memoryview | mmap.mmap) -> None:
        self.data = data
        self.size = len(data)

    def need(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise LegacyFormatError(f"{what} at offset {pos} (+{length} bytes) lies outside the file "
                                    f"({self.size:,} bytes): the file is truncated or corrupt")

    def u32(self, pos: int, what: str) -> int:
        self.need(pos, 4, what)
        value: int = _U32.unpack_from(self.data, pos)[0]
        return value

    def root(self) -> Table:
        return Table(self, self.u32(0, "root offset"), "MetaGraph")


class Table:
    """One table; `slot(i)` is field i in schema order."""

    def __init__(self, buf: Buffer, pos: int, name: str) -> None:
        self.buf, self.pos, self.name = buf, pos, name
        buf.need(pos, 4, f"{name} table")
        self.vtable = pos - int(_I32.unpack_from(buf.data, pos)[0])
        buf.need(self.vtable, 4, f"{name} vtable")
        self.vt_size: int = _U16.unpack_from(buf.data, self.vtable)[0]
        self.obj_size: int = _U16.unpack_from(buf.data, self.vtable + 2)[0]
        if self.vt_size < 4 or self.vt_size % 2:
            raise LegacyFormatError(f"{name} vtable has an impossible size {self.vt_size}")
        buf.need(self.vtable, self.vt_size, f"{name} vtable")
        buf.need(pos, self.obj_size, f"{name} table body")

    @property
    def slots(self) -> int:
        return (self.vt_size - 4) // 2

    def _field(self, slot: int) -> int:
        if slot >= self.slots:
            return 0
        return int(_U16.unpack_from(self.buf.data, self.vtable + 4 + 2 * slot)[0])

    def has(self, slot: int) -> bool:
        return self._field(slot) != 0

    def scalar(self, slot: int, kind: str, default: Scalar = 0) -> Scalar:
        off = self._field(slot)
        if not off:
            return default
        fmt = _SCALARS[kind]
        if off + fmt.size > self.obj_size:
            raise LegacyFormatError(f"{self.name}: field {slot} lies outside its table")
        value: Scalar = fmt.unpack_from(self.buf.data, self.pos + off)[0]
        return value

    def integer(self, slot: int, kind: str, default: int = 0) -> int:
        """A scalar field of an integer kind (int, uint, byte, ubyte, long)."""
        return int(self.scalar(slot, kind, default))

    def _indirect(self, slot: int) -> int | None:
        off = self._field(slot)
        if not off:
            return None
        if off + 4 > self.obj_size:
            raise LegacyFormatError(f"{self.name}: field {slot} lies outside its table")
        at = self.pos + off
        return at + self.buf.u32(at, f"{self.name} field {slot}")

    def table(self, slot: int, name: str) -> Table | None:
        target = self._indirect(slot)
        return None if target is None else Table(self.buf, target, name)

    def string(self, slot: int) -> str | None:
        target = self._indirect(slot)
        if target is None:
            return None
        length = self.buf.u32(target, f"{self.name} string")
        if length > 1 << 20:
            raise LegacyFormatError(f"{self.name}: a string claims {length:,} bytes")
        self.buf.need(target + 4, length, f"{self.name} string")
        return bytes(self.buf.data[target + 4:target + 4 + length]).decode("utf-8", "replace")

    def _vector(self, slot: int, elem: int) -> tuple[int, int] | None:
        target = self._indirect(slot)
        if target is None:
            return None
        count = self.buf.u32(target, f"{self.name} vector length")
        if count > MAX_VECTOR:
            raise LegacyFormatError(f"{self.name}: a vector claims {count:,} elements")
        self.buf.need(target + 4, count * elem, f"{self.name} vector of {count:,}")
        return target + 4, count

    def scalars(self, slot: int, kind: str) -> list[Scalar]:
        found = self._vector(slot, _SCALARS[kind].size)
        if found is None:
            return []
        start, count = found
        return list(struct.unpack_from(f"<{count}{_SCALARS[kind].format[-1]}", self.buf.data, start))

    def integers(self, slot: int, kind: str) -> list[int]:
        """A vector field of an integer kind."""
        return [int(v) for v in self.scalars(slot, kind)]

    def blob(self, slot: int) -> memoryview:
        """A [ubyte] vector, without copying."""
        return self.blob_at(slot)[0]

    def blob_at(self, slot: int) -> tuple[memoryview, int]:
        """A [ubyte] vector without copying, and its offset in the file."""
        found = self._vector(slot, 1)
        if found is None:
            return memoryview(b""), 0
        start, count = found
        return memoryview(self.buf.data)[start:start + count], start

    def tables(self, slot: int, name: str) -> list[Table]:
        return list(self.each_table(slot, name))

    def count(self, slot: int) -> int:
        """The length of the vector of tables in `slot` (0 when absent)."""
        found = self._vector(slot, 4)
        return found[1] if found else 0

    def each_table(self, slot: int, name: str) -> Iterator[Table]:
        """The tables of a vector one at a time (reading a table maps the file's pages around it)."""
        found = self._vector(slot, 4)
        if found is None:
            return
        start, count = found
        for i in range(count):
            at = start + 4 * i
            yield Table(self.buf, at + self.buf.u32(at, f"{name} offset"), name)

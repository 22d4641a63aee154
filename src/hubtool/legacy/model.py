"""Read a v0 .ms file into plain values (no copies of tensor data)."""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from typing import NamedTuple

from ..errors import LegacyFormatError
from .flatread import Buffer, Scalar, Table
from .schema_v0 import DEFAULTS_1_0, FIELDS, NAME_OF

#: an operator attribute: a scalar, a vector of scalars, or None (absent vector)
Attr = Scalar | Sequence[Scalar] | None
MAX_NODES = 200_000
MAX_TENSORS = 1_000_000


class LegacyTensor(NamedTuple):
    node_type: int
    data_type: int
    dims: list[int]
    format: int
    ref_count: int
    offset: int
    data: memoryview
    quant_inited: int  # how many quantParams say inited
    data_offset: int = 0  # where `data` starts in the file


class LegacyNode(NamedTuple):
    name: str
    op: str  # the v0 union member name, or "#<n>" for an unknown type
    attrs: dict[str, Attr]
    inputs: list[int]
    outputs: list[int]
    quant_type: int


class LegacyModel:
    """A 1.0/1.1 graph as read.  A plain class and named tuples, not dataclasses: `upgrade-ms`'s fast path
    imports no dataclasses (see diagnostics.Diagnostic; here they were only 1-3 ms of its start-up)."""

    __slots__ = ("format", "name", "version", "fmk_type", "inputs", "outputs", "nodes", "tensors")

    def __init__(self, format: str, name: str, version: str, fmk_type: int,
                 inputs: list[int], outputs: list[int]) -> None:
        self.format = format  # "v0" (1.0, no identifier) or "MSL1" (1.1)
        self.name = name
        self.version = version
        self.fmk_type = fmk_type
        self.inputs = inputs
        self.outputs = outputs
        self.nodes: list[LegacyNode] = []
        self.tensors: list[LegacyTensor] = []


def _attrs(table: Table | None, op: str, is_1_0: bool) -> dict[str, Attr]:
    attrs: dict[str, Attr] = {}
    for slot, (name, kind, default) in enumerate(FIELDS.get(op, [])):
        if is_1_0 and (op, name) in DEFAULTS_1_0:
            default = DEFAULTS_1_0[(op, name)]
        if table is None:
            attrs[name] = default
        elif kind.startswith("["):
            attrs[name] = table.scalars(slot, kind[1:-1]) if table.has(slot) else None
        else:
            attrs[name] = table.scalar(slot, kind, default)
    return attrs


def _tensor(t: Table) -> LegacyTensor:
    quant = t.tables(7, "QuantParam")
    inited = sum(1 for q in quant if q.scalar(6, "bool", False))
    blob, start = t.blob_at(6)
    return LegacyTensor(t.integer(0, "int"), t.integer(1, "int"), t.integers(2, "int"), t.integer(3, "int"),
                        t.integer(4, "int"), t.integer(5, "int"), blob, inited, start)


def _forget(data: bytes | memoryview | mmap.mmap) -> None:
    """Drop a mapped file's pages from this process (they stay in the page cache); nothing for bytes."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def _node(n: Table, is_1_0: bool) -> LegacyNode:
    prim = n.table(2, "Primitive")
    kind = prim.integer(0, "ubyte") if prim else 0
    op = NAME_OF.get(kind, f"#{kind}")
    value = prim.table(1, op) if prim else None
    return LegacyNode(n.string(0) or "", op, _attrs(value, op, is_1_0), n.integers(3, "uint"),
                      n.integers(4, "uint"), n.integer(5, "int"))


def read_model(data: bytes | memoryview | mmap.mmap) -> LegacyModel:
    """Parse a 1.0/1.1 file; LegacyFormatError for anything malformed."""
    buf = Buffer(data)
    if buf.size < 16:
        raise LegacyFormatError(f"the file is {buf.size} bytes: too small to be a model")
    ident = bytes(data[4:8])
    try:
        root = buf.root()
        version = root.string(1) or ""
    except LegacyFormatError as exc:
        raise LegacyFormatError(f"not a MindSpore Lite model: {exc.message}") from exc
    if ident == b"MSL2":
        raise LegacyFormatError("the file is already in the MSL2 format: nothing to translate")
    fmt = "MSL1" if ident == b"MSL1" else "v0"
    if fmt == "v0" and not version.startswith("MindSpore Lite"):
        raise LegacyFormatError("not a MindSpore Lite 1.x model: no file identifier and no "
                                "'MindSpore Lite' version string")
    is_1_0 = fmt == "v0"
    nodes, tensors = root.count(6), root.count(7)
    if nodes > MAX_NODES or tensors > MAX_TENSORS:
        raise LegacyFormatError(f"absurd graph size: {nodes:,} nodes, {tensors:,} tensors")
    model = LegacyModel(fmt, root.string(0) or "", version, root.integer(2, "int"),
                        root.integers(3, "uint"), root.integers(4, "uint"))
    for i, t in enumerate(root.each_table(7, "Tensor")):
        model.tensors.append(_tensor(t))
        if i % 8 == 7:  # each table read maps the file around it (whole large folios): for a big model, the
            _forget(data)  # weights would all be mapped before the output is built
    _forget(data)
    node_tables = root.tables(6, "CNode")
    model.nodes = [_node(n, is_1_0) for n in node_tables]
    count = len(model.tensors)
    bad = [i for node in model.nodes for i in node.inputs + node.outputs if i >= count]
    bad += [i for i in model.inputs + model.outputs if i >= count]
    if bad:
        raise LegacyFormatError(f"tensor index {bad[0]} is out of range ({count} tensors)")
    return model

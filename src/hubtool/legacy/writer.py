"""Write the MSL2 FlatBuffer with flatbuffers.Builder: deterministic bytes, the MSL2 identifier."""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from typing import Any

import flatbuffers

from . import TRANSLATOR_VERSION
from . import schema_msl2 as m2
from . import schema_v0 as v0
from .model import LegacyModel
from .translate import FLOAT32, INT32, Translation

_PREPEND = {"int": "PrependInt32Slot", "long": "PrependInt64Slot", "byte": "PrependInt8Slot",
            "bool": "PrependBoolSlot", "float": "PrependFloat32Slot"}


def _packed_vector(b: flatbuffers.Builder, code: str, values: list[int]) -> int:
    """A vector of little-endian scalars, packed by struct (numpy stays out of the translator's start-up)."""
    size = struct.calcsize(code)
    data = struct.pack(f"<{len(values)}{code}", *values)
    b.StartVector(size, len(values), size)
    b.head = b.Head() - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return int(b.EndVector())


def _uint_vector(b: flatbuffers.Builder, values: list[int]) -> int:
    return _packed_vector(b, "I", values)


def _long_vector(b: flatbuffers.Builder, values: list[int]) -> int:
    return _packed_vector(b, "q", values)


def _table_vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return int(b.EndVector())


def _op_table(b: flatbuffers.Builder, op: str, attrs: dict[str, Any]) -> int:
    spec = m2.FIELDS[op]
    vectors = {name: _long_vector(b, list(value)) for name, value in attrs.items()
               if spec[name][1] == "[long]" and value is not None}
    b.StartObject(m2.FIELD_COUNT[op])
    for name, value in sorted(attrs.items(), key=lambda kv: spec[kv[0]][0]):
        slot, kind = spec[name]
        if kind == "[long]":
            if name in vectors:
                b.PrependUOffsetTRelativeSlot(slot, vectors[name], 0)
        elif value is not None:
            value = float(value) if kind == "float" else bool(value) if kind == "bool" else int(value)
            getattr(b, _PREPEND[kind])(slot, value, 0)  # ForceDefaults: written even when it equals 0
    return int(b.EndObject())


#: told, instead of a tensor's weights being copied, where they go: (their offset from the buffer's end
#: (the builder keeps that when it grows), their offset in the source file, their length)
Place = Callable[[int, int, int], None]


def _byte_vector(b: flatbuffers.Builder, data: Any, place: Callable[[int], None] | None = None) -> int:
    """CreateByteVector for any buffer (memoryview too: no intermediate copy of the weights); with `place`,
    the room only, its offset from the end told to `place`."""
    n = len(data)
    b.StartVector(1, n, 1)
    b.head = b.Head() - n
    if place is None:
        b.Bytes[b.head:b.head + n] = data
    else:
        place(len(b.Bytes) - b.head)
    return int(b.EndVector())


def output_size_hint(model: LegacyModel, translation: Translation) -> int:
    """Room for the whole MSL2 file: the weights, and generously the tables around them."""
    return sum(len(t.data) for t in model.tensors) + 1024 * 1024 + 512 * (len(model.tensors) + len(translation.nodes))


def write_msl2(model: LegacyModel, translation: Translation,
               release: Callable[[int, int], None] | None = None, *,
               into: bytearray | mmap.mmap | None = None, place: Place | None = None) -> memoryview:
    """The MSL2 bytes; `release(offset, length)` is told when a source tensor's bytes are no longer needed.

    The FlatBuffer is built back to front in `into` (a writable buffer of output_size_hint bytes), or in a
    bytearray of that size.  The result is a view of the buffer's tail, or of a bigger bytearray if the
    tables outgrew the hint.  With `place`, the source tensors' weights are not copied: their room is left
    as it is (untouched pages of an anonymous mapping cost no memory), and `place` says where it is.
    """
    b = flatbuffers.Builder(0)
    b.Bytes = into if into is not None else bytearray(output_size_hint(model, translation))  # no doubling copies
    b.head = len(b.Bytes)
    b.ForceDefaults(True)  # every attribute the translation sets is written explicitly
    tensors = []
    for i, t in enumerate(model.tensors):
        tensors.append(_tensor(b, i, t, place))
        if release is not None and len(t.data):
            release(t.data_offset, len(t.data))
    for j, extra in enumerate(translation.extra):
        tensors.append(_const(b, len(model.tensors) + j, extra.values, extra.shape))
    nodes = [_node(b, node.name, node.op, node.attrs, node.inputs, node.outputs) for node in translation.nodes]
    name = f"{model.name or 'model'} (translated from {model.version or model.format} by hubtool legacy " \
           f"translator {TRANSLATOR_VERSION})"
    return _finish(b, name, model.fmk_type, model.inputs, model.outputs, nodes, tensors)


def one_node_msl2(type_value: int) -> bytes:
    """An MSL2 file of one node of primitive type `type_value` with empty attributes, float32 [1, 4] in and
    out: what `hubtool.runtimes.mslite.opsprobe` hands the runtime to learn what it can build."""
    b = flatbuffers.Builder(1024)
    b.StartObject(0)
    empty = b.EndObject()
    nodes = [_cnode(b, "probe", type_value, empty, [0], [1])]
    tensors = [_tensor_table(b, i, node_type=node_type, data_type=FLOAT32, dims=[1, 4], fmt=m2.FORMAT_NHWC,
                             ref_count=0, offset=0, data=b"") for i, node_type in ((0, 2), (1, 0))]  # in, out
    return bytes(_finish(b, "probe", 0, [0], [1], nodes, tensors))


def _finish(b: flatbuffers.Builder, name: str, fmk_type: int, inputs: list[int], outputs: list[int],
            nodes: list[int], tensors: list[int]) -> memoryview:
    """The one SubGraph and the MetaGraph around the nodes and tensors, with the MSL2 identifier."""
    subgraph = _subgraph(b, inputs, outputs, len(nodes), len(tensors))
    name_off = b.CreateString(name)
    version = b.CreateString("")  # the PyPI 2.0 build's own version string is empty too
    in_vec, out_vec = _uint_vector(b, inputs), _uint_vector(b, outputs)
    node_vec, tensor_vec, sub_vec = _table_vector(b, nodes), _table_vector(b, tensors), _table_vector(b, [subgraph])
    b.StartObject(9)
    b.PrependUOffsetTRelativeSlot(0, name_off, 0)
    b.PrependUOffsetTRelativeSlot(1, version, 0)
    b.PrependInt32Slot(2, fmk_type, 0)
    b.PrependUOffsetTRelativeSlot(3, in_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, out_vec, 0)
    b.PrependUOffsetTRelativeSlot(6, node_vec, 0)
    b.PrependUOffsetTRelativeSlot(7, tensor_vec, 0)
    b.PrependUOffsetTRelativeSlot(8, sub_vec, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=b"MSL2")
    return memoryview(b.Bytes)[b.Head():]


def _subgraph(b: flatbuffers.Builder, inputs: list[int], outputs: list[int], nodes: int, tensors: int) -> int:
    """The one SubGraph: every node and tensor, the model's inputs and outputs."""
    sub_name = b.CreateString("graph")
    sub_in, sub_out = _uint_vector(b, inputs), _uint_vector(b, outputs)
    sub_nodes, sub_tensors = _uint_vector(b, list(range(nodes))), _uint_vector(b, list(range(tensors)))
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, sub_name, 0)
    b.PrependUOffsetTRelativeSlot(1, sub_in, 0)
    b.PrependUOffsetTRelativeSlot(2, sub_out, 0)
    b.PrependUOffsetTRelativeSlot(3, sub_nodes, 0)
    b.PrependUOffsetTRelativeSlot(4, sub_tensors, 0)
    return int(b.EndObject())


def _node(b: flatbuffers.Builder, name: str, op: str, attrs: dict[str, Any], inputs: list[int],
          outputs: list[int]) -> int:
    value = _op_table(b, op, attrs)  # PadFusion: paddings travel as the 2nd input, the Vec2D attribute stays empty
    return _cnode(b, name, m2.TYPE_OF[op], value, inputs, outputs)


def _cnode(b: flatbuffers.Builder, name: str, type_value: int, value: int, inputs: list[int],
           outputs: list[int]) -> int:
    """A CNode whose Primitive union holds the table `value` of primitive type `type_value`."""
    b.StartObject(2)
    b.PrependUint8Slot(0, type_value, 0)
    b.PrependUOffsetTRelativeSlot(1, value, 0)
    primitive = b.EndObject()
    name_off = b.CreateString(name)
    in_vec, out_vec = _uint_vector(b, inputs), _uint_vector(b, outputs)
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, name_off, 0)
    b.PrependUOffsetTRelativeSlot(2, primitive, 0)
    b.PrependUOffsetTRelativeSlot(3, in_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, out_vec, 0)
    return int(b.EndObject())


def _tensor_table(b: flatbuffers.Builder, index: int, *, node_type: int, data_type: int, dims: list[int],
                  fmt: int, ref_count: int, offset: int, data: Any,
                  place: Callable[[int], None] | None = None) -> int:
    data_off = _byte_vector(b, data, place) if len(data) else None
    dims_off = _packed_vector(b, "i", dims)
    name_off = b.CreateString(f"t{index}")
    b.StartObject(10)
    b.PrependInt32Slot(0, node_type, 0)
    b.PrependInt32Slot(1, data_type, 0)
    b.PrependUOffsetTRelativeSlot(2, dims_off, 0)
    b.PrependInt32Slot(3, fmt, 0)
    b.PrependInt32Slot(4, ref_count, 0)
    b.PrependInt32Slot(5, offset, 0)
    if data_off is not None:
        b.PrependUOffsetTRelativeSlot(6, data_off, 0)
    b.PrependUOffsetTRelativeSlot(9, name_off, 0)
    return int(b.EndObject())


def _tensor(b: flatbuffers.Builder, index: int, t: Any, place: Place | None = None) -> int:
    fmt = m2.FORMAT_NC4HW4 if t.format == v0.FORMAT_NC4HW4_V0 else t.format
    node_type = 2 if t.node_type == 0 and not len(t.data) else t.node_type  # graph inputs, as 2.x converters write
    where = None if place is None else (lambda from_end: place(from_end, t.data_offset, len(t.data)))
    return _tensor_table(b, index, node_type=node_type, data_type=t.data_type, dims=t.dims, fmt=fmt,
                         ref_count=t.ref_count, offset=t.offset, data=t.data, place=where)


def _const(b: flatbuffers.Builder, index: int, values: list[int], shape: list[int]) -> int:
    data = struct.pack(f"<{len(values)}i", *values)
    return _tensor_table(b, index, node_type=0, data_type=INT32, dims=shape, fmt=m2.FORMAT_NHWC,
                         ref_count=0, offset=0, data=data)

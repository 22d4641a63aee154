"""Test-only writer of MindSpore Lite 1.0-schema (.ms "v0") files.

Written from model_v0.fbs / ops_v0.fbs independently of hubtool's reader specs
(hubtool.legacy.schema_v0), so that a slot mistake on either side shows up as a
disagreement, not as a mirror image.  No file identifier, 8-slot MetaGraph,
version "MindSpore Lite 1.0.0", exactly like the real 1.0 files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np

# v0 union type values (model_v0.fbs order, 1-based) of the operators the tests write
OP_TYPE = {"Concat": 1, "SoftMax": 2, "Activation": 3, "Conv2D": 4, "FusedBatchNorm": 5, "BatchNorm": 6,
           "BiasAdd": 7, "Pooling": 8, "DepthwiseConv2D": 10, "DeDepthwiseConv2D": 11, "Resize": 12,
           "FullConnection": 14, "Mean": 15, "Scale": 17, "Reshape": 18, "Add": 21, "Sub": 22, "MatMul": 23,
           "Mul": 28, "Pad": 30, "Maximum": 31, "Nchw2Nhwc": 45, "Nhwc2Nchw": 46, "Squeeze": 72, "Reduce": 101,
           "Flatten": 122, "Div": 125, "BNGrad": 132, "Custom": 150}

_CONV = ["format:i", "group:i", "channelIn:i", "channelOut:i", "kernelW:i", "kernelH:i", "strideW:i", "strideH:i",
         "padMode:b", "padUp:i", "padDown:i", "padLeft:i", "padRight:i", "dilateW:i", "dilateH:i", "hasBias:?",
         "activationType:b"]
_DW = ["format:i", "channelIn:i", "channelMultiplier:i", "kernelW:i", "kernelH:i", "strideW:i", "strideH:i",
       "padMode:b", "padUp:i", "padDown:i", "padLeft:i", "padRight:i", "dilateW:i", "dilateH:i", "hasBias:?",
       "activationType:b"]
# field name:kind in slot order; kinds: i int32, b byte, ? bool, f float32, q int64, [i] [int32], [q] [int64]
TABLES = {
    "Conv2D": _CONV, "DepthwiseConv2D": _DW, "DeDepthwiseConv2D": _DW,
    "Pooling": ["format:i", "poolingMode:b", "global:?", "windowW:i", "windowH:i", "strideW:i", "strideH:i",
                "padMode:b", "padUp:i", "padDown:i", "padLeft:i", "padRight:i", "roundMode:b", "activationType:b",
                "avgMode:i"],
    "Activation": ["type:b", "alpha:f", "min_val:f", "max_val:f"],
    "Add": ["activationType:b"], "Sub": ["activationType:b"], "Mul": ["activationType:b"],
    "Div": ["activationType:b"], "Maximum": [], "BiasAdd": ["axis:[i]"],
    "FusedBatchNorm": ["epsilon:f", "momentum:f", "spatial:i"], "BatchNorm": ["epsilon:f"],
    "Scale": ["axis:i", "activationType:b"],
    "FullConnection": ["hasBias:?", "axis:i", "useAxis:?", "activationType:b"],
    "MatMul": ["broadcast:?", "transposeA:?", "transposeB:?"],
    "Reshape": ["format:i", "shape:[q]"], "Flatten": [], "Squeeze": ["axis:[i]"], "Concat": ["axis:i", "n:i"],
    "SoftMax": ["axis:i"], "Pad": ["paddings:[i]", "paddingMode:b", "constantValue:f"],
    "Nchw2Nhwc": [], "Nhwc2Nchw": [],
    "Reduce": ["axes:[i]", "keepDims:i", "mode:b", "reduceToEnd:?", "coeff:f"],
    "Mean": ["axis:[i]", "keepDims:?"],
    "Resize": ["format:i", "method:b", "newHeight:q", "newWidth:q", "alignCorners:?"],
    "BNGrad": ["eps:f", "momentum:f"], "Custom": [],
}
_SLOT = {"i": "PrependInt32Slot", "b": "PrependInt8Slot", "?": "PrependBoolSlot", "f": "PrependFloat32Slot",
         "q": "PrependInt64Slot"}
FLOAT32, INT32, INT8 = 43, 34, 32
NHWC, KCHW, KHWC = 1, 5, 7


@dataclass
class T:
    dims: list[int]
    data: np.ndarray | None = None  # None: an activation (or the graph input)
    fmt: int = NHWC
    dtype: int = FLOAT32
    node_type: int = 0
    quant_inited: bool = False


@dataclass
class N:
    op: str
    inputs: list[int]
    outputs: list[int]
    attrs: dict[str, Any] = field(default_factory=dict)
    quant_type: int = 0


@dataclass
class Graph:
    tensors: list[T] = field(default_factory=list)
    nodes: list[N] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def tensor(self, dims: list[int], data: np.ndarray | None = None, **kw: Any) -> int:
        self.tensors.append(T(list(dims), data, **kw))
        return len(self.tensors) - 1

    def node(self, op: str, inputs: list[int], out_dims: list[int], **attrs: Any) -> int:
        out = self.tensor(out_dims, node_type=2)
        self.nodes.append(N(op, list(inputs), [out], attrs))
        return out


def _vec(b: flatbuffers.Builder, values: list[int], kind: str) -> int:
    return int(b.CreateNumpyVector(np.asarray(values, dtype={"i": np.int32, "q": np.int64, "u": np.uint32}[kind])))


def _op(b: flatbuffers.Builder, op: str, attrs: dict[str, Any]) -> int:
    spec = [f.split(":") for f in TABLES[op]]
    vectors = {name: _vec(b, attrs[name], kind[1]) for name, kind in spec if kind.startswith("[") and name in attrs}
    b.StartObject(len(spec))
    for slot, (name, kind) in enumerate(spec):
        if name not in attrs:
            continue
        if kind.startswith("["):
            b.PrependUOffsetTRelativeSlot(slot, vectors[name], 0)
        else:
            getattr(b, _SLOT[kind])(slot, attrs[name], 0)
    return int(b.EndObject())


def _tables(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return int(b.EndVector())


def write_v0(graph: Graph, *, version: str = "MindSpore Lite 1.0.0", identifier: bytes | None = None) -> bytes:
    b = flatbuffers.Builder(1024)
    b.ForceDefaults(True)
    tensors = []
    for t in graph.tensors:
        data = b.CreateByteVector(np.ascontiguousarray(t.data).astype("<f4" if t.dtype == FLOAT32 else t.data.dtype)
                                  .tobytes()) if t.data is not None else None
        dims = _vec(b, t.dims, "i")
        quant = None
        if t.quant_inited:
            b.StartObject(7)
            b.PrependFloat64Slot(0, 0.1, 0)
            b.PrependBoolSlot(6, True, False)
            q = b.EndObject()
            quant = _tables(b, [q])
        b.StartObject(8)
        b.PrependInt32Slot(0, t.node_type, 0)
        b.PrependInt32Slot(1, t.dtype, 0)
        b.PrependUOffsetTRelativeSlot(2, dims, 0)
        b.PrependInt32Slot(3, t.fmt, 0)
        if data is not None:
            b.PrependUOffsetTRelativeSlot(6, data, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(7, quant, 0)
        tensors.append(b.EndObject())
    nodes = []
    for i, n in enumerate(graph.nodes):
        value = _op(b, n.op, n.attrs)
        b.StartObject(2)
        b.PrependUint8Slot(0, OP_TYPE[n.op], 0)
        b.PrependUOffsetTRelativeSlot(1, value, 0)
        prim = b.EndObject()
        name = b.CreateString(f"{n.op.lower()}_{i}")
        ins, outs = _vec(b, n.inputs, "u"), _vec(b, n.outputs, "u")
        b.StartObject(6)
        b.PrependUOffsetTRelativeSlot(0, name, 0)
        b.PrependInt32Slot(1, 2, 0)
        b.PrependUOffsetTRelativeSlot(2, prim, 0)
        b.PrependUOffsetTRelativeSlot(3, ins, 0)
        b.PrependUOffsetTRelativeSlot(4, outs, 0)
        b.PrependInt32Slot(5, n.quant_type, 0)
        nodes.append(b.EndObject())
    name, ver = b.CreateString("synthetic"), b.CreateString(version)
    ins, outs = _vec(b, graph.inputs, "u"), _vec(b, graph.outputs, "u")
    node_vec, tensor_vec = _tables(b, nodes), _tables(b, tensors)
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(0, name, 0)
    b.PrependUOffsetTRelativeSlot(1, ver, 0)
    b.PrependInt32Slot(2, 0, 0)
    b.PrependUOffsetTRelativeSlot(3, ins, 0)
    b.PrependUOffsetTRelativeSlot(4, outs, 0)
    b.PrependUOffsetTRelativeSlot(6, node_vec, 0)
    b.PrependUOffsetTRelativeSlot(7, tensor_vec, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=identifier)  # 1.0 files carry none; 1.1 files say MSL1
    return bytes(b.Output())

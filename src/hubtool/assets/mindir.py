"""What a MindSpore MindIR model holds, read from its bytes (no framework): producer, inputs and
outputs with their shapes, parameters, and the operators of its main graph.

MindIR is one protobuf message (MindSpore's mind_ir.proto, ModelProto): ir_version = 1,
producer_name = 2, producer_version = 3, graph = 7 (GraphProto: node = 1, name = 2,
parameter = 3, input = 5, output = 6), mind_ir_version = 13.  Nodes name their operator as
`REF::Conv2D:4` (a reference into the model's primitive table); the operator is the middle part.
Tensor contents are skipped by their length (protowire.py), so a model of any size is read in
milliseconds.  Sub-graphs of control flow (ModelProto.functions) are not walked.
"""

from __future__ import annotations

import math
import mmap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProtobufFormatError
from .protowire import Wire, read_mapped

#: TensorProto.DataType in mind_ir.proto
DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
          9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
          16: "bfloat16", 17: "float64", 18: "qint4x2"}
#: the graph's bookkeeping nodes (constants, parameter loads, side-effect ordering): not operators of the model
BOOKKEEPING = frozenset({"Constant", "Load", "MakeTuple", "TupleGetItem", "UpdateState", "Depend", "Return"})
MAX_ITEMS = 1_000_000


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]


@dataclass
class MindirModel:
    ir_version: str = ""
    producer: str = ""
    producer_version: str = ""
    mind_ir_version: int | None = None
    graph: str = ""
    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)
    parameters: list[TensorInfo] = field(default_factory=list)
    operators: Counter[str] = field(default_factory=Counter)

    @property
    def values(self) -> int:
        return sum(math.prod(p.shape) for p in self.parameters)


def read_mindir(path: Path) -> MindirModel:
    """The MindIR model at `path`; ProtobufFormatError with the reason when it is not one."""
    return read_mapped(path, parse_mindir, ProtobufFormatError)


def parse_mindir(data: bytes | mmap.mmap) -> MindirModel:
    model = MindirModel()
    reader = Wire(data, 0, len(data))
    while not reader.done():
        number, wire = reader.key()
        if wire == 2 and number in (1, 2, 3):
            text = reader.text()
            if number == 1:
                model.ir_version = text
            elif number == 2:
                model.producer = text
            else:
                model.producer_version = text
        elif number == 7 and wire == 2:
            _graph(reader.sub(*reader.span()), model)
        elif number == 13 and wire == 0:
            model.mind_ir_version = reader.varint()
        else:
            reader.skip(wire)
    if model.producer != "MindSpore" or not model.graph:
        raise ProtobufFormatError("not a MindSpore MindIR model (no MindSpore producer and main graph)")
    return model


def _graph(reader: Wire, model: MindirModel) -> None:
    while not reader.done():
        number, wire = reader.key()
        if number == 2 and wire == 2:
            model.graph = reader.text()
        elif number == 1 and wire == 2:
            op = _op_type(reader.sub(*reader.span()))
            if op and op not in BOOKKEEPING:
                model.operators[op] += 1
        elif number == 3 and wire == 2:
            model.parameters.append(_tensor(reader.sub(*reader.span())))
        elif number in (5, 6) and wire == 2:
            (model.inputs if number == 5 else model.outputs).extend(_value_info(reader.sub(*reader.span())))
        else:
            reader.skip(wire)
        if len(model.parameters) + sum(model.operators.values()) > MAX_ITEMS:
            raise ProtobufFormatError(f"more than {MAX_ITEMS:,} nodes and parameters")
    prefix = f"{model.graph}:"  # names are qualified by the graph's: show them as the network has them
    for group in (model.inputs, model.outputs, model.parameters):
        group[:] = [TensorInfo(t.name.removeprefix(prefix), t.dtype, t.shape) for t in group]


def _op_type(reader: Wire) -> str:
    op = ""
    while not reader.done():
        number, wire = reader.key()
        if number == 4 and wire == 2:
            op = reader.text()
        else:
            reader.skip(wire)
    if op.startswith("REF::"):
        op = op[5:].rsplit(":", 1)[0]
    return op


def _tensor(reader: Wire, name: str = "") -> TensorInfo:
    dims: list[int] = []
    dtype = 0
    while not reader.done():
        number, wire = reader.key()
        if number == 1 and wire in (0, 2):
            dims += reader.signed_values(wire)
        elif number == 2 and wire == 0:
            dtype = reader.varint()
        elif number == 7 and wire == 2:
            name = reader.text()
        else:
            reader.skip(wire)
    return TensorInfo(name, DTYPES.get(dtype, f"type {dtype}"), tuple(dims))


def _value_info(reader: Wire) -> list[TensorInfo]:
    name, tensors = "", []
    while not reader.done():
        number, wire = reader.key()
        if number == 1 and wire == 2:
            name = reader.text()
        elif number == 2 and wire == 2:
            tensors.append(reader.sub(*reader.span()))
        else:
            reader.skip(wire)
    return [_tensor(t, name) for t in tensors]

"""The parameters of a MindSpore checkpoint, read from its bytes (no framework, no protobuf library).

A `.ckpt` file is one protobuf message (MindSpore's checkpoint.proto, proto2):

    message Checkpoint { message Value { required string tag = 1; required TensorProto tensor = 2; }
                         repeated Value value = 1; }
    message TensorProto { repeated int64 dims = 1; required string tensor_type = 2;
                          required bytes tensor_content = 3; }

Only the field headers are read, through a memory map (protowire.py): the tensor contents are
skipped by their length, so a checkpoint of gigabytes is listed in milliseconds and never
loaded.  A tensor whose content does not fit its shape and type is named (a truncated or
corrupted checkpoint).  Fields this reader does not know (newer releases add some, e.g. map
tensors) are skipped as protobuf says unknown fields must be.
"""

from __future__ import annotations

import math
import mmap
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointFormatError
from .protowire import Wire, read_mapped

#: MindSpore's tensor_type names and their element sizes ("str" values come from save_checkpoint's append_dict)
ITEMSIZE = {"Bool": 1, "Int8": 1, "UInt8": 1, "Int16": 2, "UInt16": 2, "Int32": 4, "UInt32": 4, "Int64": 8,
            "UInt64": 8, "Float16": 2, "BFloat16": 2, "Float32": 4, "Float64": 8, "Complex64": 8,
            "Complex128": 16, "str": 1}
MAX_PARAMETERS = 1_000_000  # a real network has thousands; more is a corrupt or hostile file
MAX_DIMS = 32


@dataclass(frozen=True)
class Parameter:
    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int  # of its content in the file

    @property
    def count(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Checkpoint:
    parameters: tuple[Parameter, ...]
    problems: tuple[str, ...]  # tensors whose content does not fit their shape and type
    damaged: str | None = None  # why reading stopped after the parameters listed (a truncated file)

    @property
    def values(self) -> int:
        return sum(p.count for p in self.parameters)

    def dtypes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.parameters:
            counts[p.dtype] = counts.get(p.dtype, 0) + 1
        return counts


def read_checkpoint(path: Path) -> Checkpoint:
    """The parameters of the checkpoint at `path`; CheckpointFormatError with the reason otherwise."""
    return read_mapped(path, parse_checkpoint, CheckpointFormatError)


def parse_checkpoint(data: bytes | mmap.mmap) -> Checkpoint:
    """The parameters of a checkpoint held in `data`.

    CheckpointFormatError when not even the first value reads as a named tensor (not a checkpoint);
    a checkpoint damaged further on lists what it could read and says where it broke.
    """
    reader = Wire(data, 0, len(data), CheckpointFormatError)
    parameters: list[Parameter] = []
    problems: list[str] = []
    try:
        while not reader.done():
            field, wire = reader.key()
            if field != 1 or wire != 2:
                if not parameters:
                    raise CheckpointFormatError("it does not start with a checkpoint value (protobuf field 1)")
                reader.skip(wire)
                continue
            start, end = reader.span()
            parameter = _value(reader.sub(start, end), len(parameters))
            if not parameters and parameter.dtype not in ITEMSIZE:
                raise CheckpointFormatError(f"its first value's type {parameter.dtype[:40]!r} is no MindSpore type")
            parameters.append(parameter)
            if len(parameters) > MAX_PARAMETERS:
                raise CheckpointFormatError(f"more than {MAX_PARAMETERS:,} parameters")
            problem = _misfit(parameter)
            if problem:
                problems.append(problem)
    except CheckpointFormatError as exc:
        if not parameters:
            raise
        return Checkpoint(tuple(parameters), tuple(problems), exc.message)
    if not parameters:
        raise CheckpointFormatError("it holds no checkpoint value")
    return Checkpoint(tuple(parameters), tuple(problems))


def _misfit(p: Parameter) -> str | None:
    size = ITEMSIZE.get(p.dtype)
    if size is None:
        return f"{p.name}: unknown tensor type {p.dtype[:40]!r}"
    if p.dtype != "str" and p.count * size != p.nbytes:
        return (f"{p.name}: {p.nbytes:,} bytes of content, but {p.dtype} {list(p.shape)} needs "
                f"{p.count * size:,}")
    return None


def _value(reader: Wire, index: int) -> Parameter:
    name: str | None = None
    tensor: tuple[str, tuple[int, ...], int] | None = None
    while not reader.done():
        field, wire = reader.key()
        if field == 1 and wire == 2:
            name = reader.text()
        elif field == 2 and wire == 2:
            start, end = reader.span()
            tensor = _tensor(reader.sub(start, end))
        else:
            reader.skip(wire)
    if name is None or tensor is None:
        raise CheckpointFormatError(f"checkpoint value {index} has no {'tag' if name is None else 'tensor'}")
    dtype, shape, nbytes = tensor
    return Parameter(name, dtype, shape, nbytes)


def _tensor(reader: Wire) -> tuple[str, tuple[int, ...], int]:
    dims: list[int] = []
    dtype: str | None = None
    nbytes = 0
    while not reader.done():
        field, wire = reader.key()
        if field == 1 and wire in (0, 2):  # dims, one at a time (proto2's default) or packed
            dims += reader.signed_values(wire)
        elif field == 2 and wire == 2:
            dtype = reader.text()
        elif field == 3 and wire == 2:
            start, end = reader.span()
            nbytes = end - start
        else:
            reader.skip(wire)
        if len(dims) > MAX_DIMS:
            raise CheckpointFormatError(f"a tensor with more than {MAX_DIMS} dimensions")
    if dtype is None:
        raise CheckpointFormatError("a tensor without a tensor_type")
    if any(d < 0 for d in dims):
        raise CheckpointFormatError(f"a tensor of shape {dims}")
    return dtype, tuple(dims), nbytes

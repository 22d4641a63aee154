"""MindSpore checkpoints written by the protobuf library from MindSpore's checkpoint.proto: a second,
independent implementation of the format hubtool reads by hand (assets/ckpt.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def checkpoint_class(*, packed: bool = False, extra_fields: bool = False) -> Any:
    """MindSpore's checkpoint.proto (proto2) as a protobuf message class; optionally with packed dims and the
    fields newer releases add (a map tensor on Value, an unknown field on TensorProto)."""
    f = descriptor_pb2.FileDescriptorProto(name=f"checkpoint_{packed}_{extra_fields}.proto", syntax="proto2",
                                           package=f"p{int(packed)}{int(extra_fields)}")
    t = f.message_type.add(name="TensorProto")
    dims = t.field.add(name="dims", number=1, type=3, label=3)
    if packed:
        dims.options.packed = True
    t.field.add(name="tensor_type", number=2, type=9, label=2)
    t.field.add(name="tensor_content", number=3, type=12, label=2)
    if extra_fields:
        t.field.add(name="compression", number=7, type=13, label=1)
    c = f.message_type.add(name="Checkpoint")
    v = c.nested_type.add(name="Value")
    v.field.add(name="tag", number=1, type=9, label=2)
    v.field.add(name="tensor", number=2, type=11, label=1, type_name=f".{f.package}.TensorProto")
    if extra_fields:
        v.field.add(name="maptensor", number=3, type=12, label=1)
    c.field.add(name="value", number=1, type=11, label=3, type_name=f".{f.package}.Checkpoint.Value")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{f.package}.Checkpoint"))


TENSORS = {  # name -> array, as a network's parameters and save_checkpoint's extras look
    "conv1.weight": np.arange(64 * 3 * 7 * 7, dtype=np.float32).reshape(64, 3, 7, 7),
    "bn1.moving_mean": np.zeros(64, dtype=np.float32),
    "fc.weight": np.ones((10, 512), dtype=np.float16),
    "global_step": np.array(1234, dtype=np.int32),  # a scalar: no dims at all
    "learning_rate": np.array([0.01], dtype=np.float64),
}
TYPES = {np.float32: "Float32", np.float16: "Float16", np.int32: "Int32", np.float64: "Float64"}


def write(path: Path, *, packed: bool = False, extra_fields: bool = False,
          tensors: dict[str, np.ndarray] = TENSORS) -> bytes:
    message = checkpoint_class(packed=packed, extra_fields=extra_fields)()
    for name, array in tensors.items():
        value = message.value.add()
        value.tag = name
        value.tensor.dims.extend(array.shape)
        value.tensor.tensor_type = TYPES[array.dtype.type]
        value.tensor.tensor_content = array.tobytes()
        if extra_fields:
            value.maptensor = b"\x08\x01"
            value.tensor.compression = 0
    data = message.SerializeToString()
    path.write_bytes(data)
    return data

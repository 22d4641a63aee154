"""MindSpore checkpoints read from their bytes (assets/ckpt.py), against files written by the protobuf
library itself from MindSpore's checkpoint.proto (a second, independent implementation of the format)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ckpt_writer import TENSORS, TYPES, checkpoint_class, write
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import run_cli
from hubtool.assets.ckpt import parse_checkpoint, read_checkpoint
from hubtool.assets.inspect import inspect_file
from hubtool.errors import CheckpointFormatError


@pytest.mark.parametrize("packed, extra", [(False, False), (True, False), (False, True)],
                         ids=["proto2", "packed dims", "newer fields"])
def test_every_parameter_is_listed_with_its_type_and_shape(tmp_path: Path, packed: bool, extra: bool) -> None:
    path = tmp_path / "m.ckpt"
    write(path, packed=packed, extra_fields=extra)
    found = read_checkpoint(path)
    assert [(p.name, p.dtype, p.shape, p.nbytes) for p in found.parameters] == [
        (name, TYPES[a.dtype.type], a.shape, a.nbytes) for name, a in TENSORS.items()]
    assert found.problems == () and found.damaged is None
    assert found.values == sum(a.size for a in TENSORS.values())
    facts = inspect_file(path)
    assert facts.kind == "ckpt"
    assert facts.description.startswith(f"a MindSpore checkpoint: 5 parameters, {found.values:,} values")
    assert "Float16 1, Float32 2, Float64 1, Int32 1" in facts.description


def test_inspect_lists_the_parameters(tmp_path: Path) -> None:
    path = tmp_path / "m.ckpt"
    write(path)
    text = run_cli("inspect", str(path))
    assert text.exit_code == 0, text.output
    assert "conv1.weight Float32 [64, 3, 7, 7]" in text.output and "global_step Int32 []" in text.output
    doc = json.loads(run_cli("inspect", "--format", "json", str(path)).output)[0]
    assert doc["kind"] == "ckpt" and doc["parameters"][2] == {"name": "fc.weight", "dtype": "Float16",
                                                              "shape": [10, 512], "bytes": 10240}


def test_many_parameters_are_summed_up_in_text(tmp_path: Path) -> None:
    path = tmp_path / "m.ckpt"
    write(path, tensors={f"layer{i}.bias": np.zeros(4, dtype=np.float32) for i in range(40)})
    out = run_cli("inspect", str(path)).output
    assert "layer11.bias" in out and "layer12.bias" not in out and "28 more" in out


def test_a_truncated_checkpoint_lists_what_it_holds_and_says_where_it_broke(tmp_path: Path) -> None:
    path = tmp_path / "m.ckpt"
    data = write(path)
    path.write_bytes(data[: len(data) - 100])  # fc.weight's content is cut short, the two after it are gone
    found = read_checkpoint(path)
    assert [p.name for p in found.parameters] == list(TENSORS)[:2]
    assert found.damaged is not None and "runs past" in found.damaged
    assert "damaged after them" in inspect_file(path).description


def test_content_that_does_not_fit_its_shape_is_named(tmp_path: Path) -> None:
    message = checkpoint_class()()
    value = message.value.add()
    value.tag, value.tensor.tensor_type, value.tensor.tensor_content = "w", "Float32", b"\0" * 12
    value.tensor.dims.extend([2, 2])
    found = parse_checkpoint(message.SerializeToString())
    assert found.problems == ("w: 12 bytes of content, but Float32 [2, 2] needs 16",)


@pytest.mark.parametrize("data, reason", [
    (b"\n\x05\n\x03abc", "has no tensor"),  # a value with a name and no tensor
    (b"\x12\x00", "does not start with a checkpoint value"),
    (b"\n\xff\xff\xff\xff\x0f", "runs past"),  # a length of 4 GiB in a 6-byte file
    (b"\n" + b"\xff" * 11, "broken varint"),
])
def test_what_is_not_a_checkpoint_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(CheckpointFormatError) as info:
        parse_checkpoint(data)
    assert reason in info.value.message


def test_another_protobuf_is_not_taken_for_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "other.pb"
    path.write_bytes(b"\n\x10\n\x0ehello, world!!" * 4 + b"\x00" * 64)  # field 1 strings, no tensors
    facts = inspect_file(path)
    assert facts.kind == "unknown" and "not a MindSpore checkpoint" in facts.description


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=400))
def test_damaged_bytes_never_escape_as_anything_else(noise: bytes, cut: int) -> None:
    """Any prefix of a real checkpoint followed by any bytes: a listing or CheckpointFormatError, nothing else."""
    message = checkpoint_class()()
    for name, array in list(TENSORS.items())[1:]:
        value = message.value.add()
        value.tag, value.tensor.tensor_type = name, TYPES[array.dtype.type]
        value.tensor.dims.extend(array.shape)
        value.tensor.tensor_content = array.tobytes()[:64]
    data = message.SerializeToString()[:cut] + noise
    try:
        found = parse_checkpoint(data)
    except CheckpointFormatError:
        return
    assert found.parameters

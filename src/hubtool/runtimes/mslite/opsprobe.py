"""What the installed MindSpore Lite can build, operator by operator, measured on the runtime itself.

For every PrimitiveType value (a ubyte: 1..255) a one-node MSL2 model is
written and handed to the runtime's own `build_from_file` in a worker.  The
runtime's error lines say what it thinks of the operator, and its name:

- `Unsupported parameter type in Create : MaxPoolGrad` - the CPU runtime
  cannot create this operator at all (training operators, most of them);
- the same with an empty name - a type this runtime does not know: a file
  that uses it was written by a newer converter;
- `FindBackendKernel return nullptr ... type: BiasAddGrad` - created, but no
  CPU kernel;
- anything else (shape inference failing on our empty attributes, or a
  build) - the operator is supported; a real model gives it real attributes.

`scripts/measure_mslite_ops.py` writes the result as the data file that
`hubtool inspect` reads (`legacy/mslite-2.0.0-ops.json`); a test measures
again and compares, so the file stays what the runtime says.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ...durable import JSONObject
from ...errors import ModelError, WorkerError
from .client import MsliteWorker

if TYPE_CHECKING:
    from flatbuffers import Builder

_NAMED = re.compile(r"(?:Unsupported parameter type in Create : |, type: )([A-Za-z][A-Za-z0-9_]*)")


def one_node_model(type_value: int) -> bytes:
    """An MSL2 file with one node of primitive type `type_value` (empty attributes), float32 [1, 4] in and out."""
    import flatbuffers

    b = flatbuffers.Builder(1024)
    nodes = _tables(b, [_node(b, type_value)])
    tensor_vec = _tables(b, [_tensor(b, 2), _tensor(b, 0)])  # the graph input, then the node's output
    sub_fields = [b.CreateString("graph"), _uints(b, [0]), _uints(b, [1]), _uints(b, [0]), _uints(b, [0, 1])]
    b.StartObject(5)
    for slot, field in enumerate(sub_fields):
        b.PrependUOffsetTRelativeSlot(slot, field, 0)
    subgraphs = _tables(b, [b.EndObject()])
    graph = [(0, b.CreateString("probe")), (1, b.CreateString("")), (3, _uints(b, [0])), (4, _uints(b, [1])),
             (6, nodes), (7, tensor_vec), (8, subgraphs)]
    b.StartObject(9)
    for slot, field in graph:
        b.PrependUOffsetTRelativeSlot(slot, field, 0)
    b.Finish(b.EndObject(), file_identifier=b"MSL2")
    return bytes(b.Output())


def _node(b: Builder, type_value: int) -> int:
    b.StartObject(0)
    value = b.EndObject()
    b.StartObject(2)
    b.PrependUint8Slot(0, type_value, 0)
    b.PrependUOffsetTRelativeSlot(1, value, 0)
    primitive = b.EndObject()
    name, ins, outs = b.CreateString("probe"), _uints(b, [0]), _uints(b, [1])
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, name, 0)
    b.PrependUOffsetTRelativeSlot(2, primitive, 0)
    b.PrependUOffsetTRelativeSlot(3, ins, 0)
    b.PrependUOffsetTRelativeSlot(4, outs, 0)
    return int(b.EndObject())


def _tensor(b: Builder, node_type: int) -> int:
    b.StartVector(4, 2, 4)
    b.PrependInt32(4)
    b.PrependInt32(1)
    dims = b.EndVector()
    b.StartObject(10)
    b.PrependInt32Slot(0, node_type, 0)
    b.PrependInt32Slot(1, 43, 0)  # float32
    b.PrependUOffsetTRelativeSlot(2, dims, 0)
    return int(b.EndObject())


def _uints(b: Builder, values: list[int]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependUint32(v)
    return int(b.EndVector())


def _tables(b: Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return int(b.EndVector())


def classify(native: list[str]) -> tuple[str, str | None]:
    """The verdict and the operator's name from the runtime's error lines for one probe."""
    text = " | ".join(native)
    named = _NAMED.search(text)
    name = named.group(1) if named else None
    if "Unsupported parameter type in Create" in text:
        return ("cpu-unsupported" if name else "unknown-type"), name
    if "Custom node" in text:  # the runtime names it only so
        return "cpu-unsupported", "Custom"
    if "FindBackendKernel return nullptr" in text:
        return "no-cpu-kernel", name
    return "supported", name


def measure(types: range = range(1, 256), *, timeout: float = 30.0) -> dict[int, JSONObject]:
    """Probe every type in `types` with the installed runtime; {type: {"name", "verdict"}}."""
    found: dict[int, JSONObject] = {}
    worker: MsliteWorker | None = None
    with tempfile.TemporaryDirectory(prefix="hubtool-opsprobe-") as tmp:
        try:
            for type_value in types:
                path = Path(tmp) / f"{type_value}.ms"
                path.write_bytes(one_node_model(type_value))
                worker = worker or MsliteWorker(timeout=timeout).start()
                try:
                    worker.load(path)
                    verdict, name = "supported", None
                except ModelError as exc:
                    verdict, name = classify(exc.native)
                except WorkerError:  # the runtime crashed on this operator: it cannot run it
                    worker.kill()
                    worker, verdict, name = None, "crashes", None
                found[type_value] = {"name": name, "verdict": verdict}
        finally:
            if worker is not None:
                worker.close()
    return found

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

from ...durable import JSONObject
from ...errors import ModelError, WorkerError
from .client import MsliteWorker

_NAMED = re.compile(r"(?:Unsupported parameter type in Create : |, type: )([A-Za-z][A-Za-z0-9_]*)")


def one_node_model(type_value: int) -> bytes:
    """An MSL2 file with one node of primitive type `type_value` (empty attributes), float32 [1, 4] in and out."""
    import flatbuffers

    b = flatbuffers.Builder(1024)

    def uints(values: list[int]) -> int:
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependUint32(v)
        return int(b.EndVector())

    b.StartObject(0)
    value = b.EndObject()
    b.StartObject(2)
    b.PrependUint8Slot(0, type_value, 0)
    b.PrependUOffsetTRelativeSlot(1, value, 0)
    primitive = b.EndObject()
    tensors = []
    for node_type in (2, 0):  # the graph input, then the node's output
        b.StartVector(4, 2, 4)
        b.PrependInt32(4)
        b.PrependInt32(1)
        dims = b.EndVector()
        b.StartObject(10)
        b.PrependInt32Slot(0, node_type, 0)
        b.PrependInt32Slot(1, 43, 0)  # float32
        b.PrependUOffsetTRelativeSlot(2, dims, 0)
        tensors.append(b.EndObject())
    name, ins, outs = b.CreateString("probe"), uints([0]), uints([1])
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, name, 0)
    b.PrependUOffsetTRelativeSlot(2, primitive, 0)
    b.PrependUOffsetTRelativeSlot(3, ins, 0)
    b.PrependUOffsetTRelativeSlot(4, outs, 0)
    node = b.EndObject()
    nodes = _tables(b, [node])
    tensor_vec = _tables(b, tensors)
    sub_name = b.CreateString("graph")
    sub_fields = [sub_name, uints([0]), uints([1]), uints([0]), uints([0, 1])]
    b.StartObject(5)
    for slot, field in enumerate(sub_fields):
        b.PrependUOffsetTRelativeSlot(slot, field, 0)
    subgraphs = _tables(b, [b.EndObject()])
    graph_name, version, graph_in, graph_out = b.CreateString("probe"), b.CreateString(""), uints([0]), uints([1])
    b.StartObject(9)
    for slot, field in ((0, graph_name), (1, version), (3, graph_in), (4, graph_out), (6, nodes), (7, tensor_vec),
                        (8, subgraphs)):
        b.PrependUOffsetTRelativeSlot(slot, field, 0)
    b.Finish(b.EndObject(), file_identifier=b"MSL2")
    return bytes(b.Output())


def _tables(b: object, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)  # type: ignore[attr-defined]
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)  # type: ignore[attr-defined]
    return int(b.EndVector())  # type: ignore[attr-defined]


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

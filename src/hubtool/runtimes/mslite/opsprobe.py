"""What the installed MindSpore Lite can build, operator by operator, measured on the runtime itself.

For every PrimitiveType value (a ubyte: 1..255) a one-node MSL2 model
(`legacy.writer.one_node_msl2`) is handed to the runtime's own `build_from_file` in a worker.  The
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
from collections.abc import Callable
from pathlib import Path

from ...durable import JSONObject
from ...errors import ModelError, WorkerError
from .client import MsliteWorker

_NAMED = re.compile(r"(?:Unsupported parameter type in Create : |, type: )([A-Za-z][A-Za-z0-9_]*)")


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


def measure(model_for: Callable[[int], bytes], types: range = range(1, 256), *,
            timeout: float = 30.0) -> dict[int, JSONObject]:
    """Probe every type in `types` with the installed runtime; {type: {"name", "verdict"}}.

    `model_for(type)` gives the one-node MSL2 bytes (`hubtool.legacy.writer.one_node_msl2`: the
    translator's writer, which this layer may not import itself)."""
    found: dict[int, JSONObject] = {}
    worker: MsliteWorker | None = None
    with tempfile.TemporaryDirectory(prefix="hubtool-opsprobe-") as tmp:
        try:
            for type_value in types:
                path = Path(tmp) / f"{type_value}.ms"
                path.write_bytes(model_for(type_value))
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

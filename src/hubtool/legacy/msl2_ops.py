"""The operators of an MSL2 file, judged against what runtime 2.0.0 was measured to build.

`mslite-2.0.0-ops.json` beside this module holds, per PrimitiveType value, the
operator's name and the installed runtime's verdict, measured on the runtime
itself by `hubtool.runtimes.mslite.opsprobe` (scripts/measure_mslite_ops.py
writes it; a test measures again and compares).  From the bytes alone this
says what is known before any load: operators 2.0.0 cannot run on CPU
(training graphs, mostly), Custom operators, operator types newer than 2.0.0,
and the converter release the file names.  Only a real load says "loadable".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from ..durable import JSONObject
from ..errors import LegacyFormatError
from .flatread import Buffer
from .schema_msl2 import PRIMITIVES

DATA_FILE = str(Path(__file__).with_name("mslite-2.0.0-ops.json"))
RUNTIME = "mindspore-lite 2.0.0"
_TRAINING = re.compile(r".*Grad(Data|Weight|Filter|Input)?$|ApplyMomentum|SGD|Adam|AdamWeightDecay|.*CrossEntropy.*"
                       r"|SmoothL1Loss|NLLLoss")
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def data_document(measured: dict[int, JSONObject]) -> JSONObject:
    """The data file's content from a measurement; names the runtime did not say come from ops.fbs's order."""
    types: JSONObject = {}
    for value, entry in sorted(measured.items()):
        name = entry.get("name") or (PRIMITIVES[value - 1] if value <= len(PRIMITIVES) else None)
        types[str(value)] = {"name": name, "verdict": entry.get("verdict")}
    return {"runtime": RUNTIME, "measured-by": "hubtool.runtimes.mslite.opsprobe (scripts/measure_mslite_ops.py)",
            "types": types}


@cache
def _table() -> dict[int, tuple[str | None, str]]:  # read once per process, not once per inspected file
    text = resources.files(__package__ or "hubtool.legacy").joinpath("mslite-2.0.0-ops.json").read_text("utf-8")
    types = json.loads(text)["types"]
    return {int(k): (v.get("name"), str(v.get("verdict"))) for k, v in types.items()}


@dataclass(frozen=True)
class Msl2Operators:
    """What an MSL2 file's operator list says about runtime 2.0.0."""

    version: str | None  # the converter's version string
    histogram: dict[str, int]
    cannot_run: dict[str, int] = field(default_factory=dict)  # measured: no CPU op or kernel in 2.0.0
    unknown_types: dict[str, int] = field(default_factory=dict)  # types 2.0.0 does not know
    custom: int = 0
    newer_converter: bool = False

    @property
    def training(self) -> dict[str, int]:
        """Training operators by name (gradients, optimizers, losses): a training graph."""
        return {name: n for name, n in self.histogram.items() if _TRAINING.fullmatch(name)}

    def blockers(self) -> list[str]:
        """Why 2.0.0 will not build it, as far as the bytes tell; [] when nothing is known against it."""
        out = []
        if self.cannot_run:
            out.append(f"operators {RUNTIME} cannot run on CPU (measured on the runtime): "
                       + ", ".join(f"{n} {c}" for n, c in self.cannot_run.items()))
        if self.custom:
            out.append(f"{self.custom} Custom operator(s) (e.g. an offline NPU model): {RUNTIME} on CPU "
                       "has no kernel for them")
        if self.unknown_types:
            out.append(f"operator types newer than {RUNTIME}: " + ", ".join(self.unknown_types))
        if self.newer_converter:
            out.append(f"written by {self.version}, a converter newer than {RUNTIME}")
        return out


def read_operators(data: bytes | memoryview) -> Msl2Operators:
    """The operator list of MSL2 bytes; LegacyFormatError when the FlatBuffer is corrupt."""
    root = Buffer(data).root()
    version = root.string(1)
    table = _table()
    counts: Counter[int] = Counter()
    for node in root.tables(6, "CNode"):
        primitive = node.table(2, "Primitive")
        counts[primitive.integer(0, "ubyte") if primitive is not None else 0] += 1
    histogram: dict[str, int] = {}
    cannot: dict[str, int] = {}
    unknown: dict[str, int] = {}
    custom = 0
    for value, count in sorted(counts.items()):
        name, verdict = table.get(value, (None, "unknown-type"))
        label = name or f"PrimitiveType {value}"
        histogram[label] = histogram.get(label, 0) + count
        if name == "Custom":
            custom += count
        elif verdict in ("cpu-unsupported", "no-cpu-kernel", "crashes"):
            cannot[label] = cannot.get(label, 0) + count
        elif verdict == "unknown-type":
            unknown[label] = unknown.get(label, 0) + count
    return Msl2Operators(version, dict(sorted(histogram.items())), cannot, unknown, custom, _newer(version))


def _newer(version: str | None) -> bool:
    found = _VERSION.search(version or "")
    if found is None:
        return False
    return tuple(int(g or 0) for g in found.groups()) > (2, 0, 0)


def read_file_operators(path: Path) -> Msl2Operators:
    from .upgrade import map_file, release

    data = map_file(path)
    try:
        return read_operators(data)  # type: ignore[arg-type]  # mmap supports the buffer protocol
    except (LegacyFormatError, IndexError, ValueError) as exc:
        raise LegacyFormatError(f"{path}: the MSL2 operator list cannot be read: {exc}") from exc
    finally:
        release(data)

"""Which runtime runs which `file-format`, and opening an asset in it.

`mslite` and `mindir` run in MindSpore Lite (a CPython 3.7 worker process),
`onnx` in ONNX Runtime; `ckpt`, `air` and `geir` cannot run alone and are
verified by hash and inspection only.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from ..errors import RuntimeUnavailable
from .mslite.session import MsliteRuntime
from .onnx import OnnxRuntime
from .process import STARTED
from .protocol import Runtime, Session

#: file-format -> runtime name
RUNTIME_FOR_FORMAT = {"mslite": "mindspore-lite", "mindir": "mindspore-lite", "onnx": "onnxruntime"}
#: formats that no runtime runs by themselves
NOT_RUNNABLE = frozenset({"ckpt", "air", "geir"})
_RUNTIMES: dict[str, Runtime] = {"mindspore-lite": MsliteRuntime(), "onnxruntime": OnnxRuntime()}
#: the runtimes hubtool installs itself (`hubtool runtime install`): their versions key the ledger
MANAGED = ("mindspore-lite",)


def open_session(path: Path, file_format: str, *, timeout: float = 120.0) -> AbstractContextManager[Session]:
    """A session on `path` in the runtime for `file_format`, closed (worker shut down) on exit."""
    name = RUNTIME_FOR_FORMAT.get(file_format)
    if name is None:
        raise RuntimeUnavailable(f"no runtime runs '{file_format}' assets")
    return _RUNTIMES[name].open(path, file_format, timeout=timeout)


def managed_identities() -> dict[str, str]:
    """The versions of the installed managed runtimes, e.g. {"mindspore-lite": "2.0.0"}."""
    found = {name: _RUNTIMES[name].identity() for name in MANAGED}
    return {name: version for name, version in found.items() if version is not None}


def workers_started() -> int:
    """Runtime worker processes this process has started (reports prove a re-run started none)."""
    return STARTED["workers"]

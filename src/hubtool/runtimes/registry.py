"""Which runtime runs which `file-format`, and opening an asset in it.

`mslite` runs in MindSpore Lite (a CPython 3.7 worker process); `mindir` and
`ckpt` (in its network) in MindSpore 2.x (a CPython 3.11 worker process,
sandboxed); `onnx` in ONNX Runtime; `air` and `geir` are verified by hash and
inspection only.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from ..errors import RuntimeUnavailable
from .mindspore.session import MindsporeRuntime
from .mslite.session import MsliteRuntime
from .onnx import OnnxRuntime
from .process import STARTED
from .protocol import OpenOptions, Runtime, Session

#: file-format -> runtime name
RUNTIME_FOR_FORMAT = {"mslite": "mindspore-lite", "mindir": "mindspore", "ckpt": "mindspore", "onnx": "onnxruntime"}
#: formats that no runtime runs by themselves
NOT_RUNNABLE = frozenset({"air", "geir"})
_RUNTIMES: dict[str, Runtime] = {"mindspore-lite": MsliteRuntime(), "mindspore": MindsporeRuntime(),
                                 "onnxruntime": OnnxRuntime()}


def open_session(path: Path, file_format: str, options: OpenOptions | None = None
                 ) -> AbstractContextManager[Session]:
    """A session on `path` in the runtime for `file_format`, closed (worker shut down) on exit."""
    name = RUNTIME_FOR_FORMAT.get(file_format)
    if name is None:
        raise RuntimeUnavailable(f"no runtime runs '{file_format}' assets")
    return _RUNTIMES[name].open(path, file_format, options or OpenOptions())


def runtime_for(file_format: str) -> str | None:
    """The name of the runtime that runs `file_format` assets (None: none does)."""
    return RUNTIME_FOR_FORMAT.get(file_format)


def workers_started() -> int:
    """Runtime worker processes this process has started (reports prove a re-run started none)."""
    return STARTED["workers"]

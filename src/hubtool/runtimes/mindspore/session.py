"""MindSpore 2.x as a `Runtime`: MindIR models, and checkpoints loaded into their network, one worker per asset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ...assets.mindir import read_mindir
from ...durable import JSON, JSONObject
from ...errors import ModelError, ProtobufFormatError
from .. import installed
from ..protocol import Network, OpenOptions
from .client import DEFAULT_RLIMIT_AS, MindsporeWorker

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made


class MindsporeSession:
    def __init__(self, worker: MindsporeWorker, inputs: list[JSONObject], network: Network | None) -> None:
        self.worker = worker
        self.network = network
        self._shapes = [tuple(d for d in _ints(i.get("shape"))) for i in inputs]

    def input_shapes(self) -> list[tuple[int, ...]]:
        return self._shapes

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self.worker.predict(arrays)

    def ran(self) -> str:
        sandbox = self.worker.sandbox
        where = ("a sandboxed worker: no network, read-only files" if sandbox.get("active")
                 else f"a worker NOT sandboxed: {sandbox.get('why')}")
        what = f", network {self.network.describe()}" if self.network is not None else ""
        return f"MindSpore {self.worker.hello.get('mindspore')} ({where}){what}"


def _ints(value: JSON) -> list[int]:
    return [d for d in value if isinstance(d, int)] if isinstance(value, list) else []


class MindsporeRuntime:
    name = "mindspore"

    def open(self, path: Path, file_format: str, options: OpenOptions) -> AbstractContextManager[MindsporeSession]:
        return _session(path, file_format, options)

    def identity(self) -> str | None:
        return installed.identity("mindspore")


def declared_inputs(path: Path, file_format: str, options: OpenOptions) -> list[JSONObject]:
    """The model's inputs: a MindIR's from its bytes (dynamic dimensions as 1), a checkpoint's from the card."""
    if file_format == "mindir":
        try:
            model = read_mindir(path)
        except ProtobufFormatError as exc:
            raise ModelError(f"the MindIR cannot be read: {exc.message}") from exc
        return [{"name": t.name, "shape": [d if d > 0 else 1 for d in t.shape], "dtype": t.dtype}
                for t in model.inputs]
    if options.input_shape is None:
        raise ModelError("a checkpoint declares no input shape: give the golden set a size (or the card an "
                         "input-shape)")
    return [{"name": "input", "shape": list(options.input_shape), "dtype": "float32"}]


@contextmanager
def _session(path: Path, file_format: str, options: OpenOptions) -> Iterator[MindsporeSession]:
    if file_format == "ckpt" and options.network is None:
        raise ModelError("a checkpoint runs only in its network, and none was found for it")
    inputs = declared_inputs(path, file_format, options)
    network = options.network if file_format == "ckpt" else None
    rlimit = options.mindspore_address_space or DEFAULT_RLIMIT_AS
    with MindsporeWorker(timeout=options.timeout, rlimit_as=rlimit) as worker:
        worker.load(path, file_format, inputs, network, allow_unsandboxed=options.allow_unsandboxed)
        yield MindsporeSession(worker, inputs, network)

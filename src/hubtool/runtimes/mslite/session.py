"""MindSpore Lite as a `Runtime`: a fresh worker process per asset (untrusted files)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .. import installed
from ..protocol import OpenOptions
from .client import MsliteWorker

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made


class MsliteSession:
    def __init__(self, worker: MsliteWorker) -> None:
        self.worker = worker
        self._shapes = [t.shape for t in worker.inputs()]

    def input_shapes(self) -> list[tuple[int, ...]]:
        return self._shapes

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self.worker.predict(arrays)

    def ran(self) -> str:
        return f"MindSpore Lite {self.worker.hello.get('mindspore_lite')} (a worker process of its own)"


class MsliteRuntime:
    name = "mindspore-lite"

    def open(self, path: Path, file_format: str, options: OpenOptions) -> AbstractContextManager[MsliteSession]:
        return _session(path, file_format, options)

    def identity(self) -> str | None:
        return installed.identity("mindspore-lite")


@contextmanager
def _session(path: Path, file_format: str, options: OpenOptions) -> Iterator[MsliteSession]:
    with MsliteWorker(timeout=options.timeout) as worker:
        worker.load(path, model_type="MINDIR_LITE" if file_format == "mslite" else "MINDIR")
        yield MsliteSession(worker)

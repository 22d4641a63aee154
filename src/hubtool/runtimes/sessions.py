"""Open a model asset in its runtime as a golden-inference Session.

MindSpore Lite runs in a fresh worker process per asset (untrusted files);
ONNX Runtime, when installed (an optional extra), runs in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import RuntimeUnavailable
from .mslite import MsliteWorker


class MsliteSession:
    def __init__(self, worker: MsliteWorker) -> None:
        self.worker = worker
        self._shapes = [t.shape for t in worker.inputs()]

    def input_shapes(self) -> list[tuple[int, ...]]:
        return self._shapes

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self.worker.predict(arrays)


class OnnxSession:
    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise RuntimeUnavailable("runtime unavailable: onnxruntime is not installed",
                                     hint="pip install onnxruntime (hubtool's `onnx` extra)") from exc
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self._inputs = self.session.get_inputs()

    def input_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(d if isinstance(d, int) else 1 for d in i.shape) for i in self._inputs]

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        feed = {i.name: a for i, a in zip(self._inputs, arrays, strict=True)}
        return [np.asarray(o) for o in self.session.run(None, feed)]


@contextmanager
def open_session(path: Path, file_format: str, *, timeout: float = 120.0) -> Iterator[MsliteSession | OnnxSession]:
    """A session on `path`, closed (worker shut down) on exit."""
    if file_format in ("mslite", "mindir"):
        with MsliteWorker(timeout=timeout) as worker:
            worker.load(path, model_type="MINDIR_LITE" if file_format == "mslite" else "MINDIR")
            yield MsliteSession(worker)
    elif file_format == "onnx":
        yield OnnxSession(path)
    else:
        raise RuntimeUnavailable(f"no runtime runs '{file_format}' assets")

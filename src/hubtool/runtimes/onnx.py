"""ONNX Runtime as a `Runtime`, in-process (the optional `onnx` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RuntimeUnavailable
from .protocol import OpenOptions

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made


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
        import numpy as np

        feed = {i.name: a for i, a in zip(self._inputs, arrays, strict=True)}
        return [np.asarray(o) for o in self.session.run(None, feed)]

    def ran(self) -> str:
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__} (in hubtool's process)"


class OnnxRuntime:
    name = "onnxruntime"

    def open(self, path: Path, file_format: str, options: OpenOptions) -> AbstractContextManager[OnnxSession]:
        return _session(path)

    def identity(self) -> str | None:
        try:
            import onnxruntime
        except ImportError:
            return None
        return str(onnxruntime.__version__)


@contextmanager
def _session(path: Path) -> Iterator[OnnxSession]:
    yield OnnxSession(path)

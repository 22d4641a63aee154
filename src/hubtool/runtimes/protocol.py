"""The seam between golden inference and any runtime: a `Runtime` opens a model as a `Session`."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np


class Session(Protocol):
    """A loaded model: what golden inference needs from any runtime."""

    def input_shapes(self) -> list[tuple[int, ...]]:
        """The shape of each input, in order (dynamic dimensions reported as 1)."""

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """The outputs for one set of inputs (owned arrays, not views into the runtime)."""


class Runtime(Protocol):
    name: str

    def open(self, path: Path, file_format: str, *, timeout: float) -> AbstractContextManager[Session]:
        """The model at `path` loaded and ready; closed (worker stopped) when the context ends.

        Raises RuntimeUnavailable when the runtime is not installed, WorkerError when it fails on the model.
        """

    def identity(self) -> str | None:
        """The installed runtime's version, None when it is not installed."""

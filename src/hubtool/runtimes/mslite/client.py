"""The MindSpore Lite worker's client: runtimes/process.py's WorkerProcess with Lite's recipe and `load`."""

from __future__ import annotations

from pathlib import Path

from ...durable import JSONObject
from ..process import STARTED, TensorInfo, WorkerProcess
from .env import RuntimeEnv, require_env
from .spawn import DEFAULT_RLIMIT_AS, recipe


class MsliteWorker(WorkerProcess):
    """A worker process in the MindSpore Lite env. Use as a context manager."""

    def __init__(self, env: RuntimeEnv | None = None, *, rlimit_as: int = DEFAULT_RLIMIT_AS,
                 timeout: float = 120.0, log_dir: Path | None = None) -> None:
        self.env = env or require_env()
        super().__init__(recipe(self.env.python, rlimit_as, log_dir), timeout=timeout)

    def load(self, path: Path, *, model_type: str = "MINDIR_LITE", threads: int = 1) -> JSONObject:
        header, _ = self.request("load", {"path": str(Path(path).resolve()), "model_type": model_type,
                                          "threads": threads})
        return header


__all__ = ["STARTED", "MsliteWorker", "TensorInfo"]

"""Client of a runtime's worker process (MindSpore Lite, MindSpore): spawn, talk, detect crashes and hangs, kill.

One worker per untrusted asset: a corrupted model can SIGSEGV, hang or eat
memory inside the worker, never inside hubtool.  Every request has a deadline;
past it the worker's whole process group is killed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from ..durable import JSON, JSONObject
from ..errors import ModelError, WorkerCrashed, WorkerHung
from .spawn import Recipe, Spawned, kill_group, release, start

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made

_W = TypeVar("_W", bound="WorkerProcess")

#: workers started by this process (reports prove that a re-run spawned none)
STARTED = {"workers": 0}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass
class WorkerStats:
    spawn_seconds: float = 0.0
    requests: int = 0
    request_seconds: float = 0.0
    predict_seconds: float = 0.0  # inside the runtime, as the worker measured it
    op_seconds: dict[str, float] = field(default_factory=dict)  # round trips, per operation
    op_counts: dict[str, int] = field(default_factory=dict)


def _list(value: JSON) -> list[JSON]:
    return value if isinstance(value, list) else []


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class WorkerProcess:
    """A worker process in a runtime's env, started by `recipe`. Use as a context manager."""

    def __init__(self, recipe: Recipe, *, timeout: float = 120.0) -> None:
        self.recipe = recipe
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._spawned: Spawned | None = None
        self.stats = WorkerStats()
        self._next_id = 0
        self.hello: JSONObject = {}

    # --- lifecycle ------------------------------------------------------------------
    def start(self: _W) -> _W:
        began = time.perf_counter()
        STARTED["workers"] += 1
        # a spare started ahead (spawn.prespawn) has been importing the runtime meanwhile
        self._spawned = start(self.recipe)
        self.proc, self.log_path = self._spawned.proc, self._spawned.log_path
        self.hello = self.request("hello")[0]
        self.stats.spawn_seconds = time.perf_counter() - began
        return self

    def __enter__(self: _W) -> _W:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """End the worker: its process group is killed.

        It has nothing to save (every request was answered, its scratch folder goes with it), and
        asking it to stop cost the wait for its runtime's teardown and then for `wait`'s polling
        to notice: 60-70 ms after MindSpore Lite's last prediction."""
        if self._spawned is not None:
            release(self._spawned)
        self.proc = self._spawned = None

    def kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)

    # --- operations -------------------------------------------------------------------
    def inputs(self) -> list[TensorInfo]:
        header, _ = self.request("inputs")
        listed = header.get("inputs")
        return [TensorInfo(str(t["name"]), tuple(d for d in _list(t["shape"]) if isinstance(d, int)), str(t["dtype"]))
                for t in _list(listed) if isinstance(t, dict)]

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        header, outputs = self.request("predict", arrays=arrays)
        seconds = header.get("seconds", 0.0)
        self.stats.predict_seconds += float(seconds) if isinstance(seconds, (int, float)) else 0.0
        return outputs

    # --- protocol ---------------------------------------------------------------------
    def request(self, op: str, fields: JSONObject | None = None, *, arrays: list[np.ndarray] | None = None
                ) -> tuple[JSONObject, list[np.ndarray]]:
        """One request and its reply; a failure the worker reports comes back as ModelError."""
        if self.proc is None:
            raise WorkerCrashed("the worker is not running")
        self._next_id += 1
        start = time.perf_counter()
        try:
            self._send(dict(fields or {}, op=op, id=self._next_id), arrays or [])
        except (BrokenPipeError, OSError) as exc:
            raise self._crashed(f"the worker died before the {op} request: {exc}") from exc
        reply, outputs = self._receive(op, time.monotonic() + self.timeout)
        elapsed = time.perf_counter() - start
        self.stats.requests += 1
        self.stats.request_seconds += elapsed
        self.stats.op_seconds[op] = self.stats.op_seconds.get(op, 0.0) + elapsed
        self.stats.op_counts[op] = self.stats.op_counts.get(op, 0) + 1
        if not reply.get("ok"):
            error = reply.get("error")
            error = error if isinstance(error, dict) else {}
            native = [str(line) for line in _list(error.get("native"))]
            detail = f"; native log: {' | '.join(native)}" if native else ""
            raise ModelError(f"{op} failed: {error.get('type')}: {error.get('message')}{detail}",
                             native=native, error_type=str(error.get("type") or ""),
                             details=error.get("details"))
        return reply, outputs

    def _send(self, header: JSONObject, arrays: list[np.ndarray]) -> None:
        import numpy as np

        assert self.proc is not None and self.proc.stdin is not None
        specs: list[JSON] = []
        payload = []
        for i, array in enumerate(arrays):
            little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
            specs.append({"name": str(i), "dtype": str(array.dtype), "shape": list(array.shape),
                          "nbytes": little.nbytes})
            payload.append(little.tobytes())
        body = json.dumps(dict(header, tensors=specs)).encode()
        self.proc.stdin.write(struct.pack(">I", len(body)) + body + b"".join(payload))
        self.proc.stdin.flush()

    def _read(self, n: int, deadline: float, op: str) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        left = n
        while left:
            wait = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(wait, 0))[0] if wait > 0 else []
            if not ready:
                self.kill()
                raise WorkerHung(f"the worker did not answer the {op} request within {self.timeout:.0f} s; "
                                 "it was killed", log_tail=self._log_tail())
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise self._crashed(f"the worker died during the {op} request")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _receive(self, op: str, deadline: float) -> tuple[JSONObject, list[np.ndarray]]:
        import numpy as np

        (length,) = struct.unpack(">I", self._read(4, deadline, op))
        # our own worker's header: its shape is the protocol's, so it is read untyped
        header = json.loads(self._read(length, deadline, op))
        arrays = []
        for spec in header.get("tensors", []):
            data = self._read(int(spec["nbytes"]), deadline, op) if spec["nbytes"] else b""
            dtype = np.dtype(spec["dtype"]).newbyteorder("<")
            arrays.append(np.frombuffer(data, dtype=dtype).reshape(spec["shape"]).astype(spec["dtype"]))
        return header, arrays

    def _crashed(self, message: str) -> WorkerCrashed:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
                code = self.proc.returncode
        how = f"killed by {_signal_name(code)}" if code is not None and code < 0 else f"exit status {code}"
        tail = self._log_tail()
        return WorkerCrashed(f"{message} ({how})" + (f"; log: {tail}" if tail else ""), log_tail=tail)

    def _log_tail(self, lines: int = 8) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_bytes()[-8192:].decode("utf-8", "replace")
        return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())

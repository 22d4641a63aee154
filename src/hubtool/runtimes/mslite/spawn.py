"""Starting a worker process, and starting one ahead of time (a spare).

The worker's start is its Python 3.7 interpreter importing mindspore_lite and numpy: ~0.3 s
that hubtool used to wait through after its own imports.  `hubtool golden` starts a spare
first thing, so the two overlap; the first asset's worker adopts it.  A spare has run
nothing but its imports, so every asset still gets a fresh process of its own.  Light on
purpose (no numpy): it is imported before hubtool's heavy modules.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .env import RuntimeEnv, installed_env

WORKER = Path(__file__).with_name("worker.py")
DEFAULT_RLIMIT_AS = 2 * 1024**3


@dataclass
class Spawned:
    proc: subprocess.Popen[bytes]
    log_path: Path
    key: tuple[str, int, str]  # what the worker was started with: (python, RLIMIT_AS, log folder)


def _key(env: RuntimeEnv, rlimit_as: int, log_dir: Path | None) -> tuple[str, int, str]:
    return str(env.python), rlimit_as, str(log_dir or tempfile.gettempdir())


def spawn(env: RuntimeEnv, rlimit_as: int, log_dir: Path | None) -> Spawned:
    """A new worker process: own session (process group), stderr to its log, a minimal environment."""
    key = _key(env, rlimit_as, log_dir)
    fd, name = tempfile.mkstemp(prefix="hubtool-mslite-", suffix=".log", dir=key[2])
    worker_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
                  "LANG": "C.UTF-8", "GLOG_v": "3", "GLOG_logtostderr": "1", "OMP_NUM_THREADS": "1",
                  "HUBTOOL_WORKER_LOG": name, "HUBTOOL_WORKER_RLIMIT_AS": str(rlimit_as),
                  "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.Popen([str(env.python), "-s", "-B", str(WORKER)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=fd, env=worker_env, start_new_session=True)
    finally:
        os.close(fd)
    return Spawned(proc, Path(name), key)


_SPARES: list[Spawned] = []
_LOCK = threading.Lock()
_STATE = {"replenish": False, "registered": False}


def prespawn(*, replenish: bool = False, rlimit_as: int = DEFAULT_RLIMIT_AS) -> bool:
    """Start a spare worker now if the runtime is installed (False when it is not).

    With `replenish`, each adopted spare is replaced at once, so that the next asset's
    worker starts while this one runs (a run over many cards).  Spares left at exit are killed.
    """
    env = installed_env()
    if env is None:
        return False
    with _LOCK:
        _STATE["replenish"] = replenish
        if not _STATE["registered"]:
            atexit.register(discard_spares)
            _STATE["registered"] = True
    try:
        spare = spawn(env, rlimit_as, None)
    except OSError:
        return False  # the worker's own start will say what is wrong
    with _LOCK:
        _SPARES.append(spare)
    return True


def spares() -> int:
    """How many spares are waiting."""
    with _LOCK:
        return len(_SPARES)


def take_spare(env: RuntimeEnv, rlimit_as: int, log_dir: Path | None) -> Spawned | None:
    """A live spare started as this worker would be, or None."""
    key = _key(env, rlimit_as, log_dir)
    with _LOCK:
        found = next((s for s in _SPARES if s.key == key and s.proc.poll() is None), None)
        if found is not None:
            _SPARES.remove(found)
        replenish = found is not None and _STATE["replenish"]
    if replenish:
        try:
            spare = spawn(env, rlimit_as, log_dir)
        except OSError:
            return found
        with _LOCK:
            _SPARES.append(spare)
    return found


def discard_spares() -> None:
    """Kill every spare nobody adopted, and remove its log."""
    with _LOCK:
        spares, _SPARES[:] = list(_SPARES), []
        _STATE["replenish"] = False
    for spare in spares:
        release(spare.proc, spare.log_path)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's whole process group (its own session) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def release(proc: subprocess.Popen[bytes], log_path: Path | None) -> None:
    """The end of every worker, adopted or spare: killed if still running, pipes closed, log removed."""
    kill_group(proc)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    if log_path is not None:
        log_path.unlink(missing_ok=True)

"""Starting a runtime's worker process, and starting one ahead of time (a spare).

A worker's start is its interpreter importing the runtime (~0.3 s for MindSpore Lite, ~1.5 s for
MindSpore) that hubtool would otherwise wait through after its own imports.  `hubtool golden`
starts a spare first thing, so the two overlap; the first asset's worker adopts it.  A spare has
run nothing but its imports, so every asset still gets a fresh process of its own.  Light on
purpose: it is imported before anything else (no numpy, and not even tempfile or dataclasses,
~25 ms between them that the spare's start would wait for); subprocess is imported where a worker
starts, as a replay imports this module with the runtimes' specs and starts none.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

_LOCK = threading.Lock()


class Recipe(NamedTuple):
    """How a worker is started; a spare is adopted only by a worker that would be started the same way."""

    runtime: str  # names its log and scratch folder
    python: str
    script: str
    rlimit_as: int
    log_dir: str


class Spawned(NamedTuple):
    proc: subprocess.Popen[bytes]
    log_path: Path
    scratch: Path  # the worker's current folder and TMPDIR, removed with it
    recipe: Recipe


def temp_dir() -> str:
    """Where workers' logs and scratch folders go unless told: $TMPDIR (or $TEMP, $TMP), else /tmp, which is
    where tempfile.gettempdir() looks first on POSIX (its later fallbacks, cwd among them, are left out)."""
    return next((os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.environ.get(name)), "/tmp")


def _private_file(folder: str, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file only this user may read (what tempfile.mkstemp makes, without importing tempfile)."""
    while True:
        name = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), name
        except FileExistsError:
            continue  # 48 random bits taken already: draw again, as mkstemp does


def _private_dir(folder: str, prefix: str) -> str:
    """A new folder only this user may enter (tempfile.mkdtemp's)."""
    while True:
        name = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}")
        try:
            os.mkdir(name, 0o700)
            return name
        except FileExistsError:
            continue


_SPAWNER: list[ThreadPoolExecutor] = []  # one thread, for the life of the process (see spawn)


def spawn(recipe: Recipe) -> Spawned:
    """A new worker process: own session (process group), stderr to its log, a minimal environment.

    Workers die with hubtool (PR_SET_PDEATHSIG, set by the worker), which Linux ties to the thread
    that started them: a worker started from a pool thread would be killed when that thread ends, so
    workers are started from the main thread, or for other threads from one that lives as long."""
    if threading.current_thread() is threading.main_thread():
        return _spawn(recipe)
    from concurrent.futures import ThreadPoolExecutor  # not at import: `golden` imports this first thing

    with _LOCK:
        if not _SPAWNER:
            _SPAWNER.append(ThreadPoolExecutor(1, thread_name_prefix="hubtool-spawner"))
        spawner = _SPAWNER[0]
    return spawner.submit(_spawn, recipe).result()


def _spawn(recipe: Recipe) -> Spawned:
    import subprocess  # not at import: see the module's doc

    fd, name = _private_file(recipe.log_dir, f"hubtool-{recipe.runtime}-", ".log")
    try:
        scratch = _private_dir(recipe.log_dir, f"hubtool-{recipe.runtime}-scratch-")
    except OSError:
        os.close(fd)
        os.unlink(name)
        raise
    worker_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
                  "LANG": "C.UTF-8", "GLOG_v": "3", "GLOG_logtostderr": "1", "OMP_NUM_THREADS": "1",
                  "HUBTOOL_WORKER_LOG": name, "HUBTOOL_WORKER_RLIMIT_AS": str(recipe.rlimit_as),
                  "HUBTOOL_WORKER_SCRATCH": scratch, "TMPDIR": scratch, "PYTHONDONTWRITEBYTECODE": "1",
                  "HUBTOOL_PARENT_PID": str(os.getpid())}
    try:
        proc = subprocess.Popen([recipe.python, "-s", "-B", recipe.script], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=fd, env=worker_env, start_new_session=True)
    except OSError:
        os.rmdir(scratch)  # nothing ran in it yet
        Path(name).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return Spawned(proc, Path(name), Path(scratch), recipe)


_SPARES: list[Spawned] = []
_STATE = {"registered": False}
_REPLENISH: set[Recipe] = set()


def prespawn(recipe: Recipe, *, replenish: bool = False) -> bool:
    """Start a spare worker now (False when it cannot be started).

    With `replenish`, each adopted spare of this recipe is replaced at once, so that the next
    asset's worker starts while this one runs (a run over many cards).  Spares left at exit are killed.
    """
    if replenish:
        keep_ready(recipe, True)
    _register()
    try:
        spare = spawn(recipe)
    except OSError:
        return False  # the worker's own start will say what is wrong
    with _LOCK:
        _SPARES.append(spare)
    return True


def _register() -> None:
    with _LOCK:
        if not _STATE["registered"]:
            atexit.register(discard_spares)
            _STATE["registered"] = True


def keep_ready(recipe: Recipe, wanted: bool) -> None:
    """While `wanted`, every worker of this recipe that starts (a spare adopted or not) starts the next spare."""
    _register()
    with _LOCK:
        if wanted:
            _REPLENISH.add(recipe)
        else:
            _REPLENISH.discard(recipe)


def spares() -> int:
    """How many spares are waiting."""
    with _LOCK:
        return len(_SPARES)


def take_spare(recipe: Recipe) -> Spawned | None:
    """A live spare started as this worker would be, or None."""
    with _LOCK:
        found = next((s for s in _SPARES if s.recipe == recipe and s.proc.poll() is None), None)
        if found is not None:
            _SPARES.remove(found)
        replenish = recipe in _REPLENISH
    if replenish:
        try:
            spare = spawn(recipe)
        except OSError:
            return found
        with _LOCK:
            _SPARES.append(spare)
    return found


def start(recipe: Recipe) -> Spawned:
    """A worker for one asset: an adopted spare, else a new process."""
    return take_spare(recipe) or spawn(recipe)


def discard_spares() -> None:
    """Kill every spare nobody adopted, and remove its files."""
    with _LOCK:
        spares, _SPARES[:] = list(_SPARES), []
        _REPLENISH.clear()
    for spare in spares:
        release(spare)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's whole process group (its own session) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def release(spawned: Spawned) -> None:
    """The end of every worker, adopted or spare: killed if still running, pipes closed, files removed."""
    import shutil  # not at import (see the module's doc): a worker is released after its work

    proc = spawned.proc
    kill_group(proc)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    spawned.log_path.unlink(missing_ok=True)
    shutil.rmtree(spawned.scratch, ignore_errors=True)

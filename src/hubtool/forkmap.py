"""A list of work items done at once: the first in this process, each other one in a forked child.

A whole-hub `hubtool check` spreads its cards over the CPUs.  It did so with a ProcessPoolExecutor,
and importing multiprocessing and concurrent.futures, then starting and shutting down the pool,
cost ~24 ms of a 0.49 s check of 2,970 real cards (the size of MindSpore Hub), in the part of
the run no CPU shares.  The work needs none of a pool's machinery (one item per child, no
queue, no reuse), so it is a fork and a pipe per child: the child pickles its result (or its
exception) into the pipe and ends with `os._exit`, which runs no exit handler and flushes
none of this process's buffers.

Ctrl-C reaches the children as well (one process group).  A child ends on it without a word,
and this process says it once.  A child that ends without its result (killed, out of memory)
raises `errors.WorkerLost` here, which the command says as it says every failure.  Every child
is reaped before `forked_map` returns or raises; one still at work then is killed first.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from .errors import WorkerLost

Item = TypeVar("Item")
Result = TypeVar("Result")


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(signal, "pthread_sigmask")


def forked_map(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """`[work(item) for item in items]`, the first item's in this process while a forked child does each
    other one's.  A child's exception is raised here, as the first of them in `items`' order."""
    if not items:
        return []
    children: list[_Child[Result]] = []
    try:
        for item in items[1:]:
            _fork(work, item, children)  # one by one: a fork that fails leaves the others to be reaped
        first = work(items[0])
        return [first, *(child.result() for child in children)]
    finally:
        for child in children:
            child.stop()


def _fork(work: Callable[[Item], Result], item: Item, children: list[_Child[Result]]) -> None:
    """A child doing `work(item)`, added to `children`.  Ctrl-C is held off across the fork: in the child until
    it has its own way of ending on it, here until the child is in `children` (where `stop` finds it)."""
    read, write = os.pipe()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            raise
        if pid == 0:
            _run_child(work, item, read, write, held)  # never returns
        children.append(_Child(pid, read))
    finally:
        os.close(write)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _Child(Generic[Result]):
    """One forked child: its pid, and the read end of the pipe its result comes through."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid: int | None = pid  # None once reaped
        self.pipe: int | None = pipe  # None once closed

    def result(self) -> Result:
        assert self.pipe is not None and self.pid is not None
        chunks = []
        while chunk := os.read(self.pipe, 1 << 20):  # to EOF: the child has written everything and ended, or died
            chunks.append(chunk)
        data = b"".join(chunks)
        os.close(self.pipe)
        self.pipe = None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if not data or status != 0:
            raise WorkerLost(f"a worker process ended without its result ({_ended(status)})",
                             hint="the machine may be short of memory; run it again")
        try:
            ok, value = pickle.loads(data)  # noqa: S301 - from this process's own fork, through its own pipe
        except Exception as exc:  # an exception that pickled there and does not unpickle here
            raise RuntimeError(f"a worker's result cannot be read back: {type(exc).__name__}: {exc}") from exc
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]  # what `work` returned, pickled

    def stop(self) -> None:
        """Kill and reap the child if it is still there (an exception or Ctrl-C in this process, which may have
        come just after `result` closed the pipe or reaped the child, before it said so)."""
        if self.pipe is not None:
            try:
                os.close(self.pipe)
            except OSError:  # closed already
                pass
            self.pipe = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):  # reaped already
                pass
            self.pid = None


def _run_child(work: Callable[[Item], object], item: Item, read: int, write: int, mask: Iterable[int]) -> None:
    """The child's whole life: do the work, hand the result (or the exception) back, end."""
    status = 1
    try:
        os.close(read)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent says so; this one just ends
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            result = work(item)
        except Exception as exc:  # raised in the parent, as a pool would
            payload = _pickled_failure(exc)
        else:
            try:
                payload = pickle.dumps((True, result), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                payload = _pickled_failure(RuntimeError(f"the result does not pickle: {type(exc).__name__}: {exc}"))
        with open(write, "wb", closefd=True) as out:
            out.write(payload)
        status = 0
    finally:
        os._exit(status)


def _pickled_failure(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its type and message
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")), protocol=pickle.HIGHEST_PROTOCOL)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"

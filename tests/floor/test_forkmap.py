"""forkmap: work items done in forked children, results in order, failures raised here, no child left behind.

Real forks, real signals: a child that raises, one whose exception or result does not pickle, one
killed, one that exits; this process failing while its children still work; Ctrl-C to the whole
process group; output this process had buffered, which a child must not write out again.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hubtool.errors import WorkerLost
from hubtool.forkmap import forked_map

SRC = Path(__file__).resolve().parents[2] / "src"


def note_pid(folder: Path, n: int) -> None:
    """`n.pid`, holding this process's pid, whole or not at all (a child may be killed as it writes)."""
    (folder / f"{n}.tmp").write_text(str(os.getpid()))
    (folder / f"{n}.tmp").rename(folder / f"{n}.pid")


def gone(pid: int) -> bool:
    """Reaped (a zombie still has its /proc entry)."""
    return not Path(f"/proc/{pid}").exists()


def test_results_in_order_the_first_here_each_other_in_a_child_of_its_own() -> None:
    results = forked_map(lambda n: (n * n, os.getpid()), list(range(5)))
    assert [square for square, _ in results] == [0, 1, 4, 9, 16]
    pids = [pid for _, pid in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 5
    assert all(gone(pid) for pid in pids[1:])
    assert forked_map(lambda n: n, []) == [] and forked_map(lambda n: n + 1, [1]) == [2]


def test_a_result_larger_than_a_pipe_holds_comes_back_whole() -> None:
    big = forked_map(lambda n: os.urandom(8) * (n * 1024 * 1024 // 8), [0, 3, 5])
    assert [len(b) for b in big] == [0, 3 * 1024 * 1024, 5 * 1024 * 1024]


def test_a_childs_exception_is_raised_here_the_first_in_order(tmp_path: Path) -> None:
    def work(n: int) -> int:
        note_pid(tmp_path, n)
        if n >= 2:
            raise ValueError(f"card {n} is broken")
        return n

    with pytest.raises(ValueError, match="card 2 is broken"):
        forked_map(work, [0, 1, 2, 3])
    pids = [int(p.read_text()) for p in tmp_path.glob("*.pid") if p.stem != "0"]  # 0: this process
    # (child 3 may be killed before it writes its own)
    assert {1, 2} <= {int(p.stem) for p in tmp_path.glob("*.pid")} and all(gone(pid) for pid in pids)


def raising_in_children(exc: Exception) -> Callable[[int], int]:
    """Work that raises `exc` for every item but the first (the one this process does)."""
    def work(n: int) -> int:
        if n:
            raise exc
        return 0

    return work


class Unpicklable(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise pickle.PicklingError("not this one")


def test_what_does_not_pickle_is_said_by_its_type_and_message() -> None:
    with pytest.raises(RuntimeError, match="Unpicklable: a lock in it"):
        forked_map(raising_in_children(Unpicklable("a lock in it")), [0, 1])
    with pytest.raises(RuntimeError, match="the result does not pickle"):
        forked_map(lambda n: (lambda: n) if n else n, [0, 1])  # a result that does not pickle


def _refuse() -> None:
    raise ValueError("not here")


class Unreadable(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        return (_refuse, ())  # pickles; unpickling it raises


def test_an_exception_that_does_not_unpickle_here_is_said() -> None:
    with pytest.raises(RuntimeError, match="cannot be read back: ValueError: not here"):
        forked_map(raising_in_children(Unreadable("x")), [0, 1])


def test_a_child_killed_or_exiting_without_its_result_is_worker_lost() -> None:
    def killed(n: int) -> int:
        if n:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    with pytest.raises(WorkerLost, match="killed by signal 9"):
        forked_map(killed, [0, 1])

    def exits(n: int) -> int:
        if n:
            sys.exit(3)
        return n

    with pytest.raises(WorkerLost, match="exit status 1"):
        forked_map(exits, [0, 1])


def test_a_failure_here_kills_and_reaps_the_children_still_at_work(tmp_path: Path) -> None:
    def work(n: int) -> int:
        if n == 0:
            while len(list(tmp_path.glob("*.pid"))) < 3:  # every child has started
                time.sleep(0.01)
            raise KeyError("this process failed")
        note_pid(tmp_path, n)
        signal.pause()  # until killed: forked_map can only return by killing it (else this test hangs)
        return n

    with pytest.raises(KeyError):
        forked_map(work, [0, 1, 2, 3])
    assert all(gone(int(p.read_text())) for p in tmp_path.glob("*.pid"))


SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from hubtool.forkmap import forked_map
    ready = Path(sys.argv[1])
    sys.stdout.write("buffered once\\n")  # a pipe: block-buffered, not flushed before the forks
    def work(n):
        (ready / f"{n}.tmp").write_text(str(os.getpid()))
        (ready / f"{n}.tmp").rename(ready / f"{n}.pid")
        if sys.argv[2] == "interrupt":
            time.sleep(60)  # every process of the group, when Ctrl-C comes
        return n
    print(forked_map(work, [0, 1, 2]))
""")


def run_script(script: str, *args: str) -> subprocess.Popen[str]:
    """`script` in a process group of its own (as a terminal's foreground job), with this checkout's hubtool."""
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(SRC)})


def test_a_child_does_not_write_out_what_this_process_had_buffered(tmp_path: Path) -> None:
    out, err = run_script(SCRIPT, str(tmp_path), "plain").communicate(timeout=60)
    assert (out, err) == ("buffered once\n[0, 1, 2]\n", "")


def test_ctrl_c_to_the_process_group_is_said_once_and_leaves_no_child(tmp_path: Path) -> None:
    proc = run_script(SCRIPT, str(tmp_path), "interrupt")
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("*.pid"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process of the group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and out == "buffered once\n"  # flushed as the parent ends, by it alone
    assert err.count("KeyboardInterrupt") == 1  # the parent's; the children end without a word
    assert all(gone(int(p.read_text())) for p in tmp_path.glob("*.pid"))


STORM = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from hubtool.forkmap import forked_map
    ready = Path(sys.argv[1])
    def work(n):
        (ready / f"{os.getpid()}.pid").write_text("")
        return sum(range(20000 * (n + 1)))
    (ready / "started").write_text("")
    while True:  # until Ctrl-C: it lands while forking, working or reading results back
        forked_map(work, list(range(6)))
""")


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.01, 0.03, 0.1])
def test_ctrl_c_at_any_moment_leaves_no_child_and_is_said_once(tmp_path: Path, delay: float) -> None:
    proc = run_script(STORM, str(tmp_path))
    while not (tmp_path / "started").exists() and proc.poll() is None:
        time.sleep(0.001)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and err.count("KeyboardInterrupt") == 1, err
    pids = [int(p.stem) for p in tmp_path.glob("*.pid") if int(p.stem) != proc.pid]
    left = {pid: Path(f"/proc/{pid}/status").read_text().split("\n")[:8] for pid in pids if not gone(pid)}
    assert not left  # (no pid at all when Ctrl-C comes before the first fork)

"""A worker started ahead of time (runtimes/spawn.py): adopted once, replaced, never left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO, mindspore_env, runtime_env
from hubtool.runtimes import spawn
from hubtool.runtimes.mslite import spawn as mslite_spawn
from hubtool.runtimes.mslite.client import STARTED, MsliteWorker

CANARY = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too (reaped by the parent later): read its state
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.fixture(autouse=True)
def no_spares_left() -> None:
    runtime_env()  # the real runtime, or the test fails saying how to install it
    yield
    spawn.discard_spares()


def test_the_spare_starts_before_anything_heavy_is_imported(tmp_path: Path) -> None:
    """`hubtool golden` starts its spare first thing (cli.main): by then it has imported only the
    standard library's light modules, and the spare is the interpreter env.installed_env() names."""
    probe = ("import sys\n"
             "from hubtool.runtimes.mslite import spawn\n"
             "python = spawn.installed_python()\n"
             "print(' '.join(sorted(sys.modules)))\n"
             "from hubtool.runtimes.mslite.env import installed_env\n"
             "print(python == installed_env().python)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    loaded, same = done.stdout.splitlines()
    heavy = {"numpy", "tempfile", "dataclasses", "json", "shutil", "importlib.resources", "concurrent.futures",
             "hubtool.runtimes.managed", "hubtool.runtimes.mslite.env", "hubtool.durable", "hubtool.errors"}
    assert heavy.isdisjoint(loaded.split()), heavy.intersection(loaded.split())
    assert same == "True"


def test_a_spare_log_and_scratch_are_private_and_new(tmp_path: Path) -> None:
    python = mslite_spawn.installed_python()
    assert python is not None
    spares = [spawn.spawn(mslite_spawn.recipe(python, log_dir=tmp_path)) for _ in range(3)]
    try:
        logs = {s.log_path for s in spares}
        scratches = {s.scratch for s in spares}
        assert len(logs) == len(scratches) == 3
        assert all(p.parent == tmp_path and p.name.startswith("hubtool-mslite-") for p in logs | scratches)
        assert {oct(p.stat().st_mode & 0o777) for p in logs} == {"0o600"}
        assert {oct(p.stat().st_mode & 0o777) for p in scratches} == {"0o700"}
    finally:
        for spare in spares:
            spawn.release(spare)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError):  # a folder that is not there: an error, and nothing left behind
        spawn.spawn(mslite_spawn.recipe(python, log_dir=tmp_path / "missing"))


def test_a_spare_is_adopted_once_and_each_asset_still_gets_a_fresh_process() -> None:
    assert mslite_spawn.prespawn()
    spare_pid = spawn._SPARES[0].proc.pid
    before = STARTED["workers"]
    with MsliteWorker(runtime_env(), timeout=60) as first:
        assert first.proc is not None and first.proc.pid == spare_pid  # the spare, not a new process
        first.load(CANARY)
        assert first.hello["pid"] == spare_pid
    assert not alive(spare_pid)
    with MsliteWorker(runtime_env(), timeout=60) as second:  # no spare left: a process of its own
        assert second.proc is not None and second.proc.pid != spare_pid
    assert STARTED["workers"] == before + 2


def test_replenish_starts_the_next_workers_while_one_runs() -> None:
    assert mslite_spawn.prespawn(replenish=True)
    pids = set()
    for _ in range(3):
        with MsliteWorker(runtime_env(), timeout=60) as worker:
            assert worker.proc is not None
            pids.add(worker.proc.pid)
            assert spawn.spares() == 1  # the next one is already starting
    assert len(pids) == 3
    waiting = spawn._SPARES[0].proc.pid
    spawn.discard_spares()
    assert spawn.spares() == 0 and not alive(waiting)


def test_a_spare_started_otherwise_is_not_taken() -> None:
    assert mslite_spawn.prespawn()
    spare_pid = spawn._SPARES[0].proc.pid
    with MsliteWorker(runtime_env(), timeout=60, rlimit_as=3 * 1024**3) as other:  # another memory limit
        assert other.proc is not None and other.proc.pid != spare_pid
    assert spawn.spares() == 1


def test_a_dead_spare_is_skipped() -> None:
    assert mslite_spawn.prespawn()
    spawn._SPARES[0].proc.kill()
    spawn._SPARES[0].proc.wait()
    with MsliteWorker(runtime_env(), timeout=60) as worker:
        worker.load(CANARY)  # a worker of its own, which works
    assert spawn.spares() == 0 or all(s.proc.poll() is not None for s in spawn._SPARES)


# `hubtool golden` with spawn.spawn recording, per worker started: its runtime, its pid, and how many MindSpore
# workers started before it were still running then
RECORDING_MAIN = ("import os\n"
                  "from hubtool.runtimes import spawn\n"
                  "real, seen = spawn.spawn, []\n"
                  "def recorded(recipe):\n"
                  "    running = sum(os.path.exists(f'/proc/{p}') for p in seen)\n"
                  "    s = real(recipe)\n"
                  "    seen.append(s.proc.pid) if recipe.runtime == 'mindspore' else None\n"
                  "    open(os.environ['PIDS'], 'a').write(f'{recipe.runtime} {s.proc.pid} {running}\\n')\n"
                  "    return s\n"
                  "spawn.spawn = recorded\n"
                  "from hubtool.cli import main\nmain()")


def golden_recording(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """`hubtool golden ARGS` in a fresh process, and [runtime, pid, running] for every worker it started."""
    pids = tmp_path / "pids"
    env = {**os.environ, "PIDS": str(pids), "HUBTOOL_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", RECORDING_MAIN, "golden", "--store", str(tmp_path / "s"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return proc, [line.split() for line in pids.read_text().splitlines()] if pids.exists() else []


@pytest.mark.parametrize("card", ["cards/hubtool/cifar10-cnn-canary.md", "cards/noah-cvlab/plain-CNN-resnet50.md"])
def test_hubtool_golden_leaves_no_worker_behind(tmp_path: Path, card: str) -> None:
    """With a model to run (the spare is used, its replacement killed) and without one (the spare is killed)."""
    proc, started = golden_recording(tmp_path, "--offline", card)
    assert proc.returncode in (0, 1), proc.stderr
    assert started  # a spare was started before typer
    time.sleep(0.2)
    assert [p for _, p, _ in started if alive(int(p))] == []
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("cards, spawned", [
    (["cifar10-cnn-canary-mindir.md", "cifar10-cnn-canary-ckpt.md"], 2),  # the second started during the first
    (["cifar10-cnn-canary-mindir.md"], 1),  # a lone model starts no spare
])
def test_mindspore_workers_start_one_ahead_and_none_is_wasted(tmp_path: Path, cards: list[str], spawned: int) -> None:
    mindspore_env()
    proc, recorded = golden_recording(tmp_path, *[f"cards/hubtool/{c}" for c in cards])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    started = [r for r in recorded if r[0] == "mindspore"]
    assert len(started) == spawned
    assert [int(running) for _, _, running in started] == list(range(spawned))  # the second while the first ran
    time.sleep(0.2)
    assert [p for _, p, _ in started if alive(int(p))] == []


@pytest.mark.parametrize("copies, spawned", [
    (2, 2),  # the spare runs the first, and the second starts while it runs
    (1, 1),  # a lone .ms model adopts the spare and starts no other (it would take a core from the model)
])
def test_mslite_workers_start_one_ahead_and_none_is_wasted(tmp_path: Path, copies: int, spawned: int) -> None:
    hub = tmp_path / "hub-repo"
    shutil.copytree(REPO / "hub", hub / "hub", ignore=shutil.ignore_patterns("networks"))
    (hub / "cards").mkdir()
    for i in range(copies):
        shutil.copyfile(REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md", hub / "cards" / f"canary-{i}.md")
    proc, recorded = golden_recording(tmp_path, "--config", str(hub / "hub" / "hub.yaml"), str(hub / "cards"))
    assert "Traceback" not in proc.stderr
    assert proc.stdout.count("PASSED") == copies, proc.stdout + proc.stderr
    started = [r for r in recorded if r[0] == "mslite"]
    assert len(started) == spawned
    time.sleep(0.2)
    assert [p for _, p, _ in started if alive(int(p))] == []

"""`publish --executor dask://HOST:PORT` on a real Dask scheduler and worker processes (`dask scheduler`,
`dask worker`, on loopback): the published hub is what the local executor writes, byte for byte; runtime
steps run only on the worker that offers the runtime as a resource; a worker SIGKILLed mid-task has its
task run again, and the runtime worker it had started does not outlive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultserver import FaultServer
from test_publish import make_hub

from conftest import RUNTIME_DIR
from helpers import runtime_env

DASK = str(Path(sys.executable).parent / "dask")
RUNTIMES = "mindspore-lite=1,mindspore=1"


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen[bytes]]  # name -> its `dask worker` (the nanny) process
    homes: dict[str, Path]


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@contextmanager
def _cluster(tmp: Path, workers: dict[str, str | None]) -> Iterator[Cluster]:
    """A scheduler and one worker per name (offering these resources, and the runtimes only if it does)."""
    tmp.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    info = tmp / "scheduler.json"
    log = (tmp / "dask.log").open("ab")
    try:
        procs.append(subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(info)], cwd=tmp, stdout=log, stderr=log))
        _wait_for(info, 60)
        started, homes = {}, {}
        for name, resources in workers.items():
            home = homes[name] = tmp / f"home-{name}"
            home.mkdir()
            env = {**os.environ, "HUBTOOL_HOME": str(home),
                   "HUBTOOL_RUNTIME_DIR": RUNTIME_DIR if resources else str(tmp / "no-runtimes")}
            args = [DASK, "worker", "--scheduler-file", str(info), "--nworkers", "1", "--nthreads", "1",
                    "--no-dashboard", "--name", name, "--local-directory", str(tmp / f"scratch-{name}")]
            started[name] = subprocess.Popen(args + (["--resources", resources] if resources else []), cwd=tmp,
                                             env=env, stdout=log, stderr=log, start_new_session=True)
            procs.append(started[name])
        address = json.loads(info.read_text())["address"]
        _wait_for_workers(address, len(workers))
        yield Cluster(address, started, homes)
    finally:
        for proc in reversed(procs):  # killed, not asked: a nanny's graceful shutdown takes ~8 s
            if proc is procs[0]:
                proc.kill()  # the scheduler
                continue
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a nanny, its worker, and what the worker started
            except ProcessLookupError:
                pass
        for proc in procs:
            proc.wait(timeout=20)
        log.close()


def _wait_for_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=60)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with _cluster(tmp_path / "cluster", {"plain": None, "runtime": RUNTIMES}) as started:
        yield started


def _publish(root: Path, machine: str, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    report = root / f"report-{machine}.json"
    done = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "publish",
                           "--to", str(root / f"dist-{machine}" / "hub"), "--report", f"json:{report}",
                           "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"), *args],
                          capture_output=True, text=True, timeout=300, cwd=root)
    return done.returncode, json.loads(report.read_text()) if report.is_file() else {}, done.stdout + done.stderr


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _blobs(home: Path) -> set[str]:
    return {p.name for p in (home / "store").rglob("*") if p.is_file() and len(p.name) == 64}


def test_a_dask_cluster_publishes_what_the_local_executor_does(tmp_path: Path, server: FaultServer,
                                                               cluster: Cluster) -> None:
    runtime_env()
    root = make_hub(tmp_path / "hub-root", server)
    code, alone, out = _publish(root, "local")
    assert code == 1, out
    code, dask, out = _publish(root, "dask", "--executor", "dask://" + cluster.address.removeprefix("tcp://"))
    assert code == 1, out
    assert [(r["card"], r["published"], r["held-because"]) for r in dask["cards"]] == \
        [(r["card"], r["published"], r["held-because"]) for r in alone["cards"]]
    assert dask["counters"]["workers"] == 0 and dask["counters"]["requests"] == 0  # all of it on the cluster
    assert _tree(root / "dist-dask" / "hub") == _tree(root / "dist-local" / "hub")
    index = json.loads((root / "dist-dask" / "hub" / "index.json").read_text())
    ran = {a["sha256"] for c in index["cards"] if c["golden"]["status"] == "passed" for a in c["assets"]}
    assert ran and ran <= _blobs(cluster.homes["runtime"])  # the canary ran where the runtime is
    assert not ran & _blobs(cluster.homes["plain"])


def _runtime_children(root_pid: int) -> dict[int, int]:
    """{runtime worker pid: its parent} for hubtool's runtime workers below `root_pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found = {}
    for pid, parent in parents.items():
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"worker.py" not in cmdline or b"runtimes" not in cmdline:
            continue
        up = parent
        while up > 1 and up != root_pid:
            up = parents.get(up, 1)
        if up == root_pid:
            found[pid] = parent
    return found


def test_a_worker_killed_mid_task_has_its_task_run_again_and_leaves_no_runtime_worker(
        tmp_path: Path, server: FaultServer, cluster: Cluster) -> None:
    runtime_env()
    root = make_hub(tmp_path / "hub-root", server)
    _, alone, _ = _publish(root, "local")
    nanny = cluster.workers["runtime"].pid
    publish = subprocess.Popen([sys.executable, "-c", "from hubtool.cli import main; main()", "publish",
                                "--to", str(root / "dist-dask" / "hub"), "--report", f"json:{root / 'dask.json'}",
                                "--executor", "dask://" + cluster.address.removeprefix("tcp://"),
                                "--config", str(root / "hub" / "hub.yaml"), str(root / "cards")],
                               cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline, orphans = time.monotonic() + 120, {}
    while not orphans and publish.poll() is None and time.monotonic() < deadline:
        orphans = _runtime_children(nanny)
        time.sleep(0.02)
    assert orphans, "no runtime worker was seen below the runtime Dask worker"
    for parent in set(orphans.values()):
        os.kill(parent, signal.SIGKILL)  # the Dask worker process, mid-task (its nanny starts another)
    out, _ = publish.communicate(timeout=300)
    assert publish.returncode == 1, out
    dask = json.loads((root / "dask.json").read_text())
    assert [(r["card"], r["published"]) for r in dask["cards"]] == [(r["card"], r["published"]) for r in alone["cards"]]
    assert _tree(root / "dist-dask" / "hub") == _tree(root / "dist-local" / "hub")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in orphans):
        time.sleep(0.1)
    assert not [pid for pid in orphans if Path(f"/proc/{pid}").exists()], "a runtime worker outlived its parent"


def test_a_card_needing_a_runtime_no_worker_offers_fails_at_once(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    with _cluster(tmp_path / "cluster", {"plain": None}) as c:
        root = make_hub(tmp_path / "hub-root", server)
        code, doc, out = _publish(root, "dask", "--executor", "dask://" + c.address.removeprefix("tcp://"))
        canary = [r for r in doc["cards"] if r["card"].endswith("canary.md")][0]
        assert not canary["published"] and "offers the mindspore-lite resource" in canary["held-because"], out
    code, _, out = _publish(tmp_path / "hub-root", "nowhere", "--executor", "dask://127.0.0.1:9")
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in out, out

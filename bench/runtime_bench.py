"""Benchmark the MindSpore Lite worker on the canary against a bare Python 3.7 script.

In one run: the full golden path (spawn worker, load, 20 predicts, shutdown)
through hubtool's worker versus a bare script in the same runtime env that
imports mindspore_lite and does the same; per-predict protocol overhead versus
the in-worker predict time; worker spawn time and peak RSS.  Prints figures.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from hubtool.runtimes.mslite.client import MsliteWorker
from hubtool.runtimes.mslite.env import require_env

REPO = Path(__file__).resolve().parents[1]
CANARY = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"
IMAGES = sorted((REPO / "hub" / "golden" / "cifar10").glob("*.png"))
ROUNDS = 5

BARE = r"""
import sys, time, numpy as np, mindspore_lite as mslite
start = time.perf_counter()
batch = np.load(sys.argv[2])
context = mslite.Context(); context.target = ["cpu"]; context.cpu.thread_num = 1
model = mslite.Model(); model.build_from_file(sys.argv[1], mslite.ModelType.MINDIR_LITE, context)
inputs = model.get_inputs()
for image in batch:
    x = image[None].copy()
    inputs[0].set_data_from_numpy(x)
    out = model.predict(inputs)[0].get_data_to_numpy().copy()
"""


def images() -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in IMAGES])


def hubtool_path(batch: np.ndarray) -> tuple[float, MsliteWorker]:
    start = time.perf_counter()
    worker = MsliteWorker(require_env())
    with worker:
        worker.load(CANARY)
        for image in batch:
            worker.predict([image[None]])
    return time.perf_counter() - start, worker


def bare_path(npy: Path) -> float:
    env = require_env()
    start = time.perf_counter()
    subprocess.run([str(env.python), "-s", "-c", BARE, str(CANARY), str(npy)], check=True,
                   env={"GLOG_v": "3", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - start


def main() -> None:
    batch = images()
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "batch.npy"
        np.save(npy, batch)
        bare_path(npy)  # warm the page cache for both
        hub_times, bare_times, workers = [], [], []
        for _ in range(ROUNDS):
            seconds, worker = hubtool_path(batch)
            hub_times.append(seconds)
            workers.append(worker)
            bare_times.append(bare_path(npy))
    hub, bare = min(hub_times), min(bare_times)
    best = workers[hub_times.index(hub)]
    predicts = best.stats.op_counts["predict"]
    per_predict = best.stats.predict_seconds / predicts
    round_trip = best.stats.op_seconds["predict"] / predicts
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"canary golden path ({len(batch)} images), best of {ROUNDS}:")
    print(f"  hubtool worker (spawn, load, {len(batch)} predicts, shutdown): {hub:.3f} s")
    print(f"  bare python 3.7 script with mindspore_lite:                 {bare:.3f} s")
    print(f"  ratio {hub / bare:.2f}x (target <= 1.2x); median hubtool {statistics.median(hub_times):.3f} s, "
          f"bare {statistics.median(bare_times):.3f} s")
    print(f"  worker spawn (to hello): {best.stats.spawn_seconds * 1000:.0f} ms")
    print(f"  per predict: {per_predict * 1000:.2f} ms in the runtime, {round_trip * 1000:.2f} ms round trip: "
          f"protocol overhead {(round_trip - per_predict) * 1000:.2f} ms per predict")
    print(f"  load request: {best.stats.op_seconds['load'] * 1000:.0f} ms")
    print(f"  peak RSS of a worker or bare script: {rss:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())

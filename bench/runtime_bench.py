"""Benchmark the MindSpore Lite worker on the canary against a bare Python 3.7 script, whole processes.

hubtool side: a fresh Python process that starts hubtool's worker, loads the canary, predicts
20 images and shuts the worker down (what a golden run costs without the card and the set).
Baseline, in the same alternating rounds: a bare script in the same runtime env that imports
mindspore_lite and does the same.  One more hubtool run reports where its time goes: worker
spawn to hello, the load request, per-predict time in the runtime and the round trip.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from hubtool.runtimes.mslite.env import require_env

sys.path.insert(0, str(Path(__file__).parent))
from whole import REPO, alternate, arguments, compile_sources, report  # noqa: E402

CANARY = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"
IMAGES = sorted((REPO / "hub" / "golden" / "cifar10").glob("*.png"))

BARE = r"""
import sys, numpy as np, mindspore_lite as mslite
batch = np.load(sys.argv[2])
context = mslite.Context(); context.target = ["cpu"]; context.cpu.thread_num = 1
model = mslite.Model(); model.build_from_file(sys.argv[1], mslite.ModelType.MINDIR_LITE, context)
inputs = model.get_inputs()
for image in batch:
    inputs[0].set_data_from_numpy(image[None].copy())
    out = model.predict(inputs)[0].get_data_to_numpy().copy()
"""

HUBTOOL_WORKER = r"""
import json, sys, numpy as np
from pathlib import Path
from hubtool.runtimes.mslite.client import MsliteWorker
from hubtool.runtimes.mslite.env import require_env
batch = np.load(sys.argv[2])
worker = MsliteWorker(require_env())
with worker:
    worker.load(Path(sys.argv[1]))
    for image in batch:
        worker.predict([image[None]])
s = worker.stats
if len(sys.argv) > 3:
    print(json.dumps({"spawn": s.spawn_seconds, "load": s.op_seconds["load"], "predicts": s.op_counts["predict"],
                      "in_runtime": s.predict_seconds, "round_trip": s.op_seconds["predict"]}))
"""


def main() -> None:
    args = arguments(__doc__ or "", rounds=7)
    compile_sources()
    env = require_env()
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "batch.npy"
        np.save(npy, np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in IMAGES]))
        base = "baseline: bare python 3.7 + mindspore_lite"
        results = alternate({
            base: [str(env.python), "-s", "-c", BARE, str(CANARY), str(npy)],
            "hubtool worker: spawn, load, 20 predicts": [sys.executable, "-c", HUBTOOL_WORKER, str(CANARY), str(npy)],
        }, args.rounds)
        report(f"canary on the MindSpore Lite runtime ({len(IMAGES)} images), {args.rounds} alternating rounds "
               "of whole processes, median (min-max):", results, base)
        out = subprocess.run([sys.executable, "-c", HUBTOOL_WORKER, str(CANARY), str(npy), "stats"],
                             capture_output=True, text=True, check=True).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    per_predict = stats["in_runtime"] / stats["predicts"]
    round_trip = stats["round_trip"] / stats["predicts"]
    print(f"  one more hubtool run: worker spawn to hello {stats['spawn'] * 1000:.0f} ms, load request "
          f"{stats['load'] * 1000:.0f} ms, per predict {per_predict * 1000:.2f} ms in the runtime and "
          f"{round_trip * 1000:.2f} ms round trip (protocol {(round_trip - per_predict) * 1000:.2f} ms)")


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `hubtool golden` on the MindSpore canaries (.mindir, .ckpt), whole process, against bare scripts.

hubtool side: `hubtool golden CARD` as a user runs it (start-up, hub and card, golden set, store,
inspection, a sandboxed MindSpore worker, load, 20 decoded and preprocessed images, verdict).
Baseline, in the same rounds: a bare script in the MindSpore env that imports mindspore, loads
the model (the MindIR with GraphCell; the checkpoint into the hub's network via its
mindspore_hub_conf.py) and predicts the same 20 images, given them already decoded and
preprocessed, and takes the argmax.  Then the worker alone: spawn to hello, and its peak RSS.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hubtool.runtimes import managed
from hubtool.runtimes.mindspore.client import MindsporeWorker
from hubtool.runtimes.mindspore.env import SPEC

sys.path.insert(0, str(Path(__file__).parent))
from golden_bench import preprocessed  # noqa: E402
from whole import HUBTOOL, REPO, alternate, arguments, compile_sources, report  # noqa: E402

CARDS = {fmt: REPO / "cards" / "hubtool" / f"cifar10-cnn-canary-{fmt}.md" for fmt in ("mindir", "ckpt")}
MODELS = {fmt: REPO / "hub" / "assets" / f"cifar10-cnn-canary.{fmt}" for fmt in ("mindir", "ckpt")}
NETWORK = REPO / "hub" / "networks" / "cifar10-cnn"
BARE = r"""
import sys, numpy as np, mindspore as ms
ms.set_context(mode=ms.GRAPH_MODE)
path, batch = sys.argv[1], np.load(sys.argv[2])
if path.endswith(".mindir"):
    cell = ms.nn.GraphCell(ms.load(path))
else:
    sys.path.insert(0, sys.argv[3])
    from mindspore_hub_conf import create_network
    cell = create_network("cifar10-cnn-canary-ckpt")
    ms.load_param_into_net(cell, ms.load_checkpoint(path), strict_load=True)
    cell.set_train(False)
labels = [int(np.argmax(cell(ms.Tensor(image[None])).asnumpy())) for image in batch]
"""


def worker_figures(rounds: int) -> str:
    """Spawn-to-hello seconds and the worker's own peak RSS (VmHWM) after loading and 20 predicts."""
    import numpy as np

    starts, peaks = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        with MindsporeWorker(timeout=300) as worker:
            starts.append(time.perf_counter() - began)
            worker.load(MODELS["mindir"], "mindir", [{"name": "x", "shape": [1, 32, 32, 3], "dtype": "float32"}])
            for _ in range(20):
                worker.predict([np.zeros((1, 32, 32, 3), np.float32)])
            assert worker.proc is not None
            status = Path(f"/proc/{worker.proc.pid}/status").read_text()
            peaks.append(int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024)
    return (f"  MindSpore worker, spawn to hello (imports mindspore, enters the sandbox): "
            f"{statistics.median(starts):.2f} s ({min(starts):.2f}-{max(starts):.2f}); "
            f"its peak RSS after the MindIR canary's 20 predicts: {statistics.median(peaks):.0f} MiB")


def main() -> None:
    args = arguments(__doc__ or "", rounds=5)
    compile_sources()
    env = managed.require_env(SPEC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        npy = preprocessed(root / "batch.npy")
        store = root / "store"

        def fresh_store(name: str) -> None:
            shutil.rmtree(store, ignore_errors=True)  # each golden run starts as a first run does

        for fmt in ("mindir", "ckpt"):
            base = f"baseline: bare python 3.11 + mindspore ({fmt})"
            results = alternate({
                base: [str(env.python), "-s", "-c", BARE, str(MODELS[fmt]), str(npy), str(NETWORK)],
                f"hubtool golden {fmt.upper()} CANARY": [HUBTOOL, "golden", "--store", str(store), str(CARDS[fmt])],
            }, args.rounds, REPO, after=fresh_store)
            report(f"golden check of the {fmt} canary (20 images), {args.rounds} alternating rounds of whole "
                   "processes, median (min-max); hubtool's peak RSS includes the worker it reaps:", results, base)
        print(worker_figures(args.rounds))
        print("  target: hubtool within 1.3x of the bare script")


if __name__ == "__main__":
    sys.exit(main())

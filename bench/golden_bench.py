"""Benchmark `hubtool golden` on the canary, whole process, against a bare Python 3.7 script.

hubtool side: `hubtool golden cards/hubtool/cifar10-cnn-canary.md` as a user runs it (start-up,
hub and card, golden set, store lookup, inspection, worker spawn, load, 20 decoded and
preprocessed images, verdict).  Baseline, in the same rounds: a bare script in the runtime
env that imports mindspore_lite, loads the model and predicts the same 20 images, given
them already decoded and preprocessed (the runtime env has no Pillow), and takes the argmax.
So the baseline does less than hubtool; the ratio is an upper bound of hubtool's overhead.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from hubtool.config import load_config
from hubtool.golden.imaging import Preprocess, load_rgb, to_tensor
from hubtool.golden.sets import load_set
from hubtool.runtimes.mslite.env import require_env

sys.path.insert(0, str(Path(__file__).parent))
from whole import HUBTOOL, REPO, alternate, arguments, compile_sources, report  # noqa: E402

CARD = REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md"
MODEL = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"
BARE = r"""
import sys, numpy as np, mindspore_lite as mslite
batch = np.load(sys.argv[2])
context = mslite.Context(); context.target = ["cpu"]; context.cpu.thread_num = 1
model = mslite.Model(); model.build_from_file(sys.argv[1], mslite.ModelType.MINDIR_LITE, context)
inputs = model.get_inputs()
labels = []
for image in batch:
    inputs[0].set_data_from_numpy(image[None].copy())
    labels.append(int(np.argmax(model.predict(inputs)[0].get_data_to_numpy())))
"""


def preprocessed(out: Path) -> Path:
    """The golden set's 20 images, decoded and preprocessed as hubtool does, saved for the bare script."""
    config = load_config(REPO / "hub" / "hub.yaml")
    gset = load_set(config.root, "cifar10-canary")
    pre = Preprocess.from_dict(gset.preprocess)
    batch = np.concatenate([to_tensor(load_rgb(gset.image_path(c)), pre, (32, 32)) for c in gset.cases])
    np.save(out, batch)
    return out


def main() -> None:
    args = arguments(__doc__ or "", rounds=7)
    compile_sources()
    env = require_env()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        npy = preprocessed(root / "batch.npy")
        store = root / "store"

        def fresh_store(name: str) -> None:
            shutil.rmtree(store, ignore_errors=True)  # each golden run starts as a first run does

        results = alternate({
            "baseline: bare python 3.7 + mindspore_lite": [str(env.python), "-s", "-c", BARE, str(MODEL), str(npy)],
            "hubtool golden CANARY": [HUBTOOL, "golden", "--store", str(store), str(CARD)],
        }, args.rounds, REPO, after=fresh_store)
        report(f"golden check of the canary (20 images), {args.rounds} alternating rounds of whole processes, "
               "median (min-max):", results, "baseline: bare python 3.7 + mindspore_lite")
        print("  target: hubtool within 1.2x of the bare script")


if __name__ == "__main__":
    sys.exit(main())

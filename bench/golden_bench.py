"""Benchmark the golden check of the canary end to end against a bare Python 3.7 script.

hubtool side: golden_for_card (golden set, store lookup, inspection, worker spawn, load,
20 preprocessed images, verdict).  Baseline: a bare script in the runtime env that loads
the model with mindspore_lite and predicts the same 20 images, given them already decoded
(the runtime env has no Pillow), and takes the argmax.  Also: preprocessing cost per image.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.config import load_config
from hubtool.golden.card import GoldenRunner
from hubtool.golden.imaging import Preprocess, load_rgb, to_tensor
from hubtool.golden.sets import load_set
from hubtool.runtimes.mslite.env import require_env

REPO = Path(__file__).resolve().parents[1]
CARD = REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md"
ROUNDS = 5
BARE = r"""
import sys, numpy as np, mindspore_lite as mslite
batch = np.load(sys.argv[2])
context = mslite.Context(); context.target = ["cpu"]; context.cpu.thread_num = 1
model = mslite.Model(); model.build_from_file(sys.argv[1], mslite.ModelType.MINDIR_LITE, context)
inputs = model.get_inputs()
labels = []
for image in batch:
    x = image[None].copy()
    inputs[0].set_data_from_numpy(x)
    labels.append(int(np.argmax(model.predict(inputs)[0].get_data_to_numpy())))
"""


def main() -> None:
    config = load_config(REPO / "hub" / "hub.yaml")
    card = CardChecker(config).load(CARD).card
    assert card is not None
    gset = load_set(config.root, "cifar10-canary")
    pre = Preprocess.from_dict(gset.preprocess)
    start = time.perf_counter()
    decoded = [load_rgb(gset.image_path(c)) for c in gset.cases]
    decode = (time.perf_counter() - start) / len(decoded)
    start = time.perf_counter()
    for _ in range(50):
        batch = np.concatenate([to_tensor(rgb, pre, (32, 32)) for rgb in decoded])
    tensor = (time.perf_counter() - start) / 50 / len(decoded)
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "batch.npy"
        np.save(npy, batch)
        store = DirectoryStore(Path(tmp) / "store")
        fetcher = build_fetcher(store, config.policy, hub_root=config.root)
        hub_times, bare_times = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            # a fresh runner per round: the golden set is read and hashed each time, as for one card
            result = GoldenRunner(config, fetcher).run(card.metadata)
            hub_times.append(time.perf_counter() - start)
            assert result.status == "passed", result.message
            start = time.perf_counter()
            blob = store.blob_path(card.assets[0].sha256 or "")
            subprocess.run([str(require_env().python), "-s", "-c", BARE, str(blob), str(npy)], check=True,
                           env={"GLOG_v": "3", "PATH": "/usr/bin:/bin"})
            bare_times.append(time.perf_counter() - start)
        shutil.rmtree(store.root)
    hub, bare = min(hub_times), min(bare_times)
    print(f"golden check of the canary (20 images), best of {ROUNDS}:")
    print(f"  hubtool GoldenRunner.run (set, inspect, spawn, load, preprocess, 20 predicts, verdict): {hub:.3f} s")
    print(f"  bare python 3.7 script (load, 20 predicts on pre-decoded images, argmax):          {bare:.3f} s")
    print(f"  ratio {hub / bare:.2f}x (target <= 1.3x)")
    print(f"  preprocessing per image: decode {decode * 1e3:.3f} ms, tensor steps {tensor * 1e3:.3f} ms")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build the canary's MindSpore 2.x twins (a checkpoint and a MindIR) from the same real weights as the .ms.

1. `pip download --no-deps cifar-10-model==7.4.0` (PyPI only) and read the Keras model's layers
   and weights (scripts/build_canary.py's reader).
2. Map them onto the hub's network (hub/networks/cifar10-cnn/, MindSpore Hub's
   mindspore_hub_conf.py convention): a Conv2D kernel [kh, kw, cin, cout] becomes MindSpore's
   [cout, cin, kh, kw], a Dense kernel [in, out] becomes [out, in]; batch-norm statistics as they are.
3. Inside hubtool's MindSpore env (`hubtool runtime install mindspore`), scripts/export_canary_mindspore.py
   saves the checkpoint and exports the MindIR, then runs both (the checkpoint loaded into a fresh
   network, the MindIR re-loaded) on the 20 golden images.
4. Both must classify the 20 images as the onnxruntime reference does and stay within 1e-4 of its
   outputs (hub/golden/cifar10-canary/reference-outputs.json); then the files are written to
   hub/assets/. With --check nothing is written: the rebuilt checkpoint must be byte-identical to
   the committed one. MindSpore 2.10's MindIR writer is not deterministic (measured: five exports of
   the same network and weights gave five files; node names join input names in an unordered
   order, e.g. `CNode_24$input_data$x` vs `CNode_24$x$input_data`, even with PYTHONHASHSEED fixed),
   so for the MindIR the check is that it is the same model: hubtool's MindIR reader finds the same
   inputs, outputs, parameters and operators, and both files give bit-identical outputs on the 20
   images.

Needs: h5py, numpy, pillow (`pip install -e '.[canary]'`) and the MindSpore env.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from build_canary import GOLDEN, H5, LABELS, MODEL_PKG, REFERENCE, REPO, keras_layers, load_images, sha256

NETWORK = REPO / "hub" / "networks" / "cifar10-cnn"
ASSETS = {"ckpt": REPO / "hub" / "assets" / "cifar10-cnn-canary.ckpt",
          "mindir": REPO / "hub" / "assets" / "cifar10-cnn-canary.mindir"}
EXPORT = Path(__file__).with_name("export_canary_mindspore.py")
TOLERANCE = 1e-4


def mindspore_weights(layers: list[dict]) -> dict[str, np.ndarray]:
    """The Keras weights under the hub network's parameter names (features.N.*, classifier.N.*)."""
    out: dict[str, np.ndarray] = {}
    feature = dense = 0
    for layer in layers:
        kind, w = layer["type"], layer["weights"]
        if kind == "Conv2D":
            out[f"features.{feature}.weight"] = np.ascontiguousarray(np.transpose(w["kernel"], (3, 2, 0, 1)))
            out[f"features.{feature}.bias"] = w["bias"]
            feature += 2  # the conv, then its ReLU
        elif kind == "BatchNormalization":
            for keras, ours in (("gamma", "gamma"), ("beta", "beta"), ("moving_mean", "moving_mean"),
                                ("moving_variance", "moving_variance")):
                out[f"features.{feature}.{ours}"] = w[keras]
            feature += 1
        elif kind == "MaxPooling2D" and layer["config"]["pool_size"] != [1, 1]:
            feature += 1
        elif kind == "Dense":
            out[f"classifier.{dense}.weight"] = np.ascontiguousarray(w["kernel"].T)
            out[f"classifier.{dense}.bias"] = w["bias"]
            dense += 1
    return {k: v.astype(np.float32) for k, v in out.items()}


def export(tmp: Path, weights: dict[str, np.ndarray], images: list[tuple[str, np.ndarray, int]],
           committed: Path | None = None) -> dict:
    from hubtool.runtimes import managed
    from hubtool.runtimes.mindspore.env import SPEC

    env = managed.require_env(SPEC)
    np.savez(tmp / "weights.npz", **weights)
    np.savez(tmp / "images.npz", **{name: pixels for name, pixels, _ in images})
    proc = subprocess.run([str(env.python), str(EXPORT), str(tmp / "weights.npz"), str(NETWORK), str(tmp / "canary"),
                           str(tmp / "images.npz"), *([str(committed)] if committed else [])],
                          capture_output=True, text=True, cwd=tmp,
                          env={"GLOG_v": "3", "PATH": "/usr/bin:/bin", "HOME": str(tmp)})
    if proc.returncode != 0:
        raise SystemExit(f"the MindSpore export failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def judge(outputs: dict, images: list[tuple[str, np.ndarray, int]]) -> None:
    reference = json.loads(REFERENCE.read_text())["outputs"]
    for fmt, per_image in outputs.items():
        if fmt == "committed-mindir":
            continue
        worst = max(float(np.max(np.abs(np.array(per_image[n]) - np.array(reference[n])))) for n, _, _ in images)
        correct = sum(int(np.argmax(per_image[n]) == label) for n, _, label in images)
        print(f"{fmt}: {correct}/{len(images)} correct, max |output - onnxruntime reference| = {worst:.2e}")
        if worst > TOLERANCE:
            raise SystemExit(f"{fmt} deviates from the reference by {worst} > {TOLERANCE}")


def check(built: dict[str, Path], outputs: dict) -> bool:
    """The checkpoint byte for byte; the MindIR as the same model (see the module's docstring)."""
    from hubtool.assets.mindir import read_mindir

    ckpt_same = ASSETS["ckpt"].is_file() and sha256(built["ckpt"]) == sha256(ASSETS["ckpt"])
    print("checkpoint reproduced byte for byte" if ckpt_same else "checkpoint MISMATCH")
    if not ASSETS["mindir"].is_file():
        print("no committed MindIR")
        return False
    new, old = read_mindir(built["mindir"]), read_mindir(ASSETS["mindir"])
    same_graph = (new.inputs, new.outputs, new.parameters, new.operators) == (
        old.inputs, old.outputs, old.parameters, old.operators)
    same_outputs = outputs["mindir"] == outputs["committed-mindir"]
    print(f"MindIR: same inputs, outputs, parameters and operators: {same_graph}; "
          f"bit-identical outputs on the {len(outputs['mindir'])} images: {same_outputs}")
    return ckpt_same and same_graph and same_outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify that the committed files are reproduced")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp), MODEL_PKG],
                       check=True)
        with zipfile.ZipFile(next(tmp.glob("cifar_10_model-7.4.0-*.whl"))) as zf:
            zf.extract(H5, tmp)
        images = load_images(GOLDEN)
        assert len(images) == 20 and all(LABELS[label] for _, _, label in images)
        committed = ASSETS["mindir"] if args.check and ASSETS["mindir"].is_file() else None
        outputs = export(tmp, mindspore_weights(keras_layers(tmp / H5)), images, committed)
        judge(outputs, images)
        built = {fmt: tmp / f"canary.{fmt}" for fmt in ASSETS}
        for fmt, path in built.items():
            print(f"{fmt}: {path.stat().st_size:,} bytes, sha256 {sha256(path)}")
        if args.check:
            raise SystemExit(0 if check(built, outputs) else 1)
        for fmt, path in built.items():
            shutil.copyfile(path, ASSETS[fmt])
            print(f"wrote {ASSETS[fmt].relative_to(REPO)}")


if __name__ == "__main__":
    main()

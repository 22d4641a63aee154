#!/usr/bin/env python3
"""Build the hub's canary model from real, published weights, reproducibly and offline.

1. `pip download --no-deps cifar-10-model==7.4.0 foolbox==3.3.4` (PyPI only).
2. Read the Keras model (config + weights) from cifar_10_model/trained_models/cnn_model.h5
   with h5py: six valid 3x3 Conv+ReLU each followed by BatchNormalization
   (epsilon 0.001), max-pools, Dense 1024/512/10 with ReLU on all three;
   channels-last; input raw RGB 0..255.
3. Build the equivalent ONNX graph with onnx.helper (NHWC input, explicit
   kernel_shape/strides/dilations/group on every Conv), and check onnxruntime
   against an independent numpy forward pass of the Keras layers.
4. Convert to .ms with mindspore-lite's Converter inside hubtool's runtime env
   (save_type MINDIR_LITE, optimize "general", fp32).
5. Write hub/assets/cifar10-cnn-canary.ms, the 20 foolbox CIFAR-10 test images
   (hub/golden/cifar10/), and the onnxruntime reference outputs on them.
   Conversion is byte-identical across runs: with --check the script only
   verifies that it reproduces the committed files.

Needs: h5py, onnx, onnxruntime, numpy, pillow (`pip install -e '.[canary]'`)
and the runtime (`hubtool runtime install mindspore-lite`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL_PKG = "cifar-10-model==7.4.0"
IMAGES_PKG = "foolbox==3.3.4"
H5 = "cifar_10_model/trained_models/cnn_model.h5"
ASSET = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"
GOLDEN = REPO / "hub" / "golden" / "cifar10"
REFERENCE = REPO / "hub" / "golden" / "cifar10-canary" / "reference-outputs.json"
LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def download(workdir: Path) -> tuple[Path, Path]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir),
                    MODEL_PKG, IMAGES_PKG], check=True)
    model_whl = next(workdir.glob("cifar_10_model-7.4.0-*.whl"))
    images_whl = next(workdir.glob("foolbox-3.3.4-*.whl"))
    return model_whl, images_whl


def keras_layers(h5_path: Path) -> list[dict]:
    """The Sequential model's layers with their weights as numpy arrays."""
    import h5py

    layers = []
    with h5py.File(h5_path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        weights = f["model_weights"]
        for layer in config["config"]["layers"]:
            name, cfg = layer["config"]["name"], layer["config"]
            params = {}
            if name in weights:
                group = weights[name][name] if name in weights[name] else weights[name]
                params = {key.split(":")[0]: np.asarray(group[key], dtype=np.float32) for key in group}
            layers.append({"type": layer["class_name"], "config": cfg, "weights": params})
    return layers


def numpy_forward(layers: list[dict], x: np.ndarray) -> np.ndarray:
    """An independent NHWC forward pass of the Keras layers (inference mode)."""
    for layer in layers:
        kind, cfg, w = layer["type"], layer["config"], layer["weights"]
        if kind == "Conv2D":
            k = w["kernel"]  # [kh, kw, cin, cout]
            kh, kw = k.shape[:2]
            oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
            patches = np.stack([x[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)], axis=3)
            x = np.einsum("nhwpc,pco->nhwo", patches, k.reshape(kh * kw, k.shape[2], k.shape[3])) + w["bias"]
            x = np.maximum(x, 0) if cfg["activation"] == "relu" else x
        elif kind == "BatchNormalization":
            x = w["gamma"] * (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"]) + w["beta"]
        elif kind == "MaxPooling2D":
            p, s = cfg["pool_size"][0], cfg["strides"][0]
            oh, ow = (x.shape[1] - p) // s + 1, (x.shape[2] - p) // s + 1
            x = np.max(np.stack([x[:, i:i + s * oh:s, j:j + s * ow:s, :] for i in range(p) for j in range(p)]), axis=0)
        elif kind == "Flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "Dense":
            x = x @ w["kernel"] + w["bias"]
            x = np.maximum(x, 0) if cfg["activation"] == "relu" else x
        elif kind in ("Dropout", "InputLayer"):
            continue
        else:
            raise SystemExit(f"unsupported Keras layer {kind}")
    return x.astype(np.float32)


def build_onnx(layers: list[dict]) -> bytes:
    from onnx import TensorProto, checker, helper, numpy_helper

    nodes, inits = [], []
    current = "input"

    def add(op: str, inputs: list[str], **attrs: object) -> str:
        nonlocal current
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], name=f"n{len(nodes)}_{op}", **attrs))
        current = out
        return out

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    add("Transpose", [current], perm=[0, 3, 1, 2])  # NHWC input -> NCHW for ONNX ops
    for i, layer in enumerate(layers):
        kind, cfg, w = layer["type"], layer["config"], layer["weights"]
        if kind == "Conv2D":
            kernel = np.transpose(w["kernel"], (3, 2, 0, 1))  # -> [cout, cin, kh, kw]
            add("Conv", [current, const(f"conv{i}_w", kernel), const(f"conv{i}_b", w["bias"])],
                kernel_shape=list(cfg["kernel_size"]), strides=list(cfg["strides"]), dilations=[1, 1],
                group=1, pads=[0, 0, 0, 0])
            if cfg["activation"] == "relu":
                add("Relu", [current])
        elif kind == "BatchNormalization":
            add("BatchNormalization", [current, const(f"bn{i}_g", w["gamma"]), const(f"bn{i}_b", w["beta"]),
                                       const(f"bn{i}_m", w["moving_mean"]), const(f"bn{i}_v", w["moving_variance"])],
                epsilon=float(cfg["epsilon"]))
        elif kind == "MaxPooling2D":
            if cfg["pool_size"] != [1, 1]:
                add("MaxPool", [current], kernel_shape=list(cfg["pool_size"]), strides=list(cfg["strides"]),
                    pads=[0, 0, 0, 0])
        elif kind == "Flatten":
            add("Transpose", [current], perm=[0, 2, 3, 1])  # Keras flattens in HWC order
            add("Flatten", [current], axis=1)
        elif kind == "Dense":
            add("Gemm", [current, const(f"fc{i}_w", w["kernel"]), const(f"fc{i}_b", w["bias"])])
            if cfg["activation"] == "relu":
                add("Relu", [current])
    nodes[-1].output[0] = "scores"
    graph = helper.make_graph(nodes, "cifar10_cnn_canary",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 32, 32, 3])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, producer_name="hubtool-build-canary", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()


CONVERT = r"""
import sys, mindspore_lite as mslite
converter = mslite.Converter()
converter.save_type = mslite.ModelType.MINDIR_LITE
converter.optimize = "general"
converter.convert(fmk_type=mslite.FmkType.ONNX, model_file=sys.argv[1], output_file=sys.argv[2])
"""


def convert(onnx_path: Path, out_stem: Path) -> Path:
    from hubtool.runtimes.mslite.env import require_env

    env = require_env()
    subprocess.run([str(env.python), "-c", CONVERT, str(onnx_path), str(out_stem)], check=True,
                   capture_output=True, env={"GLOG_v": "3", "PATH": "/usr/bin:/bin"})
    return out_stem.with_suffix(".ms")


def load_images(folder: Path) -> list[tuple[str, np.ndarray, int]]:
    from PIL import Image

    out = []
    for path in sorted(folder.glob("cifar10_*.png")):
        label = int(path.stem.split("_")[2])
        with Image.open(path) as img:
            out.append((path.name, np.asarray(img.convert("RGB"), dtype=np.float32), label))
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify that the committed files are reproduced")
    args = parser.parse_args()
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model_whl, images_whl = download(tmp)
        with zipfile.ZipFile(model_whl) as zf:
            zf.extract(H5, tmp)
        with zipfile.ZipFile(images_whl) as zf:
            for name in zf.namelist():
                if name.startswith("foolbox/data/cifar10_") and name.endswith(".png"):
                    zf.extract(name, tmp)
        layers = keras_layers(tmp / H5)
        images = load_images(tmp / "foolbox" / "data")
        (tmp / "canary.onnx").write_bytes(build_onnx(layers))
        session = ort.InferenceSession(str(tmp / "canary.onnx"), providers=["CPUExecutionProvider"])
        reference = {}
        correct = 0
        for name, pixels, label in images:
            batch = pixels[None]
            ort_out = session.run(["scores"], {"input": batch})[0]
            np_out = numpy_forward(layers, batch)
            deviation = float(np.max(np.abs(ort_out - np_out)))
            if deviation > 1e-3:
                raise SystemExit(f"onnxruntime and the numpy forward pass disagree on {name}: {deviation}")
            correct += int(np.argmax(ort_out) == label)
            reference[name] = [float(v) for v in ort_out[0]]
        print(f"onnxruntime agrees with the numpy Keras forward pass; {correct}/{len(images)} correct")
        built = convert(tmp / "canary.onnx", tmp / "canary")
        print(f"converted: {built.stat().st_size:,} bytes, sha256 {sha256(built)}")
        doc = {"model": ASSET.name, "runtime": f"onnxruntime {ort.__version__}", "labels": LABELS,
               "outputs": reference}
        if args.check:
            same = sha256(built) == sha256(ASSET)
            print("committed asset reproduced byte for byte" if same else "MISMATCH with the committed asset")
            raise SystemExit(0 if same else 1)
        ASSET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, ASSET)
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, _, _ in images:
            shutil.copyfile(tmp / "foolbox" / "data" / name, GOLDEN / name)
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"wrote {ASSET.relative_to(REPO)} (sha256 {sha256(ASSET)}), {len(images)} images, "
              f"{REFERENCE.relative_to(REPO)}")


if __name__ == "__main__":
    main()

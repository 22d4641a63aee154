"""Golden inference of a `file-format: onnx` asset through ONNX Runtime, in-process."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import yaml
from onnx import TensorProto, helper, numpy_helper

from helpers import REPO, card_text
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.config import load_config
from hubtool.golden.card import GoldenRunner
from hubtool.golden.imaging import Preprocess, load_rgb, to_tensor

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PRE = {"size": [32, 32], "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
       "channels": "RGB", "layout": "NHWC", "batch": True}


def tiny_classifier(weights: np.ndarray, bias: np.ndarray) -> bytes:
    """NHWC image -> per-channel means of 4x4 blocks -> a dense layer to 10 scores."""
    nodes = [helper.make_node("Transpose", ["input"], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("AveragePool", ["nchw"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
             helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "w", "b"], ["scores"])]
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 32, 32, 3])
    graph = helper.make_graph(nodes, "tiny", [image],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 10])],
                              [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def reference(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    nchw = np.transpose(x, (0, 3, 1, 2))
    pooled = nchw.reshape(1, 3, 4, 8, 4, 8).mean(axis=(3, 5))
    return pooled.reshape(1, -1) @ weights + bias


def test_onnx_asset_passes_its_golden_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    weights = rng.standard_normal((48, 10)).astype(np.float32)
    bias = rng.standard_normal(10).astype(np.float32)
    model = tiny_classifier(weights, bias)
    (tmp_path / "hub" / "assets").mkdir(parents=True)
    (tmp_path / "hub" / "assets" / "tiny.onnx").write_bytes(model)
    folder = tmp_path / "hub" / "golden" / "tiny"
    shutil.copytree(REPO / "hub" / "golden" / "cifar10", folder)
    pre = Preprocess.from_dict(PRE)
    cases, outputs = [], {}
    for image in sorted(folder.glob("*.png")):
        scores = reference(to_tensor(load_rgb(image), pre, (32, 32)), weights, bias)[0]
        cases.append({"image": image.name, "expect": LABELS[int(np.argmax(scores))]})
        outputs[image.name] = [float(v) for v in scores]
    (folder / "ref.json").write_text(json.dumps({"outputs": outputs}))
    (folder / "golden.yaml").write_text(yaml.safe_dump({"labels": LABELS, "preprocess": PRE, "cases": cases,
                                                        "reference-outputs": "ref.json", "atol": 1e-4}))
    (tmp_path / "hub" / "hub.yaml").write_text("name: onnx\n")
    text = card_text(extra="golden:\n  set: tiny\n").replace("file-format: ckpt", "file-format: onnx").replace(
        "https://download.mindspore.cn/a.ckpt", "hub/assets/tiny.onnx").replace(
        "449498ecf5201d46d4eaee2754d69db89b656573f4e74ab42a9f8597299bb63b", hashlib.sha256(model).hexdigest())
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "tiny.md").write_text(text)
    config = load_config(tmp_path / "hub" / "hub.yaml")
    card = CardChecker(config).load(tmp_path / "cards" / "tiny.md").card
    assert card is not None
    runner = GoldenRunner(config, build_fetcher(DirectoryStore(tmp_path / "s"), config.policy, hub_root=config.root))
    result = runner.run(card.metadata)
    assert (result.status, result.correct) == ("passed", 20), result.message
    assert result.details and (result.details.inspect or "").startswith("an ONNX model")
    # the same model with BGR input is a failure naming its cases
    text = text.replace("  set: tiny\n", "  set: tiny\n  preprocess:\n    channels: BGR\n")
    (tmp_path / "cards" / "tiny.md").write_text(text)
    card = CardChecker(config).load(tmp_path / "cards" / "tiny.md").card
    assert card is not None
    bad = runner.run(card.metadata)
    assert bad.status == "failed" and bad.failed_cases

"""A 1.0-format asset gets a real golden verdict through translation; publish records the translation."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import yaml
from legacy_executor import run as execute
from legacy_graphs import resnet50_plain
from legacy_writer import write_v0

from helpers import REPO, card_text, run_cli, runtime_env
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.config import load_config
from hubtool.golden.card import GoldenRunner
from hubtool.golden.imaging import Preprocess, load_rgb, to_tensor
from hubtool.legacy.model import read_model

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PRE = {"size": [32, 32], "scale": 0.00392156862745098, "mean": [0.491, 0.482, 0.447], "std": [0.247, 0.243, 0.262],
       "channels": "RGB", "layout": "NHWC", "batch": True}


def legacy_hub(root: Path) -> tuple[Path, str]:
    """A hub whose card's asset is a 1.0-format model, with a golden set recorded by the 1.0 executor."""
    data = write_v0(resnet50_plain(widths=(8, 16, 32, 64)))
    (root / "hub" / "assets").mkdir(parents=True)
    (root / "hub" / "assets" / "legacy.ms").write_bytes(data)
    shutil.copytree(REPO / "hub" / "golden" / "cifar10", root / "hub" / "golden" / "legacy")
    model = read_model(data)
    pre = Preprocess.from_dict(PRE)
    cases, outputs = [], {}
    for image in sorted((root / "hub" / "golden" / "legacy").glob("*.png")):
        scores = execute(model, [to_tensor(load_rgb(image), pre, (32, 32))])[model.outputs[0]][0]
        cases.append({"image": image.name, "expect": LABELS[int(np.argmax(scores))]})
        outputs[image.name] = [float(v) for v in scores]
    (root / "hub" / "golden" / "legacy" / "reference.json").write_text(json.dumps({"outputs": outputs}))
    spec = {"labels": LABELS, "preprocess": PRE, "cases": cases, "reference-outputs": "reference.json",
            "atol": 1e-4, "rtol": 1e-4}
    (root / "hub" / "golden" / "legacy" / "golden.yaml").write_text(yaml.safe_dump(spec))
    (root / "hub" / "hub.yaml").write_text("name: legacy\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    sha = hashlib.sha256(data).hexdigest()
    text = card_text(extra="golden:\n  set: legacy\n").replace("file-format: ckpt", "file-format: mslite").replace(
        "https://download.mindspore.cn/a.ckpt", "hub/assets/legacy.ms").replace(
        "449498ecf5201d46d4eaee2754d69db89b656573f4e74ab42a9f8597299bb63b", sha)
    (root / "cards" / "u").mkdir(parents=True)
    (root / "cards" / "u" / "legacy.md").write_text(text)
    return root, sha


def test_golden_runs_on_the_translation(tmp_path: Path) -> None:
    runtime_env()
    root, sha = legacy_hub(tmp_path)
    config = load_config(root / "hub" / "hub.yaml")
    card = CardChecker(config).load(root / "cards" / "u" / "legacy.md").card
    assert card is not None
    store = DirectoryStore(tmp_path / "store")
    result = GoldenRunner(config, build_fetcher(store, config.policy, hub_root=config.root)).run(card.metadata)
    assert result.status == "passed", result.message
    assert "on an MSL2 translation of the MindSpore Lite 1.0.0 file by hubtool's legacy translator 1" in result.message
    translated = result.details.translated if result.details else None
    assert translated is not None and translated.source == sha and store.has(translated.sha256)
    again = GoldenRunner(config, build_fetcher(store, config.policy, hub_root=config.root)).run(card.metadata)
    assert again.details and again.details.translated
    assert again.details.translated.sha256 == translated.sha256  # translated once, reused


def test_publish_records_the_translated_file(tmp_path: Path) -> None:
    runtime_env()
    root, sha = legacy_hub(tmp_path)
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"), "--with-assets",
                     "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert result.exit_code == 0, result.output
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    [asset] = index["cards"][0]["assets"]
    assert asset["sha256"] == sha and index["cards"][0]["golden"]["translated"] is True
    translated = asset["translated"]
    data = (root / "dist" / "hub" / translated["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == translated["sha256"] and data[4:8] == b"MSL2"

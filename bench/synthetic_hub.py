"""Generate a realistic synthetic hub in the MindSpore Hub dialect (for benchmarks).

About 40 front-matter lines per card, a title line first, a long-ish body, and
the mix of problems seen in the real corpus (DESIGN.md section 3): unquoted
versions like 1.10, single-digit dates, 8-character "hashes", _cn twins.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

HOSTS = ["download.mindspore.cn"]
BODY = "\n## Introduction\n\nThis model ...\n\n---\n\n```python\nimport mindspore_hub as mshub\n```\n" * 4


def card_text(i: int, rng: random.Random) -> str:
    sha = hashlib.sha256(str(i).encode()).hexdigest()
    if rng.random() < 0.05:
        sha = sha[:8]  # the 8-character fragments seen in the wild
    version = rng.choice(["1.0", "1.10", "'1.8'", "1.3", "'2.0'"])
    date = rng.choice(["2020-11-17", "2023-2-17", "2021-06-30"])
    assets = "".join(
        f"\n  - file-format: {fmt}\n    asset-link: <https://{HOSTS[0]}/model_zoo/r1.{i % 9}/m{i}_{j}.{fmt}>"
        f"\n    asset-sha256: {sha}" for j, fmt in enumerate(["ckpt", "mindir", "onnx"]))
    lines = [
        f"model-name: model-{i}", "backbone-name: resnet50", "module-type: cv-classification",
        "fine-tunable: True", "input-shape: [224, 224, 3]", f"model-version: {version}",
        "train-dataset: imagenet2012", "accuracy: 0.7621", "evaluation:", "  top1: 76.21", "  top5: 92.9",
        "author: MindSpore team", f"update-time: {date}", "repo-link: <https://gitee.com/mindspore/models>",
        f"user-id: user{i % 50}", "used-for: inference", "train-backend: ascend", "infer-backend: ascend",
        "mindspore-version: 1.10", "mindspore-lite: false", "featured-image: resnet.png",
        "allow-cache-ckpt: false", f"asset:{assets}", "license: Apache2.0",
        f"summary: ResNet50 number {i} trained on ImageNet for image classification",
    ]
    if rng.random() < 0.03:
        lines.append("asset-sha265: typo")
    return f"# Model {i}\n\n---\n\n" + "\n".join(lines) + "\n\n---\n" + BODY


def generate(root: Path, count: int, *, seed: int = 7) -> Path:
    """Write `count` cards under root/cards (plus hub/hub.yaml); returns the cards folder."""
    rng = random.Random(seed)
    (root / "hub").mkdir(parents=True, exist_ok=True)
    (root / "hub" / "hub.yaml").write_text(
        "name: synthetic\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    cards = root / "cards"
    for i in range(count):
        folder = cards / f"user{i % 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"model-{i}.md").write_text(card_text(i, rng))
    return cards

"""Shared test helpers: run the CLI in-process and build cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hubtool.cli import app

SHA = "449498ecf5201d46d4eaee2754d69db89b656573f4e74ab42a9f8597299bb63b"


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("check", "--format", "json", *args)
    return result.exit_code, json.loads(result.output)


def card_text(*, title: str = "# Test\n\n", extra: str = "", **fields: str) -> str:
    base = {
        "model-name": "m", "backbone-name": "resnet50", "module-type": "cv-classification",
        "fine-tunable": "False", "input-shape": "[32, 32, 3]", "model-version": "'1.0'",
        "train-dataset": "cifar10", "author": "A", "update-time": "2020-11-17", "user-id": "u",
        "used-for": "inference", "train-backend": "gpu", "mindspore-version": "'1.0'",
        "license": "Apache2.0", "summary": "s",
    }
    base.update(fields)
    lines = [f"{k}: {v}" for k, v in base.items()]
    lines.append(f"asset:\n- file-format: ckpt\n  asset-link: https://download.mindspore.cn/a.ckpt\n"
                 f"  asset-sha256: {SHA}")
    return f"{title}---\n" + "\n".join(lines) + "\n" + extra + "---\nbody\n"


def write_hub(root: Path, cards: dict[str, str], *, config: str = "") -> Path:
    (root / "hub").mkdir(parents=True, exist_ok=True)
    (root / "hub" / "hub.yaml").write_text(
        config or "name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    for rel, text in cards.items():
        path = root / "cards" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "cards"

"""Publishing the canary in all three formats: each gated on a real MindSpore verdict, remembered per network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import REPO, mindspore_env, run_cli, runtime_env
from hubtool import filestatus

FORMATS = {"cifar10-cnn-canary": "mslite", "cifar10-cnn-canary-mindir": "mindir", "cifar10-cnn-canary-ckpt": "ckpt"}


def make_hub(root: Path) -> Path:
    for part in ("assets", "golden", "networks"):
        shutil.copytree(REPO / "hub" / part, root / "hub" / part)
    (root / "hub" / "hub.yaml").write_text("name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    shutil.copytree(REPO / "cards" / "hubtool", root / "cards" / "hubtool")
    return root


def publish(root: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    report = root / "report.json"
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    return result.exit_code, json.loads(report.read_text())


def test_all_three_formats_are_published_on_real_verdicts_and_the_network_keys_the_ckpt_s(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime_env(), mindspore_env()
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)  # the blobs, just written, count as settled: `again` is kept
    root = make_hub(tmp_path)
    code, doc = publish(root)
    assert code == 0 and doc["counters"]["workers"] == 3
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    golden = {c["metadata"]["model-name"]: c["golden"] for c in index["cards"]}
    assert set(golden) == set(FORMATS)
    for name, fmt in FORMATS.items():
        assert (golden[name]["status"], golden[name]["correct"], golden[name]["cases"]) == ("passed", 20, 20)
        assert golden[name]["runtime"] == ("2.0.0" if fmt == "mslite" else "2.10.0")
    assert golden["cifar10-cnn-canary-ckpt"]["ran"].endswith(
        "network mindspore_hub_conf.create_network('cifar10-cnn-canary-ckpt') from hub/networks/cifar10-cnn")
    assert "sandboxed" in golden["cifar10-cnn-canary-mindir"]["ran"]

    _, again = publish(root)
    assert again["counters"]["workers"] == 0 and again["counters"]["unchanged"] == 1
    # the network's code changes (a comment is enough: it is what runs): only the checkpoint is verified again,
    # and the run is not the last one replayed (which `again` remembered): the network's folder was part of it
    code_file = root / "hub" / "networks" / "cifar10-cnn" / "cifar10_cnn.py"
    code_file.write_text(code_file.read_text() + "# reviewed\n")
    _, changed = publish(root)
    assert changed["counters"]["workers"] == 1 and changed["counters"]["golden-runs"] == 1
    rerun = [c for c in changed["cards"] if not c["steps"]["golden"].get("cached")]
    assert [Path(c["card"]).stem for c in rerun] == ["cifar10-cnn-canary-ckpt"]

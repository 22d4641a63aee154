"""The MindSpore worker process: its sandbox, its refusal to run repository code without one, its files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, mindspore_env
from hubtool.errors import ModelError, RuntimeUnavailable
from hubtool.golden.network import folder_digest
from hubtool.runtimes.mindspore.client import MindsporeWorker
from hubtool.runtimes.protocol import Network, OpenOptions
from hubtool.runtimes.registry import open_session

CKPT = REPO / "hub" / "assets" / "cifar10-cnn-canary.ckpt"
MINDIR = REPO / "hub" / "assets" / "cifar10-cnn-canary.mindir"
FOLDER = REPO / "hub" / "networks" / "cifar10-cnn"
INPUT = [{"name": "x", "shape": [1, 32, 32, 3], "dtype": "float32"}]
CANARY = Network("module", "mindspore_hub_conf:create_network", FOLDER, ("cifar10-cnn-canary",),
                 location="hub/networks/cifar10-cnn", digest=folder_digest(FOLDER))


def test_hello_reports_versions_and_an_active_sandbox(tmp_path: Path) -> None:
    with MindsporeWorker(mindspore_env(), timeout=120, log_dir=tmp_path) as worker:
        assert worker.hello["mindspore"] == "2.10.0" and worker.hello["mindcv"] == "0.3.0"
        assert worker.hello["python"].startswith("3.11.")
        # this machine allows user, mount and network namespaces (CI runs on the same kind)
        assert worker.sandbox["active"] is True and worker.sandbox["network"] == "none"
        scratch = [p for p in tmp_path.iterdir() if "scratch" in p.name]
        assert len(scratch) == 1
    assert list(tmp_path.iterdir()) == []  # its log and its scratch folder went with it


def test_repository_code_is_refused_without_a_sandbox_unless_the_hub_allows_it(tmp_path: Path) -> None:
    with MindsporeWorker(mindspore_env(), timeout=120, log_dir=tmp_path) as worker:
        worker.hello["sandbox"] = {"active": False, "why": "no namespaces here"}  # as on a machine without them
        with pytest.raises(RuntimeUnavailable, match=r"cannot sandbox it \(no namespaces here\)") as info:
            worker.load(CKPT, "ckpt", INPUT, CANARY)
        assert "allow-unsandboxed-code" in (info.value.hint or "")
        worker.load(CKPT, "ckpt", INPUT, CANARY, allow_unsandboxed=True)
        assert worker.predict([np.zeros((1, 32, 32, 3), np.float32)])[0].shape == (1, 10)


def test_the_checkpoint_loaded_by_hubtool_equals_the_mindir(tmp_path: Path) -> None:
    """The two exports of one network give the same outputs (bit for bit here) on a real image's pixels."""
    pixels = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    outputs = []
    for path, fmt, network in ((CKPT, "ckpt", CANARY), (MINDIR, "mindir", None)):
        options = OpenOptions(timeout=120, network=network, input_shape=(1, 32, 32, 3))
        with open_session(path, fmt, options) as session:
            assert session.input_shapes() == [(1, 32, 32, 3)]
            outputs.append(session.predict([pixels])[0])
    np.testing.assert_array_equal(outputs[0], outputs[1])


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_damaged_mindir_fails_as_the_model_s_fault(tmp_path: Path, cut: float) -> None:
    data = MINDIR.read_bytes()
    broken = tmp_path / hashlib.sha256(data).hexdigest()  # a blob: named by its hash, no suffix
    broken.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ModelError):
        with open_session(broken, "mindir", OpenOptions(timeout=120)) as session:
            session.predict([np.zeros((1, 32, 32, 3), np.float32)])

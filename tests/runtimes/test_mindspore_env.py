"""The managed MindSpore 2.x environment, and real checkpoints written by the framework in it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import mindspore_env, run_cli
from hubtool.assets.ckpt import read_checkpoint
from hubtool.runtimes import managed
from hubtool.runtimes.mindspore import env as mindspore_env_module

# a small network with the parameter kinds real cards' checkpoints hold (float32 and float16, batch norm state)
NET = r"""
import json, sys
import numpy as np
import mindspore as ms
from mindspore import nn

class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, has_bias=True)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Dense(8, 10)
        self.scale = ms.Parameter(ms.Tensor(np.ones((4, 2)), ms.float16), name="scale")
    def construct(self, x):
        return self.fc(nn.ReLU()(self.bn(self.conv(x))).mean((2, 3)))

net = Net()
"""
# saved and read back by MindSpore
SAVE = NET + r"""
ms.save_checkpoint(net, sys.argv[1], append_dict={"epoch_num": 3, "lr": 0.01, "note": "hubtool"})
params = ms.load_checkpoint(sys.argv[1])
print(json.dumps({k: [str(v.dtype), list(v.shape)] for k, v in params.items() if hasattr(v, "shape")}))
"""


def save(tmp_path: Path) -> tuple[Path, dict[str, list[object]]]:
    env = mindspore_env()
    path = tmp_path / "net.ckpt"
    proc = subprocess.run([str(env.python), "-c", SAVE, str(path)], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "GLOG_v": "3", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return path, json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_framework_and_hubtool_read_a_real_checkpoint_alike(tmp_path: Path) -> None:
    path, framework = save(tmp_path)
    found = {p.name: [p.dtype, list(p.shape)] for p in read_checkpoint(path).parameters}
    assert {k: v for k, v in found.items() if k in framework} == framework  # names, types and shapes
    assert framework["scale"] == ["Float16", [4, 2]] and framework["epoch_num"] == ["Int64", []]
    assert read_checkpoint(path).problems == ()
    text = run_cli("inspect", str(path)).output
    assert "a MindSpore checkpoint" in text and "conv.weight Float32 [8, 3, 3, 3]" in text


def test_a_real_checkpoint_cut_short_is_said_to_be_damaged(tmp_path: Path) -> None:
    path, _ = save(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    found = read_checkpoint(path)
    assert found.damaged is not None and found.parameters


def test_status_reports_both_runtimes(tmp_path: Path) -> None:
    mindspore_env()
    result = run_cli("runtime", "status", "--format", "json")
    reports = {r["runtime"]: r for r in json.loads(result.output)["runtimes"]}
    assert set(reports) == {"mindspore-lite", "mindspore"}
    assert reports["mindspore"]["health"] == "ok", reports["mindspore"]
    assert reports["mindspore"]["versions"]["mindspore"] == mindspore_env_module.VERSION


def test_every_requirement_is_pinned_and_hashed() -> None:
    lines = managed.requirements_text(mindspore_env_module.SPEC).replace("\\\n", " ").splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins and all("==" in p and "--hash=sha256:" in p for p in pins)
    assert any(p.startswith(f"mindspore=={mindspore_env_module.VERSION} ") for p in pins)


def test_an_unknown_runtime_is_a_usage_error() -> None:
    result = run_cli("runtime", "install", "tensorflow")
    assert result.exit_code == 2 and "hubtool manages: mindspore-lite, mindspore" in result.output


@pytest.mark.parametrize("python", ["/nonexistent/python", "/bin/sh"])
def test_the_mindspore_env_needs_a_cpython_311(python: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBTOOL_MINDSPORE_PYTHON", python)
    with pytest.raises(Exception) as info:
        mindspore_env_module.find_python311()
    assert "CPython 3.11" in str(info.value)


# exported to MindIR and parsed by MindSpore's own protobuf classes
EXPORT = NET + r"""
from mindspore.train import mind_ir_pb2

net.set_train(False)
ms.export(net, ms.Tensor(np.ones((1, 3, 32, 32), np.float32)), file_name=sys.argv[1], file_format="MINDIR")
model = mind_ir_pb2.ModelProto()
model.ParseFromString(open(sys.argv[1] + ".mindir", "rb").read())
g = model.graph
strip = lambda name: name.split(":", 1)[1] if name.startswith(g.name + ":") else name
ops = [n.op_type[5:].rsplit(":", 1)[0] if n.op_type.startswith("REF::") else n.op_type for n in g.node]
print(json.dumps({"producer": model.producer_name, "ir_version": model.ir_version,
                  "inputs": [[strip(i.name), list(t.dims)] for i in g.input for t in i.tensor],
                  "outputs": [list(t.dims) for o in g.output for t in o.tensor],
                  "parameters": [[strip(p.name), list(p.dims)] for p in g.parameter], "ops": ops}))
"""


def test_the_framework_and_hubtool_read_a_real_mindir_alike(tmp_path: Path) -> None:
    """A network exported by MindSpore 2.10 (export compiles from a source file, so the script is one)."""
    from hubtool.assets.mindir import BOOKKEEPING, read_mindir

    env = mindspore_env()
    script = tmp_path / "export_net.py"
    script.write_text(EXPORT)
    proc = subprocess.run([str(env.python), str(script), str(tmp_path / "net")], capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "GLOG_v": "3", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    framework = json.loads(proc.stdout.strip().splitlines()[-1])
    path = tmp_path / "net.mindir"
    model = read_mindir(path)
    assert (model.producer, model.ir_version) == (framework["producer"], framework["ir_version"])
    assert [[t.name, list(t.shape)] for t in model.inputs] == framework["inputs"]
    assert [list(t.shape) for t in model.outputs] == framework["outputs"] == [[1, 10]]
    assert [[t.name, list(t.shape)] for t in model.parameters] == framework["parameters"]
    assert dict(model.operators) == {op: framework["ops"].count(op) for op in set(framework["ops"]) - BOOKKEEPING}
    assert model.operators["Conv2D"] == 1
    text = run_cli("inspect", str(path)).output
    assert "a MindSpore MindIR model" in text and "input x float32 [1, 3, 32, 32]" in text
    data = path.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 60)):  # damaged copies: a verdict, never a traceback
        (tmp_path / "cut.mindir").write_bytes(data[:cut] + b"\x0a\xff\x01")
        assert run_cli("inspect", str(tmp_path / "cut.mindir")).exit_code == 0

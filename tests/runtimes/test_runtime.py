"""The MindSpore Lite worker against the real runtime and the committed canary model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from helpers import REPO, run_cli, runtime_env
from hubtool.errors import ModelError, RuntimeUnavailable, WorkerCrashed, WorkerHung
from hubtool.runtimes.mslite import env as mslite_env
from hubtool.runtimes.mslite.client import MsliteWorker
from hubtool.runtimes.mslite.spawn import WORKER

CANARY = REPO / "hub" / "assets" / "cifar10-cnn-canary.ms"
REFERENCE = json.loads((REPO / "hub" / "golden" / "cifar10-canary" / "reference-outputs.json").read_text())
IMAGES = REPO / "hub" / "golden" / "cifar10"


def image(name: str) -> np.ndarray:
    with Image.open(IMAGES / name) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float32)[None]


@pytest.fixture(scope="module")
def worker() -> MsliteWorker:
    with MsliteWorker(runtime_env(), timeout=60) as w:
        w.load(CANARY)
        yield w


@pytest.mark.parametrize("script", [WORKER, WORKER.parent.parent / "wire.py"], ids=["worker", "wire"])
def test_worker_is_python37_syntax(script: Path) -> None:
    env = runtime_env()
    code = f"compile(open({str(script)!r}).read(), {str(script)!r}, 'exec')"
    proc = subprocess.run([str(env.base_python), "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_hello_reports_real_versions(worker: MsliteWorker) -> None:
    assert worker.hello["mindspore_lite"] == "2.0.0"
    assert worker.hello["python"].startswith("3.7.")
    assert worker.hello["numpy"] == "1.21.6"


def test_canary_matches_onnxruntime_reference(worker: MsliteWorker) -> None:
    assert [(t.shape, t.dtype) for t in worker.inputs()] == [((1, 32, 32, 3), "float32")]
    correct = 0
    for name, expected in sorted(REFERENCE["outputs"].items()):
        [out] = worker.predict([image(name)])
        assert out.shape == (1, 10)
        np.testing.assert_allclose(out[0], np.array(expected, dtype=np.float32), atol=1e-4, rtol=0)
        correct += int(np.argmax(out) == int(name.split("_")[2].split(".")[0]))
    assert correct == 20


def test_outputs_are_copies_not_views(worker: MsliteWorker) -> None:
    first = worker.predict([image("cifar10_00_3.png")])[0].copy()
    kept = worker.predict([image("cifar10_00_3.png")])[0]
    worker.predict([image("cifar10_01_8.png")])
    np.testing.assert_array_equal(kept, first)


def test_wrong_layout_and_dtype_are_refused(worker: MsliteWorker) -> None:
    nchw = np.transpose(image("cifar10_00_3.png"), (0, 3, 1, 2)).copy()
    with pytest.raises(ModelError, match=r"shape \[1, 3, 32, 32\], the model wants \[1, 32, 32, 3\]"):
        worker.predict([nchw])
    with pytest.raises(ModelError, match="dtype float64"):
        worker.predict([image("cifar10_00_3.png").astype(np.float64)])
    with pytest.raises(ModelError, match="1 inputs, 2 were given"):
        worker.predict([image("cifar10_00_3.png")] * 2)
    assert worker.predict([image("cifar10_00_3.png")])[0].shape == (1, 10)  # still serving


def _corruptions(tmp: Path) -> dict[str, Path]:
    data = CANARY.read_bytes()
    cases = {"truncated": data[: len(data) // 3], "random": np.random.default_rng(7).bytes(len(data)),
             "empty": b"", "flipped-index": bytearray(data)}
    flipped = cases["flipped-index"]
    assert isinstance(flipped, bytearray)
    for i in range(8, 200):  # the FlatBuffers root/vtable area
        flipped[i] ^= 0xA5
    out = {}
    for name, blob in cases.items():
        (tmp / f"{name}.ms").write_bytes(bytes(blob))
        out[name] = tmp / f"{name}.ms"
    (tmp / "a-directory.ms").mkdir()
    out["directory"] = tmp / "a-directory.ms"
    out["missing"] = tmp / "missing.ms"
    return out


@pytest.mark.parametrize("case", ["truncated", "random", "empty", "flipped-index", "directory", "missing"])
def test_corrupted_models_end_in_a_clear_verdict(tmp_path: Path, case: str) -> None:
    path = _corruptions(tmp_path)[case]
    with MsliteWorker(runtime_env(), timeout=60) as w:
        with pytest.raises((ModelError, WorkerCrashed, WorkerHung)) as info:
            w.load(path)
    assert info.value.message  # a sentence, not a bare code
    assert "Common error code" not in info.value.message or info.value.native


def test_ms_loaded_as_mindir_is_refused() -> None:
    with MsliteWorker(runtime_env(), timeout=60) as w:
        with pytest.raises(ModelError, match="load failed"):
            w.load(CANARY, model_type="MINDIR")


def test_killed_worker_is_detected_and_replaced() -> None:
    w = MsliteWorker(runtime_env(), timeout=30).start()
    try:
        assert w.proc is not None
        os.kill(w.proc.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="SIGKILL"):
            w.load(CANARY)
    finally:
        w.close()
    with MsliteWorker(runtime_env()) as fresh:
        fresh.load(CANARY)
        assert fresh.predict([image("cifar10_00_3.png")])[0].shape == (1, 10)


def test_a_closed_worker_is_killed_with_its_files() -> None:
    """close() does not wait for the runtime's own teardown: the process group is killed at once."""
    w = MsliteWorker(runtime_env(), timeout=30).start()
    w.load(CANARY)
    proc, spawned = w.proc, w._spawned
    assert proc is not None and spawned is not None
    w.close()
    assert proc.returncode == -signal.SIGKILL
    assert not spawned.log_path.exists() and not spawned.scratch.exists()
    w.close()  # a second close is a no-op


def test_hung_worker_is_killed_at_the_deadline() -> None:
    w = MsliteWorker(runtime_env(), timeout=1.5).start()
    try:
        assert w.proc is not None
        os.kill(w.proc.pid, signal.SIGSTOP)
        with pytest.raises(WorkerHung, match="within 2 s|within 1 s"):
            w.load(CANARY)
        assert w.proc.poll() is not None  # the process group was killed
    finally:
        w.close()


def test_native_errors_come_back_with_the_failure(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.ms"
    legacy.write_bytes(b"\x10\0\0\0" + bytes(200))
    with MsliteWorker(runtime_env(), timeout=60) as w:
        with pytest.raises((ModelError, WorkerCrashed)) as info:
            w.load(legacy)
    if isinstance(info.value, ModelError):
        assert info.value.native and any("[ERROR]" in line for line in info.value.native)


def lite_report(output: str) -> dict[str, Any]:
    """MindSpore Lite's entry of `runtime status --format json` (which lists every managed runtime)."""
    reports = {r["runtime"]: r for r in json.loads(output)["runtimes"]}
    assert set(reports) == {"mindspore-lite", "mindspore"}
    return reports["mindspore-lite"]  # type: ignore[no-any-return]


def test_runtime_status_reports_real_versions() -> None:
    runtime_env()
    result = run_cli("runtime", "status", "--format", "json")
    report = lite_report(result.output)
    assert result.exit_code == 0 and report["health"] == "ok"
    assert report["versions"]["mindspore_lite"] == "2.0.0" and report["versions"]["python"].startswith("3.7")


def test_no_python37_is_runtime_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = tmp_path / "bin" / "python3.7"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.7: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(shim.parent))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("HUBTOOL_MSLITE_PYTHON", "/bin/false")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RuntimeUnavailable, match="needs a CPython 3.7 interpreter, and none was found") as info:
        mslite_env.find_python37()
    assert "HUBTOOL_MSLITE_PYTHON" in (info.value.hint or "") and "pyenv" in (info.value.hint or "")
    assert info.value.kind == "runtime-unavailable"


def test_the_runtime_make_installs_is_found_with_no_variable_set(tmp_path: Path) -> None:
    """`make` installs beside hubtool's own interpreter; .venv/bin/hubtool finds it from anywhere."""
    runtime_env()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBTOOL_", "XDG_"))}
    env["HOME"] = str(tmp_path)  # no cache dir to fall back on
    proc = subprocess.run([str(Path(sys.executable).with_name("hubtool")), "runtime", "status", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    report = lite_report(proc.stdout)
    assert proc.returncode == 0 and report["health"] == "ok", proc.stdout + proc.stderr
    assert report["env"].startswith(str(Path(sys.prefix) / "hubtool-runtimes")), report["env"]


def test_not_installed_names_the_install_command_and_the_places_searched(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBTOOL_RUNTIME_DIR", str(tmp_path / "empty"))
    result = run_cli("runtime", "status", "--format", "json")
    report = lite_report(result.output)
    assert result.exit_code == 1 and report["health"] == "not installed"
    assert report["searched"] == [str(mslite_env.env_root())] and str(tmp_path / "empty") in report["problem"]
    assert "hubtool runtime install mindspore-lite" in report["problem"]
    with pytest.raises(RuntimeUnavailable) as info:
        mslite_env.require_env()
    assert str(tmp_path / "empty") in info.value.message and "runtime install" in (info.value.hint or "")

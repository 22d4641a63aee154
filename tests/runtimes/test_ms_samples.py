"""Real .ms files made by others (../shared/ms-samples) through inspect, inspect --load and upgrade-ms,
and the operator table inspect judges MSL2 files by, measured again on the installed runtime (issue #14)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import SHARED, run_cli, runtime_env
from hubtool.legacy.msl2_ops import DATA_FILE, data_document
from hubtool.legacy.writer import one_node_msl2
from hubtool.runtimes.mslite.opsprobe import measure

SAMPLES = SHARED / "ms-samples"


def inspected(*args: str) -> dict[str, dict[str, object]]:
    result = run_cli("inspect", "--format", "json", *args, *(str(p) for p in sorted(SAMPLES.glob("*.ms"))))
    assert result.exit_code == 0, result.output
    return {item["path"].rsplit("/", 1)[-1]: item for item in json.loads(result.output)}


def test_the_bytes_say_parseable_and_what_is_known_against_a_load() -> None:
    got = inspected()
    tod, parallel, v0 = got["lenet_tod.ms"], got["mindrt_parallel_model.ms"], got["lenet_train_v1.0.0.ms"]
    assert tod["description"].endswith("(MSL2 format, written by MindSpore Lite 1.2.0): parseable by runtime "
                                       "2.0.0; not yet loaded")
    assert tod["operators"]["MaxPoolGrad"] == 2 and "Adam" in tod["training"]
    [blocker] = tod["blockers"]
    assert "cannot run on CPU (measured on the runtime)" in blocker and "MaxPoolGrad 2" in blocker
    assert parallel["operators"] == {"AddFusion": 1, "Conv2DFusion": 7, "ReduceFusion": 1, "Stack": 3}
    assert parallel["blockers"] == [] and parallel["training"] == {}
    assert "v0 format" in v0["description"] and v0["translatable"] is False
    assert len(v0["refusals"]) == 7  # grouped by operator, not one per node
    text = run_cli("inspect", str(SAMPLES / "mindrt_parallel_model.ms")).output
    assert "nothing in its bytes is known against runtime 2.0.0; `hubtool inspect --load` builds it" in text


def test_load_builds_in_the_real_runtime_and_reports_its_own_words() -> None:
    runtime_env()
    got = inspected("--load")
    tod, parallel = got["lenet_tod.ms"], got["mindrt_parallel_model.ms"]
    assert tod["load"]["status"] == "does-not-build"
    assert any("Unsupported parameter type in Create : MaxPoolGrad" in line for line in tod["load"]["native"])
    assert "does not build in runtime 2.0.0 (--load)" in tod["description"]
    assert parallel["load"]["status"] == "loaded"
    assert parallel["load"]["inputs"] == ["graph_input-0 float32 [1, 2, 4, 4]"]
    assert parallel["description"].endswith("loaded by runtime 2.0.0 (--load)")
    assert "load" not in got["lenet_train_v1.0.0.ms"]  # a v0 file is not handed to 2.0.0


def test_upgrade_ms_on_the_samples(tmp_path: Path) -> None:
    refused = run_cli("upgrade-ms", str(SAMPLES / "lenet_train_v1.0.0.ms"), str(tmp_path / "x.ms"))
    assert refused.exit_code == 1 and not (tmp_path / "x.ms").exists()
    reasons = [line for line in refused.output.splitlines() if line.startswith("  - ")]
    assert len(reasons) == 7 and any("ApplyMomentum" in r and "8 nodes, e.g." in r for r in reasons)
    for msl2 in ("lenet_tod.ms", "mindrt_parallel_model.ms"):
        already = run_cli("upgrade-ms", str(SAMPLES / msl2), str(tmp_path / msl2))
        assert already.exit_code == 1 and "already in the MSL2 format: nothing to translate" in already.output
    missing = run_cli("upgrade-ms", str(SAMPLES / "lenet_train_v1.0.0.ms"), "/nonexistent-dir/x.ms")
    assert missing.exit_code == 2 and "does not exist" in missing.output  # the destination is checked first


def test_the_operator_table_is_what_the_runtime_says() -> None:
    runtime_env()
    committed = json.loads(open(DATA_FILE, encoding="utf-8").read())
    assert data_document(measure(one_node_msl2)) == committed  # re-measured on the installed runtime, every type 1..255
    verdicts = {v["name"]: v["verdict"] for v in committed["types"].values() if v["name"]}
    assert verdicts["MaxPoolGrad"] == "cpu-unsupported" and verdicts["Conv2DFusion"] == "supported"
    assert verdicts["BiasAddGrad"] == "no-cpu-kernel"

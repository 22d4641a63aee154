"""`publish --ledger`: a second machine (an empty store of its own) publishing the same hub runs none of
the steps the first one passed, and writes the same index byte for byte; on a folder and on S3 (moto)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from faultserver import FaultServer
from s3_servers import Server, ledger_location
from test_publish import make_hub

from helpers import run_cli, runtime_env
from hubtool.publish.sharedledger import PREFIX


def _publish(root: Path, machine: str, ledger: str) -> dict:  # type: ignore[type-arg]
    report = root / f"report-{machine}.json"
    result = run_cli("publish", "--to", str(root / f"dist-{machine}" / "hub"), "--store", str(root / machine),
                     "--ledger", ledger, "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                     str(root / "cards"))
    assert result.exit_code in (0, 1), result.output
    return json.loads(report.read_text())  # type: ignore[no-any-return]


@pytest.fixture(params=["folder", "s3"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, moto: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    return ledger_location(request.param, tmp_path, moto, monkeypatch)


def test_a_second_machine_runs_nothing_the_first_passed(tmp_path: Path, server: FaultServer, ledger: str) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    first = _publish(root, "machine-a", ledger)
    assert first["counters"]["golden-runs"] >= 1 and first["counters"]["shared-ledger-hits"] == 0
    second = _publish(root, "machine-b", ledger)  # its own store: an empty local ledger
    c = second["counters"]
    assert c["golden-runs"] == 1 and c["workers"] == 0  # only the legacy card, which failed, runs again
    assert c["shared-ledger-hits"] > 0 and c["shared-ledger-hits"] == c["ledger-hits"]
    canary = [r for r in second["cards"] if r["card"].endswith("canary.md")][0]
    assert canary["steps"]["check"]["cached"] and canary["steps"]["golden"]["cached"]
    a = (root / "dist-machine-a" / "hub" / "index.json").read_bytes()
    assert (root / "dist-machine-b" / "hub" / "index.json").read_bytes() == a
    third = _publish(root, "machine-b", ledger)  # now its own ledger has them: nothing from the shared one
    assert third["counters"]["shared-ledger-hits"] == 0 and third["counters"]["ledger-hits"] > 0


def test_a_damaged_shared_record_is_a_miss_and_the_step_runs(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    shared = tmp_path / "shared-ledger"
    _publish(root, "machine-a", str(shared))
    records = sorted((shared / PREFIX).rglob("*.json"))
    assert records
    damages = [b"", b"{not json", b'{"status": "failed", "step": "golden", "detail": {}}', b"[" * 100_000, None]
    for i, record in enumerate(records):  # truncated, not JSON, another status, too deep, a FIFO: none is a pass
        assert record.stat().st_mode & 0o777 == 0o644  # readable by the other machines' users
        damage = damages[i % len(damages)]
        if damage is None:
            record.unlink()
            os.mkfifo(record)  # a read would wait for a writer forever
        else:
            record.write_bytes(damage)
    shutil.rmtree(root / "machine-b", ignore_errors=True)
    second = _publish(root, "machine-b", str(shared))
    assert second["counters"]["shared-ledger-hits"] == 0 and second["counters"]["golden-runs"] >= 2
    a = (root / "dist-machine-a" / "hub" / "index.json").read_bytes()
    assert (root / "dist-machine-b" / "hub" / "index.json").read_bytes() == a

"""`publish --shard I/N` on n machines, then one `publish --merge`: the published hub equals what one
machine publishing alone writes, byte for byte; the merge runs no step, and refuses to commit while a
card has no outcome for these inputs.  Shards are real processes, each with a store of its own; the
shared ledger is a folder and a bucket (moto)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultserver import FaultServer
from s3_servers import Server, ledger_location
from test_publish import make_hub

from helpers import run_cli, runtime_env
from hubtool.cards.shard import Shard
from hubtool.publish.sharedledger import OUTCOMES

CARDS = ["broken", "canary", "hashonly", "legacy", "mismatch", "unreachable"]


def _hubtool(root: Path, machine: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    report = root / f"report-{machine}.json"
    report.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "publish",
                           "--to", str(root / f"dist-{machine}" / "hub"), "--store", str(root / f"store-{machine}"),
                           "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                           str(root / "cards"), *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=root)
    doc = json.loads(report.read_text()) if report.is_file() else {}
    return done.returncode, doc, done.stdout + done.stderr


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(params=["folder", "s3"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, moto: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    return ledger_location(request.param, tmp_path, moto, monkeypatch)


def test_shards_then_a_merge_publish_what_one_machine_does(tmp_path: Path, server: FaultServer, ledger: str) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    code, alone, out = _hubtool(root, "alone")
    assert code == 1, out  # some cards are held back, for real reasons
    owners = {c: [i for i in (1, 2, 3) if Shard(i, 3).takes(f"cards/u/{c}.md")][0] for c in CARDS}
    for i in (1, 2, 3):
        code, shard, out = _hubtool(root, f"shard{i}", "--shard", f"{i}/3", "--ledger", ledger)
        assert shard["shard"] == f"{i}/3" and shard["generation"] is None, out
        assert sorted(Path(c["card"]).stem for c in shard["cards"]) == sorted(c for c in CARDS if owners[c] == i)
        assert f"shard {i}/3: outcomes recorded, nothing committed" in out
        assert not (root / f"dist-shard{i}").exists()  # a shard commits nothing
    code, merged, out = _hubtool(root, "merge", "--merge", "--ledger", ledger)
    assert code == 1, out
    c = merged["counters"]
    assert c["golden-runs"] == 0 and c["workers"] == 0 and c["requests"] == 0, c  # replayed, nothing run
    assert not [p for p in (root / "store-merge").rglob("*") if "blobs" in p.parts and p.is_file()]
    assert [(r["card"], r["published"], r["held-because"]) for r in merged["cards"]] == \
        [(r["card"], r["published"], r["held-because"]) for r in alone["cards"]]
    generation = _tree(root / "dist-alone" / "hub")
    assert set(generation) >= {"index.json", "index.html", "run.html"}
    assert _tree(root / "dist-merge" / "hub") == generation  # the index, the documents, the catalog
    again, second, out = _hubtool(root, "merge", "--merge", "--ledger", ledger)
    assert second["counters"]["unchanged"] == 1, out
    for i in (1, 2, 3):  # the unchanged hub again, on fresh runners: nothing downloaded, nothing run
        _, rerun, out = _hubtool(root, f"fresh{i}", "--shard", f"{i}/3", "--ledger", ledger)
        c = rerun["counters"]
        published = [r for r in rerun["cards"] if r["published"]]
        assert c["outcomes-reused"] == len(published) and c["workers"] == 0 and c["golden-runs"] <= 1, out
        assert all(s["cached"] for r in published for s in r["steps"].values())
        # only the held-back cards are verified again (a failure may be the network's): one request each
        again = [r for r in rerun["cards"] if not r["published"] and r["steps"]["check"]["status"] == "passed"]
        assert c["requests"] == len(again), out


def test_a_merge_with_a_shard_missing_refuses_and_publishes_nothing(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    shared = str(tmp_path / "shared-ledger")
    absent = max((1, 2, 3), key=lambda i: sum(Shard(i, 3).takes(f"cards/u/{c}.md") for c in CARDS))
    missing = [c for c in CARDS if Shard(absent, 3).takes(f"cards/u/{c}.md")]
    assert missing
    for i in {1, 2, 3} - {absent}:  # one shard never ran (its CI job was cancelled)
        _hubtool(root, f"shard{i}", "--shard", f"{i}/3", "--ledger", shared)
    code, _, out = _hubtool(root, "merge", "--merge", "--ledger", shared)
    assert code == 2 and f"{len(missing)} card" in out and "have no outcome recorded" in out, out
    assert all(f"cards/u/{c}.md" in out for c in missing) and "nothing was published" in out
    assert not (root / "dist-merge").exists()
    _hubtool(root, "late", "--shard", f"{absent}/3", "--ledger", shared)
    code, merged, out = _hubtool(root, "merge", "--merge", "--ledger", shared)
    assert code == 1 and merged["generation"], out


def test_a_rerun_shard_runs_only_what_did_not_pass_and_a_newer_outcome_counts(
        tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    shared = tmp_path / "shared-ledger"
    owner = [i for i in (1, 2, 3) if Shard(i, 3).takes("cards/u/canary.md")][0]
    _, first, _ = _hubtool(root, "shard", "--shard", f"{owner}/3", "--ledger", str(shared))
    assert first["counters"]["golden-runs"] >= 1
    server.add("/gone.ckpt", b"gone")  # the origin is back with the promised bytes
    for i in (1, 2, 3):  # the CI's "re-run all jobs", on fresh machines but the shared ledger
        _, rerun, _ = _hubtool(root, f"rerun{i}", "--shard", f"{i}/3", "--ledger", str(shared))
        if i == owner:
            canary = [r for r in rerun["cards"] if r["card"].endswith("canary.md")][0]
            assert canary["steps"]["golden"]["cached"] and rerun["counters"]["workers"] == 0
    recorded = [p for p in (shared / OUTCOMES).rglob("*.json")]
    assert len(recorded) > len(CARDS)  # the owner's cards have two outcomes each
    code, merged, out = _hubtool(root, "merge", "--merge", "--ledger", str(shared))
    unreachable = [r for r in merged["cards"] if r["card"].endswith("unreachable.md")][0]
    assert unreachable["published"], out  # the newer outcome counts, not the first shard's failure


def test_shard_and_merge_refusals_come_before_any_work(tmp_path: Path) -> None:
    for args, said in [(["--shard", "1/2"], "--shard needs --ledger"),
                       (["--merge"], "--merge needs --ledger"),
                       (["--shard", "1/2", "--merge", "--ledger", "x"], "separate jobs"),
                       (["--merge", "--with-assets", "--ledger", "x"], "--merge --with-assets is not supported"),
                       (["--shard", "/3", "--ledger", "x"], "not I/N"),
                       (["--shard", "4/3", "--ledger", "x"], "out of range")]:
        result = run_cli("publish", "--to", str(tmp_path / "dist"), "--store", str(tmp_path / "store"),
                         str(tmp_path / "nothing-here"), *args)
        assert result.exit_code == 2 and said in result.output, (args, result.output)
    assert not (tmp_path / "store").exists() and not (tmp_path / "dist").exists()
    assert not os.listdir(tmp_path)


def test_two_racing_merges_commit_one_generation(tmp_path: Path, server: FaultServer, ledger: str) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    for i in (1, 2, 3):
        _hubtool(root, f"shard{i}", "--shard", f"{i}/3", "--ledger", ledger)
    to = ledger + "-published" if ledger.startswith("s3://") else str(tmp_path / "published" / "hub")
    reports = [root / f"race-{n}.json" for n in (1, 2)]
    racers = [subprocess.Popen([sys.executable, "-c", "from hubtool.cli import main; main()", "publish", "--merge",
                                "--ledger", ledger, "--to", to, "--store", str(root / f"store-race{n}"),
                                "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                                str(root / "cards")], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
              for n, report in zip((1, 2), reports, strict=True)]
    for racer in racers:
        out, _ = racer.communicate(timeout=300)
        assert racer.returncode == 1, out  # the held-back cards
    docs = [json.loads(r.read_text()) for r in reports]
    assert sorted(d["counters"]["unchanged"] for d in docs) == [0, 1]  # one commits, the other finds it done
    assert docs[0]["generation"] == docs[1]["generation"]
    shown = run_cli("published", "show", "--to", to, "--config", str(root / "hub" / "hub.yaml"))
    assert shown.exit_code == 0 and "u/canary@1.0" in shown.output


def test_a_shard_sigkilled_mid_golden_reruns_only_that_step(tmp_path: Path, server: FaultServer) -> None:
    from test_dask_executor import _runtime_children

    runtime_env()
    root = make_hub(tmp_path, server)
    shared = str(tmp_path / "shared-ledger")
    owner = [i for i in (1, 2, 3) if Shard(i, 3).takes("cards/u/canary.md")][0]
    args = ["publish", "--to", str(root / "dist-shard" / "hub"), "--store", str(root / "store-shard"),
            "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"), "--shard", f"{owner}/3",
            "--ledger", shared]
    shard = subprocess.Popen([sys.executable, "-c", "from hubtool.cli import main; main()", *args], cwd=root,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, seen = time.monotonic() + 120, {}
    while not seen and shard.poll() is None and time.monotonic() < deadline:
        seen = _runtime_children(shard.pid)
        time.sleep(0.01)
    assert seen, "the shard ended before its golden step started"
    shard.send_signal(signal.SIGKILL)  # mid-golden: CI's runner was preempted
    shard.wait(timeout=30)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in seen):
        time.sleep(0.1)
    assert not [pid for pid in seen if Path(f"/proc/{pid}").exists()], "its runtime worker outlived it"
    code, rerun, out = _hubtool(root, "shard", "--shard", f"{owner}/3", "--ledger", shared)
    c = rerun["counters"]
    # the canary's golden step, the one that was cut, is the one step run again; what passed is not
    assert c["golden-runs"] == 1 and c["requests"] == len(
        [x for x in CARDS if Shard(owner, 3).takes(f"cards/u/{x}.md") and x in ("unreachable", "mismatch")]), out
    canary = [r for r in rerun["cards"] if r["card"].endswith("canary.md")][0]
    assert canary["steps"]["check"]["cached"] and canary["steps"]["fetch"]["status"] == "passed"
    assert not canary["steps"]["golden"]["cached"] and canary["steps"]["golden"]["status"] == "passed"

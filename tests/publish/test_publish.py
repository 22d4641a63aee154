"""`hubtool publish` end to end: gating, ledger, atomic generations, kills and concurrent publishers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ckpt_writer import write
from faultserver import FaultServer
from jsonschema import Draft202012Validator

from helpers import CANARY_SHA, REPO, canary_card, card_text, fake_ms, run_cli, runtime_env

INDEX_SCHEMA = json.loads((REPO / "schemas" / "index.schema.json").read_text())
LEGACY = fake_ms(b"\0\0\0\0", "MindSpore Lite 1.0.0")
CKPT = b"\x0a\x05conv1" + bytes(500)


def remote_card(name: str, url: str, sha: str, fmt: str = "ckpt") -> str:
    return card_text(link=url, sha=sha, fmt=fmt, **{"model-name": name})


def make_hub(root: Path, server: FaultServer) -> Path:
    shutil.copytree(REPO / "hub" / "assets", root / "hub" / "assets")
    shutil.copytree(REPO / "hub" / "golden", root / "hub" / "golden")
    (root / "hub" / "hub.yaml").write_text(
        "name: test hub\ngolden:\n  default-sets: {cifar10: cifar10}\n"
        "policy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n  retries: 1\n")
    server.add("/ok.ckpt", CKPT)
    server.add("/legacy.ms", LEGACY)
    server.add("/tampered.ckpt", b"not the promised bytes")
    server.add("/gone.ckpt", b"gone", status=404)
    sha = hashlib.sha256(CKPT).hexdigest()
    cards = {
        "canary.md": canary_card(**{"model-name": "canary"}),
        "broken.md": card_text(**{"model-name": "broken", "used-for": "nonsense"}),
        "mismatch.md": remote_card("mismatch", server.url("/tampered.ckpt"), hashlib.sha256(b"other").hexdigest()),
        "unreachable.md": remote_card("unreachable", server.url("/gone.ckpt"), hashlib.sha256(b"gone").hexdigest()),
        "legacy.md": remote_card("legacy", server.url("/legacy.ms"), hashlib.sha256(LEGACY).hexdigest(), "mslite"),
        "hashonly.md": remote_card("hashonly", server.url("/ok.ckpt"), sha),
    }
    for name, text in cards.items():
        (root / "cards" / "u").mkdir(parents=True, exist_ok=True)
        (root / "cards" / "u" / name).write_text(text)
    return root


def publish(root: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    report = root / "report.json"
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                     str(root / "cards"), *args)
    return result.exit_code, json.loads(report.read_text())


def status(doc: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {Path(c["card"]).stem: ("published" if c["published"] else c["held-because"]) for c in doc["cards"]}


def test_publishes_exactly_the_right_subset(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    code, doc = publish(root)
    assert code == 1
    got = status(doc)
    assert got["canary"] == "published" and got["hashonly"] == "published"
    assert got["broken"].startswith("check failed") and "HUB203" in got["broken"]
    assert got["mismatch"].startswith("fetch failed: integrity failure") and "expected" in got["mismatch"]
    assert got["unreachable"].startswith("fetch failed: network failure") and "HTTP 404" in got["unreachable"]
    assert got["legacy"].startswith("golden failed") and "built by MindSpore Lite 1.0.0" in got["legacy"]
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    Draft202012Validator(INDEX_SCHEMA).validate(index)
    assert [c["id"] for c in index["cards"]] == ["u/canary@1.0", "u/hashonly@1.0"]
    canary = index["cards"][0]
    assert canary["golden"]["status"] == "passed" and canary["golden"]["correct"] == 20
    assert index["cards"][1]["golden"]["status"] == "skipped"
    assert "hash and inspection only" in index["cards"][1]["golden"]["reason"]
    for card in index["cards"]:
        doc_path = root / "dist" / "hub" / card["document"]
        assert json.loads(doc_path.read_text())["id"] == card["id"]


def test_rerun_is_served_from_the_ledger_and_byte_identical(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    publish(root)
    first = (root / "dist" / "hub" / "index.json").read_bytes()
    hits_before = sum(r.hits for r in server.routes.values())
    code, doc = publish(root)
    assert code == 1
    assert (root / "dist" / "hub" / "index.json").read_bytes() == first
    c = doc["counters"]
    assert c["unchanged"] == 1 and len(list((root / "dist" / "hub.generations").glob("0*"))) == 1
    # only failures are looked at again: the broken card is parsed, the legacy one re-inspected (no worker)
    assert c["workers"] == 0 and c["parsed"] == 1 and c["golden-runs"] == 1
    # the cards that failed at fetch are tried again; nothing that passed is downloaded
    assert sum(r.hits for r in server.routes.values()) - hits_before == 2
    canary = [c for c in doc["cards"] if c["card"].endswith("canary.md")][0]
    assert canary["steps"]["check"]["cached"] and canary["steps"]["golden"]["cached"]


def _rewrite_check_records(store: Path, change: Callable[[dict], None]) -> int:  # type: ignore[type-arg]
    """Apply `change` to every passed check record's detail in the store's ledger; how many there were."""
    db = sqlite3.connect(store / "ledger.sqlite")
    rows = db.execute("SELECT key, detail FROM verdicts WHERE step = 'check'").fetchall()
    for key, detail in rows:
        doc = json.loads(detail)
        change(doc)
        db.execute("UPDATE verdicts SET detail = ? WHERE key = ?", (json.dumps(doc), key))
    db.commit()
    db.close()
    return len(rows)


def test_check_records_keep_metadata_as_text_and_older_or_damaged_ones_are_handled(
        tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    publish(root)
    first = (root / "dist" / "hub" / "index.json").read_bytes()
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    detail = json.loads(db.execute("SELECT detail FROM verdicts WHERE step = 'check' LIMIT 1").fetchone()[0])
    db.close()
    assert isinstance(detail["metadata-json"], str) and "metadata" not in detail

    def as_older_record(doc: dict) -> None:  # type: ignore[type-arg]
        doc["metadata"] = json.loads(doc.pop("metadata-json"))

    passed = _rewrite_check_records(root / "store", as_older_record)
    assert passed == 5  # every card but the broken one
    code, doc = publish(root)
    assert doc["counters"]["parsed"] == 1 and doc["counters"]["unchanged"] == 1  # only the broken card again
    assert (root / "dist" / "hub" / "index.json").read_bytes() == first

    def damaged(doc: dict) -> None:  # type: ignore[type-arg]
        doc.pop("metadata", None)
        doc["metadata-json"] = '{"model-name": '  # not JSON: a miss, never a crash later
    _rewrite_check_records(root / "store", damaged)
    code, doc = publish(root)
    assert doc["counters"]["parsed"] == 6 and doc["counters"]["unchanged"] == 1
    assert (root / "dist" / "hub" / "index.json").read_bytes() == first


def test_the_index_is_the_same_from_any_working_directory(tmp_path: Path, server: FaultServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub published from CI (another folder) and from a checkout names its cards alike: no new generation."""
    runtime_env()
    root = make_hub(tmp_path / "hub-root", server)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    publish(root)
    first = (root / "dist" / "hub" / "index.json").read_bytes()
    monkeypatch.chdir(root)
    code, doc = publish(root)
    assert doc["counters"]["unchanged"] == 1
    # and reuses every remembered step: only the card that fails its check is parsed again
    assert doc["counters"]["parsed"] == 1 and doc["counters"]["workers"] == 0
    assert (root / "dist" / "hub" / "index.json").read_bytes() == first
    assert sorted(c["card"] for c in json.loads(first)["cards"]) == ["cards/u/canary.md", "cards/u/hashonly.md"]


def test_a_damaged_checkpoint_is_held_back_by_inspect(tmp_path: Path) -> None:
    """Its hash is the card's, yet it is cut short: what was uploaded is not the model (a broken upload)."""
    assets = tmp_path / "hub" / "assets"
    assets.mkdir(parents=True)
    whole = write(assets / "whole.ckpt")
    (assets / "cut.ckpt").write_bytes(whole[:-100])
    (tmp_path / "hub" / "hub.yaml").write_text("name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    for name in ("whole", "cut"):
        data = (assets / f"{name}.ckpt").read_bytes()
        (tmp_path / "cards" / "u").mkdir(parents=True, exist_ok=True)
        (tmp_path / "cards" / "u" / f"{name}.md").write_text(card_text(
            link=f"hub/assets/{name}.ckpt", sha=hashlib.sha256(data).hexdigest(), **{"model-name": name}))
    code, doc = publish(tmp_path)
    assert code == 1
    got = status(doc)
    assert got["whole"] == "published"
    assert got["cut"].startswith("inspect failed: asset 0 is a MindSpore checkpoint: 2 parameters")
    assert "damaged after them" in got["cut"]
    index = json.loads((tmp_path / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/whole@1.0"]


def test_changing_one_card_reverifies_only_it(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    for name in ("broken", "mismatch", "unreachable", "legacy"):
        (root / "cards" / "u" / f"{name}.md").unlink()
    publish(root)
    card = root / "cards" / "u" / "hashonly.md"
    card.write_text(card.read_text().replace("summary: s", "summary: changed"))
    code, doc = publish(root)
    assert code == 0
    assert doc["counters"]["parsed"] == 1 and doc["counters"]["workers"] == 0
    steps = {Path(c["card"]).stem: c["steps"] for c in doc["cards"]}
    assert steps["canary"]["check"]["cached"] and not steps["hashonly"]["check"]["cached"]


def test_golden_set_change_reruns_golden_only_where_used(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    publish(root)
    spec = root / "hub" / "golden" / "cifar10-canary" / "golden.yaml"
    spec.write_text(spec.read_text() + "# a change\n")
    _, doc = publish(root)
    assert doc["counters"]["workers"] == 1  # the canary's set changed; the legacy card fails before a worker


def test_offline_and_allow_unverified(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    code, doc = publish(root, "--offline")
    got = status(doc)
    assert got["canary"] == "published"  # its asset is in the repository
    assert got["hashonly"].startswith("fetch offline: not verified (offline)")
    assert sum(r.hits for r in server.routes.values()) == 0
    code, doc = publish(root, "--offline", "--allow-unverified")
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    Draft202012Validator(INDEX_SCHEMA).validate(index)
    hashonly = [c for c in index["cards"] if c["id"] == "u/hashonly@1.0"][0]
    assert hashonly["verified"] is False and hashonly["golden"]["status"] == "offline"


def test_with_assets_publishes_verified_files(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    publish(root, "--with-assets")
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    for card in index["cards"]:
        for asset in card["assets"]:
            data = (root / "dist" / "hub" / asset["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == asset["sha256"]
    assert (root / "dist" / "hub" / f"blobs/sha256/{CANARY_SHA[:2]}/{CANARY_SHA}").is_file()


def _publish_proc(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from hubtool.cli import main; main()", "publish",
                             "--to", str(root / "dist" / "hub"), "--store", str(root / "store"), "--config",
                             str(root / "hub" / "hub.yaml"), str(root / "cards"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _assert_readable(dest: Path) -> bytes:
    data = (dest / "index.json").read_bytes()
    index = json.loads(data)
    Draft202012Validator(INDEX_SCHEMA).validate(index)
    for card in index["cards"]:
        assert (dest / card["document"]).is_file()
    return data


def test_killed_publish_leaves_the_previous_hub_intact(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    publish(root)
    dest = root / "dist" / "hub"
    before = _assert_readable(dest)
    for delay in (0.05, 0.2, 0.4, 0.7, 1.0, 1.5):
        proc = _publish_proc(root, "--no-cache")
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert _assert_readable(dest) == before  # old or new generation: both hold the same cards
    assert not [p for p in (root / "dist" / "hub.generations").iterdir() if p.name.startswith(".staging")
                and p.name.endswith(str(os.getpid()))]


def test_two_concurrent_publishers_end_consistent(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    procs = [_publish_proc(root, "--no-cache") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], outs
    _assert_readable(root / "dist" / "hub")
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the second publisher waited for the first and found the same hub already published
    assert len(sorted((root / "dist" / "hub.generations").glob("0*"))) == 1


def test_junit_report_and_text_table(tmp_path: Path, server: FaultServer) -> None:
    import xml.etree.ElementTree as ET

    runtime_env()
    root = make_hub(tmp_path, server)
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--report", f"junit:{root / 'r.xml'}", "--config", str(root / "hub" / "hub.yaml"),
                     str(root / "cards"))
    assert result.exit_code == 1
    suite = ET.parse(root / "r.xml").getroot()
    assert suite.get("tests") == str(6 * 4)
    failed = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase") if c.find("failure") is not None}
    assert {Path(card).stem + ":" + step for card, step in failed} == {
        "broken:check", "mismatch:fetch", "unreachable:fetch", "legacy:golden"}
    lines = result.output.splitlines()
    assert lines[0].split() == ["card", "check", "fetch", "inspect", "golden", "result"]
    assert "6 cards: 2 published, 4 held back" in result.output
    assert run_cli("publish", "--report", "xml:out", str(root / "cards")).exit_code == 2


def test_published_show_and_gc_on_a_folder(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server)
    for name in ("broken", "mismatch", "unreachable", "legacy"):
        (root / "cards" / "u" / f"{name}.md").unlink()
    dest = root / "dist" / "hub"
    for summary in ("one", "two", "three", "four"):  # four generations; a publish keeps the newest three
        card = root / "cards" / "u" / "hashonly.md"
        card.write_text(re.sub(r"(?m)^summary: .*$", f"summary: {summary}", card.read_text()))
        assert publish(root)[0] == 0
    generations = sorted(p.name for p in (root / "dist" / "hub.generations").iterdir())
    assert generations == ["00000002", "00000003", "00000004"]
    shown = run_cli("published", "show", "--to", str(dest))
    assert shown.exit_code == 0, shown.output
    assert "00000004" in shown.output and "u/canary@1.0  verified  golden passed 20/20" in shown.output
    as_json = json.loads(run_cli("published", "show", "--to", str(dest), "--format", "json").output)
    assert as_json == json.loads((dest / "index.json").read_text())
    kept = run_cli("published", "gc", "--to", str(dest), "--keep", "1", "--grace-hours", "0")
    assert kept.exit_code == 0 and "2 objects removed" in kept.output
    assert sorted(p.name for p in (root / "dist" / "hub.generations").iterdir()) == ["00000004"]
    _assert_readable(dest)
    assert run_cli("published", "show", "--to", str(tmp_path / "nothing")).exit_code == 2


def test_a_twin_in_the_hubs_own_dialect_gates_its_english_card(tmp_path: Path) -> None:
    """The seed's real `_cn` twin is no YAML (`模型名称：...`): read and compared, it holds the English
    card back only for a real disagreement, and says which."""
    (tmp_path / "cards" / "noah-cvlab").mkdir(parents=True)
    for name in ("plain-CNN-resnet50.md", "plain-CNN-resnet50_cn.md"):
        shutil.copy(REPO / "cards" / "noah-cvlab" / name, tmp_path / "cards" / "noah-cvlab" / name)
    config = tmp_path / "hub" / "hub.yaml"
    config.parent.mkdir()
    base = "name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n"
    config.write_text(base + 'per-path:\n  "noah-cvlab/*_cn.md": {HUB301: warning}\n')
    for _ in range(2):  # the second run is served from the ledger, with the same verdict
        _, doc = publish(tmp_path, "--offline")
        [card] = doc["cards"]
        assert card["steps"]["check"]["status"] == "passed" and "offline" in card["held-because"]
    config.write_text(base)  # now the author's disagreement is an error
    _, doc = publish(tmp_path, "--offline")
    [card] = doc["cards"]
    assert card["steps"]["check"]["status"] == "failed"
    assert "plain-CNN-resnet50_cn.md fails the check: 1 error(s)" in card["held-because"]
    assert "HUB301 'author' (作者) differs" in card["held-because"]

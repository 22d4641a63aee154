"""The whole-hub shortcut (publish/unchanged.py): a re-publish of an unchanged hub replays the last run,
and anything that run depended on, once moved, sends the next run down the normal path."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faultserver import FaultServer

from helpers import REPO, canary_card, card_text, run_cli, runtime_env
from hubtool import filestatus
from hubtool.assets.layout import blob_rel
from hubtool.cards.places import absolute_paths, card_places, display_path, hub_path
from hubtool.golden.network import folder_digest
from hubtool.golden.sets import GoldenSets
from hubtool.publish import checkstep, directory, unchanged
from hubtool.publish.directory import DirectoryTarget

CONFIG = ("name: replay hub\ncard:\n  template-keys: [paper]\nrules:\n  HUB306: warning\n"
          "policy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
          "  allow-private-addresses: ['127.0.0.1']\n  retries: 1\n")


@pytest.fixture(autouse=True)
def settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled as soon as they are written (filestatus.SETTLE_NS): a test runs its publishes
    seconds apart, and a run right after a fetch is otherwise not remembered (the last tests here)."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)


def body(i: int) -> bytes:
    return f"checkpoint {i} ".encode() * 40


def make_hub(root: Path, server: FaultServer, *, count: int = 3, canary: bool = False, copy: bool = False) -> Path:
    shutil.copytree(REPO / "hub" / "assets", root / "hub" / "assets")
    shutil.copytree(REPO / "hub" / "golden", root / "hub" / "golden")
    (root / "hub" / "hub.yaml").write_text(CONFIG)
    folder = root / "cards" / "u"
    folder.mkdir(parents=True)
    for i in range(count):
        server.add(f"/m{i}.ckpt", body(i))
        (folder / f"m{i}.md").write_text(card_text(link=server.url(f"/m{i}.ckpt"),
                                                   sha=hashlib.sha256(body(i)).hexdigest(),
                                                   **{"model-name": f"m{i}"}))
    if canary:
        (folder / "canary.md").write_text(canary_card(**{"model-name": "canary"}))
    if copy:  # another model with m0's file, beside it: HUB306 (a warning here), found across cards on every run
        (folder / "copy.md").write_text(card_text(link=server.url("/m0.ckpt"), sha=hashlib.sha256(body(0)).hexdigest(),
                                                  **{"model-name": "copy"}))
    return root


def publish(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    report = root / "report.json"
    report.unlink(missing_ok=True)
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                     str(root / "cards"), *args)
    return result.exit_code, json.loads(report.read_text()), result.output


def settled(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """Publish, then re-publish once (the run that is remembered); that re-run's outcome."""
    publish(root, *args)
    code, doc, out = publish(root, *args)
    assert doc["counters"]["unchanged"] == 1 and doc["counters"]["replayed"] == 0
    return code, doc, out


def generations(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "dist" / "hub.generations").iterdir())


def test_an_unchanged_hub_replays_its_last_run_exactly(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server, canary=True, copy=True)
    code, normal, text = settled(root)
    before, hits = generations(root), sum(r.hits for r in server.routes.values())
    replayed_code, replayed, replayed_text = publish(root)
    assert replayed["counters"]["replayed"] == 1 and replayed["counters"]["unchanged"] == 1
    assert (replayed_code, replayed["cards"], replayed["summary"]) == (code, normal["cards"], normal["summary"])
    assert replayed["generation"] == normal["generation"] and generations(root) == before
    assert sum(r.hits for r in server.routes.values()) == hits  # nothing was asked of the network
    assert replayed["counters"]["workers"] == 0 and replayed["counters"]["parsed"] == 0
    # the findings across cards (a served check keeps only its count of warnings) are replayed with their places
    assert sum(d["code"] == "HUB306" and d["line"] > 0 for c in replayed["cards"] for d in c["diagnostics"]) == 1
    # the table differs in its last lines only
    assert replayed_text.splitlines()[:-2] == text.splitlines()[:-2]
    assert "replayed" in replayed_text.splitlines()[-1]
    for fmt in ("json", "github"):  # each as the normal path prints it (the ledger told something new)
        _ledger_learns(root)
        normal_code, _, normal_out = publish(root, "--format", fmt)
        replayed_code, doc, out = publish(root, "--format", fmt)
        assert doc["counters"]["replayed"] == 1 and replayed_code == normal_code
        if fmt == "json":
            assert json.loads(out)["cards"] == json.loads(normal_out)["cards"]
        else:
            assert out == normal_out and out.count("HUB306") == 1


def _edit_card(root: Path) -> None:
    with (root / "cards" / "u" / "m0.md").open("a") as f:
        f.write("\nMore text.\n")


def _add_card(root: Path) -> None:
    text = (root / "cards" / "u" / "m0.md").read_text()
    (root / "cards" / "u" / "new.md").write_text(text.replace("model-name: m0", "model-name: new"))


def _remove_card(root: Path) -> None:
    (root / "cards" / "u" / "m2.md").unlink()


def _delete_blob(root: Path) -> None:
    (root / "store" / blob_rel(hashlib.sha256(body(1)).hexdigest())).unlink()


def _touch_hub_yaml(root: Path) -> None:
    (root / "hub" / "hub.yaml").write_text(CONFIG + "# a comment\n")


def _ledger_learns(root: Path) -> None:
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    db.execute("INSERT OR REPLACE INTO verdicts VALUES ('another key', 'inspect', 'passed', '{}', 0)")
    db.commit()
    db.close()


def _forget_a_verdict(root: Path) -> None:
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    db.execute("DELETE FROM verdicts WHERE rowid = (SELECT min(rowid) FROM verdicts WHERE step = 'check')")
    db.commit()
    db.close()


def _verdict_recorded_again(root: Path) -> None:
    """A check verdict written again under its key (as a --no-cache run elsewhere does): a new row."""
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    key, detail = db.execute("SELECT key, detail FROM verdicts WHERE step = 'check' LIMIT 1").fetchone()
    db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, 'check', 'passed', ?, 0)", (key, detail))
    db.commit()
    db.close()


def _another_publisher(root: Path) -> None:
    """Someone publishes another state of the hub to the same place (from their own checkout and store)."""
    other = root.parent / f"{root.name}-other"
    shutil.copytree(root / "cards", other / "cards")
    shutil.copytree(root / "hub", other / "hub")
    (other / "cards" / "u" / "m2.md").unlink()
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(other / "store"),
                     "--config", str(other / "hub" / "hub.yaml"), str(other / "cards"))
    assert result.exit_code == 0, result.output


def _index_gone(root: Path) -> None:
    """The published generation's index.json deleted (the target cannot say what it holds)."""
    (root / "dist" / "hub" / "index.json").unlink()


def _index_rewritten_in_place(root: Path) -> None:
    """Other bytes of the same size in the published index.json, its mtime set back: its status still changes
    (the ctime), which is what a replay compares instead of hashing 10k cards' index."""
    index = (root / "dist" / "hub" / "index.json").resolve()
    before = index.stat()
    data = bytearray(index.read_bytes())
    data[data.index(b'"m0"') + 2] = ord("x")
    index.write_bytes(bytes(data))
    os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert index.stat().st_size == before.st_size and index.stat().st_mtime_ns == before.st_mtime_ns


MOVES: dict[str, Callable[[Path], None]] = {
    "a card edited": _edit_card, "a card added": _add_card, "a card removed": _remove_card,
    "a blob deleted from the store": _delete_blob, "hub.yaml changed": _touch_hub_yaml,
    "the ledger learned a verdict": _ledger_learns, "the ledger lost a verdict": _forget_a_verdict,
    "a verdict recorded again": _verdict_recorded_again,
    "another publisher moved the target": _another_publisher, "the published index deleted": _index_gone,
    "the published index rewritten in place": _index_rewritten_in_place,
}


@pytest.mark.parametrize("move", list(MOVES))
def test_whatever_moved_takes_the_normal_path(tmp_path: Path, server: FaultServer, move: str) -> None:
    root = make_hub(tmp_path / "hub", server)
    settled(root)
    MOVES[move](root)
    hits = sum(r.hits for r in server.routes.values())
    code, doc, _ = publish(root)
    assert doc["counters"]["replayed"] == 0, move
    assert code == 0 and doc["summary"]["held-back"] == 0
    if move == "a blob deleted from the store":
        assert sum(r.hits for r in server.routes.values()) == hits + 1  # fetched again
    if move in ("a card edited", "hub.yaml changed"):
        assert doc["counters"]["parsed"] >= 1
    if move in ("another publisher moved the target", "the published index deleted",
                "the published index rewritten in place"):  # published again
        assert doc["counters"]["unchanged"] == 0 and len(doc["cards"]) == 3
    # and once the hub holds still again, its re-runs replay again: as the normal path would say them
    _, normal, _ = publish(root)
    _, again, _ = publish(root)
    assert again["counters"]["replayed"] == 1 and again["cards"] == normal["cards"]
    assert all(c["steps"]["check"]["cached"] for c in again["cards"])


@pytest.mark.parametrize("option", [("--offline",), ("--allow-unverified",), ("--with-assets",), ("--jobs", "1")])
def test_other_options_are_another_run(tmp_path: Path, server: FaultServer, option: tuple[str, ...]) -> None:
    root = make_hub(tmp_path, server)
    settled(root)
    doc = publish(root, *option)[1]
    # --jobs changes nothing a verdict depends on: the same run
    assert doc["counters"]["replayed"] == (1 if option[0] == "--jobs" else 0)


def test_a_generation_published_by_another_after_the_commit_is_not_remembered(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found unchanged, then another publisher's generation lands before the run is remembered: the run
    describes the generation it compared with, not the new one, so it is not kept."""
    root = make_hub(tmp_path, server)
    publish(root)
    real = DirectoryTarget.state
    monkeypatch.setattr(DirectoryTarget, "state", lambda self: real(self)._replace(
        where=str(root / "dist" / "hub.generations" / "00000002")))
    assert publish(root)[1]["counters"]["unchanged"] == 1
    monkeypatch.undo()
    assert publish(root)[1]["counters"]["replayed"] == 0


def test_no_cache_never_replays(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server)
    settled(root)
    doc = publish(root, "--no-cache")[1]
    assert doc["counters"]["replayed"] == 0 and doc["counters"]["parsed"] == 3


def test_another_working_directory_is_another_report(tmp_path: Path, server: FaultServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server)
    settled(root)
    monkeypatch.chdir(root / "cards")  # the report names each card relative to it
    doc = publish(root)[1]
    assert doc["counters"]["replayed"] == 0 and doc["cards"][0]["card"] == "u/m0.md"


def test_another_runtime_or_hubtool_is_another_run(tmp_path: Path, server: FaultServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server)
    settled(root)
    assert publish(root)[1]["counters"]["replayed"] == 1
    monkeypatch.setattr("hubtool.runtimes.installed.managed_identities", lambda: {"mindspore-lite": "9.9"})
    assert publish(root)[1]["counters"]["replayed"] == 0
    monkeypatch.undo()
    monkeypatch.setattr(unchanged, "code_identity", lambda: "an edited checkout")
    assert publish(root)[1]["counters"]["replayed"] == 0


def test_a_blob_changed_in_place_is_caught_with_assets(tmp_path: Path, server: FaultServer) -> None:
    """The replay sees the blob's new status and takes the normal path, whose fetch sees the blob's bytes are
    no longer its name's (`assets.proofs`): fetched again, and the hub published with the right bytes."""
    root = make_hub(tmp_path, server)
    settled(root, "--with-assets")
    assert publish(root, "--with-assets")[1]["counters"]["replayed"] == 1
    blob = root / "store" / blob_rel(hashlib.sha256(body(1)).hexdigest())
    stat = blob.stat()
    os.chmod(blob, 0o644)
    blob.write_bytes(body(1).replace(b"checkpoint", b"Checkpoint"))  # same size, other bytes
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime: ctime still moves
    code, doc, _ = publish(root, "--with-assets")
    assert doc["counters"]["replayed"] == 0 and code == 0
    assert all(c["published"] for c in doc["cards"]) and blob.read_bytes() == body(1)
    published = root / "dist" / "hub" / blob_rel(hashlib.sha256(body(1)).hexdigest())
    assert published.read_bytes() == body(1)


def test_a_changed_golden_set_runs_golden_again(tmp_path: Path, server: FaultServer) -> None:
    runtime_env()
    root = make_hub(tmp_path, server, count=1, canary=True)
    settled(root)
    assert publish(root)[1]["counters"]["replayed"] == 1
    with (root / "hub" / "golden" / "cifar10-canary" / "reference-outputs.json").open("a") as f:
        f.write("\n")  # not golden.yaml, which the check fingerprint reads: a file of the set only
    doc = publish(root)[1]
    assert doc["counters"]["replayed"] == 0 and doc["counters"]["golden-runs"] == 1


def test_held_back_cards_are_looked_at_on_every_run(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server)
    server.add("/m1.ckpt", b"", status=503)  # a network failure: transient
    (root / "cards" / "u" / "broken.md").write_text(card_text(**{"model-name": "broken", "used-for": "nonsense"}))
    for _ in range(3):
        code, doc, _ = publish(root)
        assert code == 1 and doc["counters"]["replayed"] == 0
        assert doc["counters"]["parsed"] >= 1 and doc["counters"]["requests"] >= 1
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM verdicts WHERE step = 'hub-run'").fetchone()[0] == 0
    db.close()


def _damage(root: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    key, detail = db.execute("SELECT key, detail FROM verdicts WHERE step = 'hub-run'").fetchone()
    doc = json.loads(detail)
    changed = change(doc)
    text = changed if isinstance(changed, str) else json.dumps(doc)
    db.execute("UPDATE verdicts SET detail = ? WHERE key = ?", (text, key))
    db.commit()
    db.close()


def _finding(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(d for row in doc["runs"] if len(row) > 2 for d in row[2])
    return found


DAMAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not JSON": lambda doc: "{not json",
    "nested past json's recursion": lambda doc: "[" * 100_000 + "]" * 100_000,
    "a list": lambda doc: "[]",
    "another record version": lambda doc: doc.update(record=99),
    "runs not a list": lambda doc: doc.update(runs="x"),
    "a row cut short": lambda doc: doc["runs"][0].pop(),
    "a step cut short": lambda doc: doc["steps"][0].pop(),
    "a verdict out of range": lambda doc: doc["runs"][0].__setitem__(0, 99),
    "a negative verdict": lambda doc: doc["runs"][0].__setitem__(0, -1),
    "a verdict that is no number": lambda doc: doc["runs"][0].__setitem__(0, "0"),
    "a row more": lambda doc: doc["runs"].append([0, 0]),
    "an unknown severity": lambda doc: _finding(doc).update(severity="fatal"),
    "a line that is no number": lambda doc: _finding(doc).update(line="x"),
    "a finding cut short": lambda doc: _finding(doc).pop("hint"),
    "blobs not a mapping": lambda doc: doc.update(blobs=[]),
    "a blob's identity changed": lambda doc: doc["blobs"].update({k: [0] for k in doc["blobs"]}),
    "golden naming an unknown input": lambda doc: doc["golden"].update({"other:x": "y"}),
    "golden naming a missing set": lambda doc: doc["golden"].update({"set:nowhere": "y"}),
    "golden naming a missing folder": lambda doc: doc["golden"].update({"network:/nowhere": "y"}),
    "the target not a list": lambda doc: doc.update(target=None),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_memory_is_a_miss(tmp_path: Path, server: FaultServer, damage: str) -> None:
    root = make_hub(tmp_path, server, copy=True)
    _, normal, _ = settled(root)
    _damage(root, DAMAGES[damage])
    code, doc, _ = publish(root)
    assert code == 0 and doc["counters"]["replayed"] == 0 and doc["cards"] == normal["cards"]
    assert any(c["diagnostics"] for c in doc["cards"])
    assert publish(root)[1]["counters"]["replayed"] == 1  # remembered afresh


def test_golden_inputs_are_compared_by_content(tmp_path: Path) -> None:
    shutil.copytree(REPO / "hub" / "golden", tmp_path / "hub" / "golden")
    network = tmp_path / "hub" / "networks" / "net"
    network.mkdir(parents=True)
    (network / "mindspore_hub_conf.py").write_text("def create_network(name):\n    return None\n")
    sets = GoldenSets(tmp_path)
    inputs = {"set:cifar10-canary": sets.get("cifar10-canary").content_sha256,
              f"network:{network}": folder_digest(network)}
    assert unchanged._same_golden(inputs, GoldenSets(tmp_path))
    (network / "helper.py").write_text("X = 1\n")  # a file more in the network's folder
    assert not unchanged._same_golden(inputs, GoldenSets(tmp_path))


@pytest.mark.parametrize("cwd", ["root", "inside", "elsewhere"])
def test_card_places_are_the_display_and_hub_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str) -> None:
    root = tmp_path / "hub"
    files = [str(root / "cards" / "u" / "a.md"), "cards/b c.md", str(tmp_path / "outside" / "x.md"),
             str(root / "cards" / "ü" / "ï_cn.md"), str(root) + "-sibling/d.md", "cards/../cards/e.md", "./f.md",
             "g.md", str(root / "cards" / "u" / ".." / "h.md"), "/i.md"]
    (root / "cards").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir({"root": root, "inside": root / "cards", "elsewhere": tmp_path / "elsewhere"}[cwd])
    assert card_places(files, root) == [(display_path(f), hub_path(Path(f), root)) for f in files]
    assert absolute_paths(files) == [os.path.abspath(f) for f in files]


def hub_with_a_repository_file(tmp_path: Path, server: FaultServer) -> Path:
    """One card with a downloaded asset, and one whose asset is a file of the hub (hub/files/r.ckpt)."""
    root = make_hub(tmp_path, server, count=1)
    data = b"\x0a\x05conv1" + bytes(500)
    (root / "hub" / "files").mkdir()
    (root / "hub" / "files" / "r.ckpt").write_bytes(data)
    (root / "cards" / "u" / "r.md").write_text(card_text(link="hub/files/r.ckpt", sha=hashlib.sha256(data).hexdigest(),
                                                         **{"model-name": "r"}))
    return root


def test_a_repository_file_gone_fails_the_check_it_had_passed(tmp_path: Path, server: FaultServer) -> None:
    """HUB405 reads the disk: a card whose asset is a file of the hub passes only while the file is there, on
    the normal path (a served pass) and replayed."""
    root = hub_with_a_repository_file(tmp_path, server)
    settled(root)
    assert publish(root)[1]["counters"]["replayed"] == 1
    (root / "hub" / "files" / "r.ckpt").unlink()
    for replayed in (0, 0):  # and the normal path does not serve the check it passed before either
        code, doc, _ = publish(root)
        held = {Path(c["card"]).stem: c["held-because"] for c in doc["cards"] if not c["published"]}
        assert doc["counters"]["replayed"] == replayed and code == 1
        assert list(held) == ["r"] and "HUB405" in held["r"], held


@pytest.mark.parametrize("fresh", ["blob", "repository file", "published index"])
def test_a_run_right_after_a_write_is_not_remembered(tmp_path: Path, server: FaultServer,
                                                     monkeypatch: pytest.MonkeyPatch, fresh: str) -> None:
    """A status taken in the same tick of the clock as a write would miss a second write in that tick
    (filestatus.settled): a run whose blob, repository file or published index has not settled is not kept,
    the next is."""
    root = hub_with_a_repository_file(tmp_path, server)
    publish(root)
    watched = {"repository file": root / "hub" / "files" / "r.ckpt",
               "published index": (root / "dist" / "hub" / "index.json").resolve(),
               "blob": root / "store" / blob_rel(hashlib.sha256(body(0)).hexdigest())}[fresh]
    inode = watched.stat().st_ino
    module = directory if fresh == "published index" else unchanged
    monkeypatch.setattr(module, "settled", lambda found, now: found.st_ino != inode)
    for _ in range(2):  # the record is not kept, so each run takes the normal path
        code, doc, _ = publish(root)
        assert code == 0 and doc["counters"]["unchanged"] == 1 and doc["counters"]["replayed"] == 0
    monkeypatch.setattr(module, "settled", lambda found, now: True)  # time passes
    publish(root)
    assert publish(root)[1]["counters"]["replayed"] == 1


def test_a_link_that_may_be_a_repository_path_is_never_missed() -> None:
    """The check's cheap look at the metadata text before decoding it: every link without "://" must be seen."""
    rng = random.Random(7)
    pieces = ["://", ":/", "/", ":", '"', "\\", "\\\"", "http", "hub/assets/a.ms", "é", "\u2028", " ", "\n", "\t", "x"]
    for _ in range(4000):
        link = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        text = json.dumps({"asset": [{"asset-link": "https://h/x", "file-format": "ms"}, {"asset-link": link}],
                           "model-name": "m"}, sort_keys=True, separators=(",", ":"), ensure_ascii=rng.random() < 0.5)
        if "://" not in link:
            assert checkstep._MAYBE_REPO_LINK.search(text), text

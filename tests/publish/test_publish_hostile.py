"""Publish: one card cannot take down a run, and a bad run changes nothing (issue #13).

Bugs injected into each step of one card, a tampered blob under --with-assets,
a corrupt or truncated ledger, a full disk (RLIMIT_FSIZE: writes fail with
EFBIG, as they would with ENOSPC), destinations in the way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from faultserver import FaultServer

from helpers import card_text, run_cli
from hubtool.assets.fetcher import Fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.publish import steps

NAMES = ("fine", "check-bug", "fetch-bug", "inspect-bug", "golden-bug")


def body(name: str) -> bytes:
    return b"\x0a\x05conv1" + name.encode() * 100


def make_hub(root: Path, server: FaultServer, names: tuple[str, ...] = NAMES) -> Path:
    (root / "hub").mkdir(parents=True)
    (root / "hub" / "hub.yaml").write_text(
        "name: t\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n  retries: 1\n")
    (root / "cards" / "u").mkdir(parents=True)
    for name in names:
        server.add(f"/{name}.ckpt", body(name))
        (root / "cards" / "u" / f"{name}.md").write_text(card_text(
            link=server.url(f"/{name}.ckpt"), sha=hashlib.sha256(body(name)).hexdigest(), **{"model-name": name}))
    return root


def publish(root: Path, *args: str) -> tuple[int, dict[str, object], str]:
    report = root / "report.json"
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--report", f"json:{report}", "--config", str(root / "hub" / "hub.yaml"),
                     str(root / "cards"), *args)
    doc = json.loads(report.read_text()) if report.exists() else {}
    return result.exit_code, doc, result.output


def held(doc: dict[str, object]) -> dict[str, str]:
    cards = doc["cards"]
    assert isinstance(cards, list)
    return {Path(c["card"]).stem: ("published" if c["published"] else c["held-because"]) for c in cards}


def test_a_bug_in_any_step_of_one_card_fails_only_that_card(tmp_path: Path, server: FaultServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server)
    examine, fetch, inspect_file, golden = (CardChecker.examine, Fetcher.fetch, steps.inspect_file,
                                            steps.GoldenStep.run)

    def bad_examine(self: CardChecker, path: Path) -> object:
        if path.stem == "check-bug":
            raise RuntimeError("boom in check")
        return examine(self, path)

    def bad_fetch(self: Fetcher, link: str, digest: str) -> object:
        if "fetch-bug" in link:
            raise ValueError("boom in fetch")
        return fetch(self, link, digest)

    def bad_inspect(path: Path) -> object:
        if path.name == hashlib.sha256(body("inspect-bug")).hexdigest():
            raise KeyError("boom in inspect")
        return inspect_file(path)

    def bad_golden(self: steps.GoldenStep, run: steps.CardRun) -> None:
        if run.display.endswith("golden-bug.md"):
            raise ZeroDivisionError("boom in golden")
        golden(self, run)

    monkeypatch.setattr(CardChecker, "examine", bad_examine)
    monkeypatch.setattr(Fetcher, "fetch", bad_fetch)
    monkeypatch.setattr(steps, "inspect_file", bad_inspect)
    monkeypatch.setattr(steps.GoldenStep, "run", bad_golden)
    code, doc, output = publish(root)
    assert code == 1, output
    got = held(doc)
    assert got["fine"] == "published"
    for name, step, kind in [("check-bug", "check", "RuntimeError"), ("fetch-bug", "fetch", "ValueError"),
                             ("inspect-bug", "inspect", "KeyError"), ("golden-bug", "golden", "ZeroDivisionError")]:
        reason = got[name]
        assert reason.startswith(f"{step} failed") and f"internal error: {kind}: " in reason, reason
        assert f"boom in {step}" in reason
        log = Path(re.search(r"the traceback is in (\S+);", reason)[1])  # type: ignore[index]
        assert "Traceback" in log.read_text() and f"boom in {step}" in log.read_text()
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/fine@1.0"]


def test_with_assets_never_publishes_a_tampered_blob(tmp_path: Path, server: FaultServer) -> None:
    """A blob tampered with in the store is caught at the fetch (`assets.proofs`) and fetched again: the new
    generation publishes the right bytes.  (A blob changed after the fetch is held back by publish/blobcheck.py:
    tests/publish/test_blobcheck.py.)"""
    root = make_hub(tmp_path, server, ("a", "b"))
    assert publish(root, "--with-assets")[0] == 0
    store = DirectoryStore(root / "store")
    victim = store.blob_path(hashlib.sha256(body("a")).hexdigest())
    victim.write_bytes(b"tampered")  # the same inode: a hard link in the published hub sees it too
    code, doc, output = publish(root, "--with-assets")
    assert code == 0, output
    assert "had been changed since it was stored" in output
    assert victim.read_bytes() == body("a")
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/a@1.0", "u/b@1.0"]
    for card in index["cards"]:
        for asset in card["assets"]:
            data = (root / "dist" / "hub" / asset["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == asset["sha256"]


def test_a_card_whose_path_is_not_utf8_is_held_back_by_an_escaped_name(tmp_path: Path, server: FaultServer) -> None:
    """A file name of bytes that are not UTF-8 (os.fsdecode keeps them as lone surrogates, which no UTF-8
    document holds) is HUB004: the card is held back, named `caf\\xe9.md` in the report, the index and the
    catalog, which stay UTF-8; the other cards publish, the first run and the re-run alike."""
    root = make_hub(tmp_path, server, ("fine",))
    odd = root / "cards" / "u" / os.fsdecode(b"caf\xe9.md")
    odd.write_text((root / "cards" / "u" / "fine.md").read_text().replace("model-name: fine", "model-name: cafe"))
    for _ in range(2):
        code, doc, output = publish(root)
        assert code == 1 and "Traceback" not in output, output
        assert held(doc) == {"fine": "published", "caf\\xe9": held(doc)["caf\\xe9"]}
        assert "HUB004" in held(doc)["caf\\xe9"] and "cards/u/caf\\xe9.md" in output
        for page in (root / "dist" / "hub").rglob("*"):
            if page.suffix in (".json", ".html", ".md"):
                page.read_bytes().decode("utf-8")  # strictly
        index = json.loads((root / "dist" / "hub" / "index.json").read_bytes().decode("utf-8"))
        assert [c["id"] for c in index["cards"]] == ["u/fine@1.0"]
        assert "caf\\xe9.md" in (root / "dist" / "hub" / "run.html").read_text()
    checked = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "check", str(odd)],
                             capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"}, timeout=60)
    assert checked.returncode == 1 and b"HUB004" in checked.stdout and checked.stderr == b""
    fetched = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "fetch", "--store",
                              str(root / "store"), "--config", str(root / "hub" / "hub.yaml"), "cards"], cwd=root,
                             capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"}, timeout=60)
    assert fetched.returncode == 1 and b"Traceback" not in fetched.stderr  # the card is skipped, said so
    assert b"HUB004 skipped, the card does not parse: the card's path is not UTF-8: cards/u/caf\\xe9.md" \
        in fetched.stderr and b"1 asset: 1 ok" in fetched.stdout


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad-rows", "deep-rows"])
def test_a_corrupt_ledger_is_moved_aside_and_rebuilt(tmp_path: Path, server: FaultServer, damage: str) -> None:
    root = make_hub(tmp_path, server, ("a", "b"))
    assert publish(root)[0] == 0
    ledger = root / "store" / "ledger.sqlite"
    if damage == "garbage":
        ledger.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        ledger.write_bytes(ledger.read_bytes()[: len(ledger.read_bytes()) // 2])
    else:
        import sqlite3

        detail = "{not json" if damage == "bad-rows" else "[" * 100_000 + "]" * 100_000  # past json's recursion
        with sqlite3.connect(ledger) as db:
            db.execute("UPDATE verdicts SET detail = ?", (detail,))
    code, doc, output = publish(root)
    assert code == 0, output
    assert set(held(doc).values()) == {"published"}
    if damage not in ("bad-rows", "deep-rows"):
        assert "moved to ledger.sqlite.corrupt-" in output
        assert list(ledger.parent.glob("ledger.sqlite.corrupt-*"))
    code, doc, _ = publish(root)  # the rebuilt ledger serves the next run
    assert code == 0 and doc["counters"]["ledger-hits"] > 0  # type: ignore[index]


def test_a_full_disk_is_a_clear_error_and_changes_nothing(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server, ("a",))
    assert publish(root)[0] == 0
    before = (root / "dist" / "hub" / "index.json").read_bytes()
    big = b"\x0a\x05conv1" + bytes(3 * 1024 * 1024)
    server.add("/big.ckpt", big)
    (root / "cards" / "u" / "big.md").write_text(card_text(
        link=server.url("/big.ckpt"), sha=hashlib.sha256(big).hexdigest(), **{"model-name": "big"}))

    def small_disk() -> None:  # every file this process writes stops at 1 MiB (EFBIG, like ENOSPC)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))

    proc = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "publish",
                           "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                           "--config", str(root / "hub" / "hub.yaml"), str(root / "cards")],
                          capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "hubtool: store error: cannot write to the store at" in proc.stderr and "File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (root / "dist" / "hub" / "index.json").read_bytes() == before
    verify = run_cli("store", "verify", "--store", str(root / "store"))
    assert verify.exit_code == 0, verify.output


@pytest.mark.parametrize("obstacle", ["parent-is-a-file", "generations-is-a-file"])
def test_destinations_in_the_way_are_clear_errors(tmp_path: Path, server: FaultServer, obstacle: str) -> None:
    root = make_hub(tmp_path, server, ("a",))
    if obstacle == "parent-is-a-file":
        (root / "dist").write_text("a file")
        expected = "is a file, not a folder"
    else:
        (root / "dist").mkdir()
        (root / "dist" / "hub.generations").write_text("a file")
        expected = "hub.generations is a file, not hubtool's generations folder"
    code, _, output = publish(root)
    assert code == 2 and expected in output, output
    assert "internal error" not in output


@pytest.mark.parametrize("obstacle", ["/dev/null", "a-file"])
def test_a_store_that_is_not_a_folder_says_so(tmp_path: Path, server: FaultServer, obstacle: str) -> None:
    """`store: /dev/null` said "cannot create the ledger /dev/null/ledger.sqlite: File exists"."""
    root = make_hub(tmp_path, server, ("a",))
    store = Path(obstacle) if obstacle.startswith("/") else root / "store"
    if not obstacle.startswith("/"):
        store.write_text("a file")
    proc = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(store),
                   "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert proc.exit_code == 2, proc.output
    assert f"cannot create the ledger {store}/ledger.sqlite: {store} is not a folder" in proc.output
    assert "give a folder" in proc.output and "internal error" not in proc.output


def test_an_outage_keeps_the_last_entry_and_a_real_failure_drops_it(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server, ("a", "b", "c"))
    assert publish(root)[0] == 0
    first = json.loads((root / "dist" / "hub" / "index.json").read_text())
    store = DirectoryStore(root / "store")
    for name in ("a", "b"):
        store.remove(hashlib.sha256(body(name)).hexdigest())
    server.routes["/a.ckpt"].fail = [503] * 100  # the origin is down for a
    server.routes["/b.ckpt"].body = b"wrong bytes"  # b's file really changed: a real failure
    (root / "cards" / "u" / "c.md").unlink()  # c was removed from the hub
    code, doc, output = publish(root)
    assert code == 1, output
    got = held(doc)
    assert got["a"].startswith("fetch failed: network failure") and "last published entry stays" in got["a"]
    assert got["b"].startswith("fetch failed: integrity failure") and "stays" not in got["b"]
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/a@1.0"]
    kept = index["cards"][0]
    assert kept["stale"]["reason"].startswith("fetch failed: network failure")
    assert {k: v for k, v in kept.items() if k not in ("stale", "document")} == \
        {k: v for k, v in first["cards"][0].items() if k != "document"}
    assert json.loads((root / "dist" / "hub" / kept["document"]).read_text())["stale"] == kept["stale"]
    again = (root / "dist" / "hub" / "index.json").read_bytes()
    code, doc, _ = publish(root)  # the outage goes on: the same bytes, no new generation
    assert (root / "dist" / "hub" / "index.json").read_bytes() == again
    assert doc["counters"]["unchanged"] == 1  # type: ignore[index]
    server.routes["/a.ckpt"].fail = []  # the origin is back: a fresh entry, not stale
    code, doc, _ = publish(root)
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/a@1.0"] and "stale" not in index["cards"][0]


def test_offline_keeps_the_last_entry(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server, ("a",))
    assert publish(root)[0] == 0
    DirectoryStore(root / "store").remove(hashlib.sha256(body("a")).hexdigest())
    code, doc, _ = publish(root, "--offline")
    index = json.loads((root / "dist" / "hub" / "index.json").read_text())
    assert [c["id"] for c in index["cards"]] == ["u/a@1.0"]
    assert index["cards"][0]["stale"]["reason"].startswith("fetch offline")


def _read_only(folder: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run hubtool with `folder` mounted read-only (a private mount namespace; root ignores chmod)."""
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(folder), sys.executable, "-c",
                           "from hubtool.cli import main; main()", *command],
                          capture_output=True, text=True, timeout=120)


def _can_mount_read_only(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(["unshare", "-m", "sh", "-c", f'mount --bind {probe} {probe} && '
                           f'mount -o remount,ro,bind {probe} {probe} && ! touch {probe}/x'],
                          capture_output=True, timeout=30)
    return done.returncode == 0


@pytest.mark.parametrize("where", ["destination", "store"])
def test_a_read_only_destination_or_store_is_a_clear_error(tmp_path: Path, server: FaultServer, where: str) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("this machine cannot make a read-only bind mount (no CAP_SYS_ADMIN): nothing to test with")
    root = make_hub(tmp_path, server, ("a",))
    assert publish(root)[0] == 0
    before = (root / "dist" / "hub" / "index.json").read_bytes()
    (root / "cards" / "u" / "a.md").write_text((root / "cards" / "u" / "a.md").read_text().replace(
        "summary: s", "summary: changed"))  # something new to publish
    if where == "store":
        DirectoryStore(root / "store").remove(hashlib.sha256(body("a")).hexdigest())
    folder = root / ("dist" if where == "destination" else "store")
    proc = _read_only(folder, "publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                      "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Read-only file system" in proc.stderr and str(folder) in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert (root / "dist" / "hub" / "index.json").read_bytes() == before


def test_fetch_into_a_read_only_store_is_a_clear_error(tmp_path: Path, server: FaultServer) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("this machine cannot make a read-only bind mount (no CAP_SYS_ADMIN): nothing to test with")
    root = make_hub(tmp_path, server, ("a",))
    (root / "store").mkdir()
    proc = _read_only(root / "store", "fetch", "--store", str(root / "store"), "--config",
                      str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"the store at {root / 'store'}: Read-only file system" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and server.routes["/a.ckpt"].hits == 0

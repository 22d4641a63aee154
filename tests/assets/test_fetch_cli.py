"""`hubtool fetch`, `mirror` and `store` through the CLI, including killed and concurrent processes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from helpers import card_text, run_cli
from hubtool.assets.hashing import hash_regular
from hubtool.assets.store import DirectoryStore

BIG = random_bytes(6 * 1024 * 1024, seed=3)
BIG_SHA = hashlib.sha256(BIG).hexdigest()


def make_hub(root: Path, server: FaultServer, assets: dict[str, bytes]) -> Path:
    """A hub whose cards point at the loopback server; returns the hub root."""
    (root / "hub").mkdir(parents=True)
    (root / "hub" / "hub.yaml").write_text(
        "name: t\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n  retries: 2\n  read-timeout: 5\n")
    for i, (name, body) in enumerate(assets.items()):
        server.add(f"/{name}", body)
        sha = hashlib.sha256(body).hexdigest()
        text = card_text(link=server.url(f"/{name}"), sha=sha, **{"model-name": f"m{i}"})
        (root / "cards" / "u").mkdir(parents=True, exist_ok=True)
        (root / "cards" / "u" / f"m{i}.md").write_text(text)
    return root


def hubtool(*args: str, cwd: Path, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from hubtool.cli import main; main()", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore


def verify_store(store: Path) -> None:
    blobs = DirectoryStore(store)
    for info in blobs.iter_blobs():
        assert hash_regular(Path(info.location))[0] == info.digest


def test_fetch_table_and_exit_codes(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server, {"a.bin": b"alpha" * 1000, "b.bin": b"beta" * 1000})
    server.routes["/b.bin"].body = b"tampered"
    monkeypatch.chdir(root)
    result = run_cli("fetch", "--store", str(tmp_path / "s"), "--format", "json")
    doc = json.loads(result.output)
    assert result.exit_code == 1
    assert doc["summary"] == {"assets": 2, "ok": 1, "failed": 1, "transferred-bytes": 5000}
    failed = [a for a in doc["assets"] if not a["ok"]][0]
    assert failed["kind"] == "integrity" and "expected" in failed["error"]
    text = run_cli("fetch", "--store", str(tmp_path / "s"), "cards/u/m0.md")
    assert text.exit_code == 0 and "already in store" in text.output
    github = run_cli("fetch", "--store", str(tmp_path / "s"), "--format", "github")
    assert github.exit_code == 1
    assert github.output.startswith("::error file=cards/u/m1.md,title=asset integrity::asset 0: [integrity] SHA-256")
    assert github.output.splitlines()[-1] == "::notice::2 assets: 1 ok, 1 failed, 0 bytes transferred"


def test_killed_download_resumes_and_store_verifies(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server, {"big.bin": BIG})
    route = server.routes["/big.bin"]
    route.delay = 0.02  # ~3 MiB/s: slow enough to kill mid-way
    store = tmp_path / "s"
    proc = hubtool("fetch", "--store", str(store), cwd=root, start_new_session=True)
    deadline = time.monotonic() + 20
    while route.bytes_sent < 2 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not DirectoryStore(store).has(BIG_SHA)
    partials = list((store / "tmp").glob("*.part"))
    assert partials and partials[0].stat().st_size > 0
    route.delay = 0
    again = hubtool("fetch", "--store", str(store), cwd=root)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err
    assert "resumed at" in out
    assert route.range_requests and route.bytes_sent < 2 * len(BIG)
    verify_store(store)
    assert list((store / "tmp").glob("*")) == []


def test_two_concurrent_fetches_make_one_blob(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path, server, {"big.bin": BIG})
    server.routes["/big.bin"].delay = 0.002
    store = tmp_path / "s"
    procs = [hubtool("fetch", "--store", str(store), cwd=root) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert server.routes["/big.bin"].hits == 1  # the second waited for the first
    assert [i.digest for i in DirectoryStore(store).iter_blobs()] == [BIG_SHA]
    verify_store(store)


def test_mirror_is_idempotent_and_a_usable_mirror(tmp_path: Path, server: FaultServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assets = {f"f{i}.bin": random_bytes(2000 + i, seed=i) for i in range(6)}
    root = make_hub(tmp_path / "hub", server, assets)
    monkeypatch.chdir(root)
    out = tmp_path / "mirror"
    first = run_cli("mirror", "--to", str(out), "--jobs", "3", "--store", str(tmp_path / "empty"))
    assert first.exit_code == 0, first.output
    hits = sum(r.hits for r in server.routes.values())
    before = (out / "manifest.json").read_bytes()
    monkeypatch.chdir(tmp_path)  # from another folder: the manifest names the cards by their path in the hub
    second = run_cli("mirror", "--to", str(out), "--format", "json", "--store", str(tmp_path / "empty"),
                     "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert json.loads(second.output)["summary"]["transferred-bytes"] == 0
    assert sum(r.hits for r in server.routes.values()) == hits
    assert (out / "manifest.json").read_bytes() == before
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["cards"]) == 6 and all(c["card"].startswith("cards/") for c in manifest["cards"])
    entry = manifest["cards"][0]["assets"][0]
    assert (out / entry["path"]).read_bytes() == assets[entry["origin"].rsplit("/", 1)[1]]
    verify_store(out)


def test_store_verify_and_gc(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server, {"a.bin": b"a" * 100, "b.bin": b"b" * 100})
    monkeypatch.chdir(root)
    store = tmp_path / "s"
    assert run_cli("fetch", "--store", str(store)).exit_code == 0
    blobs = DirectoryStore(store)
    victim = Path(next(blobs.iter_blobs()).location)
    victim.write_bytes(b"bit rot")
    report = run_cli("store", "verify", "--store", str(store))
    assert report.exit_code == 1 and f"CORRUPT {victim}" in report.output
    assert run_cli("store", "verify", "--store", str(store), "--repair").exit_code == 0
    assert not victim.exists()
    assert run_cli("fetch", "--store", str(store)).exit_code == 0  # restored from the server
    (root / "cards" / "u" / "m1.md").unlink()
    assert "1 unreferenced blobs found" in run_cli("store", "gc", "--dry-run", "--store", str(store)).output
    gc = run_cli("store", "gc", "--store", str(store))
    assert gc.exit_code == 0 and "1 unreferenced blobs removed" in gc.output
    assert [i.digest for i in blobs.iter_blobs()] == [hashlib.sha256(b"a" * 100).hexdigest()]


def test_strangers_under_blobs_are_reported_never_counted_never_abort_gc(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server, {"a.bin": b"a" * 100, "b.bin": b"b" * 100})
    monkeypatch.chdir(root)
    store = tmp_path / "s"
    blobs = DirectoryStore(store)
    a, b = (hashlib.sha256(x * 100).hexdigest() for x in (b"a", b"b"))
    blobs.blob_path(a).mkdir(parents=True)  # a folder where blob a should be
    (blobs.blob_path(a).parent / "notes.txt").write_text("hello")  # a non-hex name
    (store / "blobs" / "sha256" / "zz").write_text("")  # not a blob folder
    wrong = store / "blobs" / "sha256" / "00" / b  # a blob in the wrong folder
    wrong.parent.mkdir()
    wrong.write_bytes(b"b" * 100)
    fifo = blobs.blob_path(a).parent / (a[:2] + "f" * 62)
    os.mkfifo(fifo)  # a FIFO named like a blob
    assert blobs.stat(a) is None and not blobs.has(a)  # the folder is not "present"
    fetched = run_cli("fetch", "--store", str(store))
    assert fetched.exit_code == 1 and "is in the way: it is not a blob" in fetched.output, fetched.output
    assert server.routes["/b.bin"].hits == 1 and blobs.has(b)
    report = run_cli("store", "verify", "--store", str(store))
    assert report.exit_code == 1, report.output
    for path, why in [(blobs.blob_path(a), "not a regular file"), (fifo, "not a regular file"),
                      (blobs.blob_path(a).parent / "notes.txt", "not a blob name"),
                      (store / "blobs" / "sha256" / "zz", "not a blob folder"), (wrong, "wrong folder")]:
        assert f"STRAY {path}: " in report.output and why in report.output.split(f"STRAY {path}: ")[1].split("\n")[0]
    assert "1 blobs verified: 0 corrupt; 5 stray entries" in report.output
    (root / "cards" / "u" / "m1.md").unlink()
    gc = run_cli("store", "gc", "--store", str(store))
    assert gc.exit_code == 0 and "1 unreferenced blobs removed" in gc.output and "5 stray entries" in gc.output
    assert wrong.exists() and blobs.blob_path(a).is_dir()  # nothing of someone else's is removed

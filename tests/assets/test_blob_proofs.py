"""A blob written after it was stored (it is a file) is never served as present: its status against its proof."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer
from test_fetch_cli import make_hub

from helpers import run_cli
from hubtool import filestatus
from hubtool.assets import hashing, proofs
from hubtool.assets.store import DirectoryStore
from hubtool.errors import StoreError

BODY = b"model bytes " * 500
DIGEST = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(autouse=True)
def first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process: no blob vouched for (`proofs.vouch`)."""
    monkeypatch.setattr(proofs, "_VOUCHED", {})


def new_run() -> None:
    """What a later run knows: the proofs on disk, nothing this process stored or hashed."""
    proofs._VOUCHED.clear()


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blob's status stands for its bytes as soon as it is written (not 3 s later): tests need not wait."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The blobs `proofs` hashes, as it hashes them."""
    seen: list[Path] = []
    real = proofs.hash_blob

    def counting(path: Path, on_bytes: Callable[[int], None]) -> tuple[str, os.stat_result]:
        seen.append(path)
        return real(path, on_bytes)

    monkeypatch.setattr(proofs, "hash_blob", counting)
    return seen


def stored(tmp_path: Path) -> tuple[DirectoryStore, Path]:
    store = DirectoryStore(tmp_path / "store")
    src = tmp_path / "src.bin"
    src.write_bytes(BODY)
    store.put_file(DIGEST, src, source="test")
    new_run()
    return store, store.blob_path(DIGEST)


def test_a_blob_is_hashed_once_then_its_proof_stands_for_its_bytes(
        tmp_path: Path, settled_at_once: None, hashes: list[Path]) -> None:
    store, blob = stored(tmp_path)
    assert store.proven(DIGEST) is not None and len(hashes) == 1  # no proof yet: hashed, and proved
    assert proofs.proof_path(store.root, DIGEST).read_text() == filestatus.identity(os.lstat(blob))
    for _ in range(3):
        info = store.proven(DIGEST)
        assert info is not None and info.size == len(BODY)
    assert len(hashes) == 1


def test_a_blob_written_a_moment_ago_is_hashed_again_in_the_next_run(tmp_path: Path, hashes: list[Path]) -> None:
    store, _ = stored(tmp_path)
    assert store.proven(DIGEST) is not None and store.proven(DIGEST) is not None
    assert len(hashes) == 1  # hashed once in this run, and then taken by its status for the rest of it
    assert not proofs.proof_path(store.root, DIGEST).exists()  # its status may not show a write in the same tick
    new_run()
    assert store.proven(DIGEST) is not None and len(hashes) == 2


def test_a_blob_this_run_stored_is_not_hashed_again_in_it_but_a_change_is_still_caught(
        tmp_path: Path, hashes: list[Path]) -> None:
    store = DirectoryStore(tmp_path / "store")
    src = tmp_path / "src.bin"
    src.write_bytes(BODY)
    store.put_file(DIGEST, src, source="test")
    assert store.proven(DIGEST) is not None and hashes == []  # hashed on its way in: vouched for
    blob = store.blob_path(DIGEST)
    blob.chmod(0o644)
    blob.write_bytes(BODY + b"!")  # another size: caught whatever the clock's tick (the same size is, once settled)
    assert store.proven(DIGEST) is None and len(hashes) == 1 and not blob.exists()


@pytest.mark.parametrize("change", ["other bytes, same size", "truncated", "appended", "emptied"])
def test_a_blob_changed_after_its_proof_is_removed_and_said(
        tmp_path: Path, settled_at_once: None, change: str) -> None:
    store, blob = stored(tmp_path)
    assert store.proven(DIGEST) is not None
    blob.chmod(0o644)
    data = {"other bytes, same size": b"X" + BODY[1:], "truncated": BODY[:100], "appended": BODY + b"\n",
            "emptied": b""}[change]
    blob.write_bytes(data)
    heard: list[str] = []
    assert store.proven(DIGEST, on_rotten=heard.append) is None
    assert not blob.exists() and not proofs.proof_path(store.root, DIGEST).exists()
    assert len(heard) == 1 and "had been changed since it was stored" in heard[0]
    assert hashlib.sha256(data).hexdigest()[:12] in heard[0]


def test_a_blob_rewritten_with_its_own_bytes_and_old_times_is_hashed_again_and_kept(
        tmp_path: Path, settled_at_once: None, hashes: list[Path]) -> None:
    store, blob = stored(tmp_path)
    assert store.proven(DIGEST) is not None
    before = os.lstat(blob)
    blob.chmod(0o644)
    blob.write_bytes(BODY)
    os.utime(blob, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were: only ctime moved
    assert store.proven(DIGEST) is not None and blob.read_bytes() == BODY
    assert len(hashes) == 2


@pytest.mark.parametrize("damage", ["garbage", "a folder", "a FIFO", "a link to /dev/zero", "huge", "not ASCII",
                                    "another blob's proof"])
def test_a_damaged_proof_proves_nothing_and_costs_a_hash(
        tmp_path: Path, settled_at_once: None, hashes: list[Path], alarm: None, damage: str) -> None:
    store, blob = stored(tmp_path)
    proof = proofs.proof_path(store.root, DIGEST)
    proof.parent.mkdir(parents=True)
    if damage == "garbage":
        proof.write_bytes(b"\x00\x01 not a status")
    elif damage == "a folder":
        proof.mkdir()
    elif damage == "a FIFO":
        os.mkfifo(proof)
    elif damage == "a link to /dev/zero":
        proof.symlink_to("/dev/zero")
    elif damage == "huge":
        proof.write_bytes(filestatus.identity(os.lstat(blob)).encode() * 1000)
    elif damage == "not ASCII":
        proof.write_bytes(b"\xff\xfe")
    else:
        other = tmp_path / "other"
        other.write_bytes(b"x")
        proof.write_text(filestatus.identity(os.lstat(other)))
    assert store.proven(DIGEST) is not None and blob.read_bytes() == BODY
    assert len(hashes) == 1


class Heard:
    """A Progress that keeps what it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def notice(self, text: str) -> None:
        self.events.append(("notice", text, 0))

    def transfer_started(self, key: str, label: str) -> None:
        self.events.append(("started", label, 0))

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        self.events.append(("sized", key, total))

    def transferred(self, key: str, nbytes: int) -> None:
        self.events.append(("bytes", key, nbytes))

    def transfer_done(self, key: str) -> None:
        self.events.append(("done", key, 0))


def test_a_hash_is_reported_as_it_goes_and_a_proved_blob_says_nothing(tmp_path: Path, settled_at_once: None) -> None:
    store, _ = stored(tmp_path)
    heard = Heard()
    assert store.proven(DIGEST, progress=heard) is not None
    kinds = [e[0] for e in heard.events]
    assert kinds[:2] == ["started", "sized"] and kinds[-1] == "done"
    assert "in the store" in heard.events[0][1] and heard.events[1][2] == len(BODY)
    assert sum(e[2] for e in heard.events if e[0] == "bytes") == len(BODY)
    quiet = Heard()
    assert store.proven(DIGEST, progress=quiet) is not None and quiet.events == []


def test_store_verify_proves_the_blobs_it_finds_good(tmp_path: Path, settled_at_once: None,
                                                      hashes: list[Path]) -> None:
    store, _ = stored(tmp_path)
    assert store.verify(DIGEST) is None
    assert hashes == [store.blob_path(DIGEST)]  # the audit hashes it, and that hash stands for the next fetch
    assert store.proven(DIGEST) is not None and len(hashes) == 1
    store.remove(DIGEST)
    assert not proofs.proof_path(store.root, DIGEST).exists()


def fetched_then_changed(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch,
                          data: bytes) -> tuple[Path, Path]:
    """A hub of one asset fetched into a store (run from the hub's folder), whose blob then holds `data`: the
    store and the blob."""
    root = make_hub(tmp_path / "hub", server, {"a.bin": BODY})
    monkeypatch.chdir(root)
    store = tmp_path / "s"
    assert run_cli("fetch", "--store", str(store)).exit_code == 0
    new_run()  # the next command is another process
    blob = DirectoryStore(store).blob_path(DIGEST)
    blob.chmod(0o644)
    blob.write_bytes(data)
    return store, blob


def test_fetch_brings_a_changed_blob_back_from_its_source(tmp_path: Path, server: FaultServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store, blob = fetched_then_changed(tmp_path, server, monkeypatch, b"X" + BODY[1:])  # one byte changed
    again = run_cli("fetch", "--store", str(store), "--format", "json")
    assert again.exit_code == 0, again.output
    assert server.routes["/a.bin"].hits == 2 and blob.read_bytes() == BODY
    assert "had been changed since it was stored" in again.stderr
    doc = json.loads(again.stdout)
    assert [a["action"] for a in doc["assets"]] == ["downloaded"]


def test_a_changed_blob_offline_is_not_in_the_store(tmp_path: Path, server: FaultServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store, blob = fetched_then_changed(tmp_path, server, monkeypatch, BODY[:10])
    offline = run_cli("fetch", "--store", str(store), "--offline")
    assert offline.exit_code == 1 and "not in the store, and --offline forbids downloading it" in offline.output
    assert not blob.exists()


def test_a_folder_mirror_replaces_a_file_changed_in_it(tmp_path: Path, server: FaultServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path / "hub", server, {"a.bin": BODY})
    monkeypatch.chdir(root)
    out = tmp_path / "mirror"
    args = ("mirror", "--to", str(out), "--store", str(tmp_path / "cache"))
    assert run_cli(*args).exit_code == 0
    new_run()
    copy = DirectoryStore(out).blob_path(DIGEST)
    copy.chmod(0o644)
    copy.write_bytes(b"rot")
    second = run_cli(*args)
    assert second.exit_code == 0, second.output
    assert copy.read_bytes() == BODY


def test_publish_fetches_a_changed_blob_again_before_it_gates_on_it(tmp_path: Path, server: FaultServer) -> None:
    root = make_hub(tmp_path / "hub", server, {"a.bin": BODY})
    store = tmp_path / "s"
    args = ("publish", "--to", str(tmp_path / "dist"), "--store", str(store), "--config",
            str(root / "hub" / "hub.yaml"), str(root / "cards"))
    first = run_cli(*args)
    assert first.exit_code == 0, first.output
    new_run()
    blob = DirectoryStore(store).blob_path(DIGEST)
    blob.chmod(0o644)
    blob.write_bytes(b"X" + BODY[1:])
    second = run_cli(*args, "--format", "json")
    assert second.exit_code == 0, second.output
    assert server.routes["/a.bin"].hits == 2 and blob.read_bytes() == BODY
    assert "had been changed since it was stored" in second.stderr


def test_a_blob_that_cannot_be_read_fails_its_asset_alone(tmp_path: Path, server: FaultServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    other = b"another model " * 300
    root = make_hub(tmp_path / "hub", server, {"a.bin": BODY, "b.bin": other})
    monkeypatch.chdir(root)
    store = tmp_path / "s"
    assert run_cli("fetch", "--store", str(store)).exit_code == 0
    new_run()
    real = proofs.hash_blob

    def failing(path: Path, on_bytes: Callable[[int], None]) -> tuple[str, os.stat_result]:
        if path.name == DIGEST:
            raise proofs.StoreError(f"blob {DIGEST[:12]}… in the store cannot be read: Input/output error")
        return real(path, on_bytes)

    monkeypatch.setattr(proofs, "hash_blob", failing)
    again = run_cli("fetch", "--store", str(store), "--format", "json")
    assert again.exit_code == 1, again.output
    doc = json.loads(again.stdout)
    by_ok = {a["ok"]: a for a in doc["assets"]}
    assert by_ok[False]["kind"] == "integrity" and "Input/output error" in by_ok[False]["error"]
    assert by_ok[True]["sha256"] == hashlib.sha256(other).hexdigest()
    assert DirectoryStore(store).blob_path(DIGEST).read_bytes() == BODY  # nothing removed that was not proved bad


def test_gc_drops_the_proofs_of_blobs_that_are_gone_and_nothing_else(tmp_path: Path, settled_at_once: None) -> None:
    from hubtool.assets.maintenance import collect_garbage

    store, blob = stored(tmp_path)
    other = tmp_path / "other.bin"
    other.write_bytes(b"kept")
    kept = hashlib.sha256(b"kept").hexdigest()
    store.put_file(kept, other, source="test")
    new_run()
    assert store.proven(DIGEST) is not None and store.proven(kept) is not None
    blob.unlink()  # by hand: its proof stays behind
    stranger = proofs.proof_path(store.root, DIGEST).parent / "notes.txt"
    stranger.write_text("not a proof")
    collect_garbage(store, {DIGEST, kept})
    assert not proofs.proof_path(store.root, DIGEST).exists()
    assert proofs.proof_path(store.root, kept).is_file() and stranger.is_file()


def test_a_changed_blob_that_cannot_be_removed_fails_its_asset_and_is_named(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    store, blob = fetched_then_changed(tmp_path, server, monkeypatch, BODY[:50])
    real_unlink = Path.unlink

    def refusing(self: Path, missing_ok: bool = False) -> None:
        if self == blob:
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refusing)
    again = run_cli("fetch", "--store", str(store), "--format", "json")
    assert again.exit_code == 1, again.output
    [asset] = json.loads(again.stdout)["assets"]
    assert asset["kind"] == "integrity" and "cannot be removed: Permission denied" in asset["error"]
    assert hashlib.sha256(BODY[:50]).hexdigest()[:12] in asset["error"]
    assert blob.read_bytes() == BODY[:50] and server.routes["/a.bin"].hits == 1  # kept, and nothing fetched over it


class FailingReads(io.FileIO):
    """A file whose reads fail as a failing disk's do (EIO), after the open succeeded."""

    def readinto(self, buffer: object) -> int:
        raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_store_verify_says_a_blob_it_cannot_read_and_goes_on(tmp_path: Path, server: FaultServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """EIO in the middle of an audit was a plain OSError, out of the loop that reports each blob: a traceback,
    and the blobs after it never looked at."""
    other = b"another model " * 300
    root = make_hub(tmp_path / "hub", server, {"a.bin": BODY, "b.bin": other})
    monkeypatch.chdir(root)
    store = tmp_path / "s"
    assert run_cli("fetch", "--store", str(store)).exit_code == 0
    blob = DirectoryStore(store).blob_path(DIGEST)
    real = hashing.open_regular

    def opened(path: str | Path) -> io.BufferedIOBase:
        if Path(path).name == DIGEST:
            real(path).close()  # opened as it would be; its reads then fail
            return io.BufferedReader(FailingReads(path))
        return real(path)

    monkeypatch.setattr(hashing, "open_regular", opened)
    for repair in ([], ["--repair"]):
        report = run_cli("store", "verify", "--store", str(store), *repair)
        assert report.exit_code == 1, report.output
        said = f"UNREADABLE {blob}: blob {DIGEST[:12]}… in the store cannot be read: Input/output error"
        assert said in report.output
        assert "2 blobs verified: 0 corrupt, 1 unreadable" in report.output
        assert blob.read_bytes() == BODY  # not known to be wrong: never removed


def test_a_blob_swapped_for_a_fifo_after_the_listing_is_not_waited_on(tmp_path: Path, alarm: None) -> None:
    store, blob = stored(tmp_path)
    listed = list(store.iter_blobs())
    blob.unlink()
    os.mkfifo(blob)
    with pytest.raises(StoreError, match="is a FIFO"):
        store.verify(listed[0].digest)


def test_a_blob_that_cannot_be_looked_at_is_not_taken_for_missing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An lstat that fails other than "no such file" (EACCES on its folder, EIO) was a raw OSError out of the fetch's
    look at the store, and "is missing" to publish's blob check."""
    from hubtool.publish.blobcheck import blob_problem

    store, blob = stored(tmp_path)
    real = os.lstat

    def refused(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        if os.fspath(path) == str(blob):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "lstat", refused)
    with pytest.raises(StoreError, match="cannot be looked at: Permission denied"):
        store.proven(DIGEST)
    assert blob_problem(DIGEST, store) == (f"cannot be read (blob {DIGEST[:12]}… in the store cannot be looked at: "
                                           "Permission denied)")
    monkeypatch.setattr(os, "lstat", real)
    assert blob.read_bytes() == BODY  # nothing removed or fetched over it

"""`publish --with-assets` hashes each blob again before it is published, and remembers the hash under the
blob's file status as the store's proof (publish/blobcheck.py, assets/proofs.py, filestatus.py)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from hubtool import filestatus
from hubtool.assets.proofs import proof_path
from hubtool.assets.store import DirectoryStore
from hubtool.publish.blobcheck import blob_problem

BODY = b"checkpoint bytes " * 64


def _setup(tmp_path: Path) -> tuple[str, DirectoryStore, Path]:
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "hub.yaml").write_text("name: blobs\n")
    store = DirectoryStore(tmp_path / "store")
    digest = hashlib.sha256(BODY).hexdigest()
    blob = store.blob_path(digest)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(BODY)
    return digest, store, blob


def _proved(store: DirectoryStore, digest: str) -> bool:
    return proof_path(store.root, digest).is_file()


def test_a_blob_written_just_before_is_hashed_again_next_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestatus, "SETTLE_NS", 10**18)  # every blob counts as just written
    digest, store, _ = _setup(tmp_path)
    assert blob_problem(digest, store) is None
    assert not _proved(store, digest)  # its status may not stand for its bytes yet


def test_a_blob_rewritten_with_its_size_and_mtime_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)  # the blob, just written, counts as settled
    digest, store, blob = _setup(tmp_path)
    assert blob_problem(digest, store) is None and _proved(store, digest)  # remembered
    assert blob_problem(digest, store) is None  # by its proof
    time.sleep(0.05)  # out of the file system's clock tick: only the ctime tells
    st = os.stat(blob)
    blob.write_bytes(BODY.replace(b"checkpoint", b"CHECKPOINT"))  # the same size
    os.utime(blob, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    problem = blob_problem(digest, store)
    assert problem is not None and "changed on disk since it was verified" in problem
    blob.unlink()
    assert blob_problem(digest, store) == "is missing"


def test_a_blob_that_cannot_be_read_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hubtool.assets import proofs
    from hubtool.errors import StoreError

    digest, store, _ = _setup(tmp_path)

    def unreadable(path: Path, on_bytes: object) -> tuple[str, os.stat_result]:
        raise StoreError(f"blob {digest[:12]}… in the store cannot be read: Input/output error")

    monkeypatch.setattr(proofs, "hash_blob", unreadable)
    monkeypatch.setattr(proofs, "_VOUCHED", {})
    assert blob_problem(digest, store) == (f"cannot be read (blob {digest[:12]}… in the store cannot be read: "
                                           "Input/output error)")

"""`publish --with-assets` hashes each blob again before it is published, and remembers the hash under the
blob's file status (publish/blobcheck.py, filestatus.py)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

from hubtool import filestatus
from hubtool.assets.store import DirectoryStore
from hubtool.config import load_config
from hubtool.publish.blobcheck import blob_problem
from hubtool.publish.ledger import Ledger
from hubtool.publish.steps import StepContext

BODY = b"checkpoint bytes " * 64


def _setup(tmp_path: Path) -> tuple[str, DirectoryStore, StepContext, Path]:
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "hub.yaml").write_text("name: blobs\n")
    store = DirectoryStore(tmp_path / "store")
    digest = hashlib.sha256(BODY).hexdigest()
    blob = store.blob_path(digest)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(BODY)
    ledger = Ledger(tmp_path / "store" / "ledger.sqlite")
    return digest, store, StepContext(load_config(tmp_path / "hub" / "hub.yaml"), ledger, False), blob


def _blob_rows(tmp_path: Path) -> int:
    db = sqlite3.connect(tmp_path / "store" / "ledger.sqlite")
    try:
        return int(db.execute("SELECT count(*) FROM verdicts WHERE step = 'blob'").fetchone()[0])
    finally:
        db.close()


def test_a_blob_written_just_before_is_hashed_again_next_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestatus, "SETTLE_NS", 10**18)  # every blob counts as just written
    digest, store, ctx, _ = _setup(tmp_path)
    assert blob_problem(digest, store, ctx) is None
    assert _blob_rows(tmp_path) == 0  # its status may not stand for its bytes yet
    ctx.ledger.close()


def test_a_blob_rewritten_with_its_size_and_mtime_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)  # the blob, just written, counts as settled
    digest, store, ctx, blob = _setup(tmp_path)
    assert blob_problem(digest, store, ctx) is None and _blob_rows(tmp_path) == 1  # remembered
    assert blob_problem(digest, store, ctx) is None  # served from the ledger
    time.sleep(0.05)  # out of the file system's clock tick: only the ctime tells
    st = os.stat(blob)
    blob.write_bytes(BODY.replace(b"checkpoint", b"CHECKPOINT"))  # the same size
    os.utime(blob, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    problem = blob_problem(digest, store, ctx)
    assert problem is not None and "changed on disk since it was verified" in problem
    blob.unlink()
    assert blob_problem(digest, store, ctx) == "is missing"
    ctx.ledger.close()

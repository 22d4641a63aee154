"""publish/blobstatus.py: a remembered run's blobs, compared by file status with what the store holds now."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hubtool.assets import layout
from hubtool.filestatus import identity
from hubtool.publish.blobstatus import blob_path, same_blobs


def _blob(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = root / layout.blob_rel(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def test_the_statuses_kept_are_the_ones_found(tmp_path: Path) -> None:
    digests = [_blob(tmp_path, bytes([i]) * 10) for i in range(3)]
    kept: dict[str, object] = {d: identity(os.lstat(tmp_path / layout.blob_rel(d))) for d in digests}
    assert same_blobs(tmp_path, kept)
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert same_blobs(tmp_path, {**kept, missing: None})  # absent then, absent now
    assert not same_blobs(tmp_path, {**kept, missing: kept[digests[0]]})
    (tmp_path / layout.blob_rel(digests[1])).write_bytes(b"rewritten")  # any write changes the ctime
    assert not same_blobs(tmp_path, kept)


def test_a_blob_that_is_no_longer_a_regular_file_is_not_the_same(tmp_path: Path) -> None:
    digest = _blob(tmp_path, b"x")
    path = tmp_path / layout.blob_rel(digest)
    kept: dict[str, object] = {digest: identity(os.lstat(path))}
    path.unlink()
    path.mkdir()
    assert not same_blobs(tmp_path, kept)
    assert same_blobs(tmp_path, {digest: None})


def test_a_record_whose_names_are_not_digests_names_no_file(tmp_path: Path) -> None:
    """A tampered record: a name that is not 64 lower-case hex digits is never a path in the store (not
    `../../etc/passwd`, not an upper-case digest), so only "absent" is the same for it, beside real digests."""
    digest = _blob(tmp_path, b"y")
    good = identity(os.lstat(tmp_path / layout.blob_rel(digest)))
    outside = tmp_path / "outside"
    outside.write_bytes(b"z")
    for name in ["../../outside", digest.upper(), digest[:63], digest + "0", "", "g" * 64, digest[:62] + "\n0"]:
        assert blob_path(tmp_path, name) is None
        assert same_blobs(tmp_path, {digest: good, name: None}), name
        assert not same_blobs(tmp_path, {digest: good, name: identity(os.lstat(outside))}), name

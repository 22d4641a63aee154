"""A store's tmp/ with damage under a partial download's name: never waited on, never read without end.

An interrupted download leaves `tmp/<sha256>.<pid>.<random>.part` (and its `.json` record) for
the next writer to resume.  What a corrupted store may hold under those names instead (a FIFO,
whose open blocks until a writer comes, a link to /dev/zero, a folder, a sparse file far larger
than any asset) used to hang the next fetch or end it in an internal error.  Each case here runs a
real download from a loopback server under an alarm: a hang fails the test instead of the suite.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.config import Policy
from hubtool.errors import TransferError

POLICY = Policy(allowed_schemes=("http",), allowed_hosts=("127.0.0.1",), allow_private=("127.0.0.1",),
                max_asset_bytes=8 * 1024 * 1024, connect_timeout=2, read_timeout=2, retries=2,
                max_attempts=10, asset_deadline=20)
BODY = random_bytes(3 * 1024 * 1024, seed=11)
SHA = hashlib.sha256(BODY).hexdigest()
DEAD_PID = 2**22 + 1  # above Linux's pid_max: no process has it


def partial(store: DirectoryStore) -> Path:
    store.ensure(store.tmp_dir)
    return store.tmp_dir / f"{SHA}.{DEAD_PID}.abcdef.part"


def fifo(path: Path) -> None:
    os.mkfifo(path)


def link_to_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def folder(path: Path) -> None:
    path.mkdir()


def sparse_over_the_limit(path: Path) -> None:
    with open(path, "wb") as fh:
        fh.truncate(POLICY.max_asset_bytes + 1)  # no blocks on disk: hashing it would still read 8 MiB of zeros


@pytest.mark.parametrize("damage", [fifo, link_to_zero, folder, sparse_over_the_limit])
def test_damage_in_a_partials_place_is_left_alone_and_the_asset_downloaded_whole(
        tmp_path: Path, server: FaultServer, alarm: None, damage: Callable[[Path], None]) -> None:
    store = DirectoryStore(tmp_path / "store")
    damaged = partial(store)
    damage(damaged)
    route = server.add("/m.bin", BODY)
    outcome = build_fetcher(store, POLICY, backoff=0.01).fetch(server.url("/m.bin"), SHA)
    assert (outcome.action, outcome.resumed_from) == ("downloaded", 0)
    assert route.range_requests == []
    assert hashlib.sha256(Path(store.blob_path(SHA)).read_bytes()).hexdigest() == SHA
    assert os.path.lexists(damaged)  # not adopted, not removed: `store gc` says what to do with strangers
    assert {p.name for p in store.tmp_dir.iterdir()} == {damaged.name}


@pytest.mark.parametrize("damage", [fifo, link_to_zero, folder])
def test_a_partials_record_that_cannot_be_read_means_starting_from_zero(
        tmp_path: Path, server: FaultServer, alarm: None, damage: Callable[[Path], None]) -> None:
    store = DirectoryStore(tmp_path / "store")
    kept = partial(store)
    kept.write_bytes(BODY[:1024 * 1024])
    damage(kept.with_name(kept.name + ".json"))  # which URL wrote the partial is unknown
    route = server.add("/m.bin", BODY)
    outcome = build_fetcher(store, POLICY, backoff=0.01).fetch(server.url("/m.bin"), SHA)
    assert outcome.action == "downloaded"
    assert route.range_requests == [] and route.bytes_sent == len(BODY)
    assert hashlib.sha256(Path(store.blob_path(SHA)).read_bytes()).hexdigest() == SHA


def test_a_regular_partial_with_its_record_still_resumes(tmp_path: Path, server: FaultServer, alarm: None) -> None:
    """The check that refuses damage does not refuse the real thing: a cut download's partial resumes."""
    store = DirectoryStore(tmp_path / "store")
    route = server.add("/m.bin", BODY, cut_after=1024 * 1024, cut_times=1)
    with pytest.raises(TransferError):
        build_fetcher(store, POLICY._replace(retries=0, max_attempts=1), backoff=0.01).fetch(server.url("/m.bin"), SHA)
    [left] = store.tmp_dir.glob(f"{SHA}.*.part")
    received = left.stat().st_size
    assert 0 < received < len(BODY)
    resumed = build_fetcher(store, POLICY, backoff=0.01).fetch(server.url("/m.bin"), SHA)
    assert resumed.resumed_from == received
    assert route.range_requests == [f"bytes={received}-"]
    assert hashlib.sha256(Path(store.blob_path(SHA)).read_bytes()).hexdigest() == SHA

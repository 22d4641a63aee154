"""assets/directio.py: a large body written around the page cache, with the store's door as it was.

Every body here goes the direct way (the threshold set to 0, the staging buffer to 64 KiB so that a
3 MiB body crosses it many times and ends in a ragged tail): the same faults as test_download.py.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from helpers import assert_store_invariant
from hubtool.assets import directio
from hubtool.assets.directio import ALIGN, DirectOut
from hubtool.assets.fetcher import Fetcher
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.config import Policy
from hubtool.errors import IntegrityError, TransferError

POLICY = Policy(allowed_schemes=("http",), allowed_hosts=("127.0.0.1",), allow_private=("127.0.0.1",),
                max_asset_bytes=8 * 1024 * 1024, connect_timeout=2, read_timeout=2, retries=3)
BODY = random_bytes(3 * 1024 * 1024 + 17, seed=7)
SHA = hashlib.sha256(BODY).hexdigest()
STAGE = 64 * 1024


@pytest.fixture(autouse=True)
def every_body_direct(monkeypatch: pytest.MonkeyPatch) -> list[DirectOut]:
    """Each body is written around the page cache; the DirectOuts opened, to see that they were."""
    monkeypatch.setattr(directio, "DIRECT_AT_LEAST", 0)
    monkeypatch.setattr(directio, "STAGE", STAGE)
    opened: list[DirectOut] = []
    real = DirectOut.open.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[DirectOut], path: Path, at: int) -> DirectOut | None:
        out = real(cls, path, at)
        if out is not None:
            assert fcntl.fcntl(out.fileno(), fcntl.F_GETFL) & os.O_DIRECT
            opened.append(out)
        return out

    monkeypatch.setattr(DirectOut, "open", classmethod(recorded))
    return opened


@pytest.fixture
def store(tmp_path: Path) -> DirectoryStore:
    return DirectoryStore(tmp_path / "store")


def fetcher(store: DirectoryStore, policy: Policy = POLICY) -> Fetcher:
    return build_fetcher(store, policy, backoff=0.01)


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at = [], 0
    for size in sizes:
        out.append(data[at:at + size])
        at += size
    return [*out, data[at:]]


@pytest.mark.parametrize("sizes", [[1, ALIGN - 1, ALIGN, 70_000, 3 * STAGE + 5, 17], [STAGE] * 4, [ALIGN * 3]],
                         ids=["ragged", "whole stages", "whole blocks"])
def test_the_file_holds_every_byte_in_order(tmp_path: Path, sizes: list[int]) -> None:
    path = tmp_path / "f.part"
    path.touch()
    data = random_bytes(sum(sizes) + (ALIGN // 2 if sizes[-1] != 17 else 0), seed=len(sizes))
    out = DirectOut.open(path, 0)
    assert out is not None
    for piece in _pieces(data, sizes):
        out.write(piece)
    out.finish()
    out.close()
    assert path.read_bytes() == data


def test_reset_starts_again_at_the_beginning(tmp_path: Path) -> None:
    path = tmp_path / "f.part"
    path.touch()
    out = DirectOut.open(path, 0)
    assert out is not None
    out.write(random_bytes(STAGE * 2 + 100, seed=1))
    os.truncate(path, 0)
    out.reset()
    again = random_bytes(STAGE + 3, seed=2)
    out.write(again)
    out.finish()
    out.close()
    assert path.read_bytes() == again


def test_an_offset_off_the_block_boundary_or_a_refusal_stays_on_the_page_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.part"
    path.touch()
    assert DirectOut.open(path, ALIGN + 1) is None  # a resumed partial's ragged end
    real_open = os.open

    def no_direct(file: str, flags: int, *args: int) -> int:
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")  # what tmpfs says
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", no_direct)
    assert DirectOut.open(path, 0) is None


def test_einval_on_a_direct_write_goes_on_through_the_page_cache(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.part"
    path.touch()
    out = DirectOut.open(path, 0)
    assert out is not None
    real_pwrite = os.pwrite
    refused: list[int] = []

    def picky(fd: int, data: memoryview, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", picky)
    data = random_bytes(STAGE * 3 + 9, seed=3)
    out.write(data)
    out.finish()
    out.close()
    assert refused == [0] and path.read_bytes() == data


def test_a_download_written_around_the_page_cache(server: FaultServer, store: DirectoryStore,
                                                  every_body_direct: list[DirectOut]) -> None:
    server.add("/m.ms", BODY)
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).action == "downloaded"
    assert len(every_body_direct) == 1
    assert store.blob_path(SHA).read_bytes() == BODY
    assert_store_invariant(store)


def test_a_cut_resumes_from_every_byte_received(server: FaultServer, store: DirectoryStore,
                                                every_body_direct: list[DirectOut]) -> None:
    """The bytes still staged when the connection is cut are part of the offset the Range asks from."""
    cut = 1024 * 1024 + 5
    route = server.add("/m.ms", BODY, cut_after=cut, etag='"v1"')
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).size == len(BODY)
    [asked] = route.range_requests
    assert cut - 1024 * 1024 < int(asked[len("bytes="):-1]) <= cut
    assert store.blob_path(SHA).read_bytes() == BODY
    assert_store_invariant(store)


def test_a_partial_kept_after_a_failure_holds_what_was_received_and_resumes(
        server: FaultServer, store: DirectoryStore, every_body_direct: list[DirectOut]) -> None:
    cut = 2 * 1024 * 1024 + 3  # not on a block: the staged tail is written through the page cache
    route = server.add("/m.ms", BODY, cut_after=cut, etag='"v1"')
    with pytest.raises(TransferError):
        fetcher(store, POLICY._replace(retries=0)).fetch(server.url("/m.ms"), SHA)
    [partial] = [p for p in store.tmp_dir.iterdir() if p.suffix == ".part"]
    kept = partial.read_bytes()
    assert BODY.startswith(kept) and len(kept) > 1024 * 1024
    route.cut_after = None
    outcome = fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert outcome.resumed_from == len(kept)
    assert store.blob_path(SHA).read_bytes() == BODY
    assert_store_invariant(store)


def test_a_body_sent_again_whole_and_a_wrong_one(server: FaultServer, store: DirectoryStore) -> None:
    """A server that ignores Range sends it all again (the file restarts); a body that does not hash to the
    card's SHA-256 never becomes a blob, written around the page cache or not."""
    route = server.add("/m.ms", BODY, cut_after=1024 * 1024 + 5, ranges=False)
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).size == len(BODY)
    assert route.hits == 2 and store.blob_path(SHA).read_bytes() == BODY
    other = random_bytes(len(BODY), seed=8)
    server.add("/other.ms", other)
    wrong = hashlib.sha256(b"not this").hexdigest()
    with pytest.raises(IntegrityError):
        fetcher(store).fetch(server.url("/other.ms"), wrong)
    assert not store.blob_path(wrong).exists()
    assert_store_invariant(store)


def test_a_local_file_copied_in_goes_around_the_page_cache(tmp_path: Path, store: DirectoryStore,
                                                           every_body_direct: list[DirectOut]) -> None:
    src = tmp_path / "repository-asset.ckpt"
    src.write_bytes(BODY)
    stored = store.put_file(SHA, src, source=str(src))
    assert stored.created and len(every_body_direct) == 1
    assert store.blob_path(SHA).read_bytes() == BODY
    assert_store_invariant(store)

"""One blob-store contract, two backends: the directory store and S3 (moto every run, Ceph RGW over HTTP
and HTTPS); the create-only refs publishing commits on, on the S3 servers."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faultserver import FaultServer, random_bytes
from s3_fault_proxy import S3FaultProxy
from s3_servers import Server, rgw

from helpers import assert_store_invariant
from hubtool.assets.blobstore import BlobStore
from hubtool.assets.s3.blobs import S3BlobStore
from hubtool.assets.s3.client import S3Location, make_client
from hubtool.assets.s3.refs import S3RefStore
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.config import Mirror, Policy
from hubtool.errors import IntegrityError, OutcomeUnknown, StoreError, TransferError

BODY = random_bytes(300_000, seed=9)
SHA = hashlib.sha256(BODY).hexdigest()


@dataclass
class Backend:
    name: str
    blobs: Any  # a DirectoryStore or an S3BlobStore: both keep the BlobStore protocol
    client: Any = None
    location: S3Location | None = None

    def overwrite(self, digest: str, data: bytes) -> None:
        """Change a blob behind hubtool's back."""
        if self.client is None:
            path = self.blobs.blob_path(digest)
            path.chmod(0o644)
            path.write_bytes(data)
        else:
            self.client.put_object(Bucket=self.location.bucket, Key=self.blobs.blob_key(digest), Body=data)

    def abandon_upload(self, digest: str, src: Path) -> None:
        """Start an upload and die half-way."""
        if self.client is None:
            writer = self.blobs.writer(digest, source="test")
            writer.write(src.read_bytes()[:1000])
            writer._fh.close()  # the process "died": the temp file stays, under a dead pid
            os.rename(writer.path, writer.path.with_name(f"{digest}.999999999.abcd.part"))
        else:
            key = self.blobs.blob_key(digest)
            upload = self.client.create_multipart_upload(Bucket=self.location.bucket, Key=key)["UploadId"]
            self.client.upload_part(Bucket=self.location.bucket, Key=key, UploadId=upload, PartNumber=1,
                                    Body=src.read_bytes()[:1000])

    def pending(self) -> int:
        if self.client is None:
            return len(list(self.blobs.tmp_dir.glob("*.part"))) if self.blobs.tmp_dir.exists() else 0
        return len(self.client.list_multipart_uploads(Bucket=self.location.bucket).get("Uploads", []))

    def clean(self) -> None:
        if self.client is None:
            self.blobs.clean_tmp()
        else:
            for upload in self.blobs.uploads():
                self.blobs.abort(upload)


def _s3_backend(server: Server) -> Backend:
    client, bucket = server.bucket()
    location = S3Location(bucket, "hub/")
    return Backend(server.name, S3BlobStore(location, client), client, location)


def _server(kind: str, moto: Server) -> Server:
    return moto if kind == "moto" else rgw(https=kind == "rgw-https")


@pytest.fixture(params=["local", "moto", "rgw", "rgw-https"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, moto: Server) -> Backend:
    if request.param == "local":
        return Backend("local", DirectoryStore(tmp_path / "store"))
    return _s3_backend(_server(request.param, moto))


@pytest.fixture(params=["moto", "rgw", "rgw-https"])
def refs(request: pytest.FixtureRequest, moto: Server) -> S3RefStore:
    client, bucket = _server(request.param, moto).bucket()
    return S3RefStore(S3Location(bucket, "hub/"), client)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(BODY)
    return path


def _store(backend: Backend) -> BlobStore:
    store: BlobStore = backend.blobs  # both backends are held to the one protocol
    return store


def test_create_twice(backend: Backend, src: Path) -> None:
    first = _store(backend).put_file(SHA, src, source="test")
    second = _store(backend).put_file(SHA, src, source="test")
    assert (first.created, second.created) == (True, False)
    assert first.info.size == second.info.size == len(BODY)
    info = _store(backend).stat(SHA)
    assert info is not None and info.size == len(BODY) and info.digest == SHA


def test_wrong_digest_leaves_no_visible_object(backend: Backend, src: Path) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(IntegrityError):
        _store(backend).put_file(wrong, src, source="test")
    assert _store(backend).stat(wrong) is None
    assert backend.pending() == 0  # the failed upload was aborted


def test_listing_and_removal(backend: Backend, src: Path) -> None:
    _store(backend).put_file(SHA, src, source="test")
    assert [i.digest for i in _store(backend).iter_blobs()] == [SHA]
    _store(backend).remove(SHA)
    assert list(_store(backend).iter_blobs()) == [] and _store(backend).stat(SHA) is None


def test_ranged_reads(backend: Backend, src: Path) -> None:
    _store(backend).put_file(SHA, src, source="test")

    def read(start: int, end: int | None = None) -> bytes:
        return b"".join(backend.blobs.open_range(SHA, start, end))

    assert read(0, 10) == BODY[:10]
    assert read(1000, 5000) == BODY[1000:5000]
    assert read(-100) == BODY[-100:]
    assert read(299_990) == BODY[299_990:]
    with pytest.raises(StoreError, match="not satisfiable"):
        read(len(BODY) + 10)


@pytest.mark.parametrize("kind", ["moto", "rgw", "rgw-https"])
def test_fetch_from_s3_into_a_local_store(kind: str, moto: Server, src: Path, tmp_path: Path) -> None:
    remote = _s3_backend(_server(kind, moto))
    remote.blobs.put_file(SHA, src, source="test")
    local = DirectoryStore(tmp_path / "local")
    assert remote.blobs.fetch(SHA, local).size == len(BODY)
    assert local.verify(SHA) is None
    remote.overwrite(SHA, b"tampered")  # a corrupt remote copy never enters the local store
    other = DirectoryStore(tmp_path / "other")
    with pytest.raises(IntegrityError):
        remote.blobs.fetch(SHA, other)
    assert not other.has(SHA)


def test_listing_past_1000_keys(refs: S3RefStore) -> None:
    for i in range(1010):
        refs.put(f"many/{i:05d}", b"x")
    names = refs.list("many/")
    assert len(names) == 1010 and names[0] == "many/00000" and names[-1] == "many/01009"


def test_interrupted_upload_is_invisible_and_cleaned(backend: Backend, src: Path) -> None:
    backend.abandon_upload(SHA, src)
    assert _store(backend).stat(SHA) is None
    assert backend.pending() == 1
    backend.clean()
    assert backend.pending() == 0


def test_create_only_race_has_one_winner_per_generation(refs: S3RefStore) -> None:
    for generation in range(5):
        wins: list[int] = []
        barrier = threading.Barrier(8)

        def writer(i: int, generation: int = generation, barrier: threading.Barrier = barrier,
                   wins: list[int] = wins) -> None:
            barrier.wait()
            if refs.create(f"refs/index/{generation:010d}.json", f"writer {i} {generation}".encode()):
                wins.append(i)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1, wins
        body = refs.read(f"refs/index/{generation:010d}.json")
        assert body == f"writer {wins[0]} {generation}".encode()


def test_verify_detects_an_overwrite(backend: Backend, src: Path) -> None:
    _store(backend).put_file(SHA, src, source="test")
    assert _store(backend).verify(SHA) is None
    backend.overwrite(SHA, b"overwritten behind hubtool's back")
    assert _store(backend).verify(SHA) == hashlib.sha256(b"overwritten behind hubtool's back").hexdigest()


# --- S3 only: conditional writes under failure ----------------------------------------------------------


class _Flaky:
    """A client whose conditional put fails with HTTP 500, before or after doing the write."""

    def __init__(self, client: Any, *, after: bool, timeout: bool = False) -> None:
        self._client, self._after, self._timeout = client, after, timeout

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError, ReadTimeoutError

        if "IfNoneMatch" in kwargs:
            if self._after:
                self._client.put_object(**kwargs)
            if self._timeout:
                raise ReadTimeoutError(endpoint_url="http://127.0.0.1")
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "PutObject")
        return self._client.put_object(**kwargs)


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_5xx_on_a_conditional_write_is_outcome_unknown(kind: str, moto: Server) -> None:
    client, bucket = _server(kind, moto).bucket()
    location = S3Location(bucket, "")
    done = S3RefStore(location, _Flaky(client, after=True))
    assert done.create("refs/index/0000000001.json", b"mine") is True  # it happened: the re-read says so
    lost = S3RefStore(location, _Flaky(client, after=False))
    with pytest.raises(OutcomeUnknown):
        lost.create("refs/index/0000000002.json", b"mine")
    S3RefStore(location, client).create("refs/index/0000000003.json", b"theirs")
    assert S3RefStore(location, _Flaky(client, after=False)).create("refs/index/0000000003.json", b"mine") is False
    timed_out = S3RefStore(location, _Flaky(client, after=True, timeout=True))
    assert timed_out.create("refs/index/0000000004.json", b"mine") is True  # a timeout is re-read too
    with pytest.raises(OutcomeUnknown):
        S3RefStore(location, _Flaky(client, after=False, timeout=True)).create("refs/index/0000000005.json", b"x")


def test_an_s3_mirror_is_a_fetch_source(moto: Server, tmp_path: Path) -> None:
    remote = _s3_backend(moto)
    src = tmp_path / "b.bin"
    src.write_bytes(BODY)
    remote.blobs.put_file(SHA, src, source="test")
    url = f"s3://{remote.location.bucket}/hub"
    fetcher = build_fetcher(DirectoryStore(tmp_path / "local"), Policy(), mirrors=(Mirror(url),),
                            s3_client=lambda: remote.client)
    outcome = fetcher.fetch("https://origin.invalid/b.bin", SHA)  # the origin is never contacted
    assert outcome.source == url and fetcher.store.verify(SHA) is None


def test_a_failing_s3_mirror_hands_over_with_its_reason(moto: Server, tmp_path: Path) -> None:
    url = "s3://no-such-bucket-here/hub"
    fetcher = build_fetcher(DirectoryStore(tmp_path / "local"), Policy(), mirrors=(Mirror(url),),
                            s3_client=moto.client)
    with pytest.raises(TransferError) as info:  # the origin's own failure is final
        fetcher.fetch("https://origin.invalid/b.bin", SHA)
    assert f"mirrors tried first: {url}:" in str(info.value)


@pytest.mark.parametrize("mode", ["cut", "short", "long", "5xx"])
@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_a_hostile_s3_mirror_leaves_no_bad_blob_and_hands_over(kind: str, mode: str, moto: Server,
                                                               server: FaultServer, tmp_path: Path) -> None:
    """An S3 mirror behind a proxy that cuts, lies about sizes or says 503: the origin serves the blob."""
    s3 = _server(kind, moto)
    client, bucket = s3.bucket()
    remote = S3BlobStore(S3Location(bucket, "hub/"), client)
    src = tmp_path / "b.bin"
    src.write_bytes(BODY)
    remote.put_file(SHA, src, source="test")
    proxy = S3FaultProxy(s3.endpoint).start()
    try:
        proxy.mode = mode
        proxied = make_client(endpoint_url=proxy.endpoint, addressing_style="path")
        server.add("/b.bin", BODY)
        policy = Policy(allowed_schemes=("http",), allowed_hosts=("127.0.0.1",), allow_private=("127.0.0.1",))
        local = DirectoryStore(tmp_path / "local")
        fetcher = build_fetcher(local, policy, mirrors=(Mirror(f"s3://{bucket}/hub"),), s3_client=lambda: proxied,
                                backoff=0.01)
        outcome = fetcher.fetch(server.url("/b.bin"), SHA)
        assert outcome.source == server.url("/b.bin") and proxy.damaged >= 1
        assert len(outcome.bad_mirrors) == 1 and outcome.bad_mirrors[0].startswith(f"s3://{bucket}/hub")
        assert_store_invariant(local)
        assert remote.verify(SHA) is None  # a direct read: the bucket's blob is untouched
    finally:
        proxy.stop()

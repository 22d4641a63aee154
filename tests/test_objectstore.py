"""One store contract, two backends: the directory store and S3 (moto every run, Ceph RGW over HTTP and HTTPS)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faultserver import random_bytes
from s3_servers import Server, rgw, start_moto

from helpers import card_text, run_cli
from hubtool import s3publish
from hubtool.errors import IntegrityError, StoreError
from hubtool.s3store import OutcomeUnknown, S3BlobStore, S3Location, S3RefStore
from hubtool.store import BlobStore, LocalRefStore

BODY = random_bytes(300_000, seed=9)
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(scope="session")
def moto() -> Iterator[Server]:
    server = start_moto()
    yield server
    assert server.proc is not None
    server.proc.terminate()
    server.proc.wait()


@dataclass
class Backend:
    name: str
    blobs: Any
    refs: Any
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
            self.blobs.gc_uploads()


def _s3_backend(server: Server) -> Backend:
    client, bucket = server.bucket()
    location = S3Location(bucket, "hub/")
    return Backend(server.name, S3BlobStore(location, client), S3RefStore(location, client), client, location)


@pytest.fixture(params=["local", "moto", "rgw", "rgw-https"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, moto: Server) -> Backend:
    if request.param == "local":
        return Backend("local", BlobStore(tmp_path / "store"), LocalRefStore(tmp_path / "refs"))
    if request.param == "moto":
        return _s3_backend(moto)
    return _s3_backend(rgw(https=request.param == "rgw-https"))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(BODY)
    return path


def test_create_twice(backend: Backend, src: Path) -> None:
    assert backend.blobs.put_if_absent(SHA, src) == "created"
    assert backend.blobs.put_if_absent(SHA, src) == "exists"
    assert backend.blobs.stat(SHA).size == len(BODY)


def test_wrong_digest_leaves_no_visible_object(backend: Backend, src: Path) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(IntegrityError):
        backend.blobs.put_if_absent(wrong, src)
    assert not backend.blobs.has(wrong)
    assert backend.pending() == 0  # the failed upload was aborted


def test_ranged_reads(backend: Backend, src: Path) -> None:
    backend.blobs.put_if_absent(SHA, src)

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
    remote = _s3_backend(moto if kind == "moto" else rgw(https=kind == "rgw-https"))
    remote.blobs.put_if_absent(SHA, src)
    local = BlobStore(tmp_path / "local")
    assert remote.blobs.fetch(SHA, local).size == len(BODY)
    assert local.verify(SHA) is None
    remote.overwrite(SHA, b"tampered")  # a corrupt remote copy never enters the local store
    other = BlobStore(tmp_path / "other")
    with pytest.raises(IntegrityError):
        remote.blobs.fetch(SHA, other)
    assert not other.has(SHA)


def test_listing_past_1000_keys(backend: Backend) -> None:
    for i in range(1010):
        backend.refs.put(f"many/{i:05d}", b"x")
    names = backend.refs.list("many/")
    assert len(names) == 1010 and names[0] == "many/00000" and names[-1] == "many/01009"


def test_interrupted_upload_is_invisible_and_cleaned(backend: Backend, src: Path) -> None:
    backend.abandon_upload(SHA, src)
    assert not backend.blobs.has(SHA)
    assert backend.pending() == 1
    backend.clean()
    assert backend.pending() == 0


def test_create_only_race_has_one_winner_per_generation(backend: Backend) -> None:
    for generation in range(5):
        wins: list[int] = []
        barrier = threading.Barrier(8)

        def writer(i: int, generation: int = generation, barrier: threading.Barrier = barrier,
                   wins: list[int] = wins) -> None:
            barrier.wait()
            if backend.refs.create(f"refs/index/{generation:010d}.json", f"writer {i} {generation}".encode()):
                wins.append(i)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1, wins
        body = backend.refs.read(f"refs/index/{generation:010d}.json")[0]
        assert body == f"writer {wins[0]} {generation}".encode()


def test_deep_verify_detects_an_overwrite(backend: Backend, src: Path) -> None:
    backend.blobs.put_if_absent(SHA, src)
    assert backend.blobs.verify(SHA, deep=True) is None
    backend.overwrite(SHA, b"overwritten behind hubtool's back")
    assert backend.blobs.verify(SHA, deep=True) == hashlib.sha256(b"overwritten behind hubtool's back").hexdigest()


# --- S3 only: conditional writes under failure, publishing generations ---------------------------------


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
    server = moto if kind == "moto" else rgw()
    client, bucket = server.bucket()
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


def _publish_doc(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    card = {"id": f"u/m@{i}", "card": "cards/u/m.md", "title": None, "metadata": {"n": i}, "assets": [],
            "golden": {"status": "skipped"}, "verified": True, "document": ""}
    return {"format": "hubtool-index/1", "hub": {"name": "t"}, "hubtool": "0", "runtimes": {}, "cards": [card]}, \
        [dict(card)]


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_publish_generations_and_a_crash_at_every_step(kind: str, moto: Server, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    server = moto if kind == "moto" else rgw()
    client, bucket = server.bucket()
    location = S3Location(bucket, "pub/")
    local = BlobStore(tmp_path / "store")
    index, docs = _publish_doc(1)
    first = s3publish.publish(location, client, index=index, documents=docs, blobs=[], local=local)
    assert first.generation == 1 and not first.unchanged
    assert first.capabilities["conditional-writes"] is True
    assert isinstance(first.capabilities["checksum-sha256"], bool)
    assert s3publish.publish(location, client, index=_publish_doc(1)[0], documents=_publish_doc(1)[1], blobs=[],
                             local=local).unchanged
    real_put, real_create = S3RefStore.put, S3RefStore.create
    for step in range(3):  # crash at the card document, the index, and the commit
        calls = {"n": 0}

        def crashing_put(self: S3RefStore, name: str, body: bytes, step: int = step,
                         calls: dict[str, int] = calls) -> None:
            calls["n"] += 1
            if calls["n"] > step:
                raise RuntimeError("crash")
            real_put(self, name, body)

        monkeypatch.setattr(S3RefStore, "put", crashing_put)
        if step == 2:
            monkeypatch.setattr(S3RefStore, "create", lambda self, name, body: (_ for _ in ()).throw(
                RuntimeError("crash")) if name.startswith("refs/index/") else real_create(self, name, body))
        index, docs = _publish_doc(2)
        with pytest.raises(RuntimeError):
            s3publish.publish(location, client, index=index, documents=docs, blobs=[], local=local)
        monkeypatch.setattr(S3RefStore, "put", real_put)
        monkeypatch.setattr(S3RefStore, "create", real_create)
        generation, seen = s3publish.read_index(location, client)
        assert generation == 1 and seen["cards"][0]["metadata"] == {"n": 1}  # the previous hub, whole
    second = s3publish.publish(location, client, index=_publish_doc(2)[0], documents=_publish_doc(2)[1], blobs=[],
                               local=local)
    assert second.generation == 2 and s3publish.read_index(location, client)[1]["cards"][0]["metadata"] == {"n": 2}


def test_racing_publishers_rebase(moto: Server, tmp_path: Path) -> None:
    client, bucket = moto.bucket()
    location = S3Location(bucket, "")
    local = BlobStore(tmp_path / "store")
    results: list[int] = []

    def publisher(i: int) -> None:
        index, docs = _publish_doc(10 + i)
        results.append(s3publish.publish(location, client, index=index, documents=docs, blobs=[],
                                         local=local).generation)

    threads = [threading.Thread(target=publisher, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [1, 2, 3, 4]  # each got its own generation, none was overwritten


def test_gc_keeps_recent_generations(moto: Server, tmp_path: Path) -> None:
    client, bucket = moto.bucket()
    location = S3Location(bucket, "")
    local = BlobStore(tmp_path / "store")
    for i in range(5):
        index, docs = _publish_doc(i)
        s3publish.publish(location, client, index=index, documents=docs, blobs=[], local=local)
    S3BlobStore(location, client).blob_key(SHA)
    client.put_object(Bucket=bucket, Key=f"blobs/sha256/{SHA[:2]}/{SHA}", Body=BODY)  # unreferenced
    assert s3publish.gc(location, client, keep=2, grace_seconds=3600) == []  # all within the grace period
    removed = s3publish.gc(location, client, keep=2, grace_seconds=0)
    assert f"blobs/sha256/{SHA[:2]}/{SHA}" in removed
    assert len(S3RefStore(location, client).list("refs/index/")) == 2
    assert s3publish.read_index(location, client)[0] == 5


# --- through the CLI: mirror and publish to s3:// ------------------------------------------------------


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_mirror_and_publish_to_s3(kind: str, moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = moto if kind == "moto" else rgw()
    client, bucket = server.bucket()
    root = tmp_path / "hub"
    (root / "hub" / "assets").mkdir(parents=True)
    (root / "hub" / "assets" / "m.ckpt").write_bytes(BODY)
    ca = f"\n  ca-bundle: {server.verify}" if isinstance(server.verify, str) else ""
    (root / "hub" / "hub.yaml").write_text(f"name: s3 hub\nobject-store:\n  endpoint-url: {server.endpoint}\n"
                                           f"  addressing-style: path{ca}\n")
    text = card_text().replace("https://download.mindspore.cn/a.ckpt", "hub/assets/m.ckpt").replace(
        "449498ecf5201d46d4eaee2754d69db89b656573f4e74ab42a9f8597299bb63b", SHA)
    (root / "cards" / "u").mkdir(parents=True)
    (root / "cards" / "u" / "m.md").write_text(text)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    monkeypatch.chdir(root)
    store = str(tmp_path / "store")
    mirrored = run_cli("mirror", "--to", f"s3://{bucket}/mirror", "--store", store)
    assert mirrored.exit_code == 0, mirrored.output
    location = S3Location(bucket, "mirror/")
    assert S3BlobStore(location, client).verify(SHA, deep=True) is None
    manifest = json.loads(S3RefStore(location, client).read("manifest.json")[0])
    assert manifest["cards"][0]["assets"][0]["sha256"] == SHA
    published = run_cli("publish", "--to", f"s3://{bucket}/pub", "--with-assets", "--store", store)
    assert published.exit_code == 0, published.output
    generation, index = s3publish.read_index(S3Location(bucket, "pub/"), client)
    assert generation == 1 and index["cards"][0]["assets"][0]["sha256"] == SHA
    doc = S3RefStore(S3Location(bucket, "pub/"), client).read(index["cards"][0]["document"])
    assert doc is not None and json.loads(doc[0])["id"] == "u/m@1.0"
    again = run_cli("publish", "--to", f"s3://{bucket}/pub", "--with-assets", "--store", store)
    assert again.exit_code == 0 and "(unchanged)" in again.output


def test_an_s3_mirror_is_a_fetch_source(moto: Server, tmp_path: Path) -> None:
    from hubtool.config import Mirror, Policy
    from hubtool.download import Fetcher

    remote = _s3_backend(moto)
    src = tmp_path / "b.bin"
    src.write_bytes(BODY)
    remote.blobs.put_if_absent(SHA, src)
    url = f"s3://{remote.location.bucket}/hub"
    fetcher = Fetcher(BlobStore(tmp_path / "local"), Policy(), mirrors=(Mirror(url),), s3_client=lambda: remote.client)
    outcome = fetcher.fetch("https://origin.invalid/b.bin", SHA)  # the origin is never contacted
    assert outcome.source == url and fetcher.store.verify(SHA) is None

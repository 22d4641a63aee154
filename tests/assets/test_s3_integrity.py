"""What the bucket holds is what its name says: uploads through a proxy that damages them (moto, which
checks nothing, and Ceph RGW, which checks signed payloads), the bucket read back directly after each."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from faultserver import random_bytes
from s3_fault_proxy import S3FaultProxy
from s3_servers import Server, rgw

from hubtool.assets.blobstore import BlobInfo
from hubtool.assets.maintenance import Unreadable, verify_blobs
from hubtool.assets.s3.blobs import S3BlobStore
from hubtool.assets.s3.client import S3Location, make_client
from hubtool.errors import HubtoolError, IntegrityError

# three parts of 8 MiB, so that part ETags, the multipart ETag and a re-sent part are all exercised
BODY = random_bytes(17 * 1024 * 1024 + 5, seed=31)
SHA = hashlib.sha256(BODY).hexdigest()
SMALL = random_bytes(100_000, seed=32)
SMALL_SHA = hashlib.sha256(SMALL).hexdigest()


def _server(kind: str, moto: Server) -> Server:
    return moto if kind == "moto" else rgw()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "model.bin"
    path.write_bytes(BODY)
    return path


class Bucket:
    """A bucket on a real server, reached directly (to check) and through a fault proxy (to damage)."""

    def __init__(self, server: Server) -> None:
        self.client, self.name = server.bucket()
        self.proxy = S3FaultProxy(server.endpoint).start()
        self.location = S3Location(self.name, "hub/")
        self.direct = S3BlobStore(self.location, self.client)

    def through_proxy(self, fault: str | None, budget: int = -1) -> S3BlobStore:
        self.proxy.upload_fault, self.proxy.budget = fault, budget
        return S3BlobStore(self.location, make_client(endpoint_url=self.proxy.endpoint, addressing_style="path"))

    def holds(self, digest: str) -> bool:
        """Read straight from the server: the object exists and hashes to its name."""
        return self.direct.stat(digest) is not None and self.direct.verify(digest) is None

    def nothing_visible(self, digest: str) -> bool:
        uploads: list[Any] = self.client.list_multipart_uploads(Bucket=self.name).get("Uploads", [])
        return self.direct.stat(digest) is None and not uploads


@pytest.fixture(params=["moto", "rgw"])
def bucket(request: pytest.FixtureRequest, moto: Server) -> Any:
    made = Bucket(_server(request.param, moto))
    yield made
    made.proxy.stop()


def test_a_part_changed_in_transit_every_time_never_becomes_visible(bucket: Bucket, src: Path) -> None:
    """moto keeps the changed part (its ETag gives it away); RGW refuses it (the signed payload hash)."""
    with pytest.raises(IntegrityError, match="arrived changed 2 times"):
        bucket.through_proxy("flip-part").put_file(SHA, src, source="test")
    assert bucket.nothing_visible(SHA)


def test_a_part_changed_once_is_sent_again_and_the_blob_is_right(bucket: Bucket, src: Path) -> None:
    stored = bucket.through_proxy("flip-part", budget=1).put_file(SHA, src, source="test")
    assert stored.created and stored.proof == "the server confirmed the MD5 of each part (3 parts)"
    assert bucket.holds(SHA)
    assert bucket.proxy.requests.count(("PUT", "UploadPart")) == 4  # one part twice


def test_a_server_whose_etags_prove_nothing_gets_read_back(moto: Server, src: Path) -> None:
    """ETags that are not MD5s (as under SSE-KMS): the object is read back before it counts, and a wrong
    one is deleted again (moto keeps changed parts, so this is the only thing that catches them)."""
    bucket = Bucket(moto)
    try:
        bucket.proxy.disguise_etags = True
        stored = bucket.through_proxy(None).put_file(SMALL_SHA, _file(src.parent, SMALL), source="test")
        assert stored.proof == "read back and hashed (this server's ETags prove nothing)"
        assert bucket.holds(SMALL_SHA)
        with pytest.raises(IntegrityError, match="read back as .* after its upload; it was deleted"):
            bucket.through_proxy("flip-part").put_file(SHA, src, source="test")
        assert bucket.nothing_visible(SHA)
    finally:
        bucket.proxy.stop()


def _file(folder: Path, data: bytes) -> Path:
    path = folder / hashlib.sha256(data).hexdigest()[:12]
    path.write_bytes(data)
    return path


def test_present_is_never_taken_on_a_head(bucket: Bucket, src: Path) -> None:
    """A corrupt object under the blob's name is replaced; good ones are proved by ETag, or read back."""
    key = bucket.direct.blob_key(SHA)
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=BODY[:-1] + b"\0")  # same size, wrong bytes
    stored = bucket.through_proxy(None).put_file(SHA, src, source="test")
    assert stored.created and stored.proof.endswith("; it replaced a corrupt copy")
    assert bucket.holds(SHA)
    again = bucket.through_proxy(None).put_file(SHA, src, source="test")
    assert not again.created and again.proof == "already in the bucket; its ETag matches this file's MD5s"
    small = _file(src.parent, SMALL)
    bucket.client.put_object(Bucket=bucket.name, Key=bucket.direct.blob_key(SMALL_SHA), Body=SMALL)  # one part
    assert bucket.direct.put_file(SMALL_SHA, small, source="test").proof.endswith("its ETag matches this file's MD5s")
    bucket.direct.remove(SHA)  # now as another tool uploads it: parts of its own size, an ETag of 4 parts
    five_mib = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    bucket.client.upload_file(str(src), bucket.name, key, Config=five_mib)
    assert bucket.client.head_object(Bucket=bucket.name, Key=key)["ETag"].endswith('-4"')
    stored = bucket.direct.put_file(SHA, src, source="test")
    assert not stored.created and stored.proof == "already in the bucket; read back and hashed"


@pytest.mark.parametrize("fault", ["completed-500", "complete-500"])
def test_a_completion_that_fails_is_settled_by_reading_the_object(bucket: Bucket, src: Path, fault: str) -> None:
    """completed-500: the server did complete, then said 500; complete-500 once: botocore's retry completes."""
    stored = bucket.through_proxy(fault, budget=1).put_file(SHA, src, source="test")
    assert stored.created and "confirmed the MD5" in stored.proof
    assert bucket.holds(SHA)


def test_a_completion_that_never_happens_leaves_nothing(bucket: Bucket, src: Path) -> None:
    with pytest.raises(HubtoolError, match="InternalError"):
        bucket.through_proxy("complete-500").put_file(SHA, src, source="test")
    assert bucket.nothing_visible(SHA)


def test_a_cut_part_is_retried_and_a_part_that_always_cuts_fails_cleanly(bucket: Bucket, src: Path) -> None:
    assert bucket.through_proxy("cut-part", budget=1).put_file(SHA, src, source="test").created
    assert bucket.holds(SHA)
    with pytest.raises(HubtoolError, match="uploading s3://"):
        bucket.through_proxy("cut-part").put_file(SMALL_SHA, _file(src.parent, SMALL), source="test")
    assert bucket.nothing_visible(SMALL_SHA)


class Recorder:
    """A Progress that adds up the bytes each transfer reports."""

    def __init__(self) -> None:
        self.bytes: dict[str, int] = {}
        self.done: list[str] = []

    def notice(self, text: str) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def transfer_started(self, key: str, label: str) -> None:
        self.bytes[key] = 0

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        pass

    def transferred(self, key: str, nbytes: int) -> None:
        self.bytes[key] += nbytes

    def transfer_done(self, key: str) -> None:
        self.done.append(key)


@pytest.mark.parametrize("mode", ["cut", "short"])
def test_verify_reads_in_ranges_again_after_a_cut_and_reports_progress(bucket: Bucket, src: Path, mode: str) -> None:
    bucket.direct.put_file(SHA, src, source="test")
    store = bucket.through_proxy(None)
    bucket.proxy.mode, bucket.proxy.damage_budget = mode, 1  # one range's answer damaged: read again
    recorder = Recorder()
    found = list(verify_blobs(store, progress=recorder))
    assert found == [BlobInfo(SHA, len(BODY), f"s3://{bucket.name}/hub/blobs/sha256/{SHA[:2]}/{SHA}")]
    assert bucket.proxy.damaged == 1 and recorder.bytes == {SHA: len(BODY)} and recorder.done == [SHA]
    bucket.proxy.damage_budget = -1  # every answer damaged: unreadable, and never removed by a repair
    found = list(verify_blobs(store, repair=True))
    assert isinstance(found[0], Unreadable) and "could not be read in 3 attempts" in found[0].why
    assert bucket.holds(SHA)

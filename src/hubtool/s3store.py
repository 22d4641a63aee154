"""The blob store and publish refs on S3-API object storage (AWS S3, Ceph RGW, MinIO, R2, OBS...).

Same contract as the directory store (../shared/OBJECT-STORE.md section 5):

* blobs are immutable objects `PREFIX/blobs/sha256/<2 hex>/<64 hex>`, put if absent;
  the bytes are uploaded as a multipart upload whose parts carry their own
  signed payload SHA-256 (any SigV4 server checks each part), hashed in the
  same sequential read, and the upload is completed only if the whole file's
  SHA-256 equals the blob's name: a wrong or torn body never becomes visible,
  even on servers that verify nothing (emulators);
* downloads stream through the local store's door (hash, fsync, rename);
* refs are small create-only objects (`If-None-Match: *`): the commit point of
  publishing, since object stores have no rename.

boto3 is configured with request_checksum_calculation / response_checksum_validation
= when_required, which non-AWS servers need (boto3 >= 1.36 breaks them otherwise).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import HubtoolError, IntegrityError, StoreError
from .store import CHUNK, BlobInfo, BlobStore, check_digest

PART_SIZE = 8 * 1024 * 1024  # multipart part size (boto3 uses the same)
UPLOAD_THREADS = 10
MAX_IN_FLIGHT = 12  # parts read but not yet uploaded: memory stays under MAX_IN_FLIGHT * PART_SIZE


class OutcomeUnknown(StoreError):
    """A conditional write failed with 5xx or a timeout: it may or may not have happened."""

    kind = "outcome-unknown"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending with "/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StoreError(f"not an s3:// location: {url!r}", hint="write s3://bucket/prefix")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, prefix + "/" if prefix else "")

    def key(self, rel: str) -> str:
        return self.prefix + rel


def is_s3(target: str | Path) -> bool:
    return str(target).startswith("s3://")


def make_client(*, endpoint_url: str | None = None, region: str | None = None,
                addressing_style: str | None = None, verify: bool | str = True) -> Any:
    """A boto3 S3 client; credentials come from the standard AWS environment and config files."""
    import boto3
    from botocore.config import Config

    config = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                    retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": addressing_style or "auto"})
    # a fresh session: boto3's default one caches the credentials it first resolved
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL"),
                          region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                          config=config, verify=verify)


def _code(exc: Any) -> tuple[str, int]:
    response = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", "")), int(response.get("ResponseMetadata", {})
                                                              .get("HTTPStatusCode", 0) or 0)


class S3BlobStore:
    """Blobs on S3 with the directory store's semantics."""

    def __init__(self, location: S3Location, client: Any) -> None:
        self.location = location
        self.client = client
        self.bucket = location.bucket

    def blob_key(self, digest: str) -> str:
        check_digest(digest)
        return self.location.key(f"blobs/sha256/{digest[:2]}/{digest}")

    # --- reading ----------------------------------------------------------------------------
    def stat(self, digest: str) -> BlobInfo | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.blob_key(digest))
        except ClientError as exc:
            if _code(exc)[1] == 404 or _code(exc)[0] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"s3://{self.bucket}/{self.blob_key(digest)}: {exc}") from exc
        return BlobInfo(digest, int(head["ContentLength"]), Path(self.blob_key(digest)))

    def has(self, digest: str) -> bool:
        return self.stat(digest) is not None

    def open_range(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) of a blob; a negative start reads the last -start bytes."""
        from botocore.exceptions import ClientError

        spec = f"bytes=-{-start}" if start < 0 else f"bytes={start}-" + ("" if end is None else str(end - 1))
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.blob_key(digest), Range=spec)
        except ClientError as exc:
            if _code(exc)[1] == 416 or _code(exc)[0] == "InvalidRange":
                raise StoreError(f"range {spec} of {digest[:12]}… is not satisfiable") from exc
            raise
        yield from response["Body"].iter_chunks(CHUNK)

    def fetch(self, digest: str, into: BlobStore) -> BlobInfo:
        """Stream a blob into a local store through its door (hash, fsync, rename)."""
        present = into.stat(digest)
        if present is not None:
            return present
        writer = into.writer(digest, source=f"s3://{self.bucket}/{self.blob_key(digest)}", resume=False)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.blob_key(digest))
            for chunk in response["Body"].iter_chunks(CHUNK):
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def iter_blobs(self) -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key("blobs/sha256/")):
            for item in page.get("Contents", []):
                digest = item["Key"].rsplit("/", 1)[-1]
                yield BlobInfo(digest, int(item["Size"]), Path(item["Key"]))

    def verify(self, digest: str, *, deep: bool = True) -> str | None:
        """None when the blob's content hashes to its name; else the actual digest."""
        if not deep:
            return None if self.has(digest) else "missing"
        sha = hashlib.sha256()
        for chunk in self.open_range(digest):
            sha.update(chunk)
        actual = sha.hexdigest()
        return None if actual == digest else actual

    # --- writing ----------------------------------------------------------------------------
    def put_if_absent(self, digest: str, src: Path, *, source: str = "") -> str:
        return self.put_file(digest, src, source=source)

    def put_file(self, digest: str, src: Path, *, source: str = "") -> str:
        """Upload `src` as blob `digest` unless present; "created" or "exists"."""
        if self.has(digest):
            return "exists"
        key = self.blob_key(digest)
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts = self._upload_parts(key, upload, src, digest, source)
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort(key, upload)
            raise
        return "created"

    def _upload_parts(self, key: str, upload: str, src: Path, digest: str, source: str) -> list[dict[str, Any]]:
        """Read the file once, in order: hash it whole while its parts upload in parallel."""
        from concurrent.futures import Future, ThreadPoolExecutor

        whole = hashlib.sha256()
        size = 0
        pending: list[tuple[int, Future[Any]]] = []
        parts: list[dict[str, Any]] = []
        with open(src, "rb") as fh, ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            number = 1
            while True:
                data = fh.read(PART_SIZE)
                if not data and number > 1:
                    break
                whole.update(data)
                size += len(data)
                # botocore signs each part's SHA-256 as its payload hash: a SigV4 server rejects a changed body
                pending.append((number, pool.submit(self.client.upload_part, Bucket=self.bucket, Key=key,
                                                    UploadId=upload, PartNumber=number,
                                                    # a file object: a bytes body is sent 100x slower
                                                    Body=io.BytesIO(data))))
                number += 1
                while len(pending) - len(parts) >= MAX_IN_FLIGHT:  # bounded memory: a few parts at a time
                    done_number, done = pending[len(parts)]
                    parts.append({"PartNumber": done_number, "ETag": done.result()["ETag"]})
                if len(data) < PART_SIZE:
                    break
            for done_number, done in pending[len(parts):]:
                parts.append({"PartNumber": done_number, "ETag": done.result()["ETag"]})
        actual = whole.hexdigest()
        if actual != digest:
            raise IntegrityError(f"{source or src}: SHA-256 is {actual}, not {digest} ({size:,} bytes); "
                                 "the upload was aborted and nothing became visible")
        return parts

    def _abort(self, key: str, upload: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
        except Exception:  # noqa: BLE001 - best effort: gc_uploads() sweeps what is left
            pass

    def remove(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.blob_key(digest))

    def gc_uploads(self) -> int:
        """Abort multipart uploads left behind by crashed writers (invisible, but they take space)."""
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key("blobs/")):
            for upload in page.get("Uploads", []):
                self._abort(upload["Key"], upload["UploadId"])
                aborted += 1
        return aborted


class S3RefStore:
    """Small create-only objects: the commit points of a published hub."""

    def __init__(self, location: S3Location, client: Any) -> None:
        self.location = location
        self.client = client

    def read(self, name: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=self.location.key(name))
        except ClientError as exc:
            if _code(exc)[1] == 404 or _code(exc)[0] in ("NoSuchKey", "404"):
                return None
            raise
        return response["Body"].read(), str(response.get("ETag", "")).strip('"')

    def create(self, name: str, body: bytes) -> bool:
        """True if this call created the object; False if it already existed (412/409)."""
        from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

        try:
            self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=body,
                                   IfNoneMatch="*")
            return True
        except ClientError as exc:
            code, status = _code(exc)
            if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            if status < 500:
                raise
            failure: Exception = exc
        except (ConnectionError, ReadTimeoutError) as exc:
            failure = exc
        # 5xx or timeout on a conditional write: the outcome is unknown, so look (OBJECT-STORE.md 4.3)
        found = self.read(name)
        if found is None:
            raise OutcomeUnknown(f"creating {name} failed ({failure}) and it does not exist: retry")
        return found[0] == body  # bodies are unique per writer (they carry generation and nonce)

    def put(self, name: str, body: bytes) -> None:
        """An immutable, content-named object: overwriting it with the same bytes is harmless."""
        self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=body)

    def list(self, prefix: str) -> list[str]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(prefix)):
            names += [item["Key"][len(self.location.prefix):] for item in page.get("Contents", [])]
        return sorted(names)


def probe_conditional_writes(refs: S3RefStore) -> bool:
    """Does the server honour If-None-Match: * ? (s3rver and some appliances do not)."""
    import uuid

    name = f"tmp/probe-{uuid.uuid4().hex}"
    try:
        first = refs.create(name, b"probe")
        second = refs.create(name, b"probe-2")
    except HubtoolError:
        return False
    finally:
        try:
            refs.client.delete_object(Bucket=refs.location.bucket, Key=refs.location.key(name))
        except Exception:  # noqa: BLE001 - the probe object is scratch
            pass
    return first and not second


def probe_checksums(refs: S3RefStore) -> bool:
    """Does the server keep x-amz-checksum-sha256? (AWS, LocalStack, R2 do; RGW Pacific ignores it.)

    Informational: hubtool's integrity never depends on it (the signed payload hash and its own
    whole-file check do the work), but a report can say which guarantees the server adds.
    """
    import uuid

    name = refs.location.key(f"tmp/checksum-{uuid.uuid4().hex}")
    bucket = refs.location.bucket
    try:
        refs.client.put_object(Bucket=bucket, Key=name, Body=b"probe", ChecksumAlgorithm="SHA256")
        head = refs.client.head_object(Bucket=bucket, Key=name, ChecksumMode="ENABLED")
        return bool(head.get("ChecksumSHA256"))
    except Exception:  # noqa: BLE001 - a server that rejects the header simply lacks the feature
        return False
    finally:
        try:
            refs.client.delete_object(Bucket=bucket, Key=name)
        except Exception:  # noqa: BLE001 - scratch object
            pass


def capabilities(refs: S3RefStore) -> dict[str, bool]:
    """Probed once at the start of a publish: what this server guarantees."""
    return {"conditional-writes": probe_conditional_writes(refs), "checksum-sha256": probe_checksums(refs)}

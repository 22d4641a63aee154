"""Blobs on S3 with the directory store's semantics (a `BlobStore`).

Blobs are immutable objects `PREFIX/blobs/sha256/<2 hex>/<64 hex>`, put if absent.
The bytes are uploaded as a multipart upload whose parts carry their own signed
payload SHA-256 (any SigV4 server checks each part), hashed in the same
sequential read, and the upload is completed only if the whole file's SHA-256
equals the blob's name: a wrong or torn body never becomes visible, even on
servers that verify nothing (emulators).  Downloads stream through the local
store's door (hash, fsync, rename).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import IntegrityError, StoreError
from .. import layout
from ..blobstore import BlobInfo, Stored
from ..writer import CHUNK
from .client import S3Location, error_code, is_not_found, translated

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, UploadPartOutputTypeDef

    from ..store import DirectoryStore

PART_SIZE = 8 * 1024 * 1024  # multipart part size (boto3 uses the same)
UPLOAD_THREADS = 10
MAX_IN_FLIGHT = 12  # parts read but not yet uploaded: memory stays under MAX_IN_FLIGHT * PART_SIZE


class S3BlobStore:
    def __init__(self, location: S3Location, client: S3Client) -> None:
        self.location = location
        self.client = client
        self.bucket = location.bucket

    def blob_key(self, digest: str) -> str:
        layout.check_digest(digest)
        return self.location.key(layout.blob_rel(digest))

    def _url(self, digest: str) -> str:
        return f"s3://{self.bucket}/{self.blob_key(digest)}"

    # --- reading ----------------------------------------------------------------------------
    def stat(self, digest: str) -> BlobInfo | None:
        from botocore.exceptions import ClientError

        with translated(self._url(digest)):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.blob_key(digest))
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        return BlobInfo(digest, int(head["ContentLength"]), self._url(digest))

    def open_range(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) of a blob; a negative start reads the last -start bytes."""
        from botocore.exceptions import ClientError

        spec = f"bytes=-{-start}" if start < 0 else f"bytes={start}-" + ("" if end is None else str(end - 1))
        with translated(f"{self._url(digest)} {spec}"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.blob_key(digest), Range=spec)
            except ClientError as exc:
                if error_code(exc)[1] == 416 or error_code(exc)[0] == "InvalidRange":
                    raise StoreError(f"range {spec} of {digest[:12]}… is not satisfiable") from exc
                raise
            yield from response["Body"].iter_chunks(CHUNK)

    def fetch(self, digest: str, into: DirectoryStore) -> BlobInfo:
        """Stream a blob into a local store through its door (hash, fsync, rename)."""
        present = into.stat(digest)
        if present is not None:
            return present
        writer = into.writer(digest, source=self._url(digest), resume=False)
        try:
            with translated(self._url(digest)):
                response = self.client.get_object(Bucket=self.bucket, Key=self.blob_key(digest))
                for chunk in response["Body"].iter_chunks(CHUNK):
                    writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def iter_blobs(self) -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        with translated(self.location.url(layout.BLOBS_PREFIX)):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key(layout.BLOBS_PREFIX)):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    yield BlobInfo(key.rsplit("/", 1)[-1], int(item["Size"]), f"s3://{self.bucket}/{key}")

    def verify(self, digest: str) -> str | None:
        """None when the blob's content hashes to its name; else the actual digest."""
        sha = hashlib.sha256()
        for chunk in self.open_range(digest):
            sha.update(chunk)
        actual = sha.hexdigest()
        return None if actual == digest else actual

    # --- writing ----------------------------------------------------------------------------
    def put_file(self, digest: str, src: Path, *, source: str = "") -> Stored:
        """Upload `src` as blob `digest` unless present."""
        present = self.stat(digest)
        if present is not None:
            return Stored(present, created=False)
        key = self.blob_key(digest)
        with translated(f"uploading {self._url(digest)}"):
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            try:
                parts = self._upload_parts(key, upload, src, digest, source)
                self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                      MultipartUpload={"Parts": parts})
            except BaseException:
                self._abort(key, upload)
                raise
        return Stored(BlobInfo(digest, src.stat().st_size, self._url(digest)), created=True)

    def _upload_parts(self, key: str, upload: str, src: Path, digest: str,
                      source: str) -> list[CompletedPartTypeDef]:
        """Read the file once, in order: hash it whole while its parts upload in parallel."""
        whole = hashlib.sha256()
        size = 0
        pending: list[tuple[int, Future[UploadPartOutputTypeDef]]] = []
        parts: list[CompletedPartTypeDef] = []
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
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
        except (ClientError, BotoCoreError):
            pass  # best effort: abort_stale_uploads() sweeps what is left

    def remove(self, digest: str) -> None:
        with translated(f"deleting {self._url(digest)}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.blob_key(digest))

    def abort_stale_uploads(self) -> int:
        """Abort multipart uploads left behind by crashed writers (invisible, but they take space)."""
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        with translated(f"listing uploads under {self.location.url('blobs/')}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key("blobs/")):
                for upload in page.get("Uploads", []):
                    self._abort(upload["Key"], upload["UploadId"])
                    aborted += 1
        return aborted

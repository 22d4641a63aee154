"""Blobs on S3 with the directory store's semantics (a `BlobStore`).

Blobs are immutable objects `PREFIX/blobs/sha256/<2 hex>/<64 hex>`, put if absent.
What the bucket holds is what its name says, proved by the server rather than
assumed: an upload completes only when every part's ETag equals the MD5 hubtool
computed (see upload.py) and the whole file hashes to the blob's name; where a
server's ETags are not MD5s, the object is read back before it counts.  A blob
already in the bucket counts only when its ETag matches the file's MD5s or it is
read back; a HEAD alone proves nothing.  Downloads stream through the local
store's door (hash, fsync, rename).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import IntegrityError, StoreError
from .. import layout
from ..blobstore import BlobInfo, Stored
from ..hashing import CHUNK
from .client import S3Location, error_code, is_not_found, translated
from .upload import PartUploader, Uploaded, bare_etag, local_md5s, multipart_etag, probe_md5_etags

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from ..store import DirectoryStore

VERIFY_RANGE = 16 * 1024 * 1024  # bytes per ranged read of a verify (held in memory while it is read)
RANGE_ATTEMPTS = 3


@dataclass(frozen=True)
class Head:
    size: int
    etag: str


@dataclass(frozen=True)
class Upload:
    key: str
    upload_id: str
    initiated: float  # the server's timestamp (moto dates every upload 2010-11-10)


class S3BlobStore:
    def __init__(self, location: S3Location, client: S3Client) -> None:
        self.location = location
        self.client = client
        self.bucket = location.bucket
        self._etags_are_md5: bool | None = None  # probed at the first upload

    def blob_key(self, digest: str) -> str:
        layout.check_digest(digest)
        return self.location.key(layout.blob_rel(digest))

    def _url(self, digest: str) -> str:
        return f"s3://{self.bucket}/{self.blob_key(digest)}"

    # --- reading ----------------------------------------------------------------------------
    def stat(self, digest: str) -> BlobInfo | None:
        head = self._head(digest)
        return None if head is None else BlobInfo(digest, head.size, self._url(digest))

    def _head(self, digest: str) -> Head | None:
        from botocore.exceptions import ClientError

        with translated(self._url(digest)):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.blob_key(digest))
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        return Head(int(head["ContentLength"]), str(head.get("ETag", "")))

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
        present = into.proven(digest)
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

    def _read_range(self, digest: str, start: int, end: int) -> bytes:
        """Bytes [start, end), read again after a cut or a short body (StoreError once out of attempts)."""
        failure = ""
        for _attempt in range(RANGE_ATTEMPTS):
            got = bytearray()
            try:
                for chunk in self.open_range(digest, start, end):
                    got += chunk
            except StoreError as exc:
                failure = exc.message
                continue
            if len(got) == end - start:
                return bytes(got)
            failure = f"{len(got):,} of {end - start:,} bytes arrived"
        raise StoreError(f"{self._url(digest)} bytes {start:,}-{end:,} could not be read in {RANGE_ATTEMPTS} "
                         f"attempts: {failure}")

    def iter_blobs(self) -> Iterator[BlobInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        with translated(self.location.url(layout.BLOBS_PREFIX)):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key(layout.BLOBS_PREFIX)):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    yield BlobInfo(key.rsplit("/", 1)[-1], int(item["Size"]), f"s3://{self.bucket}/{key}")

    def verify(self, digest: str, on_bytes: Callable[[int], None] | None = None) -> str | None:
        """None when the blob's content hashes to its name; else the actual digest.

        Read in ranges of VERIFY_RANGE bytes, each tried up to RANGE_ATTEMPTS times: a connection cut
        in the middle of a large object costs one range, not the whole read."""
        head = self._head(digest)
        if head is None:
            raise StoreError(f"{self._url(digest)} does not exist")
        sha = hashlib.sha256()
        for start in range(0, head.size, VERIFY_RANGE):
            data = self._read_range(digest, start, min(start + VERIFY_RANGE, head.size))
            sha.update(data)
            if on_bytes is not None:
                on_bytes(len(data))
        actual = sha.hexdigest()
        return None if actual == digest else actual

    # --- writing ----------------------------------------------------------------------------
    def put_file(self, digest: str, src: Path, *, source: str = "") -> Stored:
        """Upload `src` as blob `digest` unless the bucket holds it; either way the server's copy is proved.

        A blob already there counts only when its ETag matches this file's part MD5s, or when it is
        read back and hashes to its name; one that does not is replaced.  An upload counts when every
        part's ETag matched (servers whose ETags are MD5s) or when it was read back (servers that prove
        nothing).  Exists (HEAD) is never verified.
        """
        size = src.stat().st_size
        replaced = ""
        head = self._head(digest)
        if head is not None:
            proof = self._prove_present(digest, src, size, head, source)
            if proof is not None:
                return Stored(BlobInfo(digest, size, self._url(digest)), created=False, proof=proof)
            self.remove(digest)  # named by its content, but not that content: useless to every reader
            replaced = "; it replaced a corrupt copy"
        key = self.blob_key(digest)
        with translated(f"uploading {self._url(digest)}"):
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            try:
                uploader = PartUploader(self.client, self.bucket, key, upload, etags_are_md5=self.etags_are_md5())
                done = uploader.upload(src, digest, source)
                etag = self._complete(digest, upload, done)
            except BaseException:
                self._abort(key, upload)
                raise
        return Stored(BlobInfo(digest, size, self._url(digest)), created=True,
                      proof=self._prove_completed(digest, etag, done.md5s) + replaced)

    def _complete(self, digest: str, upload: str, done: Uploaded) -> str:
        """Complete the upload; its ETag.  A completion whose outcome is unknown (a 5xx after the server may
        have done it, a cut answer, a retry that finds the upload gone) is settled by reading the object."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            etag = self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.blob_key(digest),
                                                         UploadId=upload,
                                                         MultipartUpload={"Parts": done.parts}).get("ETag", "")
        except (ClientError, BotoCoreError):
            head = self._head(digest)
            if head is None or head.size != done.size:
                raise
            return head.etag  # it did complete; _prove_completed decides whether it is the right bytes
        if bare_etag(etag):
            return etag
        head = self._head(digest)  # RGW Pacific answers a completion with an empty ETag: ask for it
        return head.etag if head is not None else ""

    def _prove_completed(self, digest: str, etag: str, md5s: list[bytes]) -> str:
        if self.etags_are_md5() and bare_etag(etag) == multipart_etag(md5s):
            return f"the server confirmed the MD5 of each part ({len(md5s)} part{'s' * (len(md5s) != 1)})"
        actual = self.verify(digest)  # this server proves nothing: read back what it kept
        if actual is not None:
            self.remove(digest)
            raise IntegrityError(f"{self._url(digest)} read back as {actual} after its upload; it was deleted")
        return "read back and hashed (this server's ETags prove nothing)"

    def _prove_present(self, digest: str, src: Path, size: int, head: Head, source: str) -> str | None:
        """How the bucket's copy is known to be right, or None when it is not."""
        if head.size != size:
            return None
        etag = bare_etag(head.etag)
        if self.etags_are_md5() and etag:
            sha = hashlib.sha256()
            whole = hashlib.md5()  # noqa: S324 - a single-part object's ETag, not security
            md5s = local_md5s(src, (sha, whole))
            expected = multipart_etag(md5s) if "-" in etag else whole.hexdigest()
            if sha.hexdigest() != digest:
                raise IntegrityError(f"{source or src}: SHA-256 is {sha.hexdigest()}, not {digest}")
            if etag == expected:
                return "already in the bucket; its ETag matches this file's MD5s"
        actual = self.verify(digest)
        return "already in the bucket; read back and hashed" if actual is None else None

    def etags_are_md5(self) -> bool:
        """Probed once: is this server's ETag of an object the MD5 of what it received?"""
        if self._etags_are_md5 is None:
            self._etags_are_md5 = probe_md5_etags(self.client, self.bucket, self.location.key("tmp/"))
        return self._etags_are_md5

    def _abort(self, key: str, upload: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
        except (ClientError, BotoCoreError):
            pass  # best effort: `published gc` aborts what is left once it is older than the grace period

    def remove(self, digest: str) -> None:
        with translated(f"deleting {self._url(digest)}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.blob_key(digest))

    def uploads(self) -> Iterator[Upload]:
        """Multipart uploads under blobs/ not completed or aborted: live writers', or crashed ones'
        (invisible, but they take space). Which are stale is the caller's call (GC: by age)."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with translated(f"listing uploads under {self.location.url('blobs/')}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location.key("blobs/")):
                for upload in page.get("Uploads", []):
                    yield Upload(upload["Key"], upload["UploadId"], upload["Initiated"].timestamp())

    def abort(self, upload: Upload) -> None:
        with translated(f"aborting an upload of s3://{self.bucket}/{upload.key}"):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload.key, UploadId=upload.upload_id)

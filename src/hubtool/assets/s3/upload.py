"""Multipart uploads whose every part the server proves it received intact.

The file is read once, in order: its SHA-256 (the blob's name) and each part's
MD5 are computed from the same bytes that are sent.  A server's part ETag is
the MD5 of what *it* received (AWS without SSE-KMS/SSE-C, Ceph RGW, moto: the
capability is probed, see `proof.etags_are_md5`), so comparing it with the MD5
hubtool computed proves the part arrived unchanged, on any server, including
emulators that check neither signatures nor payload hashes.  A part that does
not match is sent once more (a flipped bit in transit is rarely repeated), then
the upload is aborted.  Nothing is completed, and so nothing becomes visible,
before every part is proved and the whole file hashes to the blob's name.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import IntegrityError
from .client import translated

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_SIZE = 8 * 1024 * 1024  # multipart part size (boto3 uses the same)
UPLOAD_THREADS = 10
MAX_IN_FLIGHT = 12  # parts read but not yet uploaded: memory stays under MAX_IN_FLIGHT * PART_SIZE
PART_ATTEMPTS = 2  # a part whose ETag disagrees is sent once more before the upload is given up
# what servers that check payloads say of a body that changed on its way (RGW: the signed SHA-256)
CHANGED_IN_TRANSIT = ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest")


@dataclass(frozen=True)
class Uploaded:
    parts: list[CompletedPartTypeDef]
    md5s: list[bytes]  # each part's MD5, in order: the completed object's ETag derives from them
    size: int


def multipart_etag(md5s: list[bytes]) -> str:
    """The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, then -<parts>."""
    return f"{hashlib.md5(b''.join(md5s)).hexdigest()}-{len(md5s)}"  # noqa: S324 - S3's ETag, not security


def bare_etag(etag: str) -> str:
    return etag.strip().strip('"').lower()


class PartUploader:
    """Uploads the parts of one multipart upload and checks each returned ETag against its MD5."""

    def __init__(self, client: S3Client, bucket: str, key: str, upload_id: str, *, etags_are_md5: bool) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.etags_are_md5 = etags_are_md5

    def upload(self, src: Path, digest: str, source: str) -> Uploaded:
        """Read `src` once: hash it whole while its parts upload in parallel, each one proved."""
        whole = hashlib.sha256()
        size = 0
        pending: list[Future[tuple[CompletedPartTypeDef, bytes]]] = []
        done: list[tuple[CompletedPartTypeDef, bytes]] = []
        with open(src, "rb") as fh, ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            number = 1
            while True:
                data = fh.read(PART_SIZE)
                if not data and number > 1:
                    break
                whole.update(data)
                size += len(data)
                pending.append(pool.submit(self._part, number, data))
                number += 1
                while len(pending) - len(done) >= MAX_IN_FLIGHT:  # bounded memory: a few parts at a time
                    done.append(pending[len(done)].result())
                if len(data) < PART_SIZE:
                    break
            done += [future.result() for future in pending[len(done):]]
        actual = whole.hexdigest()
        if actual != digest:
            raise IntegrityError(f"{source or src}: SHA-256 is {actual}, not {digest} ({size:,} bytes); "
                                 "the upload was aborted and nothing became visible")
        return Uploaded([part for part, _ in done], [md5 for _, md5 in done], size)

    def _part(self, number: int, data: bytes) -> tuple[CompletedPartTypeDef, bytes]:
        from botocore.exceptions import ClientError

        md5 = hashlib.md5(data).digest()  # noqa: S324 - compared with the server's ETag, not for security
        said = ""
        for _attempt in range(PART_ATTEMPTS):
            try:
                # botocore signs the part's SHA-256 as its payload hash over HTTP: a SigV4 server that checks
                # it refuses a changed body; the ETag comparison covers the servers that check nothing
                etag = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                               PartNumber=number,
                                               Body=io.BytesIO(data))["ETag"]  # a bytes body is sent 100x slower
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in CHANGED_IN_TRANSIT:
                    raise
                said = f"the server refused it ({exc.response['Error'].get('Code')})"
                continue
            if not self.etags_are_md5 or bare_etag(etag) == md5.hex():
                return {"PartNumber": number, "ETag": etag}, md5
            said = f"the server's MD5 is {bare_etag(etag)}, the part's is {md5.hex()}"
        raise IntegrityError(f"part {number} of s3://{self.bucket}/{self.key} arrived changed "
                             f"{PART_ATTEMPTS} times ({said}); the upload was aborted and nothing became visible")


def local_md5s(src: Path, also: tuple[Hash, ...] = ()) -> list[bytes]:
    """The MD5 of each PART_SIZE part of a local file (what its multipart ETag derives from),
    feeding the same bytes to the hashes in `also` (one read for every digest)."""
    md5s = []
    with open(src, "rb") as fh:
        while data := fh.read(PART_SIZE):
            md5s.append(hashlib.md5(data).digest())  # noqa: S324 - S3's ETag, not security
            for other in also:
                other.update(data)
    return md5s or [hashlib.md5(b"").digest()]  # noqa: S324


def probe_md5_etags(client: S3Client, bucket: str, scratch_prefix: str) -> bool:
    """Is the server's ETag of a new object the MD5 of its body? (Not under SSE-KMS or SSE-C, say.)

    It writes, so it also proves early that the bucket exists and takes writes from these credentials:
    a failure here is the whole run's (StoreError), said once, not once per asset."""
    from botocore.exceptions import BotoCoreError, ClientError

    body = f"hubtool ETag probe {uuid.uuid4().hex}".encode()
    key = f"{scratch_prefix}etag-{uuid.uuid4().hex}"
    with translated(f"writing to s3://{bucket}/{scratch_prefix}"):
        etag = client.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError):
        pass  # a scratch object: a leftover is harmless
    return bare_etag(etag) == hashlib.md5(body).hexdigest()  # noqa: S324 - S3's ETag, not security

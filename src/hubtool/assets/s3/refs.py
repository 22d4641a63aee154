"""Small objects on S3: immutable content-named documents and create-only refs (`If-None-Match: *`).

Refs are the commit points of a published hub, since object stores have no rename.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...errors import HubtoolError, OutcomeUnknown
from .client import S3Location, error_code, is_not_found, translated

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3RefStore:
    def __init__(self, location: S3Location, client: S3Client) -> None:
        self.location = location
        self.client = client

    def read(self, name: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        from botocore.exceptions import ClientError

        with translated(f"reading {self.location.url(name)}"):
            try:
                response = self.client.get_object(Bucket=self.location.bucket, Key=self.location.key(name))
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
            return response["Body"].read()

    def create(self, name: str, body: bytes) -> bool:
        """True if this call created the object; False if it already existed (412/409)."""
        from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

        failure: Exception
        with translated(f"creating {self.location.url(name)}"):
            try:
                self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=body,
                                       IfNoneMatch="*")
                return True
            except ClientError as exc:
                code, status = error_code(exc)
                if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                    return False
                if status < 500:
                    raise
                failure = exc
            except (ConnectionError, ReadTimeoutError) as exc:
                failure = exc
        # 5xx or timeout on a conditional write: the outcome is unknown, so look (OBJECT-STORE.md 4.3)
        found = self.read(name)
        if found is None:
            raise OutcomeUnknown(f"creating {name} failed ({failure}) and it does not exist: retry")
        return found == body  # bodies are unique per writer (they carry generation and nonce)

    def put(self, name: str, body: bytes) -> None:
        """An immutable, content-named object: overwriting it with the same bytes is harmless."""
        with translated(f"writing {self.location.url(name)}"):
            self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=body)

    def put_typed(self, name: str, body: bytes, content_type: str) -> None:
        """As put, served with a Content-Type (a static catalog's pages, styles and images)."""
        with translated(f"writing {self.location.url(name)}"):
            self.client.put_object(Bucket=self.location.bucket, Key=self.location.key(name), Body=body,
                                   ContentType=content_type)

    def delete(self, name: str) -> None:
        with translated(f"deleting {self.location.url(name)}"):
            self.client.delete_object(Bucket=self.location.bucket, Key=self.location.key(name))

    def list(self, prefix: str) -> list[str]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        with translated(f"listing {self.location.url(prefix)}"):
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(prefix)):
                names += [item["Key"][len(self.location.prefix):] for item in page.get("Contents", [])]
        return sorted(names)


def _scratch_delete(refs: S3RefStore, name: str) -> None:
    try:
        refs.delete(name)
    except HubtoolError:
        pass  # scratch objects of a probe: a leftover is harmless


def probe_conditional_writes(refs: S3RefStore) -> bool:
    """Does the server honour If-None-Match: * ? (s3rver and some appliances do not)."""
    name = f"tmp/probe-{uuid.uuid4().hex}"
    # the first write fails only as any write would (no bucket, refused credentials, endpoint down):
    # that is the run's error, said as it is, not "no conditional writes"
    first = refs.create(name, b"probe")
    try:
        second = refs.create(name, b"probe-2")
    except HubtoolError:
        return False  # a server that rejects the header (501 NotImplemented, 400) lacks the feature
    finally:
        _scratch_delete(refs, name)
    return first and not second


def probe_checksums(refs: S3RefStore) -> bool:
    """Does the server keep x-amz-checksum-sha256? (AWS, LocalStack, R2 do; RGW Pacific ignores it.)

    Informational: hubtool's integrity never depends on it (the signed payload hash and its own
    whole-file check do the work), but a report can say which guarantees the server adds.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    name = f"tmp/checksum-{uuid.uuid4().hex}"
    key = refs.location.key(name)
    bucket = refs.location.bucket
    try:
        refs.client.put_object(Bucket=bucket, Key=key, Body=b"probe", ChecksumAlgorithm="SHA256")
        head = refs.client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        return bool(head.get("ChecksumSHA256"))
    except (ClientError, BotoCoreError):
        return False  # a server that rejects the header simply lacks the feature
    finally:
        _scratch_delete(refs, name)


def capabilities(refs: S3RefStore) -> dict[str, bool]:
    """Probed once at the start of a publish: what this server guarantees."""
    return {"conditional-writes": probe_conditional_writes(refs), "checksum-sha256": probe_checksums(refs)}

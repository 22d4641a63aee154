"""S3 locations, clients, and the translation of botocore's errors into hubtool's.

boto3 is configured with request_checksum_calculation / response_checksum_validation
= when_required, which non-AWS servers need (boto3 >= 1.36 breaks them otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ...config import ObjectStoreSettings
from ...errors import ConfigError, StoreError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client


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

    def url(self, rel: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{rel}"


def is_s3(target: str | Path) -> bool:
    return str(target).startswith("s3://")


def make_client(*, endpoint_url: str | None = None, region: str | None = None,
                addressing_style: str | None = None, verify: bool | str = True) -> S3Client:
    """A boto3 S3 client; credentials come from the standard AWS environment and config files."""
    import boto3
    from botocore.config import Config

    config = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                    retries={"max_attempts": 3, "mode": "standard"},
                    # hub.schema.json allows only auto, virtual and path
                    s3={"addressing_style": addressing_style or "auto"})  # type: ignore[arg-type]
    # a fresh session: boto3's default one caches the credentials it first resolved
    session = boto3.session.Session()
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    with translated(f"connecting to {endpoint or 'S3'}"):  # credentials are resolved here
        return session.client("s3", endpoint_url=endpoint,
                              region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                              config=config, verify=verify)


def client_for(settings: ObjectStoreSettings) -> S3Client:
    """The client for a hub's `object-store:` settings."""
    if settings.ca_bundle is not None and not settings.ca_bundle.is_file():
        raise ConfigError(f"object-store.ca-bundle {settings.ca_bundle} is not a file",
                          hint="give the PEM file of the CA that signed the endpoint's certificate")
    return make_client(endpoint_url=settings.endpoint_url, region=settings.region,
                       addressing_style=settings.addressing_style,
                       verify=str(settings.ca_bundle) if settings.ca_bundle else True)


def error_code(exc: ClientError) -> tuple[str, int]:
    """The S3 error code and HTTP status of a ClientError."""
    response = exc.response
    return str(response.get("Error", {}).get("Code", "")), int(response.get("ResponseMetadata", {})
                                                              .get("HTTPStatusCode", 0) or 0)


def is_not_found(exc: ClientError) -> bool:
    code, status = error_code(exc)
    return status == 404 or code in ("404", "NoSuchKey", "NotFound")


@contextmanager
def translated(what: str) -> Iterator[None]:
    """botocore's errors (HTTP errors, connection failures, missing credentials) as StoreError, saying
    what the class of failure means for whoever runs hubtool (the raw error follows)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        meaning = _meaning(exc)
        raise StoreError(f"{what}: {meaning + ' (' if meaning else ''}{exc}{')' if meaning else ''}") from exc


def _meaning(exc: Exception) -> str:
    from botocore import exceptions as bce

    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
    if isinstance(exc, bce.SSLError):
        return "the endpoint's TLS certificate was not accepted: give its CA as object-store.ca-bundle"
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectTimeoutError):
        return "the endpoint cannot be reached: is it up, and is object-store.endpoint-url right?"
    if isinstance(exc, bce.ClientError):
        code, status = error_code(exc)
        if code == "NoSuchBucket":
            return "the bucket does not exist"
        if status == 403 or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return "access denied: check the credentials and what the bucket's policy allows them"
    return ""

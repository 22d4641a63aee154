"""The blob layout shared by every store, mirror and published hub: blobs/sha256/<2 hex>/<64 hex>.

The one place that spells it: directory stores, S3 keys, by-hash mirror URLs,
manifests and published indexes all build their names here.
"""

from __future__ import annotations

import re

from ..errors import StoreError

HEX64 = re.compile(r"[0-9a-f]{64}")
BLOBS_PREFIX = "blobs/sha256/"
#: how manifests describe the layout to people
DESCRIPTION = "blobs/sha256/<2 hex>/<64 hex>"


def check_digest(digest: str) -> str:
    """`digest`, if it is a SHA-256 in lowercase hex; StoreError otherwise."""
    if not HEX64.fullmatch(digest):
        raise StoreError(f"not a SHA-256 digest: {digest!r}", hint="64 lowercase hex digits")
    return digest


def blob_rel(digest: str) -> str:
    """The blob's relative name: blobs/sha256/<first 2 hex>/<64 hex>."""
    return f"{BLOBS_PREFIX}{digest[:2]}/{digest}"


def by_hash_url(base: str, digest: str) -> str:
    """Where a by-hash mirror at `base` serves the blob."""
    return f"{base.rstrip('/')}/{blob_rel(digest)}"

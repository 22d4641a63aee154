"""Publishing to S3-API storage, where there is no rename.

Order (OBJECT-STORE.md 4.2): blobs first (immutable), then each card document
and the index as immutable objects named by their SHA-256, then the commit: a
create-only generation ref `refs/index/<generation:010d>.json` (If-None-Match: *).
Readers list refs/index/, take the highest, and fetch the index by its digest:
an older but complete hub, never a torn one.  A publisher that loses the race
for a generation re-reads and commits on top (its index is a full snapshot).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from . import __version__
from .errors import IntegrityError, StoreError
from .index import canonical
from .s3store import S3BlobStore, S3Location, S3RefStore, capabilities
from .store import BlobStore

REFS = "refs/index/"
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Published:
    generation: int
    index_sha256: str
    unchanged: bool
    capabilities: dict[str, bool]


def _generation(name: str) -> int | None:
    stem = name[len(REFS):].removesuffix(".json")
    return int(stem) if stem.isdigit() else None


def latest(refs: S3RefStore) -> tuple[int, dict[str, Any]] | None:
    generations = [(g, n) for n in refs.list(REFS) if (g := _generation(n)) is not None]
    if not generations:
        return None
    number, name = max(generations)
    found = refs.read(name)
    if found is None:
        raise StoreError(f"generation ref {name} was listed but cannot be read")
    return number, json.loads(found[0])


def read_index(location: S3Location, client: Any) -> tuple[int, dict[str, Any]] | None:
    """The newest published index, verified against its digest; None when nothing was published."""
    refs = S3RefStore(location, client)
    head = latest(refs)
    if head is None:
        return None
    number, ref = head
    found = refs.read(f"indexes/sha256/{ref['index_sha256']}.json")
    if found is None:
        raise StoreError(f"generation {number} names index {ref['index_sha256']}, which is missing")
    actual = hashlib.sha256(found[0]).hexdigest()
    if actual != ref["index_sha256"]:
        raise IntegrityError(f"index of generation {number} hashes to {actual}, not {ref['index_sha256']}")
    loaded: dict[str, Any] = json.loads(found[0])
    return number, loaded


def publish(location: S3Location, client: Any, *, index: dict[str, Any], documents: list[dict[str, Any]],
            blobs: list[str], local: BlobStore) -> Published:
    """Upload blobs, documents and index, then commit a new generation (unless nothing changed)."""
    refs = S3RefStore(location, client)
    found = capabilities(refs)
    if not found["conditional-writes"]:
        raise StoreError(f"s3://{location.bucket}/{location.prefix}: the server ignores If-None-Match, so two "
                         "publishers could overwrite each other's generation",
                         hint="publish from a single job only, or use a server with conditional writes")
    store = S3BlobStore(location, client)
    for digest in blobs:
        store.put_file(digest, local.blob_path(digest), source=f"store blob {digest[:12]}")
    for card, doc in zip(index["cards"], documents, strict=True):
        body = canonical(doc)
        name = f"cards/sha256/{hashlib.sha256(body).hexdigest()}.json"
        refs.put(name, body)
        card["document"] = name
    body = canonical(index)
    digest = hashlib.sha256(body).hexdigest()
    refs.put(f"indexes/sha256/{digest}.json", body)
    return _commit(refs, digest, found)


def _commit(refs: S3RefStore, digest: str, found: dict[str, bool]) -> Published:
    for _attempt in range(MAX_ATTEMPTS):
        head = latest(refs)
        number, parent = (head[0], head[1]["index_sha256"]) if head else (0, None)
        if parent == digest:
            return Published(number, digest, unchanged=True, capabilities=found)
        ref = {"generation": number + 1, "index_sha256": digest, "parent_index_sha256": parent,
               "created_at": int(time.time()), "tool_version": __version__, "nonce": secrets.token_hex(8)}
        if refs.create(f"{REFS}{number + 1:010d}.json", json.dumps(ref, sort_keys=True).encode()):
            return Published(number + 1, digest, unchanged=False, capabilities=found)
        # another publisher took this generation: re-read and commit on top of it
    raise StoreError(f"could not commit a generation after {MAX_ATTEMPTS} attempts: too many concurrent publishers")


def referenced(location: S3Location, client: Any, *, keep: int) -> set[str]:
    """Objects the last `keep` generations need (their refs, indexes, documents and blobs)."""
    refs = S3RefStore(location, client)
    names = sorted((g, n) for n in refs.list(REFS) if (g := _generation(n)) is not None)[-keep:]
    needed: set[str] = set()
    for _, name in names:
        found = refs.read(name)
        if found is None:
            continue
        ref = json.loads(found[0])
        index_name = f"indexes/sha256/{ref['index_sha256']}.json"
        needed |= {name, index_name}
        index = json.loads((refs.read(index_name) or (b"{}", ""))[0])
        for card in index.get("cards", []):
            needed.add(card.get("document", ""))
            for asset in card.get("assets", []):
                needed.add(f"blobs/sha256/{asset['sha256'][:2]}/{asset['sha256']}")
                if asset.get("translated"):
                    t = asset["translated"]["sha256"]
                    needed.add(f"blobs/sha256/{t[:2]}/{t}")
    return needed


def gc(location: S3Location, client: Any, *, keep: int = 3, grace_seconds: float = 24 * 3600) -> list[str]:
    """Delete objects no kept generation needs, once older than the grace period; abort stale uploads."""
    needed = referenced(location, client, keep=keep)
    removed = []
    now = time.time()
    paginator = client.get_paginator("list_objects_v2")
    for prefix in ("blobs/", "cards/sha256/", "indexes/sha256/", REFS):
        for page in paginator.paginate(Bucket=location.bucket, Prefix=location.key(prefix)):
            for item in page.get("Contents", []):
                rel = item["Key"][len(location.prefix):]
                age = now - item["LastModified"].timestamp()
                if rel not in needed and age >= grace_seconds:
                    client.delete_object(Bucket=location.bucket, Key=item["Key"])
                    removed.append(rel)
    S3BlobStore(location, client).gc_uploads()
    return removed

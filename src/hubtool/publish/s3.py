"""Publishing to S3-API storage, where there is no rename (a `PublishTarget`).

Order (OBJECT-STORE.md 4.2): blobs first (immutable), then each card document
and the index as immutable objects named by their SHA-256, then the commit: a
create-only generation ref `refs/index/<generation:010d>.json` (If-None-Match: *).
Readers list refs/index/, take the highest, and fetch the index by its digest:
an older but complete hub, never a torn one.  A publisher that loses the race
for a generation re-reads and commits on top (its index is a full snapshot).
The HTML catalog of a new generation goes under `catalog/<index sha256>/`
(relative links, served by any static-website endpoint) before the commit, and
the generation ref names that prefix; GC keeps the catalogs of kept generations.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..assets import layout
from ..assets.s3.blobs import S3BlobStore
from ..assets.s3.client import S3Location, translated
from ..assets.s3.refs import S3RefStore, capabilities
from ..durable import JSONObject, canonical
from ..errors import IntegrityError, StoreError
from .index import Snapshot
from .target import Committed, Published

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REFS = "refs/index/"
CATALOG = "catalog/"
MAX_ATTEMPTS = 20
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".png": "image/png"}


@dataclass(frozen=True)
class Generation:
    number: int
    created: bool  # False: the newest generation already held this index


def _generation(name: str) -> int | None:
    stem = name[len(REFS):].removesuffix(".json")
    return int(stem) if stem.isdigit() else None


class S3Target:
    def __init__(self, location: S3Location, client: S3Client) -> None:
        self.location = location
        self.client = client
        self.refs = S3RefStore(location, client)
        self.capabilities: dict[str, bool] = {}  # probed by publish

    def publish(self, snapshot: Snapshot) -> Committed:
        """Upload blobs, documents and index, then commit a new generation (unless nothing changed)."""
        self.capabilities = capabilities(self.refs)
        if not self.capabilities["conditional-writes"]:
            raise StoreError(f"{self.location.url()}: the server ignores If-None-Match, so two "
                             "publishers could overwrite each other's generation",
                             hint="publish from a single job only, or use a server with conditional writes")
        store = S3BlobStore(self.location, self.client)
        for digest in sorted(snapshot.blobs):
            store.put_file(digest, snapshot.blobs[digest], source=f"store blob {digest[:12]}")
        names = []
        for _, doc in snapshot.documents:
            body = canonical(doc)
            name = f"cards/sha256/{hashlib.sha256(body).hexdigest()}.json"
            self.refs.put(name, body)
            names.append(name)
        body = canonical(snapshot.index(names))
        digest = hashlib.sha256(body).hexdigest()
        self.refs.put(f"indexes/sha256/{digest}.json", body)
        catalog = self._catalog(snapshot, digest)
        done = self._commit(digest, catalog)
        return Committed(self.location.url(f"{REFS}{done.number:010d}.json"), unchanged=not done.created)

    def _catalog(self, snapshot: Snapshot, digest: str) -> str | None:
        """Upload the catalog of a generation about to be made (not when the newest already holds this index)."""
        head = self._head()
        if snapshot.catalog is None or (head is not None and head[1].get("index_sha256") == digest):
            return None
        prefix = f"{CATALOG}{digest}/"
        for rel, data in snapshot.catalog():
            suffix = rel[rel.rfind("."):] if "." in rel else ""
            self.refs.put_typed(prefix + rel, data, CONTENT_TYPES.get(suffix, "application/octet-stream"))
        return prefix

    def _commit(self, digest: str, catalog: str | None = None) -> Generation:
        """The generation that now holds `digest`: a new one, or the newest when it already does."""
        for _attempt in range(MAX_ATTEMPTS):
            head = self._head()
            number, parent = (head[0], head[1]["index_sha256"]) if head else (0, None)
            if parent == digest:
                return Generation(number, created=False)
            ref = {"generation": number + 1, "index_sha256": digest, "parent_index_sha256": parent,
                   "created_at": int(time.time()), "tool_version": __version__, "nonce": secrets.token_hex(8)}
            if catalog is not None:
                ref["catalog"] = catalog
            if self.refs.create(f"{REFS}{number + 1:010d}.json", json.dumps(ref, sort_keys=True).encode()):
                return Generation(number + 1, created=True)
            # another publisher took this generation: re-read and commit on top of it
        raise StoreError(f"could not commit a generation after {MAX_ATTEMPTS} attempts: "
                         "too many concurrent publishers")

    def _head(self) -> tuple[int, dict[str, Any]] | None:
        generations = [(g, n) for n in self.refs.list(REFS) if (g := _generation(n)) is not None]
        if not generations:
            return None
        number, name = max(generations)
        found = self.refs.read(name)
        if found is None:
            raise StoreError(f"generation ref {name} was listed but cannot be read")
        return number, json.loads(found)

    def latest(self) -> Published | None:
        """The newest published index, verified against its digest; None when nothing was published."""
        head = self._head()
        if head is None:
            return None
        number, ref = head
        found = self.refs.read(f"indexes/sha256/{ref['index_sha256']}.json")
        if found is None:
            raise StoreError(f"generation {number} names index {ref['index_sha256']}, which is missing")
        actual = hashlib.sha256(found).hexdigest()
        if actual != ref["index_sha256"]:
            raise IntegrityError(f"index of generation {number} hashes to {actual}, not {ref['index_sha256']}")
        index: JSONObject = json.loads(found)
        return Published(self.location.url(f"{REFS}{number:010d}.json"), index)

    def gc(self, *, keep: int = 3, grace_seconds: float = 24 * 3600) -> list[str]:
        """Delete objects no kept generation needs, once older than the grace period; abort stale uploads."""
        needed = self._referenced(keep=keep)
        catalogs = tuple(n for n in needed if n.startswith(CATALOG))  # kept generations' catalog prefixes
        removed = []
        now = time.time()
        paginator = self.client.get_paginator("list_objects_v2")
        with translated(f"collecting garbage in {self.location.url()}"):
            for prefix in ("blobs/", "cards/sha256/", "indexes/sha256/", REFS, CATALOG):
                for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(prefix)):
                    for item in page.get("Contents", []):
                        rel = item["Key"][len(self.location.prefix):]
                        age = now - item["LastModified"].timestamp()
                        if rel not in needed and not rel.startswith(catalogs) and age >= grace_seconds:
                            self.refs.delete(rel)
                            removed.append(rel)
        S3BlobStore(self.location, self.client).abort_stale_uploads()
        return removed

    def _referenced(self, *, keep: int) -> set[str]:
        """Objects the last `keep` generations need (their refs, indexes, documents and blobs)."""
        names = sorted((g, n) for n in self.refs.list(REFS) if (g := _generation(n)) is not None)[-keep:]
        needed: set[str] = set()
        for _, name in names:
            found = self.refs.read(name)
            if found is None:
                continue
            ref = json.loads(found)
            index_name = f"indexes/sha256/{ref['index_sha256']}.json"
            needed |= {name, index_name}
            if isinstance(ref.get("catalog"), str):
                needed.add(ref["catalog"])  # a prefix: every object under it stays
            index = json.loads(self.refs.read(index_name) or b"{}")
            for card in index.get("cards", []):
                needed.add(card.get("document", ""))
                for asset in card.get("assets", []):
                    needed.add(layout.blob_rel(asset["sha256"]))
                    if asset.get("translated"):
                        needed.add(layout.blob_rel(asset["translated"]["sha256"]))
        return needed

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
from ..assets.s3.client import S3Location
from ..assets.s3.refs import S3RefStore, capabilities
from ..durable import json_object
from ..errors import IntegrityError, StoreError
from .index import Snapshot
from .s3gc import CATALOG, REFS, Collector, Lease, generation_number, referenced_by
from .target import Collected, Committed, Published, PublishedState

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_ATTEMPTS = 20
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".png": "image/png"}


@dataclass(frozen=True)
class Generation:
    number: int
    created: bool  # False: the newest generation already held this index


def _document_name(body: bytes) -> str:
    return f"cards/sha256/{hashlib.sha256(body).hexdigest()}.json"


class S3Target:
    def __init__(self, location: S3Location, client: S3Client) -> None:
        self.location = location
        self.client = client
        self.refs = S3RefStore(location, client)
        self.capabilities: dict[str, bool] = {}  # probed by publish
        self.catalog_files: list[str] = []  # what the last catalog upload wrote, under its prefix

    def publish(self, snapshot: Snapshot) -> Committed:
        """Upload blobs, documents and index under a lease, then commit a new generation (unless nothing changed)."""
        self.capabilities = capabilities(self.refs)
        if not self.capabilities["conditional-writes"]:
            raise StoreError(f"{self.location.url()}: the server ignores If-None-Match, so two "
                             "publishers could overwrite each other's generation",
                             hint="publish from a single job only, or use a server with conditional writes")
        names = [_document_name(doc.encoded()) for _, doc in snapshot.documents]
        body = snapshot.index(names)
        digest = hashlib.sha256(body).hexdigest()
        needed = referenced_by(json.loads(body), "", {"index_sha256": digest, "catalog": f"{CATALOG}{digest}/"})
        needed.discard("")
        lease = Lease.take(self.refs, needed)
        try:
            catalog = self._write(snapshot, names, body, digest, only=None)
            written = {layout.blob_rel(blob) for blob in snapshot.blobs} | set(names) | {
                f"indexes/sha256/{digest}.json"} | {f"{catalog}{rel}" for rel in self.catalog_files if catalog}
            missing = lease.settle(self.refs, written)  # what a concurrent GC deleted under us
            if missing:
                self._write(snapshot, names, body, digest, only=missing)
            done = self._commit(digest, catalog)
        finally:
            lease.drop(self.refs)
        return Committed(self.location.url(f"{REFS}{done.number:010d}.json"), unchanged=not done.created)

    def _write(self, snapshot: Snapshot, names: list[str], index: bytes, digest: str, *,
               only: set[str] | None) -> str | None:
        """Blobs (each proved by the server), card documents (`names`: theirs, in order), the index and the
        catalog; with `only`, just those of them (what went missing).  Returns the catalog's prefix, if one
        was written."""
        store = S3BlobStore(self.location, self.client)
        for blob in sorted(snapshot.blobs):
            if only is None or layout.blob_rel(blob) in only:
                store.put_file(blob, snapshot.blobs[blob], source=f"store blob {blob[:12]}")
        for (_, doc), name in zip(snapshot.documents, names, strict=True):
            if only is None or name in only:
                self.refs.put(name, doc.encoded())  # encoded again, not kept: 10k cards' bodies are ~40 MB
        if only is None or f"indexes/sha256/{digest}.json" in only:
            self.refs.put(f"indexes/sha256/{digest}.json", index)
        prefix = f"{CATALOG}{digest}/"
        if only is not None and not any(name.startswith(prefix) for name in only):
            return None  # (only the first pass's answer is used)
        return self._catalog(snapshot, digest, again=only is not None)

    def _catalog(self, snapshot: Snapshot, digest: str, *, again: bool = False) -> str | None:
        """Upload the catalog of a generation about to be made (not when the newest already holds this index)."""
        head = self._head()
        if snapshot.catalog is None or (head is not None and head[1].get("index_sha256") == digest and not again):
            return None
        prefix = f"{CATALOG}{digest}/"
        self.catalog_files = []
        for rel, data in snapshot.catalog():
            suffix = rel[rel.rfind("."):] if "." in rel else ""
            self.refs.put_typed(prefix + rel, data, CONTENT_TYPES.get(suffix, "application/octet-stream"))
            self.catalog_files.append(rel)  # names only: the settle checks each is still there
        return prefix

    def _commit(self, digest: str, catalog: str | None = None) -> Generation:
        """The generation that now holds `digest`: a new one, or the newest when it already does."""
        mine: set[str] = set()  # this publish's nonces: a write answered 5xx or 412 may still be ours
        for _attempt in range(MAX_ATTEMPTS):
            head = self._head()
            number, parent = (head[0], head[1]["index_sha256"]) if head else (0, None)
            if parent == digest:
                # ours when a "failed" create did land (botocore's retry of it then met its own object: 412)
                return Generation(number, created=head is not None and head[1].get("nonce") in mine)
            nonce = secrets.token_hex(8)
            mine.add(nonce)
            ref = {"generation": number + 1, "index_sha256": digest, "parent_index_sha256": parent,
                   "created_at": int(time.time()), "tool_version": __version__, "nonce": nonce}
            if catalog is not None:
                ref["catalog"] = catalog
            if self.refs.create(f"{REFS}{number + 1:010d}.json", json.dumps(ref, sort_keys=True).encode()):
                return Generation(number + 1, created=True)
            # another publisher took this generation: re-read and commit on top of it
        raise StoreError(f"could not commit a generation after {MAX_ATTEMPTS} attempts: "
                         "too many concurrent publishers")

    def _head(self) -> tuple[int, dict[str, Any]] | None:
        generations = [(g, n) for n in self.refs.list(REFS) if (g := generation_number(n)) is not None]
        if not generations:
            return None
        number, name = max(generations)
        found = self.refs.read(name)
        if found is None:
            raise StoreError(f"generation ref {name} was listed but cannot be read")
        ref = json_object(found)  # a server's body: any bytes at all
        if ref is None or not isinstance(ref.get("index_sha256"), str):
            raise StoreError(f"generation ref {name} is not a generation record")
        return number, ref

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
        index = json_object(found)
        if index is None:
            raise IntegrityError(f"index of generation {number} is not a JSON object")
        return Published(self.location.url(f"{REFS}{number:010d}.json"), index)

    def state(self) -> PublishedState | None:
        """None: an unchanged publish here also lists the bucket for every object the generation references
        (and writes back what is gone), which a replayed run would skip."""
        return None

    def gc(self, *, keep: int = 3, grace_seconds: float = 24 * 3600, dry_run: bool = False) -> Collected:
        """Delete what no kept, newer or leased generation needs, once older than the grace period; abort
        multipart uploads older than it (s3gc.py: why a concurrent publish never loses an object)."""
        return Collector(self.location, self.client, keep=keep, grace_seconds=grace_seconds).run(dry_run=dry_run)

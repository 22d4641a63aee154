"""Garbage collection of a published S3 hub that never deletes what a generation references.

S3 has no conditional delete, so a GC that lists an old, unreferenced blob and
deletes it a moment later can race a publisher that re-uses that blob (it sees
"exists", uploads nothing, and commits a generation pointing at a deleted object;
the grace period does not help: the blob keeps its old timestamp).  The protocol:

- A publisher first writes a **lease** `leases/<nonce>.json` naming everything its
  generation will reference (blobs, card documents, index, catalog prefix) and does its
  work.  If a GC is running (its marker `gc/<nonce>.json`), it waits until SETTLE seconds
  have passed since the lease was written.  Then it lists what it wrote, puts back
  anything missing, commits, and drops the lease.
- GC writes its marker, then protects the newest `keep` generations at its start, every
  generation newer than that, and every lease and marker younger than LEASE_SECONDS (or
  the grace period if longer; older ones are crashed processes': garbage).  It lists the
  bucket, reads the protections *again*, and sends each delete within DELETE_WINDOW
  seconds of its latest read of them, reading again whenever the window has passed.

A lease written after GC's latest read is followed by the publisher's check no sooner
than SETTLE = 2 x DELETE_WINDOW later, by which time every delete GC sent under the old
read has been answered (a request takes well under a second on any live server), so the
check sees it and the publisher uploads the object again before committing.  A GC that
had finished when the publisher looked for markers sent all its deletes before that, so
the check sees those too; one that starts later reads the lease.
Generations and leases are create-only and immutable, so each is read once per run.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..assets import layout
from ..assets.s3.blobs import S3BlobStore
from ..assets.s3.client import S3Location, translated
from ..assets.s3.refs import S3RefStore
from ..durable import JSONObject, json_object
from ..errors import HubtoolError, StoreError
from .target import Collected

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REFS = "refs/index/"
CATALOG = "catalog/"
LEASES = "leases/"
RUNNING = "gc/"  # a marker per running GC: a publisher that sees none need not wait
COLLECTED = ("blobs/", "cards/sha256/", "indexes/sha256/", REFS, CATALOG, LEASES, RUNNING)
DELETE_WINDOW = 1.0
SETTLE = 2 * DELETE_WINDOW
# a lease or GC marker protects for at least this long whatever the grace period (a publish's uploads
# can take hours); older ones are a crashed process's, and garbage
LEASE_SECONDS = 24 * 3600


def generation_number(name: str) -> int | None:
    stem = name[len(REFS):].removesuffix(".json")
    return int(stem) if name.startswith(REFS) and stem.isdigit() else None


def _record(name: str, body: bytes | None) -> JSONObject:
    """A ref, lease or index the bucket holds, as an object ({} when it is gone); a damaged one stops the gc."""
    if body is None:
        return {}
    doc = json_object(body)
    if doc is None:
        raise _unreadable(name)
    return doc


def _unreadable(name: str) -> StoreError:
    # what a damaged record protects is unknown: removing anything could remove what it needs
    return StoreError(f"{name} in the published hub is not a record hubtool wrote: gc removes nothing while it "
                      "cannot tell what that protects", hint="look at the object, and remove or restore it by hand")


def referenced_by(index: JSONObject, ref_name: str, ref: JSONObject) -> set[str]:
    """What one generation needs: its ref, index, card documents, blobs, and catalog prefix (ending in /)."""
    needed = {ref_name, f"indexes/sha256/{ref['index_sha256']}.json"}
    if isinstance(ref.get("catalog"), str):
        needed.add(str(ref["catalog"]))
    cards = index.get("cards", [])
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        needed.add(str(card.get("document", "")))
        assets = card.get("assets", [])
        for asset in assets if isinstance(assets, list) else []:
            if not isinstance(asset, dict):
                continue
            translated_to = asset.get("translated")
            for digest in (asset.get("sha256"), translated_to.get("sha256") if isinstance(translated_to, dict)
                           else None):
                if isinstance(digest, str) and layout.HEX64.fullmatch(digest):
                    needed.add(layout.blob_rel(digest))
    return needed


@dataclass
class Protected:
    """What GC must keep, as last read: names, and prefixes (catalogs) under which everything stays."""

    names: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    read_at: float = 0.0  # time.monotonic() when the read began

    def covers(self, name: str) -> bool:
        return name in self.names or name.startswith(tuple(self.prefixes))


@dataclass(frozen=True)
class Lease:
    """A publisher's claim on what its generation will reference, taken before it looks at any of it."""

    name: str
    taken_at: float  # time.monotonic() once the server had it

    @classmethod
    def take(cls, refs: S3RefStore, needed: set[str]) -> Lease:
        name = f"{LEASES}{secrets.token_hex(12)}.json"
        refs.create(name, json.dumps({"created_at": int(time.time()), "names": sorted(needed)}).encode())
        return cls(name, time.monotonic())

    def settle(self, refs: S3RefStore, written: set[str]) -> set[str]:
        """Which of `written` are missing, once no GC can still delete them under an older read."""
        if refs.list(RUNNING):  # a GC is running: it may have read before this lease existed
            time.sleep(max(0.0, SETTLE - (time.monotonic() - self.taken_at)))
        present: set[str] = set()
        for prefix in sorted({"/".join(name.split("/")[:2]) + "/" for name in written}):  # e.g. blobs/sha256/
            present.update(refs.list(prefix))
        return written - present

    def drop(self, refs: S3RefStore) -> None:
        try:
            refs.delete(self.name)
        except HubtoolError:
            pass  # it expires: GC ignores leases older than LEASE_SECONDS


class Collector:
    def __init__(self, location: S3Location, client: S3Client, *, keep: int, grace_seconds: float) -> None:
        self.location = location
        self.client = client
        self.refs = S3RefStore(location, client)
        self.keep = keep
        self.grace = grace_seconds
        self.seen: dict[str, set[str]] = {}  # generation or lease name -> what it protects (immutable objects)
        self.floor: int | None = None  # generations from this number up are protected
        self.skew = 0.0  # the server's clock minus ours: ages are measured on the server's timestamps

    def run(self, *, dry_run: bool) -> Collected:
        marker = f"{RUNNING}{secrets.token_hex(12)}.json"
        if not dry_run:
            self.refs.create(marker, json.dumps({"created_at": int(time.time())}).encode())
            self._clock_from(marker)
        try:
            self.protected()
            candidates = [rel for rel, age in self._objects() if age >= self.grace]
            protected = self.protected()  # again, after the listing: anything leased since then stays
            removed = []
            for rel in candidates:
                if time.monotonic() - protected.read_at > DELETE_WINDOW:
                    protected = self.protected()
                if protected.covers(rel):  # our own marker too: every young marker is protected
                    continue
                if not dry_run:
                    self.refs.delete(rel)
                removed.append(rel)
            return Collected(removed, self._stale_uploads(dry_run=dry_run))
        finally:
            if not dry_run:
                self.refs.delete(marker)

    def protected(self) -> Protected:
        """Read what is protected now: the kept and newer generations, and the live leases."""
        started = time.monotonic()
        names = self.refs.list(REFS)
        numbered = sorted((n, name) for name in names if (n := generation_number(name)) is not None)
        if self.floor is None:
            kept = numbered[-self.keep:]
            self.floor = kept[0][0] if kept else 0
        out = Protected(read_at=started)
        for number, name in numbered:
            if number >= self.floor:
                self._add(out, name, self._generation(name))
        for name, age in self._listed(LEASES):
            if age < max(self.grace, LEASE_SECONDS):
                self._add(out, name, self._lease(name))
        for name, age in self._listed(RUNNING):  # another GC's marker stays while it may be running
            if age < max(self.grace, LEASE_SECONDS):
                out.names.add(name)
        return out

    def _add(self, out: Protected, name: str, needed: set[str]) -> None:
        out.names.add(name)
        for item in needed:
            (out.prefixes if item.endswith("/") else out.names).add(item)

    def _generation(self, name: str) -> set[str]:
        if name not in self.seen:
            ref = _record(name, self.refs.read(name))
            digest = ref.get("index_sha256")
            if digest is not None and not isinstance(digest, str):
                raise _unreadable(name)
            index = _record(f"the index of {name}", self.refs.read(f"indexes/sha256/{digest}.json")) if digest else {}
            self.seen[name] = referenced_by(index, name, ref) if digest else set()
        return self.seen[name]

    def _lease(self, name: str) -> set[str]:
        if name not in self.seen:
            # None: its publisher finished and dropped it since the listing
            names = _record(name, self.refs.read(name)).get("names", [])
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _unreadable(name)
            self.seen[name] = {str(n) for n in names}
        return self.seen[name]

    def _clock_from(self, marker: str) -> None:
        """Measure ages against the server's clock (its timestamp on the marker just written), not this
        machine's: a GC on a machine whose clock is ahead must not find young objects old."""
        with translated(f"reading {self.location.url(marker)}"):
            head = self.client.head_object(Bucket=self.location.bucket, Key=self.location.key(marker))
        self.skew = head["LastModified"].timestamp() - time.time()

    def _now(self) -> float:
        return time.time() + self.skew

    def _objects(self) -> Iterator[tuple[str, float]]:
        for prefix in COLLECTED:
            yield from self._listed(prefix)

    def _listed(self, prefix: str) -> Iterator[tuple[str, float]]:
        """(name under the hub's prefix, age in seconds) of every object under `prefix`."""
        now = self._now()
        paginator = self.client.get_paginator("list_objects_v2")
        with translated(f"listing {self.location.url(prefix)}"):
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.location.prefix):], now - item["LastModified"].timestamp()

    def _stale_uploads(self, *, dry_run: bool) -> list[str]:
        """Multipart uploads older than the grace period (a live publish's own are younger; moto dates every
        upload 2010-11-10, so there every upload is old)."""
        stale = []
        now = self._now()
        blobs = S3BlobStore(self.location, self.client)
        for upload in blobs.uploads():
            if now - upload.initiated < self.grace:
                continue
            if not dry_run:
                blobs.abort(upload)
            stale.append(f"{upload.key} (upload {upload.upload_id[:12]}…)")
        return stale

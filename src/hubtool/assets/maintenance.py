"""Looking after a blob store: verify every blob against its name, collect what no card references."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..errors import StoreError
from ..progress import SILENT, Progress
from .blobstore import BlobInfo, BlobStore
from .proofs import forget_orphans
from .store import DirectoryStore


@dataclass(frozen=True)
class Unreadable:
    info: BlobInfo
    why: str


@dataclass(frozen=True)
class BadBlob:
    info: BlobInfo
    actual: str  # what the content hashes to, or why the name is not a blob's
    removed: bool


def verify_blobs(store: BlobStore, *, repair: bool = False,
                 progress: Progress = SILENT) -> Iterator[BadBlob | Unreadable | BlobInfo]:
    """Re-hash every blob; yields each good one as its BlobInfo, each bad one as a BadBlob, and each one
    that could not be read to the end (after the store's own retries) as Unreadable.

    With `repair`, a bad blob is removed at once (a later fetch brings the right bytes back); an
    unreadable one never is: nothing says it is wrong.  Yielded as it goes, with each blob's bytes
    reported to `progress` as they are hashed: a store of terabytes reports while it runs.
    """
    for info in store.iter_blobs():
        if len(info.digest) != 64:
            actual: str | None = "not a blob name"
        else:
            progress.transfer_started(info.digest, f"verifying {info.digest[:12]}…")
            progress.transfer_sized(info.digest, info.size, 0)
            try:
                actual = store.verify(info.digest, partial(progress.transferred, info.digest))
            except StoreError as exc:
                yield Unreadable(info, exc.message)
                continue
            finally:
                progress.transfer_done(info.digest)
        if actual is None:
            yield info
            continue
        if repair:
            _remove(store, info)
        yield BadBlob(info, actual, removed=repair)


@dataclass(frozen=True)
class Stranger:
    """An entry under blobs/ that is not a blob (a folder, a non-hex name): reported, never removed."""

    path: Path
    why: str


def strangers(store: BlobStore) -> Iterator[Stranger]:
    """What a directory store holds under blobs/ that is not a blob; nothing for object storage."""
    if isinstance(store, DirectoryStore):
        for path, why in store.strangers():
            yield Stranger(path, why)


def _remove(store: BlobStore, info: BlobInfo) -> None:
    if isinstance(store, DirectoryStore):
        Path(info.location).unlink(missing_ok=True)  # the name may not be a digest: remove the file itself
    else:
        store.remove(info.digest)


@dataclass(frozen=True)
class Collected:
    unreferenced: list[BlobInfo]
    stale_temps: int
    strays: int = 0  # entries under blobs/ that are not blobs: left alone


def collect_garbage(store: DirectoryStore, keep: set[str], *, dry_run: bool = False) -> Collected:
    """Remove blobs whose digest is not in `keep`, temp files of processes that are gone, and proofs whose blob is
    gone."""
    unreferenced = [info for info in store.iter_blobs() if info.digest not in keep]
    strays = sum(1 for _ in store.strangers())
    if dry_run:
        return Collected(unreferenced, 0, strays)
    for info in unreferenced:
        store.remove(info.digest)
    forget_orphans(store.root)  # the proofs of blobs removed by hand
    return Collected(unreferenced, store.clean_tmp(), strays)

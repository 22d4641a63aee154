"""Looking after a blob store: verify every blob against its name, collect what no card references."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .blobstore import BlobInfo, BlobStore
from .store import DirectoryStore


@dataclass(frozen=True)
class BadBlob:
    info: BlobInfo
    actual: str  # what the content hashes to, or why the name is not a blob's
    removed: bool


def verify_blobs(store: BlobStore, *, repair: bool = False) -> Iterator[BadBlob | BlobInfo]:
    """Re-hash every blob; yields each good one as its BlobInfo and each bad one as a BadBlob.

    With `repair`, a bad blob is removed at once (a later fetch brings the right bytes back).
    Yielded as it goes: a store of terabytes reports while it runs.
    """
    for info in store.iter_blobs():
        actual = store.verify(info.digest) if len(info.digest) == 64 else "not a blob name"
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
    """Remove blobs whose digest is not in `keep`, and temp files of processes that are gone."""
    unreferenced = [info for info in store.iter_blobs() if info.digest not in keep]
    strays = sum(1 for _ in store.strangers())
    if dry_run:
        return Collected(unreferenced, 0, strays)
    for info in unreferenced:
        store.remove(info.digest)
    return Collected(unreferenced, store.clean_tmp(), strays)

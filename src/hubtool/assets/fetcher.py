"""One asset from its sources into the local store.

Sources are tried in order: the blob already in the store, then the local
sources (other stores, the hub repository for relative links), then, unless
offline and under the blob's lock, the network sources (mirrors, the origin
last).  A mirror that fails (transport error, 404, 5xx, even wrong bytes) hands
over to the next source; the last source's verdict is final.  Every byte
passes through the store's one door.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from ..errors import AssetError, IntegrityError, OfflineError, PolicyError, StoreError
from ..progress import SILENT, Progress

if TYPE_CHECKING:
    from .blobstore import BlobInfo
    from .store import DirectoryStore


@dataclass(frozen=True)
class FetchOutcome:
    """How an asset got into the store."""

    digest: str
    size: int
    source: str  # "store", a path, or the URL the bytes came from
    action: str  # present | copied | downloaded | uploaded (a mirror to S3)
    transferred: int = 0  # bytes received over the network
    resumed_from: int = 0
    proof: str = ""  # how the destination's copy is known to be right, where that is not the obvious
    bad_mirrors: tuple[str, ...] = ()  # "<mirror>: <what went wrong>" for each mirror tried before the source


@dataclass
class TransferStats:
    """Shared by every network source of a fetcher: what reports count."""

    requests: int = 0


class Source(Protocol):
    """One place an asset's bytes can come from (implementations: `hubtool.assets.sources`)."""

    def where(self, link: str, digest: str) -> str | None:
        """Where this source would read the asset (for messages), or None when it cannot serve it."""

    def fetch(self, link: str, digest: str, store: DirectoryStore) -> FetchOutcome:
        """Bring blob `digest` (named `link` by its card) into `store`, or raise an AssetError."""


class Fetcher:
    """Brings assets into one store from its sources. Thread-safe."""

    def __init__(self, store: DirectoryStore, *, local: Sequence[Source] = (), network: Sequence[Source] = (),
                 offline: bool = False, lock_timeout: float = 600.0, progress: Progress = SILENT,
                 stats: TransferStats | None = None) -> None:
        self.store = store
        self.local = tuple(local)
        self.network = tuple(network)
        self.offline = offline
        self.lock_timeout = lock_timeout
        self.progress = progress
        self.stats = stats or TransferStats()  # the HTTP sources count into it

    def present(self, digest: str) -> BlobInfo | None:
        """The blob, if the store holds it with its bytes (`DirectoryStore.proven`); None when it does not, or
        when it cannot be read (`fetch` then says why, for the asset's card alone)."""
        try:
            return self.store.proven(digest, on_rotten=self.progress.notice, progress=self.progress)
        except StoreError:
            return None

    def _proven(self, link: str, digest: str) -> BlobInfo | None:
        try:
            return self.store.proven(digest, on_rotten=self.progress.notice, progress=self.progress)
        except StoreError as exc:  # an unreadable blob fails its asset, not the run
            raise IntegrityError(f"{link}: {exc.message}", hint=exc.hint, url=link) from exc

    def fetch(self, link: str, digest: str) -> FetchOutcome:
        """Make sure the blob `digest` is in the store; raise an AssetError subclass if it cannot be."""
        present = self._proven(link, digest)
        if present is not None:
            return FetchOutcome(digest, present.size, "store", "present")
        for source in self.local:
            if source.where(link, digest) is not None:
                return source.fetch(link, digest, self.store)
        if "://" not in link:
            raise PolicyError(f"{link}: a repository path, but no hub root is known", url=link)
        if self.offline:
            raise OfflineError(f"{link}: not in the store, and --offline forbids downloading it", url=link,
                               hint="run without --offline, or fetch it on a machine with network access")
        with self.store.lock(digest, timeout=self.lock_timeout, progress=self.progress):
            present = self._proven(link, digest)  # the process we waited for may have fetched it
            if present is not None:
                return FetchOutcome(digest, present.size, "store", "present")
            return self._from_network(link, digest)

    def _from_network(self, link: str, digest: str) -> FetchOutcome:
        failures: list[str] = []
        candidates = [(s, where) for s in self.network if (where := s.where(link, digest)) is not None]
        for i, (source, where) in enumerate(candidates):
            try:
                outcome = source.fetch(link, digest, self.store)
                # the asset is fine, but a maintainer should hear which mirror failed it
                return replace(outcome, bad_mirrors=tuple(failures)) if failures else outcome
            except AssetError as exc:
                if i == len(candidates) - 1:
                    if failures:
                        exc.message += " (mirrors tried first: " + "; ".join(failures) + ")"
                        exc.args = (exc.message,)
                    raise
                failures.append(f"{where}: {exc.message}")
                self.progress.notice(f"mirror failed, trying the next source: {exc.message}")
        raise PolicyError(f"{link}: no source can serve this link", url=link)

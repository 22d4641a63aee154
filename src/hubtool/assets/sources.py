"""The places an asset can come from, and the fetcher a hub's configuration asks for.

Local sources (no network, no lock): another directory store that holds the
blob, the hub repository for relative links.  Network sources, in the order
they are tried: S3 mirrors, HTTP mirrors (by-hash or by-path), the origin.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..config import HubConfig, Mirror, Policy
from ..errors import PolicyError, SpecialFile, StoreError, TransferError
from ..progress import SILENT, Progress
from . import layout
from .fetcher import Fetcher, FetchOutcome, Source, TransferStats
from .s3.client import is_s3
from .store import DirectoryStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .http import HttpDownloader


class StoreCopy:
    """Another directory store (the cache, when writing a mirror) that may already hold the blob."""

    def __init__(self, other: DirectoryStore, *, keep_bad: bool = False) -> None:
        self.other = other
        self.keep_bad = keep_bad

    def where(self, link: str, digest: str) -> str | None:
        info = self.other.proven(digest)  # a changed blob there is no source: the next one is tried
        return info.location if info else None

    def fetch(self, link: str, digest: str, store: DirectoryStore) -> FetchOutcome:
        src = self.other.blob_path(digest)
        got = store.put_file(digest, src, source=str(src), keep_bad=self.keep_bad)
        return FetchOutcome(digest, got.info.size, str(src), "copied")


class RepoSource:
    """A relative link: a file committed to the hub repository, which it may not leave."""

    def __init__(self, hub_root: Path, *, keep_bad: bool = False, max_bytes: int | None = None) -> None:
        self.hub_root = hub_root
        self.keep_bad = keep_bad
        self.max_bytes = max_bytes  # the policy's max-asset-bytes: a committed file is capped like a download

    def where(self, link: str, digest: str) -> str | None:
        return None if "://" in link else link

    def fetch(self, link: str, digest: str, store: DirectoryStore) -> FetchOutcome:
        path = self._path(link)
        try:
            got = store.put_file(digest, path, source=str(path), keep_bad=self.keep_bad, max_bytes=self.max_bytes)
        except SpecialFile as exc:
            raise PolicyError(f"{link}: {exc}", url=link, hint="repository assets must be regular files") from exc
        return FetchOutcome(digest, got.info.size, str(path), "copied")

    def _path(self, link: str) -> Path:
        rel = PurePosixPath(link)
        root = Path(os.path.realpath(self.hub_root))
        path = Path(os.path.realpath(root.joinpath(*rel.parts)))  # symlinks resolved before the check
        if rel.is_absolute() or (path != root and root not in path.parents):
            raise PolicyError(f"{link}: the path leaves the hub root {root}", url=link,
                              hint="repository assets must live inside the hub")
        if not path.exists():
            raise TransferError(f"{link}: no such file in the hub ({path})", url=link)
        return path


class S3Mirror:
    """A mirror or published hub on S3 storage (`s3://bucket/prefix` in `mirrors:`)."""

    def __init__(self, url: str, client: Callable[[], S3Client] | None) -> None:
        self.url = url
        self._make_client = client
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    def where(self, link: str, digest: str) -> str | None:
        return self.url

    def fetch(self, link: str, digest: str, store: DirectoryStore) -> FetchOutcome:
        from .s3.blobs import S3BlobStore
        from .s3.client import S3Location

        try:
            remote = S3BlobStore(S3Location.parse(self.url), self._get_client())
            if remote.stat(digest) is None:
                raise TransferError(f"{self.url}: blob {digest[:12]}… is not there", url=self.url)
            info = remote.fetch(digest, store)
        except (StoreError, OSError) as exc:  # the next source is tried: say why this one failed
            raise TransferError(str(exc), url=self.url) from exc
        return FetchOutcome(digest, info.size, self.url, "downloaded", info.size)

    def _get_client(self) -> S3Client:
        if self._make_client is None:
            raise TransferError(f"{self.url}: no S3 client configured", url=self.url)
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client


class LazyHttp:
    """The HTTP downloader, built at the first download: requests and urllib3 take ~80 ms to import,
    and a run served from the store or the repository (a golden run, a re-run) never needs them."""

    def __init__(self, *, keep_bad: bool, backoff: float, progress: Progress, stats: TransferStats) -> None:
        self._options = (keep_bad, backoff, progress, stats)
        self._http: HttpDownloader | None = None
        self._lock = threading.Lock()

    def download(self, url: str, digest: str, store: DirectoryStore, policy: Policy) -> FetchOutcome:
        with self._lock:
            if self._http is None:
                from .http import HttpDownloader

                keep_bad, backoff, progress, stats = self._options
                self._http = HttpDownloader(keep_bad=keep_bad, backoff=backoff, progress=progress, stats=stats)
        return self._http.download(url, digest, store, policy)


class HttpSource:
    """The origin (`mirror` None), or an HTTP mirror that serves blobs by hash or by the origin's path."""

    def __init__(self, http: LazyHttp, policy: Policy, mirror: Mirror | None = None) -> None:
        self.http = http
        self.policy = policy
        self.mirror = mirror

    def where(self, link: str, digest: str) -> str | None:
        if self.mirror is None:
            return link if "://" in link else None
        if self.mirror.layout == "by-hash":
            return layout.by_hash_url(self.mirror.url, digest)
        return self.mirror.url.rstrip("/") + urlsplit(link).path

    def fetch(self, link: str, digest: str, store: DirectoryStore) -> FetchOutcome:
        url = self.where(link, digest)
        if url is None:
            raise PolicyError(f"{link}: not a URL", url=link)
        return self.http.download(url, digest, store, self.policy)


def _mirror_policy(policy: Policy, mirror: Mirror) -> Policy:
    """The hub chose its mirrors: their host is trusted like an allowed host."""
    if not policy.allowed_hosts:
        return policy
    host = (urlsplit(mirror.url.rstrip("/")).hostname or "").lower()
    return policy._replace(allowed_hosts=policy.allowed_hosts + (host,))


def build_fetcher(store: DirectoryStore, policy: Policy, *, hub_root: Path | None = None,
                  mirrors: Sequence[Mirror] = (), local_stores: Sequence[DirectoryStore] = (),
                  offline: bool = False, keep_bad: bool = False, backoff: float = 0.5,
                  lock_timeout: float = 600.0, s3_client: Callable[[], S3Client] | None = None,
                  progress: Progress = SILENT) -> Fetcher:
    """A fetcher with the standard sources, in the standard order."""
    stats = TransferStats()
    http = LazyHttp(keep_bad=keep_bad, backoff=backoff, progress=progress, stats=stats)
    local: list[Source] = [StoreCopy(other, keep_bad=keep_bad) for other in local_stores]
    if hub_root is not None:
        local.append(RepoSource(hub_root, keep_bad=keep_bad, max_bytes=policy.max_asset_bytes))
    network: list[Source] = [S3Mirror(m.url, s3_client) for m in mirrors if is_s3(m.url)]
    network += [HttpSource(http, _mirror_policy(policy, m), m) for m in mirrors if not is_s3(m.url)]
    network.append(HttpSource(http, policy))
    return Fetcher(store, local=local, network=network, offline=offline, lock_timeout=lock_timeout,
                   progress=progress, stats=stats)


def fetcher_for(config: HubConfig, store: DirectoryStore, *, offline: bool = False, keep_bad: bool = False,
                local_stores: Sequence[DirectoryStore] = (), progress: Progress = SILENT) -> Fetcher:
    """The fetcher a hub's configuration asks for: its policy, repository, mirrors and object store."""
    def s3_client() -> S3Client:
        from .s3.client import client_for

        return client_for(config.object_store)

    return build_fetcher(store, config.policy, hub_root=config.root, mirrors=config.mirrors,
                         local_stores=local_stores, offline=offline, keep_bad=keep_bad, s3_client=s3_client,
                         progress=progress)

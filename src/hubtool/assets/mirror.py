"""Many assets at once: bounded concurrency, results; and mirrors of a whole hub.

`fetch_cards` serves `hubtool fetch` (into the store) and `hubtool mirror`: a
folder written by `mirror_hub(..., "DIR")` is itself a directory store plus a
manifest, so served by any static web server it is a `by-hash` mirror that
hubtool can use; `mirror_hub(..., "s3://bucket/prefix")` writes the same
layout to object storage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, cancel
from ..cards.card import Card
from ..cards.places import hub_path
from ..config import HubConfig
from ..durable import JSONObject, canonical, pretty_json, write_atomic
from ..errors import AssetEntryError, AssetError, StoreError
from ..progress import SILENT, Progress
from . import layout
from .fetcher import Fetcher, FetchOutcome
from .sources import fetcher_for
from .store import DirectoryStore

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class AssetTask:
    card: str  # the card's display path
    index: int
    link: str
    digest: str
    file_format: str | None


@dataclass(frozen=True)
class AssetResult:
    task: AssetTask
    outcome: FetchOutcome | None
    failure: AssetError | StoreError | None = None  # StoreError: writing it to a mirror failed

    @property
    def ok(self) -> bool:
        return self.outcome is not None

    @property
    def error(self) -> str | None:
        return self.failure.message if self.failure else None

    @property
    def kind(self) -> str | None:
        """The failure's label for people: network, integrity, policy, offline, card..."""
        return self.failure.kind if self.failure else None


Isolate = Callable[[str, Callable[[], FetchOutcome]], FetchOutcome]


def tasks_for(cards: Sequence[Card]) -> tuple[list[AssetTask], list[AssetResult]]:
    """The assets to fetch, and the ones that cannot even be tried (broken card entries)."""
    tasks, broken = [], []
    for card in cards:
        for asset in card.assets:
            task = AssetTask(card.display, asset.index, asset.link or "", asset.sha256 or "", asset.file_format)
            if asset.link and asset.sha256 and layout.HEX64.fullmatch(asset.sha256):
                tasks.append(task)
            else:
                broken.append(AssetResult(task, None, AssetEntryError(
                    "the card's asset entry has no valid link or SHA-256; run `hubtool check`")))
    return tasks, broken


def fetch_assets(tasks: Sequence[AssetTask], fetcher: Fetcher, *, jobs: int = 4,
                 isolate: Isolate | None = None) -> list[AssetResult]:
    """Fetch every task with at most `jobs` transfers at once; one blob is fetched once.

    `isolate` wraps each fetch (publish turns a bug in one asset into that card's failure).
    """
    by_digest: dict[str, AssetTask] = {}
    for task in tasks:
        by_digest.setdefault(task.digest, task)
    progress = fetcher.progress
    present = itertools.count(1)  # next() on a count is atomic: the threads share it

    def one(task: AssetTask) -> AssetResult:
        progress.transfer_started(task.digest, Path(task.link).name[:40])
        try:
            def work() -> FetchOutcome:
                return fetcher.fetch(task.link, task.digest)

            result = AssetResult(task, isolate(f"fetch {task.link}", work) if isolate else work())
            cancel.note("assets", f"{next(present)} of {len(by_digest)} assets are in the store")
            return result
        except AssetError as exc:
            return AssetResult(task, None, exc)
        finally:
            progress.transfer_done(task.digest)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        done = {result.task.digest: result for result in pool.map(one, by_digest.values())}
    except KeyboardInterrupt:  # Ctrl-C: queued assets never start, running ones stop at their next check
        cancel.request_stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
    return [AssetResult(task, done[task.digest].outcome, done[task.digest].failure) for task in tasks]


def fetch_cards(cards: Sequence[Card], fetcher: Fetcher, *, jobs: int) -> list[AssetResult]:
    """Every asset of the cards: the broken entries first, then the fetched ones."""
    tasks, broken = tasks_for(cards)
    return broken + fetch_assets(tasks, fetcher, jobs=jobs)


def referenced_digests(cards: Sequence[Card]) -> set[str]:
    return {t.digest for t in tasks_for(cards)[0]}


def sizes_of(results: Sequence[AssetResult]) -> dict[str, int]:
    """digest -> size of every blob the results put in the mirror."""
    return {r.task.digest: r.outcome.size for r in results if r.outcome}


def manifest(cards: Sequence[Card], sizes: Mapping[str, int], root: Path) -> JSONObject:
    """What a mirror holds: per card (by its path in the hub at `root`) and asset, the origin, SHA-256, size
    and format; `sizes` has the blobs the mirror holds."""
    entries: list[JSONObject] = []
    for card in sorted(cards, key=lambda c: hub_path(c.path, root)):
        meta = card.metadata
        assets: list[JSONObject] = [
            {"file-format": a.file_format, "origin": a.link, "sha256": a.sha256, "size": sizes.get(a.sha256 or ""),
             "path": layout.blob_rel(a.sha256) if a.sha256 and a.sha256 in sizes else None}
            for a in card.assets]
        entries.append({"card": hub_path(card.path, root), "user-id": meta.get("user-id"),
                        "model-name": meta.get("model-name"), "model-version": meta.get("model-version"),
                        "assets": list(assets)})
    return {"format": "hubtool-mirror/1", "hubtool": __version__, "layout": layout.DESCRIPTION,
            "cards": list(entries)}


def mirror_hub(cards: Sequence[Card], config: HubConfig, to: str, *, local: DirectoryStore, jobs: int = 4,
               progress: Progress = SILENT, manifest_name: str = MANIFEST) -> list[AssetResult]:
    """Write every asset of the cards and a manifest (a shard's: `manifest_name`) to a folder or to
    s3://bucket/prefix."""
    if to.startswith("s3://"):
        return _mirror_to_s3(cards, config, to, fetcher_for(config, local, progress=progress), jobs=jobs,
                             manifest_name=manifest_name)
    mirror = DirectoryStore(Path(to))
    mirror.ensure(mirror.root)  # a file in the mirror's place: a StoreError now, not one failure per asset
    fetcher = fetcher_for(config, mirror, local_stores=(local,), progress=progress)
    results = fetch_cards(cards, fetcher, jobs=jobs)
    try:
        write_atomic(Path(to) / manifest_name, pretty_json(manifest(cards, sizes_of(results), config.root)))
    except OSError as exc:  # the assets are in; a full disk or a folder in the manifest's place stops it here
        raise StoreError(f"cannot write the mirror's {manifest_name} in {to}: {exc.strerror or exc}") from exc
    return results


def _mirror_to_s3(cards: Sequence[Card], config: HubConfig, url: str, fetcher: Fetcher, *,
                  jobs: int, manifest_name: str) -> list[AssetResult]:
    """Fetch into the local store (verified), then upload each blob put-if-absent, then the manifest."""
    from .s3.blobs import S3BlobStore
    from .s3.client import S3Location, client_for
    from .s3.refs import S3RefStore

    location = S3Location.parse(url)
    client = client_for(config.object_store)
    remote = S3BlobStore(location, client)
    remote.etags_are_md5()  # a missing bucket, refused credentials or a dead endpoint end the run here, once
    uploaded: list[AssetResult] = []
    for result in fetch_cards(cards, fetcher, jobs=jobs):
        if result.outcome is None:
            uploaded.append(result)
            continue
        digest = result.task.digest
        try:
            stored = remote.put_file(digest, fetcher.store.blob_path(digest), source=result.task.link)
        except (AssetError, StoreError) as exc:  # this asset's: the others and the manifest go on
            uploaded.append(AssetResult(result.task, None, exc))
            continue
        outcome = FetchOutcome(digest, result.outcome.size, url, "uploaded" if stored.created else "present",
                               result.outcome.transferred, result.outcome.resumed_from, stored.proof)
        uploaded.append(AssetResult(result.task, outcome))
    S3RefStore(location, client).put(manifest_name, canonical(manifest(cards, sizes_of(uploaded), config.root)))
    return uploaded

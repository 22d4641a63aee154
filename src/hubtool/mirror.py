"""Many assets at once: bounded concurrency, progress, results; and the static mirror layout.

`fetch_assets` serves `hubtool fetch` (into the store) and `hubtool mirror`
(into a target folder that is itself a store, plus a manifest), so a folder
written by `hubtool mirror --to DIR` and served by any static web server is a
`by-hash` mirror that hubtool can use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .card import Card
from .download import Fetcher, FetchOutcome
from .errors import AssetError
from .store import HEX64


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
    error: str | None = None
    kind: str | None = None  # the error's kind: network, integrity, policy, offline, card...

    @property
    def ok(self) -> bool:
        return self.outcome is not None


def tasks_for(cards: list[Card]) -> tuple[list[AssetTask], list[AssetResult]]:
    """The assets to fetch, and the ones that cannot even be tried (broken card entries)."""
    tasks, broken = [], []
    for card in cards:
        for asset in card.assets:
            task = AssetTask(card.display, asset.index, asset.link or "", asset.sha256 or "", asset.file_format)
            if asset.link and asset.sha256 and HEX64.fullmatch(asset.sha256):
                tasks.append(task)
            else:
                broken.append(AssetResult(task, None, "the card's asset entry has no valid link or "
                                                      "SHA-256; run `hubtool check`", "card"))
    return tasks, broken


def fetch_assets(tasks: list[AssetTask], fetcher: Fetcher, *, jobs: int = 4,
                 progress: Any = None) -> list[AssetResult]:
    """Fetch every task with at most `jobs` transfers at once; one blob is fetched once."""
    by_digest: dict[str, AssetTask] = {}
    for task in tasks:
        by_digest.setdefault(task.digest, task)

    def one(task: AssetTask) -> tuple[str, FetchOutcome | None, str | None, str | None]:
        if progress is not None:
            progress.start(task)
        try:
            return task.digest, fetcher.fetch(task.link, task.digest), None, None
        except AssetError as exc:
            return task.digest, None, exc.message, exc.kind
        finally:
            if progress is not None:
                progress.done(task)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = {digest: (outcome, err, kind) for digest, outcome, err, kind in pool.map(one, by_digest.values())}
    return [AssetResult(task, *done[task.digest]) for task in tasks]


def manifest(cards: list[Card], results: list[AssetResult]) -> dict[str, Any]:
    """What a mirror holds: per card and asset, the origin, SHA-256, size and format."""
    sizes = {r.task.digest: r.outcome.size for r in results if r.outcome}
    entries = []
    for card in sorted(cards, key=lambda c: c.display):
        meta = card.metadata
        assets = [{"file-format": a.file_format, "origin": a.link, "sha256": a.sha256,
                   "size": sizes.get(a.sha256 or ""),
                   "path": f"blobs/sha256/{a.sha256[:2]}/{a.sha256}" if a.sha256 in sizes else None}
                  for a in card.assets]
        entries.append({"card": card.display, "user-id": meta.get("user-id"), "model-name": meta.get("model-name"),
                        "model-version": meta.get("model-version"), "assets": assets})
    return {"format": "hubtool-mirror/1", "hubtool": __version__, "layout": "blobs/sha256/<2 hex>/<64 hex>",
            "cards": entries}


def write_json_atomic(path: Path, doc: Any) -> None:
    """Canonical JSON, written to a temp file, fsynced and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Progress:
    """rich progress bars (total bytes and one per file) when stderr is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
        from rich.progress import Progress as Bars

        self._bars = Bars(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                          transient=False)
        self._total = self._bars.add_task("total", total=None)
        self._files: dict[str, Any] = {}

    def start(self, task: AssetTask) -> None:
        self._files[task.digest] = self._bars.add_task(Path(task.link).name[:40], total=None)

    def advance(self, digest: str, n: int) -> None:
        self._bars.advance(self._total, n)
        if digest in self._files:
            self._bars.advance(self._files[digest], n)

    def done(self, task: AssetTask) -> None:
        if task.digest in self._files:
            self._bars.remove_task(self._files.pop(task.digest))

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        with self._bars:
            yield self


def mirror_to_s3(cards: list[Card], config: Any, url: str, fetcher: Fetcher, *, jobs: int = 4) -> list[AssetResult]:
    """Fetch into the local store (verified), then upload each blob put-if-absent, then the manifest."""
    from .assets import run_fetch
    from .index import canonical
    from .s3store import S3BlobStore, S3Location, S3RefStore

    location = S3Location.parse(url)
    client = config.s3_client()
    remote = S3BlobStore(location, client)
    results = run_fetch(cards, fetcher, jobs=jobs)
    uploaded: list[AssetResult] = []
    for result in results:
        if result.outcome is None:
            uploaded.append(result)
            continue
        try:
            action = remote.put_file(result.task.digest, fetcher.store.blob_path(result.task.digest),
                                     source=result.task.link)
        except AssetError as exc:
            uploaded.append(AssetResult(result.task, None, exc.message, exc.kind))
            continue
        uploaded.append(AssetResult(result.task, FetchOutcome(result.task.digest, result.outcome.size, url,
                                                              "present" if action == "exists" else "copied")))
    S3RefStore(location, client).put("manifest.json", canonical(manifest(cards, uploaded)))
    return uploaded

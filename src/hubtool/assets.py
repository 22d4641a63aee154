"""Glue between cards, stores and fetchers, shared by the asset commands."""

from __future__ import annotations

import sys
from pathlib import Path

from .card import Card, discover
from .config import HubConfig, cache_dir
from .diagnostics import Diagnostic
from .download import Fetcher
from .mirror import AssetResult, AssetTask, Progress, fetch_assets, tasks_for
from .store import BlobStore
from .validate import CardChecker


def store_for(config: HubConfig, override: Path | None) -> BlobStore:
    """--store, else hub/hub.yaml's `store`, else the cache dir's store."""
    return BlobStore(override or config.store or cache_dir() / "store")


def load_cards(paths: list[Path], config: HubConfig) -> tuple[list[Card], list[Diagnostic]]:
    """Parse the cards (no schema check); cards that do not parse come back as diagnostics."""
    checker = CardChecker(config)
    cards: list[Card] = []
    problems: list[Diagnostic] = []
    for path in discover(paths):
        loaded = checker.load(path)
        if loaded.card is None:
            problems += loaded.diagnostics
        else:
            cards.append(loaded.card)
    return cards, problems


def make_fetcher(config: HubConfig, store: BlobStore, *, offline: bool = False, keep_bad: bool = False,
                 local_stores: tuple[BlobStore, ...] = ()) -> Fetcher:
    return Fetcher(store, config.policy, hub_root=config.root, mirrors=config.mirrors, offline=offline,
                   keep_bad=keep_bad, local_stores=local_stores,
                   on_message=lambda text: print(f"hubtool: {text}", file=sys.stderr), s3_client=config.s3_client)


def run_fetch(cards: list[Card], fetcher: Fetcher, *, jobs: int) -> list[AssetResult]:
    tasks, broken = tasks_for(cards)
    if sys.stderr.isatty() and tasks:
        progress = Progress()
        fetcher.on_bytes = progress.advance
        with progress.shown():
            results = fetch_assets(tasks, fetcher, jobs=jobs, progress=progress)
    else:
        results = fetch_assets(tasks, fetcher, jobs=jobs)
    return broken + results


def referenced_digests(cards: list[Card]) -> set[str]:
    tasks: list[AssetTask] = tasks_for(cards)[0]
    return {t.digest for t in tasks}

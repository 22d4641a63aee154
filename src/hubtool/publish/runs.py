"""What a publish run records per card: each step's verdict, and what the steps found."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..cards.card import Asset, assets_from
from ..durable import JSON, JSONObject

if TYPE_CHECKING:
    from ..cards.crosscard import CardFacts
    from ..cards.shard import Shard
    from ..cards.suppress import Suppression
    from ..diagnostics import Diagnostic

STEPS = ("check", "fetch", "inspect", "golden")
#: what a remembered golden verdict holds: 2 keeps every case (the catalog's gallery); older ones are run again
GOLDEN_RECORD = 2

# Records here are named tuples and plain slotted classes, not dataclasses: a replay (publish/replay.py) imports
# this module, and making its classes with `dataclasses` (and importing it, with inspect) was ~10 ms of 0.23 s.


class Step(NamedTuple):
    status: str  # passed | failed | skipped | unavailable | offline
    reason: str = ""
    cached: bool = False  # served from the ledger
    transient: bool = False  # failed for a reason that says nothing about the card (the network)


@lru_cache(maxsize=4096)
def shared_step(status: str, reason: str = "", cached: bool = False, transient: bool = False) -> Step:
    """A verdict as one shared object: 10k cards' steps are a few distinct verdicts (a Step is frozen)."""
    return Step(status, reason, cached, transient)


PASSED = shared_step("passed")
REMEMBERED = shared_step("passed", cached=True)  # served from the ledger


class FetchedAsset(NamedTuple):
    size: int
    action: str  # present | copied | downloaded
    kind: str | None = None  # what inspection found it is (the rest of the facts stay in the ledger)


class GoldenSummary(NamedTuple):
    """A golden verdict as the index and the ledger keep it."""

    set: str | None
    correct: int
    required: int
    cases: int
    message: str
    runtime: str | None
    translated: JSONObject | None  # the translation the verdict was obtained on (legacy .ms files)
    ran: str | None = None  # what ran the model: runtime and version, a checkpoint's network, the sandbox
    results: tuple[JSONObject, ...] = ()  # every case as the report writes it (the catalog's gallery)

    def to_json(self) -> JSONObject:
        return {"set": self.set, "correct": self.correct, "required": self.required, "cases": self.cases,
                "message": self.message, "runtime": self.runtime, "translated": self.translated, "ran": self.ran,
                "results": list(self.results)}

    @classmethod
    def from_json(cls, doc: JSONObject) -> GoldenSummary:
        def num(key: str) -> int:
            value = doc.get(key)
            return value if isinstance(value, int) else 0

        def text(key: str) -> str | None:
            value = doc.get(key)
            return value if isinstance(value, str) else None

        translated = doc.get("translated")
        results = doc.get("results")
        return cls(text("set"), num("correct"), num("required"), num("cases"), text("message") or "",
                   text("runtime"), translated if isinstance(translated, dict) else None, text("ran"),
                   tuple(r for r in results if isinstance(r, dict)) if isinstance(results, list) else ())


class CardRun:
    """One card's way through the steps.  A run of 10,000 cards keeps 10,000 of these until the index
    is written, so the card's metadata is held as its compact JSON (a fifth of the dict's size) and
    decoded where a step reads it, its path as text, and what it had found empty as shared tuples."""

    __slots__ = ("file", "display", "card", "check_key", "steps", "diagnostics", "metadata_json", "title",
                 "card_facts", "suppressions", "warnings", "fetched", "golden", "published", "verified",
                 "held_because", "held_transient", "_assets")

    def __init__(self, file: str, display: str, card: str, check_key: str = "", *, warnings: int = 0,
                 published: bool = False) -> None:
        self.file = file  # the card's path as found (`path` makes the Path: kept, one is ~200 B per card)
        self.display = display  # as messages show it: relative to the working directory
        self.card = card  # as the index records it: relative to the hub root, whatever the working directory
        self.check_key = check_key  # the ledger key of its check: everything its verdicts depend on but the steps'
        self.steps: dict[str, Step] = {}
        self.diagnostics: tuple[Diagnostic, ...] = ()
        # `metadata` as compact JSON text: on a re-run, the very string the ledger's record decodes to
        self.metadata_json: str | None = None
        self.title: str | None = None
        self.card_facts: CardFacts | None = None  # for the cross-card rules
        self.suppressions: tuple[Suppression, ...] = ()  # the card's `# hubtool: ignore` comments
        self.warnings = warnings  # what the check found, besides errors
        # digest -> how it got into the store, and what inspection found it is
        self.fetched: dict[str, FetchedAsset] = {}
        self.golden: GoldenSummary | None = None
        self.published = published
        self.verified = True
        self.held_because = ""
        self.held_transient = False  # held back only for a network, offline or runtime-unavailable reason
        self._assets: list[Asset] | None = None

    def __repr__(self) -> str:
        return f"CardRun({self.display!r}, published={self.published}, steps={self.steps!r})"

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def metadata(self) -> JSONObject | None:
        """The card's metadata, decoded afresh: changing the dict changes nothing."""
        if self.metadata_json is None:
            return None
        value: JSONObject = json.loads(self.metadata_json)
        return value

    @metadata.setter
    def metadata(self, value: JSONObject | None) -> None:
        # NaN is kept (a failed card may hold one); the index refuses it where it is encoded
        self.metadata_json = None if value is None else json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._assets = None

    @property
    def assets(self) -> list[Asset]:
        if self._assets is None:
            self._assets = assets_from(self.metadata or {})
        return self._assets

    def forget_assets(self) -> None:
        """Drop the cached asset list once the card's steps are done (read again from the metadata
        if asked): kept, 10k cards' lists and their strings are ~3.7 MiB until the index is written."""
        self._assets = None

    def passed(self, step: str) -> bool:
        return self.steps[step].status == "passed"


class PublishOptions:
    """How a publish runs (the CLI's options)."""

    __slots__ = ("to", "offline", "allow_unverified", "no_cache", "with_assets", "jobs", "timeout", "ledger",
                 "shard", "merge", "executor")

    def __init__(self, to: Path | str, *, offline: bool = False, allow_unverified: bool = False,
                 no_cache: bool = False, with_assets: bool = False, jobs: int = 4, timeout: float = 120.0,
                 ledger: str | None = None, shard: Shard | None = None, merge: bool = False,
                 executor: str = "local") -> None:
        self.to = to  # a folder, or s3://bucket/prefix
        self.offline = offline
        self.allow_unverified = allow_unverified
        self.no_cache = no_cache
        self.with_assets = with_assets
        self.jobs = jobs
        self.timeout = timeout
        self.ledger = ledger  # a shared ledger (folder or s3://bucket/prefix) the local one caches
        self.shard = shard  # run the steps of this shard's cards, record their outcomes, commit nothing
        self.merge = merge  # replay every card's recorded outcome, then commit
        self.executor = executor  # or dask://HOST:PORT: where the cards' steps run

    def __repr__(self) -> str:
        return "PublishOptions(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__) + ")"


class PublishResult:
    """A publish run's cards, where it published, and its counters."""

    __slots__ = ("runs", "generation", "counters", "shard")

    def __init__(self, runs: list[CardRun], generation: str | None, counters: dict[str, int],
                 shard: Shard | None = None) -> None:
        self.runs = runs
        self.generation = generation  # where the published hub now is (a generation folder, or an s3:// ref)
        self.counters = counters
        self.shard = shard  # a shard's run: its cards only, nothing committed

    @property
    def held_back(self) -> list[CardRun]:
        return [r for r in self.runs if not r.published]


def run_counters(runs: list[CardRun], *, ledger_hits: int, shared_hits: int, parsed: int = 0, golden_runs: int = 0,
                 outcomes_reused: int = 0, requests: int = 0, workers: int = 0, unchanged: int = 0,
                 replayed: int = 0) -> dict[str, int]:
    """A publish run's counters, as its reports show them: one place that names them, for the pipeline and for
    a replay (which parsed, fetched and ran nothing)."""
    return {"cards": len(runs), "parsed": parsed, "golden-runs": golden_runs, "ledger-hits": ledger_hits,
            "shared-ledger-hits": shared_hits, "unchanged": unchanged, "outcomes-reused": outcomes_reused,
            "replayed": replayed, "requests": requests, "workers": workers}


def fact_kind(facts: JSONObject) -> str | None:
    """The kind inspection found, interned: 10k cards name a handful of kinds, not 10k copies of them."""
    kind: JSON = facts.get("kind")
    return sys.intern(kind) if isinstance(kind, str) else None

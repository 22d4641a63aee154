"""The four steps of a publish, each remembered in the ledger under a key of its inputs.

A step that passed is served from the ledger when nothing it depends on
changed: an unchanged hub re-publishes without parsing, downloading or running
anything.  Only passes are remembered; failures are looked at again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..assets.fetcher import Fetcher, FetchOutcome
from ..assets.inspect import INSPECTOR, inspect_file
from ..assets.mirror import AssetResult, AssetTask, fetch_assets
from ..config import HubConfig
from ..durable import JSON, JSONObject
from ..errors import GoldenSetError, InternalError, OfflineError, TransferError
from ..golden.card import GoldenPlan, GoldenRunner, preprocess_overrides
from ..golden.report import case_dict
from ..legacy import TRANSLATOR_VERSION
from ..runtimes.registry import runtime_for
from .isolation import isolated_asset
from .ledger import Ledger, key_of
from .runs import GOLDEN_RECORD, PASSED, REMEMBERED, CardRun, FetchedAsset, GoldenSummary, Step, fact_kind, shared_step


@dataclass
class Counters:
    parsed: int = 0
    golden_runs: int = 0


@dataclass
class StepContext:
    config: HubConfig
    ledger: Ledger
    no_cache: bool
    counters: Counters = field(default_factory=Counters)

    def cached(self, key: str) -> JSONObject | None:
        return None if self.no_cache else self.ledger.get(key)


class AssetSteps:
    """Fetch every asset of the cards that passed the check (verified), then inspect each blob once."""

    def __init__(self, ctx: StepContext, fetcher: Fetcher, *, jobs: int) -> None:
        self.ctx = ctx
        self.fetcher = fetcher
        self.jobs = jobs

    def fetch(self, runs: list[CardRun]) -> None:
        tasks: list[tuple[CardRun, AssetTask]] = []
        for run in runs:
            if not run.passed("check"):
                continue
            for asset in run.assets:
                tasks.append((run, AssetTask(run.display, asset.index, asset.link or "", asset.sha256 or "",
                                             asset.file_format)))
        # one look per blob: its status against its proof (`assets.proofs`); hashed when the status is new
        present = {d: self.fetcher.present(d) for d in dict.fromkeys(t.digest for _, t in tasks)}  # cards' order
        missing = [t for _, t in tasks if present[t.digest] is None]
        fetched = {r.task.digest: r for r in fetch_assets(missing, self.fetcher, jobs=self.jobs,
                                                          isolate=isolated_asset)}
        by_run: dict[str, list[AssetResult]] = {}
        for run, task in tasks:
            info = present[task.digest]
            result = fetched.get(task.digest) or AssetResult(
                task, None if info is None else _present(task.digest, info.size))
            by_run.setdefault(run.display, []).append(result)
        for run in runs:
            if not run.passed("check"):
                run.steps["fetch"] = shared_step("skipped", "the check failed")
                continue
            self._verdict(run, by_run.get(run.display, []))

    @staticmethod
    def _verdict(run: CardRun, results: list[AssetResult]) -> None:
        run.fetched = {r.task.digest: FetchedAsset(r.outcome.size, r.outcome.action)
                       for r in results if r.outcome is not None}
        failed = [r for r in results if r.failure is not None]
        if not failed:
            run.steps["fetch"] = PASSED
        elif all(isinstance(r.failure, OfflineError) for r in failed):
            run.steps["fetch"] = Step("offline", f"not verified (offline): {failed[0].error}")
        else:
            first = failed[0].failure
            assert first is not None
            network = isinstance(first, TransferError)
            label = "network failure" if network else f"{first.kind} failure"
            run.steps["fetch"] = Step("failed", f"{label}: {first.message}", transient=network)

    def inspect(self, runs: list[CardRun]) -> None:
        """Facts about a blob never change, so the ledger keeps them."""
        digests = sorted({a.sha256 for r in runs if r.passed("fetch") for a in r.assets if a.sha256})
        keys = {d: key_of("inspect", d, INSPECTOR) for d in digests}
        known = {} if self.ctx.no_cache else self.ctx.ledger.get_many(list(keys.values()))
        facts: dict[str, JSONObject] = {}
        new: list[tuple[str, str, str, JSONObject]] = []
        for digest, key in keys.items():
            if key in known:
                facts[digest] = known[key]
                continue
            path = self.fetcher.store.blob_path(digest)
            try:
                found = isolated_asset(f"inspect {digest}", lambda: inspect_file(path))  # noqa: B023 - run at once
            except InternalError as exc:
                facts[digest] = {"kind": "internal-error", "description": exc.message}  # never remembered
                continue
            facts[digest] = {"kind": found.kind, "description": found.description, **found.details}
            new.append((key, "inspect", "passed", facts[digest]))
        self.ctx.ledger.record_many(new)
        for run in runs:
            _inspect_verdict(run, facts)


def _present(digest: str, size: int) -> FetchOutcome:
    return FetchOutcome(digest, size, "store", "present")


def _inspect_verdict(run: CardRun, facts: dict[str, JSONObject]) -> None:
    if not run.passed("fetch"):
        run.steps["inspect"] = shared_step("skipped", "the assets are not all in the store")
        return
    problems = []
    for asset in run.assets:
        assert asset.sha256 is not None
        found = facts[asset.sha256]
        fetched = run.fetched.get(asset.sha256)
        if fetched is not None:
            run.fetched[asset.sha256] = fetched._replace(kind=fact_kind(found))
        expected = {"mslite": "mslite", "onnx": "onnx"}.get(asset.file_format or "")
        if found.get("kind") == "internal-error":
            problems.append(f"asset {asset.index}: {found.get('description')}")
        elif found.get("kind") in ("html", "lfs-pointer", "empty") or (expected and found.get("kind") != expected):
            problems.append(f"asset {asset.index} ({asset.file_format}) is {found.get('description')}")
        elif found.get("kind") == "ckpt" and (found.get("damaged") or found.get("problems")):
            # a checkpoint cut short or with tensors that do not fit their shapes: a broken upload, not a model
            problems.append(f"asset {asset.index} is {found.get('description')}")
    run.steps["inspect"] = Step("failed", "; ".join(problems)) if problems else PASSED


class GoldenStep:
    """Golden inference where a runtime and a golden set apply; a pass is remembered per model and set."""

    def __init__(self, ctx: StepContext, runner: GoldenRunner, runtime_identity: dict[str, str]) -> None:
        self.ctx = ctx
        self.runner = runner
        self.runtime_identity = runtime_identity
        # what the golden keys of this run read besides the cards: "set:NAME" and "network:FOLDER" -> digest
        self.inputs: dict[str, str] = {}

    def expect(self, runs: list[CardRun]) -> None:
        """Tell the runner which MindSpore models it will run (not remembered ones): their workers start ahead."""
        keyed: dict[str, GoldenPlan] = {}
        for run in runs:
            if run.passed("inspect"):
                plan = self.runner.plan(run.metadata or {})
                fmt = str(plan.asset.file_format) if plan.asset else ""
                if plan.set_name and runtime_for(fmt) == "mindspore":
                    keyed[self._key(plan, run.metadata or {}) or f"unkeyed {len(keyed)}"] = plan
        known = set() if self.ctx.no_cache else set(self.ctx.ledger.get_many(list(keyed), count=False))
        self.runner.expect([plan for key, plan in keyed.items() if key not in known])

    def run(self, run: CardRun) -> None:
        if not run.passed("inspect"):
            offline = run.steps["fetch"].status == "offline"
            run.steps["golden"] = shared_step("offline" if offline else "skipped",
                                              "not verified (offline)" if offline else "an earlier step did not pass")
            return
        metadata = run.metadata or {}
        plan = self.runner.plan(metadata)
        if plan.set_name is None or plan.asset is None:
            run.steps["golden"] = shared_step("skipped", plan.reason)
            return
        key = self._key(plan, metadata)
        cached = None if key is None else self.ctx.cached(key)
        if cached is not None:
            run.golden = GoldenSummary.from_json(cached)
            run.steps["golden"] = REMEMBERED
            return
        self.ctx.counters.golden_runs += 1
        result = self.runner.run(metadata, plan)
        translated = result.details.translated if result.details else None
        runtime = runtime_for(str(plan.asset.file_format))
        run.golden = GoldenSummary(result.set_name, result.correct, result.required, len(result.cases),
                                   result.message, self.runtime_identity.get(runtime) if runtime else None,
                                   translated.as_dict() if translated else None,
                                   result.details.ran if result.details else None,
                                   tuple(case_dict(c) for c in result.cases))
        run.steps["golden"] = Step(result.status, "" if result.status == "passed" else result.message)
        if result.status == "passed" and key is not None:
            self.ctx.ledger.record(key, "golden", "passed", run.golden.to_json())

    def key_for(self, run: CardRun) -> str | None:
        """The key a golden verdict of this card has, decided offline; None where golden cannot apply."""
        if not run.passed("check"):
            return None
        metadata = run.metadata or {}
        plan = self.runner.plan(metadata)
        return self._key(plan, metadata) if plan.set_name is not None and plan.asset is not None else None

    def _key(self, plan: GoldenPlan, metadata: JSONObject) -> str | None:
        assert plan.set_name is not None and plan.asset is not None
        try:
            gset = self.runner.sets.get(plan.set_name)
        except GoldenSetError:
            return None
        # a checkpoint's verdict is the network's too: where it came from, what it was called with, its code
        self.inputs[f"set:{plan.set_name}"] = gset.content_sha256
        if plan.network is not None and plan.network.folder is not None:
            self.inputs[f"network:{plan.network.folder}"] = plan.network.digest
        runtime = runtime_for(str(plan.asset.file_format)) or ""
        identity: JSONObject = {runtime: self.runtime_identity[runtime]} if runtime in self.runtime_identity else {}
        parts: list[JSON] = [plan.asset.sha256, plan.asset.file_format, gset.content_sha256,
                             preprocess_overrides(metadata), identity, TRANSLATOR_VERSION, GOLDEN_RECORD]
        if plan.network is not None:
            parts += [plan.network.describe(), plan.network.digest]
        return key_of("golden", *parts)

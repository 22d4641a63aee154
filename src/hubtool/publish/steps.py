"""The four steps of a publish, each remembered in the ledger under a key of its inputs.

A step that passed is served from the ledger when nothing it depends on
changed: an unchanged hub re-publishes without parsing, downloading or running
anything.  Only passes are remembered; failures are looked at again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..assets.fetcher import Fetcher, FetchOutcome
from ..assets.inspect import inspect_file
from ..assets.mirror import AssetResult, AssetTask, fetch_assets
from ..cards import rules
from ..cards.validate import CardChecker, display_path
from ..config import HubConfig
from ..diagnostics import Severity
from ..durable import JSONObject
from ..errors import GoldenSetError, OfflineError, TransferError
from ..golden.card import GoldenPlan, GoldenRunner, preprocess_overrides
from ..golden.sets import fingerprint_files
from ..legacy import TRANSLATOR_VERSION
from .ledger import Ledger, key_of
from .runs import CardRun, FetchedAsset, GoldenSummary, Step


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


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CheckStep:
    """Parse, schema, rules; the twins and the cross-card identity rule."""

    def __init__(self, ctx: StepContext, checker: CardChecker) -> None:
        self.ctx = ctx
        self.checker = checker
        self.fingerprint = self._fingerprint()

    def _fingerprint(self) -> str:
        """Everything besides a card's bytes that its check verdict depends on."""
        digest = hashlib.sha256(repr(sorted(self.checker.schema.items(), key=str)).encode())
        if self.ctx.config.path is not None:
            digest.update(self.ctx.config.path.read_bytes())
        for spec in fingerprint_files(self.ctx.config.root):
            digest.update(str(spec).encode() + spec.read_bytes())
        return digest.hexdigest()

    def run(self, files: list[Path]) -> list[CardRun]:
        runs = self._without_twins([self._check(path) for path in files])
        self._cross_card(runs)
        return runs

    def _check(self, path: Path) -> CardRun:
        try:
            raw = path.read_bytes()
        except OSError:
            raw = b""  # the check reports why it cannot be read
        run = CardRun(path, display_path(path), _sha(raw))
        english = path.with_name(path.name[: -len("_cn.md")] + ".md") if path.name.endswith("_cn.md") else None
        english_sha = _sha(english.read_bytes()) if english and english.is_file() else None
        key = key_of("check", run.raw_sha256, english_sha, self.fingerprint, run.display)
        cached = self.ctx.cached(key)
        if cached is not None and _restore_check(run, cached):
            return run
        self.ctx.counters.parsed += 1
        verdict, card = self.checker.examine(path)
        run.diagnostics = verdict.diagnostics
        run.identity = verdict.identity
        if card is not None:
            run.metadata, run.title = card.metadata, card.title
        errors = [d for d in verdict.diagnostics if d.severity is Severity.ERROR]
        if errors or card is None:
            first = errors[0] if errors else None
            where = f" (first: {first.path}:{first.line}:{first.col} {first.code} {first.message})" if first else ""
            run.steps["check"] = Step("failed", f"{len(errors)} error(s){where}")
            return run
        run.warnings = len(verdict.diagnostics) - len(errors)
        run.steps["check"] = Step("passed")
        ident = run.identity
        self.ctx.ledger.record(key, "check", "passed", {
            "metadata": card.metadata, "title": card.title, "warnings": run.warnings,
            "identity": {"key": list(ident.key), "line": ident.line, "col": ident.col} if ident else None})
        return run

    def _without_twins(self, runs: list[CardRun]) -> list[CardRun]:
        """_cn twins are checked, not indexed: a twin that fails holds back its English card."""
        by_path = {r.path: r for r in runs}
        kept = []
        for run in runs:
            if not run.path.name.endswith("_cn.md"):
                kept.append(run)
                continue
            english = by_path.get(run.path.with_name(run.path.name[: -len("_cn.md")] + ".md"))
            if english is not None and not run.passed("check"):
                english.diagnostics += run.diagnostics
                english.steps["check"] = Step("failed", f"its _cn twin {run.display} fails the check: "
                                                        f"{run.steps['check'].reason}")
        return kept

    def _cross_card(self, runs: list[CardRun]) -> None:
        by_display = {r.display: r for r in runs}
        for diag in rules.identity_rule([r.identity for r in runs if r.identity]):
            run = by_display[diag.path]
            run.diagnostics.append(diag)
            run.steps["check"] = Step("failed", f"{diag.code} {diag.message}")


def _restore_check(run: CardRun, cached: JSONObject) -> bool:
    """A passed check from the ledger; False when the record is not one this version wrote."""
    metadata, title, warnings = cached.get("metadata"), cached.get("title"), cached.get("warnings")
    if not isinstance(metadata, dict) or not isinstance(warnings, int) or not (title is None or isinstance(title, str)):
        return False
    run.metadata, run.title, run.warnings = metadata, title, warnings
    ident = cached.get("identity")
    if isinstance(ident, dict):
        key, line, col = ident.get("key"), ident.get("line"), ident.get("col")
        if isinstance(key, list) and len(key) == 3 and isinstance(line, int) and isinstance(col, int):
            run.identity = rules.Identity((str(key[0]), str(key[1]), str(key[2])), run.display, line, col)
    run.steps["check"] = Step("passed", cached=True)
    return True


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
        store = self.fetcher.store
        present = {t.digest: store.stat(t.digest) for _, t in tasks}  # one stat per blob
        missing = [t for _, t in tasks if present[t.digest] is None]
        fetched = {r.task.digest: r for r in fetch_assets(missing, self.fetcher, jobs=self.jobs)}
        by_run: dict[str, list[AssetResult]] = {}
        for run, task in tasks:
            info = present[task.digest]
            result = fetched.get(task.digest) or AssetResult(
                task, None if info is None else _present(task.digest, info.size))
            by_run.setdefault(run.display, []).append(result)
        for run in runs:
            if not run.passed("check"):
                run.steps["fetch"] = Step("skipped", "the check failed")
                continue
            self._verdict(run, by_run.get(run.display, []))

    @staticmethod
    def _verdict(run: CardRun, results: list[AssetResult]) -> None:
        run.fetched = {r.task.digest: FetchedAsset(r.outcome.size, r.outcome.action)
                       for r in results if r.outcome is not None}
        failed = [r for r in results if r.failure is not None]
        if not failed:
            run.steps["fetch"] = Step("passed")
        elif all(isinstance(r.failure, OfflineError) for r in failed):
            run.steps["fetch"] = Step("offline", f"not verified (offline): {failed[0].error}")
        else:
            first = failed[0].failure
            assert first is not None
            label = "network failure" if isinstance(first, TransferError) else f"{first.kind} failure"
            run.steps["fetch"] = Step("failed", f"{label}: {first.message}")

    def inspect(self, runs: list[CardRun]) -> None:
        """Facts about a blob never change, so the ledger keeps them."""
        digests = sorted({a.sha256 for r in runs if r.passed("fetch") for a in r.assets if a.sha256})
        keys = {d: key_of("inspect", d) for d in digests}
        known = {} if self.ctx.no_cache else self.ctx.ledger.get_many(list(keys.values()))
        facts: dict[str, JSONObject] = {}
        new: list[tuple[str, str, str, JSONObject]] = []
        for digest, key in keys.items():
            if key in known:
                facts[digest] = known[key]
                continue
            found = inspect_file(self.fetcher.store.blob_path(digest))
            facts[digest] = {"kind": found.kind, "description": found.description, **found.details}
            new.append((key, "inspect", "passed", facts[digest]))
        self.ctx.ledger.record_many(new)
        for run in runs:
            _inspect_verdict(run, facts)


def _present(digest: str, size: int) -> FetchOutcome:
    return FetchOutcome(digest, size, "store", "present")


def _inspect_verdict(run: CardRun, facts: dict[str, JSONObject]) -> None:
    if not run.passed("fetch"):
        run.steps["inspect"] = Step("skipped", "the assets are not all in the store")
        return
    problems = []
    for asset in run.assets:
        assert asset.sha256 is not None
        found = run.facts[asset.sha256] = facts[asset.sha256]
        expected = {"mslite": "mslite", "onnx": "onnx"}.get(asset.file_format or "")
        if found.get("kind") in ("html", "lfs-pointer", "empty") or (expected and found.get("kind") != expected):
            problems.append(f"asset {asset.index} ({asset.file_format}) is {found.get('description')}")
    run.steps["inspect"] = Step("failed", "; ".join(problems)) if problems else Step("passed")


class GoldenStep:
    """Golden inference where a runtime and a golden set apply; a pass is remembered per model and set."""

    def __init__(self, ctx: StepContext, runner: GoldenRunner, runtime_identity: dict[str, str]) -> None:
        self.ctx = ctx
        self.runner = runner
        self.runtime_identity = runtime_identity

    def run(self, run: CardRun) -> None:
        if not run.passed("inspect"):
            offline = run.steps["fetch"].status == "offline"
            run.steps["golden"] = Step("offline" if offline else "skipped",
                                       "not verified (offline)" if offline else "an earlier step did not pass")
            return
        metadata = run.metadata or {}
        plan = self.runner.plan(metadata)
        if plan.set_name is None or plan.asset is None:
            run.steps["golden"] = Step("skipped", plan.reason)
            return
        key = self._key(plan, metadata)
        cached = None if key is None else self.ctx.cached(key)
        if cached is not None:
            run.golden = GoldenSummary.from_json(cached)
            run.steps["golden"] = Step("passed", cached=True)
            return
        self.ctx.counters.golden_runs += 1
        result = self.runner.run(metadata, plan)
        translated = result.details.translated if result.details else None
        run.golden = GoldenSummary(result.set_name, result.correct, result.required, len(result.cases),
                                   result.message, self.runtime_identity.get("mindspore-lite"),
                                   translated.as_dict() if translated else None)
        run.steps["golden"] = Step(result.status, "" if result.status == "passed" else result.message)
        if result.status == "passed" and key is not None:
            self.ctx.ledger.record(key, "golden", "passed", run.golden.to_json())

    def _key(self, plan: GoldenPlan, metadata: JSONObject) -> str | None:
        assert plan.set_name is not None and plan.asset is not None
        try:
            gset = self.runner.sets.get(plan.set_name)
        except GoldenSetError:
            return None
        return key_of("golden", plan.asset.sha256, plan.asset.file_format, gset.content_sha256,
                      preprocess_overrides(metadata), dict(self.runtime_identity), TRANSLATOR_VERSION)

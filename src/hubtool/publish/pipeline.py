"""`hubtool publish`: gate every card on check, fetch, inspect and golden; write the hub atomically.

Per card: check (parse, schema, rules) -> fetch every asset (verified) -> inspect
-> golden inference where a runtime and a golden set apply -> index entry.
Each step's verdict is recorded (passed / failed / skipped / unavailable /
offline, with the reason); a card is published only if every step passed or
did not apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .. import cancel
from ..assets.fetcher import Fetcher
from ..assets.s3.client import S3Location, client_for
from ..assets.s3.refs import S3RefStore
from ..assets.sources import fetcher_for
from ..assets.store import local_store
from ..cards.listing import card_files
from ..cards.report import counted, first_few
from ..cards.validate import CardChecker, run_for
from ..config import HubConfig
from ..durable import JSONObject
from ..errors import StoreError, UsageError
from ..golden.card import GoldenRunner
from ..golden.rule import GoldenBlockRule
from ..golden.sets import GoldenSets
from ..progress import SILENT, Progress
from ..runtimes import installed
from ..runtimes.registry import workers_started
from .blobcheck import carried_blobs, hold_back_bad_blobs
from .carry import carried_documents, is_transient
from .checkstep import CheckStep
from .directory import DirectoryTarget
from .distributed import distribute
from .executors import DaskExecutor, parse_executor
from .index import CardEntry, Snapshot, entry_for, snapshot_of
from .isolation import isolated_step
from .ledger import Ledger
from .outcomes import outcome_key, outcome_of, replay
from .replay import REPLAYED, replay_unchanged, replayed_counters
from .runs import STEPS, CardRun, PublishOptions, PublishResult, run_counters, shared_step
from .s3 import S3Target
from .sharedledger import BucketVerdicts, FolderVerdicts, SharedLedger, VerdictStore
from .steps import AssetSteps, GoldenStep, StepContext
from .target import PublishTarget
from .unchanged import RunMemory, applies


def target_for(to: Path | str, config: HubConfig) -> PublishTarget:
    """The target for `--to`: s3://bucket/prefix, or a folder."""
    if str(to).startswith("s3://"):
        return S3Target(S3Location.parse(str(to)), client_for(config.object_store))
    return DirectoryTarget(Path(to))


def publish_hub(paths: list[Path], config: HubConfig, options: PublishOptions, *, store: Path | None = None,
                progress: Progress = SILENT, replay: bool = True) -> PublishResult:
    """Publish the cards under `paths` to `options.to`, with the local store's ledger; `replay` False when the
    caller has just tried `replay.replay_unchanged` with the same arguments."""
    replayed = replay_unchanged(paths, config, options, store=store) if replay else None  # before anything else
    if replayed is not None:
        progress.status(REPLAYED.format(cards=len(replayed.runs)))
        return replayed
    local = local_store(config, store)
    target = target_for(options.to, config)
    ledger = shared_or_local_ledger(local.root / "ledger.sqlite", options.ledger, config, progress)
    executor = None
    try:
        address = parse_executor(options.executor)
        executor = DaskExecutor(address) if address else None
        fetcher = fetcher_for(config, local, offline=options.offline, progress=progress)
        publisher = Publisher(config, fetcher, ledger, options, runtime_identity=installed.managed_identities(),
                              progress=progress, executor=executor, store=store)
        return publisher.run(paths, target)
    finally:
        ledger.close()
        if executor is not None:
            executor.close()


def shared_or_local_ledger(path: Path, shared: str | None, config: HubConfig, progress: Progress = SILENT) -> Ledger:
    """The local ledger, or with `--ledger` the shared one it caches (a folder or s3://bucket/prefix)."""
    if shared is None:
        return Ledger(path, progress=progress)
    verdicts: VerdictStore
    if shared.startswith("s3://"):
        location = S3Location.parse(shared)
        verdicts = BucketVerdicts(S3RefStore(location, client_for(config.object_store)))
    else:
        verdicts = FolderVerdicts(Path(shared))
    return SharedLedger(path, verdicts, progress=progress)


class Publisher:
    def __init__(self, config: HubConfig, fetcher: Fetcher, ledger: Ledger, options: PublishOptions, *,
                 runtime_identity: dict[str, str], progress: Progress = SILENT, record_outcomes: bool = False,
                 executor: DaskExecutor | None = None, store: Path | None = None) -> None:
        self.config = config
        self.record_outcomes = record_outcomes or options.shard is not None
        self.executor = executor
        self.store = store  # --store, for the executor's tasks
        self.reused = 0  # cards a shard replayed from their recorded outcome
        self._outcome_keys: dict[str, str] = {}  # card -> its outcome key, for this run's inputs
        self.fetcher = fetcher
        self.ledger = ledger
        self.options = options
        self.runtime_identity = runtime_identity
        self.progress = progress
        sets = GoldenSets(config.root)  # each set's content hash reads every image: once per run
        self.sets = sets
        self.ctx = StepContext(config, ledger, options.no_cache)
        self.check = CheckStep(self.ctx, CardChecker(config, extra_rules=[GoldenBlockRule(config, sets)]),
                               run_for(config))
        self.assets = AssetSteps(self.ctx, fetcher, jobs=options.jobs)
        self.golden = GoldenStep(self.ctx, GoldenRunner(config, fetcher, sets=sets, timeout=options.timeout),
                                 runtime_identity)
        self._workers_before = workers_started()

    def run(self, paths: list[Path], target: PublishTarget) -> PublishResult:
        files = card_files(paths)  # as text: a Path per card costs a replayed run a tenth of its time
        cancel.note("publish", "nothing was published (the published hub is as it was; the ledger keeps "
                               "the steps that finished)")
        memory = self._memory()  # (a run that needs no card read was replayed before: `replay`)
        cards = self.check.keyed(files, memory.digests() if memory is not None else None)
        recalled = memory.recall(cards, target, self.sets) if memory is not None else None
        if recalled is not None:
            self.progress.status(REPLAYED.format(cards=len(recalled.runs)))
            return PublishResult(recalled.runs, recalled.where, replayed_counters(recalled.runs, self.ledger))
        if self.check.digests.reused:  # the normal path keys every card by its bytes (see carddigests)
            cards = self.check.keyed(files)
        del files
        if memory is not None:
            memory.begin(cards, self.check.digests)
        self.progress.status(f"checking {len(cards)} cards")
        runs = self.check.run(cards)  # every card, even in a shard: the cross-card rules need them all
        del cards
        if self.options.merge:
            self._replay(runs)
            return self._commit(runs, target)
        shard = self.options.shard
        mine = runs if shard is None else [r for r in runs if shard.takes(r.card)]
        todo = mine if shard is None else self._not_done(mine)
        if shard is not None:
            self.progress.status(f"shard {shard}: {len(mine)} of {len(runs)} cards, {len(todo)} to verify")
        if self.executor is not None:
            distribute(self, todo, self.executor)
        else:
            self.steps(todo)
        if shard is None:
            result = self._commit(runs, target)
            if memory is not None and result.counters["unchanged"] and result.generation is not None:
                memory.remember(runs, target, self.golden.inputs, where=result.generation,
                                repo_files=self.check.repo_files, with_assets=self.options.with_assets)
            return result
        cancel.note("publish", f"shard {shard} commits nothing; the outcomes of the cards it finished are kept")
        return PublishResult(mine, None, self._counters(mine), shard=shard)

    def steps(self, runs: list[CardRun]) -> None:
        """Fetch, inspect and golden for these (checked) cards, here."""
        self.progress.status("fetching assets")
        self.assets.fetch(runs)
        self.progress.status("inspecting assets")
        self.assets.inspect(runs)
        self.golden.expect(runs)
        for i, run in enumerate(runs, 1):
            isolated_step(run, "golden", lambda: self.golden.run(run))  # noqa: B023 - run at once
            self.gate(run)
            run.forget_assets()
            if self.record_outcomes:
                self._shared().record_outcome(self._outcome_key(run), outcome_of(run))  # as each card ends
            golden = run.steps["golden"]
            if not golden.cached and golden.status != "skipped":
                self.progress.status(f"golden {i}/{len(runs)}: {run.display}: {golden.status}")

    def _commit(self, runs: list[CardRun], target: PublishTarget) -> PublishResult:
        if self.options.with_assets:
            self.progress.status("verifying the blobs to publish")
            hold_back_bad_blobs(runs, self.fetcher.store)
        self.progress.status("writing the index")
        snapshot = self._snapshot(runs, target)
        try:
            committed = target.publish(snapshot)
        finally:
            snapshot.close()
        cancel.note("publish", f"the index was written to {committed.where}")
        return PublishResult(runs, committed.where, {**self._counters(runs), "unchanged": int(committed.unchanged)})

    def _memory(self) -> RunMemory | None:
        """The remembered run this one may replay, or None where no run is replayed (`unchanged.applies`)."""
        if not applies(self.options, distributed=self.executor is not None):
            return None
        return RunMemory(self.ledger, self.config, self.options, self.fetcher.store, fingerprint=self.check.fingerprint,
                         runtimes=self.runtime_identity)

    def _counters(self, runs: list[CardRun]) -> dict[str, int]:
        return run_counters(runs, ledger_hits=self.ledger.hits, shared_hits=self.ledger.shared_hits,
                            parsed=self.ctx.counters.parsed, golden_runs=self.ctx.counters.golden_runs,
                            outcomes_reused=self.reused, requests=self.fetcher.stats.requests,
                            workers=workers_started() - self._workers_before)

    def _shared(self) -> SharedLedger:
        assert isinstance(self.ledger, SharedLedger), "--shard and --merge are refused without --ledger"
        return self.ledger

    def _outcome_key(self, run: CardRun) -> str:
        """The card's outcome key, planned once per run (a shard looks it up, then records under it)."""
        key = self._outcome_keys.get(run.card)
        if key is None:
            key = self._outcome_keys[run.card] = outcome_key(run, self.golden.key_for(run), self.runtime_identity)
        return key

    def _not_done(self, runs: list[CardRun]) -> list[CardRun]:
        """A shard's cards that have no publishable outcome for these inputs yet: the others are replayed
        (shown as remembered), so an unchanged hub costs a shard no download and no golden run."""
        keys = {r.card: self._outcome_key(r) for r in runs}
        found = self._shared().outcomes(list(keys.values()))
        todo = []
        for run in runs:
            outcome = found.get(keys[run.card])
            check = run.steps["check"]
            if outcome is None or not replay(run, outcome):
                todo.append(run)
                continue
            self.gate(run)
            if not run.published:  # a failure may be the network's: verified again, from the check on
                run.steps, run.fetched, run.golden = {"check": check}, {}, None
                run.held_because, run.held_transient, run.verified = "", False, True
                todo.append(run)
                continue
            run.steps.update({n: shared_step(s.status, s.reason, True, s.transient) for n, s in run.steps.items()})
            run.steps["check"] = check
            self.reused += 1
        return todo

    def _replay(self, runs: list[CardRun]) -> None:
        """--merge: every card's steps from the outcome a shard recorded; refused if any card has none."""
        self.progress.status(f"replaying the shards' outcomes of {len(runs)} cards")
        keys = {r.card: self._outcome_key(r) for r in runs}
        found = self._shared().outcomes(list(keys.values()))
        missing = [r for r in runs if not (keys[r.card] in found and replay(r, found[keys[r.card]]))]
        if missing:
            raise UsageError(f"--merge: {counted(len(missing), 'card')} of {len(runs)} have no outcome recorded "
                             f"for these inputs in {self._shared().shared.where}: "
                             f"{first_few([r.display for r in missing])}",
                             hint="run (or re-run) the shards that hold them, on this same checkout and "
                                  "configuration, then merge again; nothing was published")
        for run in runs:
            self.gate(run)

    def gate(self, run: CardRun) -> None:
        """Published only if every step passed or was legitimately not applicable."""
        for name in STEPS:
            step = run.steps[name]
            if step.status in ("passed", "skipped"):
                continue  # a skip after a failure never gets here: the failure returned first
            if step.status in ("offline", "unavailable") and self.options.allow_unverified:
                run.verified = False
                continue
            run.held_because = f"{name} {step.status}: {step.reason}"
            run.held_transient = is_transient(step)
            return
        run.published = True

    def _snapshot(self, runs: list[CardRun], target: PublishTarget) -> Snapshot:
        def entries() -> Iterator[CardEntry]:  # made again where needed, not kept beside the documents
            return (entry_for(r, mirrors=self.config.mirrors, with_assets=self.options.with_assets)
                    for r in runs if r.published)

        carried = carried_documents(runs, self._previous(target)) if any(r.held_transient for r in runs) else []
        blobs = {}
        if self.options.with_assets:
            digests = set()
            for entry in entries():
                digests |= {a.sha256 for a in entry.assets}
                digests |= {str(a.translated["sha256"]) for a in entry.assets if a.translated}
            digests |= carried_blobs(carried, self.fetcher.store)
            blobs = {d: self.fetcher.store.blob_path(d) for d in sorted(digests)}

        def catalog() -> Iterator[tuple[str, bytes]]:
            from .catalog import render_catalog  # jinja2 and markdown-it (~65 ms), for a new generation only

            return render_catalog(list(entries()), runs, hub_name=self.config.name, sets=self.sets)

        return snapshot_of(entries(), hub_name=self.config.name, runtimes=self.runtime_identity, blobs=blobs,
                           carried=carried, catalog=catalog)

    def _previous(self, target: PublishTarget) -> JSONObject | None:
        try:
            found = target.latest()
        except StoreError as exc:  # an unreadable last generation: nothing to carry over, and say so
            self.progress.notice(f"the last published index cannot be read ({exc.message}); "
                                 "cards held back now are not carried over")
            return None
        return found.index if found else None

"""`hubtool publish`: gate every card on check, fetch, inspect and golden; write the index atomically.

Per card: check (parse, schema, rules) -> fetch every asset (verified) -> inspect
-> golden inference where a runtime and a golden set apply -> index entry.
Each step's verdict is recorded (passed / failed / skipped / unavailable /
offline, with the reason).  Passed steps are remembered in the ledger under a
key of their inputs, so an unchanged hub re-publishes without parsing,
downloading or running anything.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rules
from .card import Asset, assets_from, discover
from .config import HubConfig
from .diagnostics import Diagnostic, Severity
from .download import Fetcher
from .goldencard import golden_for_card, plan, preprocess_overrides
from .goldenset import GOLDEN_DIR, GoldenSet, GoldenSetError, load_set
from .index import AssetEntry, CardEntry, build_index, canonical, card_document
from .inspect import inspect_file
from .ledger import Ledger, key_of
from .mirror import AssetTask, fetch_assets
from .publishdir import PublishTarget
from .s3store import is_s3
from .validate import CardChecker

STEPS = ("check", "fetch", "inspect", "golden")


@dataclass
class Step:
    status: str  # passed | failed | skipped | unavailable | offline
    reason: str = ""
    cached: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CardRun:
    path: Path
    display: str
    raw_sha256: str
    steps: dict[str, Step] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    title: str | None = None
    identity: rules.Identity | None = None
    published: bool = False
    verified: bool = True
    held_because: str = ""
    _assets: list[Asset] | None = None

    @property
    def assets(self) -> list[Asset]:
        if self._assets is None:
            self._assets = assets_from(self.metadata or {})
        return self._assets


@dataclass
class PublishOptions:
    to: Path | str  # a folder, or s3://bucket/prefix
    offline: bool = False
    allow_unverified: bool = False
    no_cache: bool = False
    with_assets: bool = False
    jobs: int = 4
    timeout: float = 120.0


@dataclass
class PublishResult:
    runs: list[CardRun]
    generation: Path | str | None
    counters: dict[str, int]

    @property
    def held_back(self) -> list[CardRun]:
        return [r for r in self.runs if not r.published]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprint(config: HubConfig, checker: CardChecker) -> str:
    """Everything besides a card's bytes that its check verdict depends on."""
    digest = hashlib.sha256(repr(sorted(checker.schema.items(), key=str)).encode())
    if config.path is not None:
        digest.update(config.path.read_bytes())
    for spec in sorted((config.root / GOLDEN_DIR).glob("*/golden.yaml")):
        digest.update(str(spec).encode() + spec.read_bytes())
    return digest.hexdigest()


class Publisher:
    def __init__(self, config: HubConfig, fetcher: Fetcher, ledger: Ledger, options: PublishOptions,
                 runtime_identity: dict[str, str]) -> None:
        self.config = config
        self.fetcher = fetcher
        self.ledger = ledger
        self.options = options
        self.runtime_identity = runtime_identity
        self.checker = CardChecker(config)
        # a set's content hash reads every image: once per run, not once per card that uses it
        self._sets: dict[str, GoldenSet] = {}
        self.progress: Any = lambda text: None  # set by the CLI to show progress on a terminal
        self.fingerprint = _fingerprint(config, self.checker)
        self.counters = {"cards": 0, "parsed": 0, "golden_runs": 0, "ledger_hits": 0, "unchanged": 0}
        from .runtimes.mslite import STARTED

        self._workers_before = STARTED["workers"]

    # --- the pipeline ----------------------------------------------------------------------
    def run(self, paths: list[Path]) -> PublishResult:
        files = discover(paths)
        self.progress(f"checking {len(files)} cards")
        runs = self._without_twins([self._check(path) for path in files])
        self._cross_card(runs)
        self.progress("fetching assets")
        self._fetch(runs)
        self.progress("inspecting assets")
        self._inspect_all(runs)
        for i, run in enumerate(runs, 1):
            self._golden(run)
            self._gate(run)
            if "golden" in run.steps and not run.steps["golden"].cached and run.steps["golden"].status != "skipped":
                self.progress(f"golden {i}/{len(runs)}: {run.display}: {run.steps['golden'].status}")
        self.progress("writing the index")
        generation = self._write_s3(runs) if is_s3(self.options.to) else \
            self._write(PublishTarget(Path(self.options.to)), runs)
        from .runtimes.mslite import STARTED

        self.counters.update(cards=len(runs), ledger_hits=self.ledger.hits, requests=self.fetcher.requests_sent,
                             workers=STARTED["workers"] - self._workers_before)
        return PublishResult(runs, generation, self.counters)

    def _check(self, path: Path) -> CardRun:
        try:
            raw = path.read_bytes()
        except OSError:
            raw = b""  # the check reports why it cannot be read
        run = CardRun(path, _display(path), _sha(raw))
        english = path.with_name(path.name[: -len("_cn.md")] + ".md") if path.name.endswith("_cn.md") else None
        english_sha = _sha(english.read_bytes()) if english and english.is_file() else None
        key = key_of("check", run.raw_sha256, english_sha, self.fingerprint, run.display)
        cached = None if self.options.no_cache else self.ledger.get(key)
        if cached is not None:
            run.metadata, run.title = cached["metadata"], cached["title"]
            ident = cached.get("identity")
            if ident:
                user, name, version = ident["key"]
                run.identity = rules.Identity((user, name, version), run.display, ident["line"], ident["col"])
            run.steps["check"] = Step("passed", cached=True, detail={"warnings": cached["warnings"]})
            return run
        self.counters["parsed"] += 1
        verdict, card = self.checker.examine(path)
        run.diagnostics = verdict.diagnostics
        run.identity = verdict.identity
        if card is not None:
            run.metadata, run.title = card.metadata, card.title
        errors = [d for d in verdict.diagnostics if d.severity is Severity.ERROR]
        warnings = len(verdict.diagnostics) - len(errors)
        if errors or card is None:
            first = errors[0] if errors else None
            where = f" (first: {first.path}:{first.line}:{first.col} {first.code} {first.message})" if first else ""
            run.steps["check"] = Step("failed", f"{len(errors)} error(s){where}")
            return run
        run.steps["check"] = Step("passed", detail={"warnings": warnings})
        ident = run.identity
        self.ledger.record(key, "check", "passed", {
            "metadata": card.metadata, "title": card.title, "warnings": warnings,
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
            if english is not None and run.steps["check"].status != "passed":
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

    def _fetch(self, runs: list[CardRun]) -> None:
        tasks: list[tuple[CardRun, AssetTask]] = []
        for run in runs:
            if run.steps["check"].status != "passed":
                continue
            for asset in run.assets:
                tasks.append((run, AssetTask(run.display, asset.index, asset.link or "", asset.sha256 or "",
                                             asset.file_format)))
        store = self.fetcher.store
        present = {t.digest: store.stat(t.digest) for _, t in tasks}  # one stat per blob
        missing = [t for _, t in tasks if present[t.digest] is None]
        fetched = {r.task.digest: r for r in fetch_assets(missing, self.fetcher, jobs=self.options.jobs)}
        results = [fetched.get(t.digest) or _present(t, present[t.digest]) for _, t in tasks]
        by_run: dict[str, list[Any]] = {}
        for (run, _), result in zip(tasks, results, strict=True):
            by_run.setdefault(run.display, []).append(result)
        for run in runs:
            if run.steps["check"].status != "passed":
                run.steps["fetch"] = Step("skipped", "the check failed")
                continue
            results_here = by_run.get(run.display, [])
            failed = [r for r in results_here if not r.ok]
            detail = {"assets": {r.task.digest: {"size": r.outcome.size, "action": r.outcome.action}
                                 for r in results_here if r.ok}}
            if not failed:
                run.steps["fetch"] = Step("passed", detail=detail)
            elif all(r.kind == "offline" for r in failed):
                run.steps["fetch"] = Step("offline", "not verified (offline): " + failed[0].error, detail=detail)
            else:
                kind = failed[0].kind
                label = "network failure" if kind == "network" else f"{kind} failure"
                run.steps["fetch"] = Step("failed", f"{label}: {failed[0].error}", detail=detail)

    def _inspect_all(self, runs: list[CardRun]) -> None:
        """Inspect every fetched asset; facts about a blob never change, so the ledger keeps them."""
        digests = sorted({a.sha256 for r in runs if r.steps["fetch"].status == "passed"
                          for a in r.assets if a.sha256})
        keys = {d: key_of("inspect", d) for d in digests}
        known = {} if self.options.no_cache else self.ledger.get_many(list(keys.values()))
        facts: dict[str, dict[str, Any]] = {}
        new = []
        for digest, key in keys.items():
            if key in known:
                facts[digest] = known[key]
                continue
            found = inspect_file(self.fetcher.store.blob_path(digest))
            facts[digest] = {"kind": found.kind, "description": found.description, **found.details}
            new.append((key, "inspect", "passed", facts[digest]))
        self.ledger.record_many(new)
        for run in runs:
            self._inspect(run, facts)

    def _inspect(self, run: CardRun, facts: dict[str, dict[str, Any]]) -> None:
        if run.steps["fetch"].status != "passed":
            run.steps["inspect"] = Step("skipped", "the assets are not all in the store")
            return
        mine: dict[str, Any] = {}
        problems = []
        for asset in run.assets:
            assert asset.sha256 is not None
            found = mine[asset.sha256] = facts[asset.sha256]
            expected = {"mslite": "mslite", "onnx": "onnx"}.get(asset.file_format or "")
            if found["kind"] in ("html", "lfs-pointer", "empty") or (expected and found["kind"] != expected):
                problems.append(f"asset {asset.index} ({asset.file_format}) is {found['description']}")
        run.steps["inspect"] = Step("failed", "; ".join(problems), detail=mine) if problems \
            else Step("passed", detail=mine)

    def _golden(self, run: CardRun) -> None:
        if run.steps["inspect"].status != "passed":
            offline = run.steps["fetch"].status == "offline"
            run.steps["golden"] = Step("offline" if offline else "skipped",
                                       "not verified (offline)" if offline else "an earlier step did not pass")
            return
        metadata = run.metadata or {}
        p = plan(metadata, self.config)
        if p.set_name is None or p.asset is None:
            run.steps["golden"] = Step("skipped", p.reason)
            return
        key = self._golden_key(p.set_name, p.asset, metadata)
        cached = None if self.options.no_cache or key is None else self.ledger.get(key)
        if cached is not None:
            run.steps["golden"] = Step("passed", cached=True, detail=cached)
            return
        self.counters["golden_runs"] += 1
        result = golden_for_card(metadata, self.config, self.fetcher, timeout=self.options.timeout)
        detail = {"set": result.set_name, "correct": result.correct, "required": result.required,
                  "cases": len(result.cases), "message": result.message,
                  "runtime": self.runtime_identity.get("mindspore-lite"),
                  "translated": result.details.get("translated")}
        run.steps["golden"] = Step(result.status, "" if result.status == "passed" else result.message,
                                   detail=detail)
        if result.status == "passed" and key is not None:
            self.ledger.record(key, "golden", "passed", detail)

    def _golden_key(self, set_name: str, asset: Asset, metadata: dict[str, Any]) -> str | None:
        try:
            gset = self._sets.get(set_name) or self._sets.setdefault(set_name, load_set(self.config.root, set_name))
        except GoldenSetError:
            return None
        from .legacy import TRANSLATOR_VERSION

        return key_of("golden", asset.sha256, asset.file_format, gset.content_sha256,
                      preprocess_overrides(metadata), self.runtime_identity, TRANSLATOR_VERSION)

    def _gate(self, run: CardRun) -> None:
        """Published only if every step passed or was legitimately not applicable."""
        for name in STEPS:
            step = run.steps[name]
            if step.status in ("passed", "skipped"):
                continue  # a skip after a failure never gets here: the failure returned first
            if step.status in ("offline", "unavailable") and self.options.allow_unverified:
                run.verified = False
                continue
            run.held_because = f"{name} {step.status}: {step.reason}"
            return
        run.published = True

    # --- output ----------------------------------------------------------------------------
    def entry(self, run: CardRun) -> CardEntry:
        metadata = run.metadata or {}
        facts = run.steps["inspect"].detail
        sizes = run.steps["fetch"].detail.get("assets", {})
        assets = []
        for a in run.assets:
            sha = a.sha256 or ""
            mirrors = tuple(f"{m.url.rstrip('/')}/blobs/sha256/{sha[:2]}/{sha}"
                            for m in self.config.mirrors if m.layout == "by-hash")
            assets.append(AssetEntry(a.index, a.file_format, sha, sizes.get(sha, {}).get("size"), a.link or "",
                                     mirrors, f"blobs/sha256/{sha[:2]}/{sha}" if self.options.with_assets else None,
                                     facts.get(sha, {}).get("kind")))
        golden = run.steps["golden"]
        summary = {"status": golden.status, "reason": golden.reason or None,
                   **{k: golden.detail.get(k) for k in ("set", "correct", "required", "cases", "runtime")}}
        extra: dict[str, Any] = {}
        translated = golden.detail.get("translated")
        if translated:
            # users of runtime 2.x can fetch the translation the verdict was obtained on
            t_sha = translated["sha256"]
            extra["asset-extra"] = {translated["from"]: {"translated": {
                "sha256": t_sha, "translator": translated["translator"],
                "path": f"blobs/sha256/{t_sha[:2]}/{t_sha}" if self.options.with_assets else None}}}
            summary["translated"] = True
        return CardEntry(run.display, run.title, metadata, tuple(assets), summary, run.verified, extra)

    def _write_s3(self, runs: list[CardRun]) -> str:
        from . import s3publish
        from .s3store import S3Location

        location = S3Location.parse(str(self.options.to))
        entries = [self.entry(r) for r in runs if r.published]
        index = build_index(entries, hub_name=self.config.name, runtimes=dict(self.runtime_identity))
        blobs = sorted({a.sha256 for e in entries for a in e.assets} |
                       {x["translated"]["sha256"] for e in entries for x in e.extra.get("asset-extra", {}).values()}
                       ) if self.options.with_assets else []
        done = s3publish.publish(location, self.config.s3_client(), index=index,
                                 documents=[card_document(e) for e in entries], blobs=blobs,
                                 local=self.fetcher.store)
        self.counters["unchanged"] = int(done.unchanged)
        return f"s3://{location.bucket}/{location.prefix}{s3publish.REFS}{done.generation:010d}.json"

    def _write(self, target: PublishTarget, runs: list[CardRun]) -> Path:
        entries = [self.entry(r) for r in runs if r.published]
        index = canonical(build_index(entries, hub_name=self.config.name, runtimes=dict(self.runtime_identity)))
        with target.locked():
            current = target.unchanged(index)
            if current is not None:
                self.counters["unchanged"] = 1  # the published hub already says exactly this
                return current
            with target.staging() as stage:
                for entry in entries:
                    target.write(stage, entry.document, card_document(entry))
                    if self.options.with_assets:
                        for asset in entry.assets:
                            _link_blob(self.fetcher.store.blob_path(asset.sha256), stage / (asset.path or ""))
                        for extra in entry.extra.get("asset-extra", {}).values():
                            t_sha = extra["translated"]["sha256"]
                            _link_blob(self.fetcher.store.blob_path(t_sha), stage / extra["translated"]["path"])
                target.write_bytes(stage, "index.json", index)
                return target.commit(stage)


def _present(task: AssetTask, info: Any) -> Any:
    from .download import FetchOutcome
    from .mirror import AssetResult

    return AssetResult(task, FetchOutcome(task.digest, info.size, "store", "present"))


def _display(path: Path) -> str:
    from .validate import display_path

    return display_path(path)


def _link_blob(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # the same verified bytes, no copy
    except OSError:
        import shutil

        shutil.copyfile(src, dest)

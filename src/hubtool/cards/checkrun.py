"""A whole `hubtool check` run: every card (spread over the CPUs), then the rules across cards.

Cross-card rules always judge against every card of the hub, even when only a few files are
checked (a pre-commit hook passes the staged ones): the other cards' facts come from the
facts cache, and only the files given are reported on.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from ..errors import ExplainerNotLoaded
from ..forkmap import can_fork, forked_map
from ..gcpause import collector_paused
from . import baseline
from .crosscard import CardFacts
from .factcache import FactsCache
from .listing import card_files, discover
from .places import absolute_paths
from .validate import CardChecker, CardVerdict, CheckResult, Run, cross_findings, finish

#: below this many cards a worker pool costs more than it saves
PARALLEL_THRESHOLD = 256


def all_verdicts(checker: CardChecker, paths: list[Path]) -> list[CardVerdict]:
    """Per-card work (parse, schema, rules, twin), spread over the CPUs for a whole hub: this process checks
    the first chunk while a forked child checks each other one (`forkmap`: the children inherit `checker`)."""
    with collector_paused():  # the verdicts are kept to the end (the children inherit the pause)
        return _verdicts(checker, paths)


def _verdicts(checker: CardChecker, paths: list[Path]) -> list[CardVerdict]:
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8)
    if len(paths) < PARALLEL_THRESHOLD or workers < 2 or not can_fork():
        return [checker.verdict(path) for path in paths]
    size = -(-len(paths) // workers)
    chunks = [(paths[i:i + size], i > 0) for i in range(0, len(paths), size)]
    found = [verdict for chunk in forked_map(partial(_chunk_verdicts, checker), chunks) for verdict in chunk]
    return [checker.verdict(path) if verdict is None else verdict for verdict, path in zip(found, paths, strict=True)]


def _chunk_verdicts(checker: CardChecker, work: tuple[list[Path], bool]) -> list[CardVerdict | None]:
    """The verdicts of a chunk; in a forked worker, None for a card the schema fails, left to this process.

    Explaining a failure imports jsonschema (~45 ms of CPU).  Each process importing it for its first failing
    card paid that once per CPU on a real hub (3% of MindSpore Hub's cards fail the schema); importing it
    before the fork paid it in a hub whose cards all pass.  So the few failing cards of the workers' chunks
    are checked again here, where it is imported once, and only when some card needs it.
    """
    chunk, in_worker = work
    if not in_worker:
        return [checker.verdict(path) for path in chunk]
    checker.validator.import_held = True  # the worker's own copy of the checker
    return [_held_verdict(checker, path) for path in chunk]


def _held_verdict(checker: CardChecker, path: Path) -> CardVerdict | None:
    try:
        return checker.verdict(path)
    except ExplainerNotLoaded:
        return None


def hub_card_files(checker: CardChecker) -> list[str]:
    """Every card of the hub (its cards folder), or [] when the hub has no such folder."""
    folder = checker.config.root / checker.config.cards_dir
    return card_files([folder]) if folder.is_dir() else []


def check_paths(paths: list[Path], checker: CardChecker, run: Run) -> CheckResult:
    """Validate every card under `paths`; all findings of all cards, never the first only."""
    files = discover(paths)
    verdicts = all_verdicts(checker, files)
    hub = hub_card_files(checker)
    hub_absolute = absolute_paths(hub)
    fresh = {v.display: v.facts for v in verdicts}
    if hub and set(absolute_paths([str(p) for p in files])) <= set(hub_absolute):
        cache = FactsCache(checker.config, checker.schema)

        def examine(misses: list[str]) -> list[CardFacts | None]:
            return [v.facts for v in all_verdicts(checker, [Path(p) for p in misses])]

        facts = cache.facts(hub, hub_absolute, fresh, examine)
    else:  # cards outside the hub's folder: judged among themselves
        facts = [f for f in fresh.values() if f is not None]
    cross = cross_findings(facts, checker.config, set(fresh))
    return CheckResult(files=[v.display for v in verdicts], diagnostics=finish(verdicts, cross, run))


def write_baseline_file(result: CheckResult, path: Path, run: Run) -> CheckResult:
    """Record the run's findings as the baseline in `path` (the entries of cards not checked stay).

    Returns the result as it now reads: every finding baselined, the stale entries gone.
    """
    current = [d for d in result.diagnostics if d.code != "HUB006"]
    keep = baseline.read(path) if path.exists() else run.baseline
    baseline.write(path, current, run.root, checked=result.files, keep=keep)
    marked = [d._replace(baselined=True) if baseline.eligible(d) else d for d in current]
    return CheckResult(files=result.files, diagnostics=marked)

"""`hubtool publish` on a hub where nothing changed: the last run replayed, before the pipeline is imported.

`unchanged.RunMemory.recall_unread` decides whether the last run repeats itself exactly.  This module
builds only what that needs (the hub's local ledger, the run key's inputs, the folder target's state,
the golden sets) and none of the fetchers, runtimes, S3 clients or steps the pipeline imports: on an
unchanged hub of 10k cards those imports were a third of the run.  Whatever it cannot settle is the
pipeline's (None): a shared ledger, an S3 target, an executor, a ledger that needs repair, any change.
"""

from __future__ import annotations

from pathlib import Path

from .. import cancel
from ..assets.store import local_store
from ..cards.listing import card_files
from ..config import HubConfig
from ..errors import StoreError
from ..golden.sets import GoldenSets
from ..runtimes import installed
from .directory import DirectoryTarget
from .fingerprint import check_fingerprint
from .ledger import Ledger
from .runs import CardRun, PublishOptions, PublishResult, run_counters
from .unchanged import RunMemory, applies

#: the status line of a replayed run
REPLAYED = "{cards} cards: nothing changed since the last run, which is replayed"


def replay_unchanged(paths: list[Path], config: HubConfig, options: PublishOptions, *,
                     store: Path | None = None) -> PublishResult | None:
    """The last publish of the cards under `paths` to `options.to`, replayed; None when it is not to be."""
    if (not applies(options, distributed=options.executor != "local") or options.ledger is not None
            or str(options.to).startswith("s3://")):
        return None
    local = local_store(config, store)
    path = local.root / "ledger.sqlite"
    if not path.is_file():
        return None  # nothing remembered: the pipeline creates the ledger
    try:
        ledger = Ledger(path, repair=False)  # an unreadable one is the pipeline's to move aside and say so
    except StoreError:
        return None
    try:
        cancel.note("publish", "nothing was published (the published hub is as it was)")
        memory = RunMemory(ledger, config, options, local, fingerprint=check_fingerprint(config),
                           runtimes=installed.managed_identities())
        if memory.last is None:
            return None
        recalled = memory.recall_unread(card_files(paths), DirectoryTarget(Path(options.to)), GoldenSets(config.root))
    except StoreError:  # a ledger that cannot be read: the pipeline says so
        return None
    finally:
        ledger.close()
    return None if recalled is None else PublishResult(recalled.runs, recalled.where,
                                                       replayed_counters(recalled.runs, ledger))


def replayed_counters(runs: list[CardRun], ledger: Ledger) -> dict[str, int]:
    """A replayed run's counters: it parsed, fetched and ran nothing."""
    return run_counters(runs, ledger_hits=ledger.hits, shared_hits=ledger.shared_hits, unchanged=1, replayed=1)

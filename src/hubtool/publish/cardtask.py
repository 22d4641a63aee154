"""One card's steps as a task an executor runs anywhere: the task names the card, never carries bytes.

A task is what a Dask worker (or any process with the same checkout of the hub at the same
path) runs: it checks the card alone, fetches its assets into that machine's store, inspects
them and runs golden, records the card's outcome in the shared ledger when there is one, and
returns the outcome (a small JSON document) for the publishing process to replay.  The
cross-card rules are the publishing process's: it sends only cards its check passed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..durable import JSONObject


@dataclass(frozen=True)
class CardTask:
    config: str | None  # the hub.yaml, as the publishing process found it
    card: str  # the card file, absolute
    store: str | None  # --store, else the worker's default store
    ledger: str | None  # --ledger
    offline: bool
    timeout: float
    jobs: int

    def to_json(self) -> JSONObject:
        return dict(asdict(self))

    @classmethod
    def from_json(cls, doc: JSONObject) -> CardTask:
        """The task `to_json` wrote (the executor hands it over as it was)."""
        def text(key: str) -> str | None:
            value = doc.get(key)
            return value if isinstance(value, str) else None

        timeout, jobs = doc.get("timeout"), doc.get("jobs")
        return cls(text("config"), text("card") or "", text("store"), text("ledger"), doc.get("offline") is True,
                   float(timeout) if isinstance(timeout, (int, float)) else 120.0,
                   jobs if isinstance(jobs, int) else 4)


def run_card(task: JSONObject) -> JSONObject:
    """The task's card through fetch, inspect and golden; {"outcome": ..., "pid": ...} for the publisher."""
    from ..assets.sources import fetcher_for
    from ..assets.store import local_store
    from ..config import load_config
    from ..runtimes import installed
    from .outcomes import outcome_of
    from .pipeline import Publisher, shared_or_local_ledger
    from .runs import PublishOptions

    spec = CardTask.from_json(task)
    config = load_config(Path(spec.config) if spec.config else None, start=Path(spec.card).parent)
    store = local_store(config, Path(spec.store) if spec.store else None)
    ledger = shared_or_local_ledger(store.root / "ledger.sqlite", spec.ledger, config)
    try:
        fetcher = fetcher_for(config, store, offline=spec.offline)
        options = PublishOptions(to="", offline=spec.offline, jobs=spec.jobs, timeout=spec.timeout,
                                 ledger=spec.ledger)
        publisher = Publisher(config, fetcher, ledger, options, runtime_identity=installed.managed_identities(),
                              record_outcomes=spec.ledger is not None)
        run = publisher.check.run(publisher.check.keyed([spec.card]))[0]
        publisher.steps([run])
        return {"outcome": outcome_of(run), "pid": os.getpid()}
    finally:
        ledger.close()

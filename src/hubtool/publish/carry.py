"""An outage must not unpublish a hub: a card held back for a transient reason keeps its last entry.

Network failures, `--offline` and a missing runtime say nothing about a card;
a generation built during an origin outage would otherwise silently drop every
card whose asset could not be fetched.  Such a card's entry in the previous
generation is carried over as it was, marked `stale` with the reason; cards
that were removed, or failed for real (a wrong hash, a failed golden run, a
check error), are dropped.  `stale.since` keeps the time it was first carried,
so re-runs during the outage republish the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..durable import JSONObject
from .runs import CardRun, Step

TRANSIENT_STATUSES = ("offline", "unavailable")


def is_transient(step: Step) -> bool:
    """A hold-back that says nothing about the card itself."""
    return step.status in TRANSIENT_STATUSES or step.transient


def carried_documents(runs: Sequence[CardRun], previous: JSONObject | None) -> list[JSONObject]:
    """The previous index's entries of the cards held back only for a transient reason, marked stale."""
    cards = previous.get("cards") if previous else None
    if not isinstance(cards, list):
        return []
    before = {doc.get("card"): doc for doc in cards if isinstance(doc, dict)}
    carried: list[JSONObject] = []
    for run in runs:
        doc = before.get(run.card)
        if run.published or not run.held_transient or doc is None:
            continue
        kept = {k: v for k, v in doc.items() if k != "document"}  # the document name is the new index's to give
        old = doc.get("stale")
        since = old.get("since") if isinstance(old, dict) and isinstance(old.get("since"), str) else None
        kept["stale"] = {"reason": run.held_because,
                         "since": since or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        carried.append(kept)
        run.held_because += " (its last published entry stays, marked stale)"
    return carried

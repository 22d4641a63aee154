"""A card's verdicts as a shard records them and `publish --merge` replays them.

`publish --shard I/N` runs fetch, inspect and golden for its cards only and commits
nothing; for every one of them it writes the card's outcome (each step's status and
reason, the sizes fetched, what inspection found, the golden summary) to the shared
ledger.  `publish --merge` checks the whole hub itself (the cross-card rules need every
card), then replays each card's outcome instead of running its steps: it needs no blob and
no runtime, and a card without an outcome for exactly these inputs refuses the merge.

An outcome is keyed on the card's check key (its bytes, its twin's, its place in the hub,
the hub's configuration and golden sets), its golden key (asset, set, network, runtime
version) and every runtime's identity, so a shard that ran on other inputs is never replayed.
Unlike a passed step, an outcome can be a failure that a re-run changes, so each one is a new
create-only record and the newest one counts.
"""

from __future__ import annotations

from ..durable import JSON, JSONObject
from .ledger import key_of
from .runs import STEPS, CardRun, FetchedAsset, GoldenSummary, Step, fact_kind, shared_step

#: the outcome record's layout; a change makes every older outcome a miss
OUTCOME_RECORD = 1


def outcome_key(run: CardRun, golden_key: str | None, runtimes: dict[str, str]) -> str:
    identity = "\0".join(f"{k}={v}" for k, v in sorted(runtimes.items()))
    return key_of("outcome", OUTCOME_RECORD, run.check_key, golden_key, identity)


def outcome_of(run: CardRun) -> JSONObject:
    steps: JSONObject = {name: {"status": s.status, "reason": s.reason, "cached": s.cached, "transient": s.transient}
                         for name, s in run.steps.items()}
    fetched: JSONObject = {d: {"size": f.size, "action": f.action} for d, f in run.fetched.items()}
    inspected: JSONObject = {d: {"kind": f.kind} for d, f in run.fetched.items()}  # the ledger's facts' shape
    return {"record": OUTCOME_RECORD, "card": run.card, "steps": steps, "fetched": fetched, "inspected": inspected,
            "golden": run.golden.to_json() if run.golden else None}


def replay(run: CardRun, doc: JSONObject) -> bool:
    """Give `run` the steps after its check from a recorded outcome; False (run untouched) if it is not one."""
    try:
        recorded = _object(doc["steps"])
        steps = {name: _step(recorded, name) for name in STEPS}
        kinds = {d: fact_kind(_object(f)) for d, f in _object(doc["inspected"]).items()}
        fetched = {d: _fetched(f, kinds.get(d)) for d, f in _object(doc["fetched"]).items()}
        golden = doc["golden"]
        summary = GoldenSummary.from_json(golden) if isinstance(golden, dict) else None
    except (KeyError, TypeError):
        return False
    if doc.get("record") != OUTCOME_RECORD or doc.get("card") != run.card:
        return False
    mine = run.steps["check"]
    if steps["check"].status == mine.status:  # the merge's own check counts; the shard's says if it was cached
        run.steps["check"] = Step(mine.status, mine.reason, cached=steps["check"].cached)
    for name in STEPS[1:]:
        run.steps[name] = steps[name]
    run.fetched, run.golden = fetched, summary
    return True


def _object(value: JSON) -> JSONObject:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


def _fetched(value: JSON, kind: str | None) -> FetchedAsset:
    f = _object(value)
    size, action = f["size"], f["action"]
    if not isinstance(size, int) or not isinstance(action, str):
        raise TypeError("not a fetched asset")
    return FetchedAsset(size, action, kind)


def _step(steps: JSONObject, name: str) -> Step:
    s = _object(steps[name])
    status, reason = s["status"], s["reason"]
    if not isinstance(status, str) or not isinstance(reason, str):
        raise TypeError(f"{name}: not a step")
    return shared_step(status, reason, cached=bool(s.get("cached")), transient=bool(s.get("transient")))

"""How a remembered run (`unchanged`) keeps its cards' runs, and reads them back for a replay.

A hub's cards share a handful of verdicts, so each distinct tuple of step verdicts is kept once
and a card's row names it by its index, with the card's count of warnings and its findings.  The
cards' names are not kept: they are the run key's listing, which a replay has made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..cards import twins
from ..diagnostics import Diagnostic, Severity
from ..durable import JSON, JSONObject
from .carddigests import Keyed
from .runs import STEPS, CardRun, Step, shared_step


def runs_record(runs: list[CardRun]) -> JSONObject:
    """The record's "steps" (each distinct verdicts once) and "runs" (a row per card, in order)."""
    steps: dict[tuple[Step, ...], int] = {}
    rows: list[JSON] = []
    for run in runs:
        index = steps.setdefault(tuple(run.steps[name] for name in STEPS), len(steps))
        rows.append([index, run.warnings, [d.as_dict() for d in run.diagnostics]] if run.diagnostics
                    else [index, run.warnings])
    return {"runs": rows, "steps": [[[s.status, s.reason, s.cached] for s in verdicts] for verdicts in steps]}


def runs_from(record: JSONObject, cards: Sequence[Keyed]) -> list[CardRun]:
    """The remembered cards' runs; KeyError, TypeError, ValueError or IndexError if the record is not one."""
    doc: Any = record  # its shape is checked as it is read: anything else raises one of those
    steps = [tuple(shared_step(str(status), str(reason), bool(cached)) for status, reason, cached in verdicts)
             for verdicts in doc["steps"]]
    rows = doc["runs"]
    cards = [card for card in cards if not twins.is_twin(card.file)]  # checked with their English cards: no run
    if not isinstance(rows, list) or len(rows) != len(cards) or any(len(s) != len(STEPS) for s in steps):
        raise ValueError("not a row per card, or not a verdict per step")
    runs = []
    by_step = [dict(zip(STEPS, verdicts, strict=True)) for verdicts in steps]  # copied for each card: its own
    for card, row in zip(cards, rows, strict=True):
        if not 0 <= row[0] < len(steps):
            raise IndexError(f"no verdicts {row[0]!r}")
        run = CardRun(card.file, card.display, card.card, card.key, warnings=int(row[1]), published=True)
        run.steps = by_step[row[0]].copy()
        if len(row) > 2:
            run.diagnostics = tuple(_diagnostic(d) for d in row[2])
        runs.append(run)
    return runs


def _diagnostic(doc: Any) -> Diagnostic:
    return Diagnostic(str(doc["path"]), int(doc["line"]), int(doc["col"]), str(doc["code"]),
                      Severity(doc["severity"]), str(doc["message"]), str(doc["pointer"]), str(doc["hint"]),
                      baselined=bool(doc["baselined"]))

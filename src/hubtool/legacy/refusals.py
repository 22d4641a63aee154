"""Why a model is not translated, and the same reasons grouped for people (one line per reason, not per node)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Refusal(NamedTuple):
    """One reason not to translate; `reason` is what nodes with the same problem share."""

    reason: str
    where: str | None = None  # "node 'name'", "tensor 3"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where is not None else self.reason


def grouped(refusals: Sequence[Refusal]) -> list[str]:
    """One line per distinct reason, in first-seen order, with how many places share it and one of them."""
    places: dict[str, list[str]] = {}
    for r in refusals:
        places.setdefault(r.reason, [])
        if r.where is not None:
            places[r.reason].append(r.where)
    lines = []
    for reason, where in places.items():
        if len(where) > 1:
            lines.append(f"{reason}: {len(where)} {where[0].split()[0]}s, e.g. {where[0]}")
        else:
            lines.append(f"{reason}: {where[0]}" if where else reason)
    return lines


__all__ = ["Refusal", "grouped"]

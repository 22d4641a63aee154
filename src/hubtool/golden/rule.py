"""`golden:` blocks in cards, checked offline for `hubtool check` (a `CardRule` of hubtool.cards).

A card that names a golden set must name one that exists, with all its images
(HUB501); its preprocessing overrides must be valid (HUB502).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..cards.card import Card
from ..config import HubConfig
from ..diagnostics import Diagnostic, error
from ..schema import Validator, load_schema

if TYPE_CHECKING:
    from .sets import GoldenSets


class GoldenBlockRule:
    def __init__(self, config: HubConfig, sets: GoldenSets | None = None) -> None:
        self.config = config
        self._given = sets

    @cached_property
    def sets(self) -> GoldenSets:
        """Read when a card first names a set: most cards of most hubs never do (and `check` starts faster)."""
        from .sets import GoldenSets

        return self._given or GoldenSets(self.config.root)

    @cached_property
    def _preprocess(self) -> Validator:
        """Compiled when a card first overrides preprocessing: most never do."""
        schema: Any = load_schema("golden")  # the bundled schema's shape is known
        return Validator(dict(schema["$defs"]["preprocess"], **{"$defs": schema["$defs"]}))

    def __call__(self, card: Card) -> list[Diagnostic]:
        golden = card.metadata.get("golden")
        if not isinstance(golden, dict) or not isinstance(golden.get("set"), str):
            return []
        diags = []
        problem = self.sets.problem(str(golden["set"]))
        if problem:
            pos = card.value_pos("/golden/set")
            diags.append(error(card.display, pos.line, pos.col, "HUB501", problem, pointer="/golden/set",
                               hint="name a folder of hub/golden/ that holds a valid golden.yaml"))
        overrides = golden.get("preprocess")
        if isinstance(overrides, dict) and overrides and not self._preprocess.is_valid(overrides):
            for err in self._preprocess.iter_errors(overrides):
                pointer = "/golden/preprocess" + "".join(f"/{p}" for p in err.absolute_path)
                pos = card.value_pos(pointer)
                diags.append(error(card.display, pos.line, pos.col, "HUB502",
                                   f"golden preprocess override: {err.message}", pointer=pointer,
                                   hint="see $defs/preprocess in schemas/golden.schema.json"))
        return diags

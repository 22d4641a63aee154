"""Validate cards: schema errors and rules become Diagnostics at exact file positions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..config import HubConfig
from ..diagnostics import Diagnostic, Severity, warning
from ..schema import Validator, extended_card_schema, wants_string
from . import rules
from .card import Card, LoadedCard, discover, load_card


@dataclass
class CheckResult:
    """All findings of one `check` run."""

    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)


@dataclass(frozen=True)
class CardVerdict:
    """What checking one card file found: small, so that worker processes return it cheaply."""

    display: str
    diagnostics: list[Diagnostic]
    identity: rules.Identity | None = None


class CardChecker:
    """Loads and validates cards against one hub configuration.

    `extra_rules` are per-card rules of higher parts (the golden sets' rule), run after the
    card's own rules.
    """

    def __init__(self, config: HubConfig, *, extra_rules: Sequence[rules.CardRule] = ()) -> None:
        self.config = config
        self.extra_rules = tuple(extra_rules)
        self.schema = extended_card_schema(module_types=config.extra_module_types,
                                           file_formats=config.extra_file_formats,
                                           backends=config.extra_backends)
        self.validator = Validator(self.schema)
        self._wants = lru_cache(maxsize=None)(self._wants_string)

    def _wants_string(self, shape: tuple[str | int, ...]) -> bool:
        return wants_string(self.schema, shape)

    def wants(self, parts: tuple[str | int, ...]) -> bool:
        return bool(self._wants(tuple(0 if isinstance(p, int) else p for p in parts)))

    def load(self, path: Path) -> LoadedCard:
        return load_card(path, display=display_path(path), max_bytes=self.config.max_card_bytes,
                         wants_string=self.wants)

    def verdict(self, path: Path) -> CardVerdict:
        """Everything about one card file that does not need the other cards."""
        return self.examine(path)[0]

    def examine(self, path: Path) -> tuple[CardVerdict, Card | None]:
        """The verdict, and the parsed card when it parses."""
        item = self.load(path)
        card = item.card
        if card is None:
            diags = _twin_parse_failure(item) if _is_twin(path) else item.diagnostics
            return CardVerdict(item.display, diags), None
        diags = item.diagnostics + self.check_card(card)
        if card.is_twin:
            diags += self._twin_check(card)
        return CardVerdict(item.display, diags, rules.identity_of(card)), card

    def _twin_check(self, twin: Card) -> list[Diagnostic]:
        english_path = twin.path.with_name(twin.path.name[: -len("_cn.md")] + ".md")
        if not english_path.is_file():
            return [warning(twin.display, 1, 1, "HUB305",
                            f"this _cn twin has no English card ({english_path.name})",
                            hint="add the English card next to it")]
        english = self.load(english_path)  # twins are few: re-reading beats shipping cards around
        if english.card is None:
            return [rules.twin_not_comparable(twin.display, 1, f"{english.display} does not parse")]
        return rules.twin_rules(twin, english.card)

    def check_card(self, card: Card) -> list[Diagnostic]:
        """Schema and per-card rules for one parsed card."""
        diags, handled = rules.hash_rules(card)
        if not self.validator.is_valid(card.metadata):
            from .explain import schema_diagnostics  # explaining is for broken cards only: imported then

            diags += schema_diagnostics(self.validator, card, skip=handled)
        diags += rules.date_rule(card)
        diags += rules.link_rules(card, self.config)
        for rule in self.extra_rules:
            diags += rule(card)
        return diags


def display_path(path: Path) -> str:
    """A path as a linter prints it: relative to the working directory when inside it."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd() + os.sep
    return absolute[len(cwd):] if absolute.startswith(cwd) else absolute


#: below this many cards a worker pool costs more than it saves
PARALLEL_THRESHOLD = 256
_worker_checker: CardChecker | None = None  # inherited by forked workers


def _verdicts(paths: list[Path]) -> list[CardVerdict]:
    assert _worker_checker is not None
    return [_worker_checker.verdict(path) for path in paths]


def _all_verdicts(checker: CardChecker, paths: list[Path]) -> list[CardVerdict]:
    """Per-card work (parse, schema, rules, twin), spread over the CPUs for a whole hub."""
    global _worker_checker
    _worker_checker = checker
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8)
    if len(paths) < PARALLEL_THRESHOLD or workers < 2 or "fork" not in _start_methods():
        return _verdicts(paths)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(paths) // workers)
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
        return [verdict for chunk in pool.map(_verdicts, chunks) for verdict in chunk]


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def check_paths(paths: list[Path], checker: CardChecker) -> CheckResult:
    """Validate every card under `paths`; all findings of all cards, never the first only."""
    verdicts = _all_verdicts(checker, discover(paths))
    result = CheckResult(files=[v.display for v in verdicts])
    for verdict in verdicts:
        result.diagnostics += verdict.diagnostics
    result.diagnostics += rules.identity_rule([v.identity for v in verdicts if v.identity])
    result.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    return result


def load_cards(paths: list[Path], config: HubConfig) -> tuple[list[Card], list[Diagnostic]]:
    """Parse the cards (no schema check); cards that do not parse come back as diagnostics."""
    checker = CardChecker(config)
    cards: list[Card] = []
    problems: list[Diagnostic] = []
    for path in discover(paths):
        loaded = checker.load(path)
        if loaded.card is None:
            problems += loaded.diagnostics
        else:
            cards.append(loaded.card)
    return cards, problems


def _is_twin(path: Path) -> bool:
    return path.name.endswith("_cn.md")


def _twin_parse_failure(item: LoadedCard) -> list[Diagnostic]:
    """A twin whose keys are Chinese with '：' cannot be compared: say so instead of YAML noise."""
    try:
        text = item.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return item.diagnostics
    if "\uff1a" in text and all(d.code in ("HUB101", "HUB109") for d in item.diagnostics):
        line = item.diagnostics[0].line if item.diagnostics else 1
        return [rules.twin_not_comparable(item.display, line,
                                          "its metadata keys are written with full-width colons '：'")]
    return item.diagnostics

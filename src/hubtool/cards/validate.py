"""Validate cards: schema errors and rules become Diagnostics at exact file positions.

Per card (`CardChecker.examine`, in worker processes for a whole hub): parse, schema, the
per-card rules, the twin comparison.  Then, for the run (`check_paths`): the cross-card rules
against every card of the hub, the hub's severities, inline suppressions and the baseline.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from ..config import HubConfig
from ..diagnostics import Diagnostic, Severity
from ..durable import JSON
from ..schema import Validator, hub_card_schema, wants_string
from . import baseline, rules, suppress, twins
from .card import Card, LoadedCard, load_card, walk
from .crosscard import CardFacts, cross_card, facts_of
from .levels import Levels
from .listing import discover
from .places import display_path


class CheckResult(NamedTuple):
    """All findings of one `check` run (baselined ones included, marked)."""

    files: list[str]
    diagnostics: list[Diagnostic]

    def _count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity and not d.baselined)

    @property
    def errors(self) -> int:
        return self._count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self._count(Severity.WARNING)

    @property
    def infos(self) -> int:
        return self._count(Severity.INFO)

    @property
    def baselined(self) -> int:
        return sum(1 for d in self.diagnostics if d.baselined)


class CardVerdict(NamedTuple):
    """What checking one card file found: small, so that worker processes return it cheaply."""

    display: str
    diagnostics: list[Diagnostic]  # with their default severities
    facts: CardFacts | None  # for the cross-card rules (English cards that parse)
    suppressions: list[suppress.Suppression]


class CardChecker:
    """Loads and validates cards against one hub configuration.

    `extra_rules` are per-card rules of higher parts (the golden sets' rule), run after the
    card's own rules.  `fingerprints=False` leaves each finding's baseline fingerprint empty, for
    a run with no baseline to match or write: a digest per finding was ~7% of a whole-hub check.
    """

    def __init__(self, config: HubConfig, *, extra_rules: Sequence[rules.CardRule] = (),
                 today: datetime.date | None = None, fingerprints: bool = True) -> None:
        self.config = config
        self.extra_rules = tuple(extra_rules)
        self.today = today
        self.fingerprints = fingerprints
        self.schema = hub_card_schema(config)
        self.validator = Validator(self.schema)
        # whether the schema wants a string at a value's shape (its list indices as 0), once per shape
        self.wants = lru_cache(maxsize=None)(self._wants_string)

    def _wants_string(self, shape: tuple[str | int, ...]) -> bool:
        return wants_string(self.schema, shape)

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
        found = suppress.find(item.front) if item.front else []
        if path.name.endswith("_cn.md"):
            diags = self._twin(item)
        else:
            diags = item.diagnostics + (self.check_card(card) if card else [])
        verdict = CardVerdict(item.display, _fingerprinted(diags, item) if self.fingerprints else diags,
                              facts_of(card) if card and not card.is_twin else None, found)
        return verdict, card

    def check_card(self, card: Card) -> list[Diagnostic]:
        """Schema and per-card rules for one parsed card."""
        settings = self.config.card
        diags, handled = rules.hash_rules(card)
        handled |= card.doc.unreadable  # HUB111 said it: no second finding that the text is not a number
        if not self.validator.is_valid(card.metadata):
            from .explain import schema_diagnostics  # explaining is for broken cards only: imported then

            diags += [d for d in schema_diagnostics(self.validator, card, skip=handled)
                      if not (d.code == "HUB201" and d.pointer[1:] in card.dropped)]
        diags += rules.date_rule(card, today=self.today)
        diags += rules.link_rules(card, self.config)
        diags += rules.license_rule(card, settings.licenses)
        diags += rules.repo_link_rule(card, settings.code_hosts, required="repo-link" in settings.required)
        diags += rules.template_keys_rule(card, settings.template_keys)
        for rule in self.extra_rules:
            diags += rule(card)
        return diags

    def _twin(self, item: LoadedCard) -> list[Diagnostic]:
        """A twin is compared with its English card; one written MindSpore Hub's way is read its way."""
        english_path = twins.english_path(item.path)
        if item.card is not None:
            own = item.diagnostics + self.check_card(item.card)
            view = twins.TwinView(item.card.metadata, {"": item.card.value_pos(""), **item.card.doc.keys})
        elif item.front is not None and "\uff1a" in item.front.yaml_text:
            own = []  # not YAML: the twin dialect (key：value lines), read by the twin reader
            view = twins.read_twin(item.front.yaml_text, item.front.yaml_line, self.config.card)
        else:
            return item.diagnostics
        if not english_path.is_file():
            return own + [twins.without_english(item.display, english_path)]
        english = self.load(english_path)  # twins are few: re-reading beats shipping cards around
        if english.card is None:
            return own + [twins.not_comparable(item.display, 1, f"{english.display} does not parse")]
        if not view.metadata:
            return own + [twins.not_comparable(item.display, view.pos("").line, "it has no `key：value` lines")]
        return own + twins.compare(view, item.display, english.card.metadata, english.display,
                                   english.card.doc.values)


def _fingerprinted(diags: list[Diagnostic], item: LoadedCard) -> list[Diagnostic]:
    """Each finding with the fingerprint its baseline entry is keyed by: its value, else its line's text."""
    lines = item.front.yaml_text.split("\n") if item.front else []
    first = item.front.yaml_line if item.front else 0
    out = []
    for d in diags:
        value: JSON | str
        if d.pointer and item.card is not None:
            _, value = walk(item.card.metadata, d.pointer)
        elif 0 <= d.line - first < len(lines):
            value = lines[d.line - first].strip()
        else:
            value = f"{d.code} {d.message}"
        out.append(d._replace(fingerprint=baseline.fingerprint(value)))
    return out


class Run(NamedTuple):
    """How a run treats its findings: the hub's severities, the command line's selection, a baseline."""

    levels: Levels
    baseline: Counter[baseline.Key]
    root: Path


def run_for(config: HubConfig, *, select: Sequence[str] = (), ignore: Sequence[str] = (),
            baseline_file: Path | None = None) -> Run:
    """How a run of this hub treats findings: its severities, the selection, its baseline (or `baseline_file`)."""
    chosen = baseline_file or config.baseline
    entries = baseline.read(chosen) if chosen is not None else Counter()
    return Run(Levels(config, select=select, ignore=ignore), entries, config.root)


def finish(verdicts: Sequence[CardVerdict], cross: list[Diagnostic], run: Run, *,
           report_unused: bool = True) -> list[Diagnostic]:
    """The run's findings: severities applied, suppressions honoured (and unused ones said), baseline marked.

    `report_unused=False` when `verdicts` carry only part of their cards' findings (the
    cross-card ones, for cards whose own check the ledger remembers).
    """
    by_card: dict[str, list[Diagnostic]] = {v.display: list(v.diagnostics) for v in verdicts}
    for diag in cross:
        by_card.setdefault(diag.path, []).append(diag)
    out: list[Diagnostic] = []
    for verdict in verdicts:
        found = run.levels.apply_all(by_card.pop(verdict.display, []))
        found = suppress.apply(found, verdict.suppressions)
        if report_unused:
            found += run.levels.apply_all(suppress.unused(verdict.display, verdict.suppressions))
        out += found
    out = baseline.apply(out, run.baseline, run.root, [v.display for v in verdicts])
    out.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    return out


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


def cross_findings(facts: list[CardFacts], config: HubConfig, reported: set[str]) -> list[Diagnostic]:
    """The cross-card findings on the cards in `reported`, judged against all of `facts`."""
    return [d for d in cross_card(facts, identity=config.card.identity) if d.path in reported]

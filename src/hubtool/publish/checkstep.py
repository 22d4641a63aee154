"""The publish pipeline's check step: `hubtool check`'s verdict per card, remembered in the ledger.

The card is judged exactly as `hubtool check` judges it (the hub's severities, its inline
suppressions, its baseline); a pass is remembered under a key of the card's bytes (and its
twin's) and everything else the verdict depends on.  The cross-card rules run over every
card of the run, cached or not, from the facts each pass remembers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import codes
from ..cards import suppress, twins
from ..cards.card import assets_from
from ..cards.crosscard import CardFacts
from ..cards.places import card_places
from ..cards.validate import CardChecker, CardVerdict, Run, cross_findings, finish
from ..diagnostics import Diagnostic, Severity
from ..durable import JSON, JSONObject, json_object
from ..textdecode import utf8_name
from .carddigests import CardDigests, Keyed
from .fingerprint import check_fingerprint
from .isolation import isolated_step
from .ledger import key_of
from .runs import PASSED, REMEMBERED, CardRun, Step
from .steps import StepContext

#: an asset-link in a card's metadata text whose value may lack "://" (a string that has it before any quote
#: surely has it; anything else is decoded and looked at)
_MAYBE_REPO_LINK = re.compile(r'"asset-link"\s*:\s*"(?![^"]*://)')


class CheckStep:
    """Parse, schema, rules; the twins; the rules across cards."""

    def __init__(self, ctx: StepContext, checker: CardChecker, run: Run) -> None:
        self.ctx = ctx
        self.checker = checker
        self.run_settings = run
        self.fingerprint = check_fingerprint(ctx.config, checker.schema)
        self.repo_files: set[str] = set()  # the repository-path asset files the served passes rely on
        self.digests = CardDigests({}, ctx.config.max_card_bytes)  # the last `keyed` call's

    def run(self, cards: Sequence[Keyed]) -> list[CardRun]:
        """Every card's check (`keyed` names and keys them)."""
        runs = self._without_twins([self._checked(card) for card in cards])
        self._cross_card(runs)
        return runs

    def keyed(self, files: Sequence[str], known: Mapping[str, str] | None = None) -> list[Keyed]:
        """Each card's names and check key: its bytes (and its twin's), its place in the hub, the fingerprint.

        A card's twin is usually one of `files`: its digest is taken once.  `known` is the last remembered
        run's digests by file status (`carddigests`); what this call would keep for the next one is
        `self.digests.take()`."""
        self.digests = found = CardDigests(known or {}, self.ctx.config.max_card_bytes)
        digests = {file: found.digest(file) for file in files}  # a Path per card: a tenth of a replay
        out = []
        for file, (display, card) in zip(files, card_places(files, self.ctx.config.root), strict=True):
            english_sha = None
            if file.endswith("_cn.md"):
                english = twins.english_path(Path(file))
                english_sha = digests.get(str(english)) or found.twin(english)
            # the card's place in the hub decides per-path rules, so it keys the verdict; the display path
            # (relative to the working directory) does not: a publish from another folder reuses every check
            out.append(Keyed(file, display, card, key_of("check", digests[file], english_sha, self.fingerprint, card)))
        return out

    def _checked(self, card: Keyed) -> CardRun:
        """The card's check; a bug while checking it fails this card only."""
        run = CardRun(card.file, card.display, card.card, card.key)
        isolated_step(run, "check", lambda: self._check(Path(card.file), run))
        return run

    def _check(self, path: Path, run: CardRun) -> None:
        """Fill in the run's check.  A bug half-way through fails the check (isolated_step), whatever else
        was filled in by then: a failed check holds the card back and no later step reads the rest."""
        key = run.check_key
        cached = self.ctx.cached(key)
        if cached is not None and _restore(run, cached) and self._repo_files_present(run):
            return
        self.ctx.counters.parsed += 1
        verdict, card = self.checker.examine(path)
        run.diagnostics = tuple(_named_in_utf8(d) for d in finish([verdict], [], self.run_settings))
        run.card_facts, run.suppressions = verdict.facts, tuple(verdict.suppressions)
        if card is not None:
            run.metadata, run.title = card.metadata, card.title
        errors = _failures(run.diagnostics)
        # a twin in the hub's own dialect (`模型名称：...`) is no YAML card, yet read and compared
        twin = path.name.endswith("_cn.md")
        if errors or (card is None and not twin):
            first = errors[0] if errors else None
            where = f" (first: {first.path}:{first.line}:{first.col} {first.code} {first.message})" if first else ""
            run.steps["check"] = Step("failed", f"{len(errors)} error(s){where}")
            return
        run.warnings = sum(1 for d in run.diagnostics if d.severity is Severity.WARNING and not d.baselined)
        run.steps["check"] = PASSED
        text = run.metadata_json
        self.ctx.ledger.record(key, "check", "passed", {
            # as text: restoring 10k cards then keeps each one's bytes, never building its dict
            "metadata-json": text, "title": card.title if card else None,
            "warnings": run.warnings,
            "facts": verdict.facts.to_json() if verdict.facts else None,
            "suppressions": [_suppression_json(s) for s in verdict.suppressions]})

    def _repo_files_present(self, run: CardRun) -> bool:
        """Whether a served pass still finds each repository-path asset's file: HUB405 reads the disk, not only
        the card, so a file deleted since is a full check (which fails).  The files found are kept in
        `repo_files` (a replayed run must find them unchanged)."""
        if run.metadata_json is not None and not _MAYBE_REPO_LINK.search(run.metadata_json):
            return True  # every link is a URL: not decoded (10k cards' asset lists held until fetch were 2 MiB)
        for asset in assets_from(run.metadata or {}):
            if asset.link and "://" not in asset.link:
                target = os.path.join(self.ctx.config.root, asset.link)
                if not os.path.isfile(target):
                    return False
                self.repo_files.add(target)
        return True

    def _without_twins(self, runs: list[CardRun]) -> list[CardRun]:
        """_cn twins are checked, not indexed: a twin that fails holds back its English card."""
        by_file = {r.file: r for r in runs}
        kept = []
        for run in runs:
            if not twins.is_twin(run.file):
                kept.append(run)
                continue
            english = by_file.get(str(twins.english_path(run.path)))
            if english is not None and not run.passed("check"):
                english.diagnostics = (*english.diagnostics, *run.diagnostics)
                english.steps["check"] = Step("failed", f"its _cn twin {run.display} fails the check: "
                                                        f"{run.steps['check'].reason}")
        return kept

    def _cross_card(self, runs: list[CardRun]) -> None:
        facts = [r.card_facts for r in runs if r.card_facts is not None]
        by_display = {r.display: r for r in runs}
        cross = cross_findings(facts, self.ctx.config, set(by_display))
        verdicts = [CardVerdict(r.display, [], r.card_facts, list(r.suppressions)) for r in runs]
        for diag in finish(verdicts, cross, self.run_settings, report_unused=False):
            run = by_display[diag.path]
            run.diagnostics = (*run.diagnostics, diag)
            if _failures([diag]):
                run.steps["check"] = Step("failed", f"{diag.code} {diag.message}")
        for run in runs:  # needed by nothing after this: 10k cards' facts are ~10 MiB
            run.card_facts, run.suppressions = None, ()


def _named_in_utf8(found: Diagnostic) -> Diagnostic:
    """A finding named as the index and the catalog name its card: a path that is no UTF-8 (HUB004) by its
    escapes (`utf8_name`)."""
    name = utf8_name(found.path)
    return found if name is found.path else found._replace(path=name)


def _failures(diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity is Severity.ERROR and not d.baselined]


def _suppression_json(s: suppress.Suppression) -> JSON:
    return {"line": s.line, "col": s.col, "tokens": list(s.tokens), "whole_file": s.whole_file}


def _restore(run: CardRun, cached: JSONObject) -> bool:
    """A passed check from the ledger; False when the record is not one this version wrote."""
    title, warnings = cached.get("title"), cached.get("warnings")
    facts, found = cached.get("facts"), cached.get("suppressions")
    text, metadata = cached.get("metadata-json"), cached.get("metadata")  # the text, or an older record's dict
    if isinstance(text, str) and _is_object(text):
        kept: str | None = text  # the run keeps the very text
    elif isinstance(metadata, dict):
        kept = None
    elif text is None and metadata is None and run.file.endswith("_cn.md"):
        kept = None  # a twin in the hub's own dialect: compared, but no YAML metadata to keep
    else:
        return False
    if not isinstance(warnings, int) or not isinstance(found, list):
        return False
    if not (title is None or isinstance(title, str)) or "facts" not in cached:
        return False
    try:
        run.card_facts = CardFacts.from_json(facts, run.display) if facts is not None else None
        run.suppressions = tuple(_suppression(s) for s in found)
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    if kept is not None:
        run.metadata_json = kept
    else:
        run.metadata = metadata if isinstance(metadata, dict) else None
    run.title, run.warnings = title, warnings
    run.steps["check"] = REMEMBERED
    return True


def _is_object(text: str) -> bool:
    """Whether a record's metadata text decodes to an object (a shared record is anyone's writing)."""
    return json_object(text) is not None


def _suppression(stored: JSON) -> suppress.Suppression:
    """Read back `_suppression_json`'s record; KeyError, TypeError or ValueError if it is not one."""
    doc: Any = stored  # the ledger's own record: indexed as written, checked by the exceptions
    tokens = tuple(str(t) for t in doc["tokens"])
    return suppress.Suppression(int(doc["line"]), int(doc["col"]), tokens, bool(doc["whole_file"]),
                                frozenset(c for t in tokens for c in codes.resolve(t)))

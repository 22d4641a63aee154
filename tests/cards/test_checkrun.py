"""A whole-hub check spread over processes gives each card the verdict a check of it alone gives, in order.

`checkrun.all_verdicts` checks the first chunk of cards in this process while forked workers check the
others; the report must not depend on how many CPUs there are, nor on which process checked a card.
Real cards (../shared/hub-sample, with the hub.yaml MindSpore Hub would commit), as many as the pool needs.
"""

from __future__ import annotations

import gc
import os
from collections import Counter

import pytest

from helpers import REPO, SHARED
from hubtool.cards import baseline, checkrun
from hubtool.cards.levels import Levels
from hubtool.cards.listing import discover
from hubtool.cards.report import render
from hubtool.cards.validate import CardChecker, Run, run_for
from hubtool.cli.common import hub_config
from hubtool.diagnostics import Severity

SAMPLE = SHARED / "hub-sample" / "cards"
CONFIG = REPO / "examples" / "mindspore-hub" / "hub.yaml"
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="../shared/hub-sample is not beside this checkout")


@pytest.fixture(scope="module")
def checker() -> CardChecker:
    return CardChecker(hub_config(CONFIG, [SAMPLE]))


@pytest.mark.parametrize("cpus", [2, 3, 8])
def test_verdicts_over_processes_are_each_cards_own_in_order(checker: CardChecker, cpus: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    paths = discover([SAMPLE])
    assert len(paths) >= checkrun.PARALLEL_THRESHOLD  # else the pool is not used at all
    alone = [checker.verdict(path) for path in paths]
    assert any(v.diagnostics for v in alone) and any(v.facts for v in alone)  # findings and facts cross over
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)))
    assert checkrun.all_verdicts(checker, paths) == alone  # the workers inherit the explainer `alone` imported
    fresh = CardChecker(hub_config(CONFIG, [SAMPLE]))
    assert checkrun.all_verdicts(fresh, paths) == alone  # they leave their failing cards to this process


def test_workers_leave_the_cards_the_schema_fails_to_this_process() -> None:
    """A forked worker does not import the explainer (jsonschema) for its chunk's failing cards: it hands them
    back unchecked, and this process, which imports it at most once, checks them again.  A hub whose cards all
    pass the schema never imports it at all, however many CPUs check it."""
    fresh = CardChecker(hub_config(CONFIG, [SAMPLE]))
    paths = discover([SAMPLE])
    cards = [fresh.load(path).card for path in paths]
    failing = [path for path, card in zip(paths, cards, strict=True)
               if card and not fresh.validator.is_valid(card.metadata)]
    assert failing
    held = checkrun._chunk_verdicts(fresh, (paths, True))
    assert [path for path, verdict in zip(paths, held, strict=True) if verdict is None] == failing
    assert fresh.validator._detailed is None
    fresh.validator.import_held = False  # as the parent's own copy is: a worker's copy ends with the worker

    passing = [path for path in paths if path not in failing]
    assert len(passing) >= checkrun.PARALLEL_THRESHOLD
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
        checkrun.all_verdicts(fresh, passing)
    assert fresh.validator._detailed is None


def test_a_hub_without_per_path_rules_or_baseline_reports_what_the_long_way_reports(checker: CardChecker) -> None:
    """Without `per-path:` globs or a baseline, no finding's path is worked out for them: the report is the one a
    hub gets with a glob that matches no card and a baseline entry for no card, which go the long way.  The
    hub's `rules:` turn a code the sample has off and make another an error, so both ways must apply them."""
    rules = checker.config.rules
    config = checker.config._replace(rules=rules._replace(rules={**rules.rules, "HUB110": None,
                                                                 "HUB311": Severity.ERROR}))
    short = run_for(config)
    assert not short.levels.globs and not short.baseline
    config_long = config._replace(rules=config.rules._replace(per_path=(("no-such-folder/**", {"HUB999": None}),)))
    long = Run(Levels(config_long), Counter({baseline.Key("no-such-card.md", "HUB204", "", "0" * 16): 1}),
               config.root)
    found = checkrun.check_paths([SAMPLE], checker, short).diagnostics
    assert found == checkrun.check_paths([SAMPLE], checker, long).diagnostics
    as_found = [d for path in discover([SAMPLE]) for d in checker.verdict(path).diagnostics]
    assert "HUB110" in {d.code for d in as_found}
    assert "HUB110" not in {d.code for d in found} and not any(d.baselined for d in found)
    assert {d.severity for d in found if d.code == "HUB311"} == {Severity.ERROR}


def test_checking_a_card_makes_no_reference_cycle(checker: CardChecker) -> None:
    """What lets `all_verdicts` pause the cyclic collector: every card checked, real or hostile (the test
    suite's invalid cards: YAML errors, aliases, tags, special values, bad encodings), leaves no garbage
    only that collector would free.  A first pass warms the caches that are made once."""
    paths = discover([SAMPLE, REPO / "tests" / "cards" / "invalid", REPO / "tests" / "cards" / "valid"])
    [checker.verdict(path) for path in paths]
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        kept = [checker.verdict(path) for path in paths]
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert len(kept) > 300 and any(not v.diagnostics for v in kept)


def test_findings_left_unfingerprinted_without_a_baseline_report_the_same(checker: CardChecker) -> None:
    """A run with no baseline to match or write skips each finding's fingerprint: same report, and a
    baseline made from the fingerprinted run still matches every finding it lists."""
    paths = discover([SAMPLE])
    plain = CardChecker(checker.config, fingerprints=False)
    keyed = [checker.verdict(path) for path in paths]
    bare = [plain.verdict(path) for path in paths]
    assert all(d.fingerprint for v in keyed for d in v.diagnostics)
    assert not any(d.fingerprint for v in bare for d in v.diagnostics)
    assert [[d._replace(fingerprint="") for d in v.diagnostics] for v in keyed] == [v.diagnostics for v in bare]
    run = run_for(checker.config)
    for fmt in ("json", "text", "github", "junit"):  # what the check prints: the fingerprint is in none of them
        assert render(checkrun.check_paths([SAMPLE], plain, run), fmt, color=False) == \
            render(checkrun.check_paths([SAMPLE], checker, run), fmt, color=False)

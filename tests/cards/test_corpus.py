"""The card corpus: every valid card passes; every invalid card gives exactly its expected diagnostics."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from helpers import CORPUS, REPO, check_json

INVALID = sorted((CORPUS / "invalid").glob("*.md"))


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture(scope="module")
def invalid_report(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Counter[str]]:
    monkeypatch_module.chdir(REPO)
    code, doc = check_json(str(CORPUS / "invalid"))
    assert code == 1
    got: dict[str, Counter[str]] = {}
    for d in doc["diagnostics"]:
        got.setdefault(d["path"], Counter())[f"{d['code']} {d['severity']} {d['line']}:{d['col']}"] += 1
    return got


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_valid_corpus_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = check_json(str(CORPUS / "valid"))
    assert doc["diagnostics"] == []
    assert code == 0
    assert doc["summary"]["files"] == len(list((CORPUS / "valid").rglob("*.md")))


def test_seed_card_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = check_json("cards/noah-cvlab/plain-CNN-resnet50.md")
    assert [d for d in doc["diagnostics"] if d["severity"] == "error"] == []
    assert code == 0


def test_seed_card_is_the_verbatim_seed() -> None:
    seed = REPO.parent / "shared" / "seed" / "plain-CNN-resnet50.md"
    if not seed.is_file():
        pytest.skip("../shared/seed is not beside this checkout")
    assert (REPO / "cards/noah-cvlab/plain-CNN-resnet50.md").read_bytes() == seed.read_bytes()


def test_every_invalid_card_has_expectations() -> None:
    missing = [p.name for p in INVALID if not Path(str(p) + ".expected").is_file()]
    assert missing == []
    assert len(INVALID) >= 30


@pytest.mark.parametrize("card", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_card(card: Path, invalid_report: dict[str, Counter[str]]) -> None:
    expected = Counter(line for line in Path(str(card) + ".expected").read_text().splitlines() if line)
    assert invalid_report.get(_rel(card), Counter()) == expected

"""The card corpora: every valid card passes; every invalid card gives exactly its expected diagnostics.

Two hubs: tests/cards (hubtool's own dialect) and tests/cards/mshub (MindSpore Hub's, `extends:
mindspore-hub`), each checked with its own hub.yaml.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from helpers import CORPUS, REPO, check_json
from hubtool import codes

CORPORA = [CORPUS, CORPUS / "mshub"]
INVALID = sorted(p for corpus in CORPORA for p in (corpus / "invalid").rglob("*.md"))
#: the rules added with the profiles: each has valid and invalid corpus cards
NEW_RULES = ["HUB005", "HUB306", "HUB307", "HUB308", "HUB309", "HUB310", "HUB311"]


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture(scope="module")
def invalid_report(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Counter[str]]:
    monkeypatch_module.chdir(REPO)
    got: dict[str, Counter[str]] = {}
    for corpus in CORPORA:
        code, doc = check_json(str(corpus / "invalid"))
        assert code == 1
        for d in doc["diagnostics"]:
            got.setdefault(d["path"], Counter())[f"{d['code']} {d['severity']} {d['line']}:{d['col']}"] += 1
    return got


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize("corpus", CORPORA, ids=["hubtool", "mindspore-hub"])
def test_valid_corpus_is_clean(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = check_json(str(corpus / "valid"))
    assert doc["diagnostics"] == []
    assert code == 0
    assert doc["summary"]["files"] == len(list((corpus / "valid").rglob("*.md")))


def test_the_profiles_decide() -> None:
    """The MindSpore Hub corpus's valid cards are not valid in hubtool's stricter dialect."""
    code, doc = check_json("--config", str(CORPUS / "hub" / "hub.yaml"), str(CORPUS / "mshub" / "valid"))
    found = {d["code"] for d in doc["diagnostics"]}
    assert code == 1 and {"HUB201", "HUB204", "HUB202"} <= found  # missing keys, bare module-type, free text


def test_seed_card_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = check_json("cards/noah-cvlab/plain-CNN-resnet50.md")
    assert [d for d in doc["diagnostics"] if d["severity"] == "error"] == []
    assert code == 0


def test_the_seeds_twin_says_what_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, doc = check_json("cards/noah-cvlab/plain-CNN-resnet50_cn.md")
    [diff] = [d for d in doc["diagnostics"] if d["code"] == "HUB301"]
    assert diff["line"] == 21 and "'author' (作者)" in diff["message"]
    assert "Noah's Ark Lab" in diff["message"] and "Noah CVLab" in diff["message"]
    # the hub's per-path rule makes this one upstream disagreement a warning (hub/hub.yaml says why)
    assert diff["severity"] == "warning" and code == 0
    # without it, HUB301 is an error, as for every other twin
    code, doc = check_json("--config", str(REPO / "tests" / "cards" / "hub" / "hub.yaml"),
                           "cards/noah-cvlab/plain-CNN-resnet50_cn.md")
    assert code == 1 and [d["severity"] for d in doc["diagnostics"] if d["code"] == "HUB301"] == ["error"]


@pytest.mark.parametrize("name", ["plain-CNN-resnet50.md", "plain-CNN-resnet50_cn.md"])
def test_seed_cards_are_the_verbatim_seed(name: str) -> None:
    seed = REPO.parent / "shared" / "seed" / name
    if not seed.is_file():
        pytest.skip("../shared/seed is not beside this checkout")
    assert (REPO / "cards" / "noah-cvlab" / name).read_bytes() == seed.read_bytes()


def test_every_invalid_card_has_expectations() -> None:
    missing = [_rel(p) for p in INVALID if not Path(str(p) + ".expected").is_file()]
    assert missing == []
    assert len(INVALID) >= 50


def test_every_new_rule_has_corpus_cards() -> None:
    expected = " ".join(Path(str(p) + ".expected").read_text() for p in INVALID)
    assert [code for code in NEW_RULES if code not in expected] == []
    assert set(NEW_RULES) <= set(codes.CODES)


@pytest.mark.parametrize("card", INVALID, ids=[_rel(p) for p in INVALID])
def test_invalid_card(card: Path, invalid_report: dict[str, Counter[str]]) -> None:
    expected = Counter(line for line in Path(str(card) + ".expected").read_text().splitlines() if line)
    assert invalid_report.get(_rel(card), Counter()) == expected


def test_severities_are_the_codes_defaults(invalid_report: dict[str, Counter[str]]) -> None:
    """Where no profile or hub.yaml sets a code, it reports at the severity `hubtool rules` lists."""
    for card, found in invalid_report.items():
        if "/mshub/" in card:
            continue  # that corpus's profile and hub.yaml tune some codes
        for entry in found:
            code, severity = entry.split()[:2]
            assert codes.CODES[code].default.value == severity, (card, entry)

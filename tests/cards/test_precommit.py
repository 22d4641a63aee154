"""The pre-commit hook passes only the staged cards: the cross-card rules still see the whole hub
(from the facts cache), and only the given files are reported on."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import card_text, check_json, write_hub
from hubtool import filestatus
from hubtool.cards import factcache
from hubtool.cards.factcache import read_cache


def test_a_copy_of_an_existing_card_fails_alone(tmp_path: Path) -> None:
    original = card_text(**{"model-name": "resnet"})
    cards = write_hub(tmp_path, {"u/resnet.md": original, "u/other.md": card_text(**{"model-name": "other"})})
    (cards / "v").mkdir()
    (cards / "v" / "copy.md").write_text(original)  # committed under another name
    code, doc = check_json(str(cards / "v" / "copy.md"))
    assert code == 1 and [Path(f).name for f in doc["files"]] == ["copy.md"]
    assert {(Path(d["path"]).name, d["code"]) for d in doc["diagnostics"]} == {("copy.md", "HUB303")}
    code, doc = check_json(str(cards / "u" / "resnet.md"))  # the original is reported on only when given
    assert code == 0 and doc["diagnostics"] == []


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every card counts as just written, however slow the machine is between a write and a check."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 10**18)


def test_the_cache_follows_edits_to_the_other_cards(tmp_path: Path, fresh: None) -> None:
    """a.md is rewritten in the clock tick of its status, maybe, with its size kept: only the margin tells."""
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a"}),
                                 "u/b.md": card_text(**{"model-name": "b"})})
    assert check_json(str(cards))[0] == 0  # the whole hub: the cache is written
    [cache] = Path(os.environ["HUBTOOL_HOME"]).glob("store/check/*.facts")
    assert len(read_cache(cache).rows) == 2
    first = cards / "u" / "a.md"  # now claims b's identity; it is first by path, so b is the duplicate
    first.write_text(first.read_text().replace("model-name: a", "model-name: b"))
    code, doc = check_json(str(cards / "u" / "b.md"))
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["HUB303"]
    cache.write_text("{broken")  # a broken cache is rebuilt, never trusted
    assert check_json(str(cards / "u" / "b.md"))[0] == 1


def test_a_copy_fails_where_the_cards_path_is_its_identity(tmp_path: Path) -> None:
    """In MindSpore Hub's dialect metadata repeats are normal (HUB303 is off): the copy is caught by
    its SHA-256, the same file on two cards in one folder; in a new version folder it is normal."""
    config = "extends: mindspore-hub\nname: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n"
    repo = {"repo-link": "<https://gitee.com/mindspore/models>"}
    original = card_text(**{"model-name": "resnet"}, **repo)
    cards = write_hub(tmp_path, {"1.5/resnet.md": original, "1.5/other.md": card_text(**{"model-name": "o"}, **repo)},
                      config=config)
    (cards / "1.5" / "resnet_copy.md").write_text(original)
    (cards / "1.6").mkdir()
    (cards / "1.6" / "resnet.md").write_text(original)  # the same file, republished in the next version
    code, doc = check_json(str(cards / "1.5" / "resnet_copy.md"), str(cards / "1.6" / "resnet.md"))
    errors = [(Path(d["path"]).parent.name, d["code"], d["message"]) for d in doc["diagnostics"]
              if d["severity"] == "error"]
    assert code == 1 and len(errors) == 1
    [(folder, code_, message)] = errors
    assert (folder, code_) == ("1.5", "HUB306") and "another card" in message and "resnet.md" in message


def test_one_card_at_a_time_finds_what_the_whole_hub_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only cached cards that share a key with the staged one are read back (identity, folder and SHA-256,
    link); for every card of a hub full of collisions, checking it alone from a warm cache gives exactly the
    cross-card findings the whole-hub run gives on it."""
    import random

    # the cards, just written, count as settled (else no row would stand for its card and nothing is read back);
    # none is written after the cache is
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)

    rng = random.Random(7)
    shas = [f"{i:064x}" for i in range(1, 5)]
    links = [f"https://download.mindspore.cn/m{i}.ckpt" for i in range(4)]
    cards = {}
    for i in range(30):
        name = rng.choice(["a", "b", "c", f"own{i}"])
        fields = {"model-name": name, "model-version": rng.choice(["'1.0'", "'2.0'"])}
        cards[f"{rng.choice(['u', 'v'])}/card{i}.md"] = card_text(link=rng.choice(links), sha=rng.choice(shas),
                                                                 **fields)
    root = write_hub(tmp_path, cards)
    _, whole = check_json(str(root))
    cross = ("HUB303", "HUB306", "HUB307")
    expected = {f: sorted((d["code"], d["line"], d["message"]) for d in whole["diagnostics"]
                          if d["path"] == f and d["code"] in cross) for f in whole["files"]}
    assert sum(len(v) for v in expected.values()) > 10  # collisions of all three kinds
    assert {c for v in expected.values() for c, _, _ in v} == set(cross)
    for file, findings in expected.items():
        _, alone = check_json(file)
        assert sorted((d["code"], d["line"], d["message"]) for d in alone["diagnostics"]
                      if d["code"] in cross) == findings, file
    half = sorted(expected)[::2]  # more keys than a search each is worth: the key lines are read another way
    _, together = check_json(*half)
    assert {f: sorted((d["code"], d["line"], d["message"]) for d in together["diagnostics"]
                      if d["path"] == f and d["code"] in cross) for f in half} == {f: expected[f] for f in half}


def _rewrite_keeping_size_and_mtime(card: Path, old: str, new: str) -> None:
    """What an editor, `cp -p`, `rsync -t` or `touch -r` can do: other bytes, the same size and mtime."""
    time.sleep(0.05)  # out of the file system's clock tick: only the ctime tells (the racy case is below)
    st = os.stat(card)
    text = card.read_text()
    assert len(old) == len(new) and old in text
    card.write_text(text.replace(old, new))
    os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_card_rewritten_with_its_size_and_mtime_is_read_again(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)  # the cards, just written, count as settled
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a"}),
                                 "u/b.md": card_text(**{"model-name": "b"})})
    assert check_json(str(cards))[0] == 0  # the cache is written, with both cards' statuses
    _rewrite_keeping_size_and_mtime(cards / "u" / "a.md", "model-name: a", "model-name: b")
    code, doc = check_json(str(cards / "u" / "b.md"))  # a's facts are read again: it claims b's identity
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["HUB303"]


def test_a_card_written_just_before_its_status_is_taken_is_not_trusted(tmp_path: Path, fresh: None) -> None:
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a"})})
    assert check_json(str(cards))[0] == 0
    [cache] = Path(os.environ["HUBTOOL_HOME"]).glob("store/check/*.facts")
    [row] = read_cache(cache).rows.values()
    assert row[0] == "" and row[2] != ""  # its facts are kept, but not as standing for its bytes


def _warm_hub(tmp_path: Path) -> tuple[Path, Path]:
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a"}),
                                 "u/b.md": card_text(**{"model-name": "b"})})
    assert check_json(str(cards))[0] == 0
    [cache] = Path(os.environ["HUBTOOL_HOME"]).glob("store/check/*.facts")
    return cards, cache


@pytest.mark.parametrize("damage", [
    lambda data: data[:-7],  # cut in a record
    lambda data: data.replace(b"\0", b"\1", 1),  # not the header
    lambda data: data[:data.index(b"[")] + b"[\"u\",{\0",  # a's row is no JSON, its status kept
    lambda data: data[:data.index(b"[")] + b"[1,2]\0",  # JSON, but not a row
    lambda data: data[:data.index(b"[")] + b"\xff\xfe\0",  # not UTF-8
    lambda data: data[:data.index(b"[")] + data[data.index(b"\0", data.index(b"[")):],  # "no facts"
    lambda data: data.replace(b"\0", b"", 1),  # the header
    lambda data: b"",
])
def test_a_damaged_cache_is_read_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        damage: Callable[[bytes], bytes]) -> None:
    """Whatever is in the cache file, the staged card is judged against every card as they are."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)
    cards, cache = _warm_hub(tmp_path)
    first = cards / "u" / "a.md"  # a claims b's identity: found only if a's record is not trusted blindly
    first.write_text(first.read_text().replace("model-name: a", "model-name: b"))
    check_json(str(cards / "u" / "a.md"))  # a's new facts are cached
    cache.write_bytes(damage(cache.read_bytes()))
    code, doc = check_json(str(cards / "u" / "b.md"))
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["HUB303"]
    assert len(read_cache(cache).rows) == 2  # and the cache is whole again


def test_rows_without_a_shared_key_are_not_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A staged card is judged against the rows whose text holds one of its keys; the others stay text."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)
    cards = write_hub(tmp_path, {f"u/c{i}.md": card_text(**{"model-name": f"m{i}"}, sha=f"{i + 1:064x}",
                                                         link=f"https://download.mindspore.cn/{i}.ckpt")
                                 for i in range(20)})
    assert check_json(str(cards))[0] == 0
    decoded: list[object] = []
    real = factcache._Keys.shared_by
    monkeypatch.setattr(factcache._Keys, "shared_by", lambda self, row: decoded.append(row) or real(self, row))
    (cards / "v").mkdir()
    (cards / "v" / "copy.md").write_text((cards / "u" / "c3.md").read_text())
    code, doc = check_json(str(cards / "v" / "copy.md"))
    assert code == 1 and [d["code"] for d in doc["diagnostics"] if d["severity"] == "error"] == ["HUB303"]
    assert len(decoded) == 1 and f"{4:064x}" in str(decoded[0])  # c3's row alone


def test_the_cache_as_format_3_wrote_it_goes(tmp_path: Path, fresh: None) -> None:
    """hubtool 0.1's `<hub>.json` beside the cache is removed when the cache is written, not left to grow stale."""
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a"})})
    assert check_json(str(cards))[0] == 0
    [cache] = Path(os.environ["HUBTOOL_HOME"]).glob("store/check/*.facts")
    old = cache.with_suffix(".json")
    old.write_text('{"key": "k", "cards": {}}')
    (cards / "u" / "b.md").write_text(card_text(**{"model-name": "b"}))  # a new card: the cache is rewritten
    assert check_json(str(cards / "u" / "b.md"))[0] == 0
    assert not old.exists() and len(read_cache(cache).rows) == 2


@pytest.mark.parametrize("searches", [10**9, 0], ids=["a search per digest", "one pass over the lines"])
def test_the_key_lines_find_the_records_that_share_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         searches: int) -> None:
    """Each record's line holds the digests of its identity, SHA-256s and links; a search finds the records by
    them, whatever their paths hold (a newline, any UTF-8) and wherever they are, both ways it can look."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)
    monkeypatch.setattr(factcache, "_SEARCHES_AT_MOST", searches)
    names = ["u/plain.md", "u/new\nline.md", "v/x.md", "v/模型 é\t.md", "w/last.md"]
    cards = write_hub(tmp_path, {name: card_text(**{"model-name": f"m{i}"}, sha=f"{i + 1:064x}",
                                                 link=f"https://download.mindspore.cn/{i}.ckpt")
                                 for i, name in enumerate(names)})
    assert check_json(str(cards))[0] == 0
    [file] = Path(os.environ["HUBTOOL_HOME"]).glob("store/check/*.facts")
    cache = factcache.read_cache(file)
    assert len(cache.order) == len(names) and all(len(row[1].split()) == 3 for row in cache.rows.values())
    for name in names:
        place = str(cards / name)
        keys = cache.rows[place][1].split()
        assert cache.sharing(set(keys[:1])) == cache.sharing(set(keys)) == {place}
    assert cache.sharing({"0" * factcache.DIGEST_CHARS}) == set()
    assert cache.sharing({d for row in cache.rows.values() for d in row[1].split()}) == set(cache.order)
    (cards / "z").mkdir()
    (cards / "z" / "copy.md").write_text((cards / "u" / "new\nline.md").read_text())
    code, doc = check_json(str(cards / "z" / "copy.md"))  # the same identity, SHA-256 and link as that card
    assert code == 1 and [d["code"] for d in doc["diagnostics"] if d["severity"] == "error"] == ["HUB303"]

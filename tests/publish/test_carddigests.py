"""Cards' digests by file status (publish/carddigests.py): a replay reads no card whose status is the one kept,
and any write to a card, whatever it keeps of its size and times, is read again."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from faultserver import FaultServer
from test_unchanged import generations, make_hub, publish

from helpers import run_cli
from hubtool import filestatus, textdecode
from hubtool.filestatus import identity, settled
from hubtool.publish.carddigests import NOTHING, CardDigests
from hubtool.publish.checkstep import CheckStep


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any file written before it is read counts as settled (the tests write their cards just before)."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every card counts as just written, however slow the machine is between a write and a run: what the
    margin guards against (git's racy entries), made certain."""
    monkeypatch.setattr(filestatus, "SETTLE_NS", 10**18)


def _later_tick() -> None:
    """Wait out the file system's clock tick, so that the next write gets other times (the racy case is
    tested on its own, with `fresh`)."""
    time.sleep(0.05)


def _touch(card: Path) -> None:
    """A new status for the same bytes: the replay cannot go by the statuses alone (`status_listing`) and keys
    the cards by their digests, taking the kept ones where it can."""
    _later_tick()
    os.utime(card)


def test_settled_means_older_than_the_margin_by_both_times(tmp_path: Path) -> None:
    card = tmp_path / "c.md"
    card.write_text("x")
    st = os.stat(card)
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    assert settled(st, newest + filestatus.SETTLE_NS + 1)
    assert not settled(st, newest + filestatus.SETTLE_NS)
    os.utime(card, ns=(0, 0))  # an mtime set far back: the ctime is now, so it is not settled
    assert not settled(os.stat(card), time.time_ns())


def test_a_card_just_written_is_not_kept(tmp_path: Path, fresh: None) -> None:
    card = tmp_path / "c.md"
    card.write_text("fresh")
    digests = CardDigests({}, 1 << 20)
    assert digests.digest(str(card)) == _sha(card) and digests.take() == {}


def test_a_kept_status_stands_for_the_bytes(tmp_path: Path, at_once: None) -> None:
    card = tmp_path / "c.md"
    card.write_text("card")
    first = CardDigests({}, 1 << 20)
    assert first.digest(str(card)) == _sha(card)
    kept = first.take()
    assert kept == {str(card): f"{identity(os.stat(card))} {_sha(card)}"}
    # the status is what is compared: a kept entry that lies about the bytes is believed (and costs a
    # replay at most: the normal path keys every card from its bytes again)
    lie = {str(card): f"{identity(os.stat(card))} {'0' * 64}"}
    again = CardDigests(lie, 1 << 20)
    assert again.digest(str(card)) == "0" * 64 and again.reused == 1


@pytest.mark.parametrize("change", ["same size, mtime set back", "replaced by a copy with its times",
                                    "appended", "a symlink retargeted"])
def test_any_write_is_read_again(tmp_path: Path, at_once: None, change: str) -> None:
    card, other = tmp_path / "c.md", tmp_path / "other.md"
    card.write_text("model-name: aa\n")
    other.write_text("model-name: bb\n")
    link = tmp_path / "link.md"
    link.symlink_to(card)
    name = str(link) if change == "a symlink retargeted" else str(card)
    first = CardDigests({}, 1 << 20)
    first.digest(name)
    kept = first.take()
    _later_tick()
    st = os.stat(card)
    if change == "same size, mtime set back":
        card.write_text("model-name: zz\n")
        os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "replaced by a copy with its times":
        new = tmp_path / "new.md"
        new.write_text("model-name: zz\n")
        os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(new, card)
    elif change == "appended":
        with card.open("a") as f:
            f.write("more\n")
    else:
        link.unlink()
        link.symlink_to(other)
    again = CardDigests(kept, 1 << 20)
    assert again.digest(name) == hashlib.sha256(Path(name).read_bytes()).hexdigest() and again.reused == 0


def test_what_is_not_read_is_never_kept(tmp_path: Path, at_once: None) -> None:
    big, fifo, gone = tmp_path / "big.md", tmp_path / "fifo.md", tmp_path / "gone.md"
    big.write_bytes(b"x" * 100)
    os.mkfifo(fifo)
    digests = CardDigests({str(fifo): f"{identity(os.stat(fifo))} {'1' * 64}",
                           str(gone): f"1:2:3:4:5 {'2' * 64}"}, 10)
    assert [digests.digest(str(p)) for p in (big, fifo, gone)] == [NOTHING] * 3  # the check says why
    assert digests.take() == {} and digests.reused == 0


@pytest.mark.parametrize("entry", ["", "no digest", "1:2:3 short", f"{'x' * 64}", "\0 " + "0" * 64])
def test_a_damaged_entry_is_a_miss(tmp_path: Path, at_once: None, entry: str) -> None:
    card = tmp_path / "c.md"
    card.write_text("card")
    digests = CardDigests({str(card): entry}, 1 << 20)
    assert digests.digest(str(card)) == _sha(card) and digests.reused == 0


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cards read from here on."""
    read: list[str] = []
    real = textdecode.read_regular_stat

    def counting(path: str | Path, limit: int) -> tuple[bytes | int, os.stat_result]:
        read.append(str(path))
        return real(path, limit)

    monkeypatch.setattr(textdecode, "read_regular_stat", counting)
    return read


def _statuses(root: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    try:
        return db.execute("SELECT file, entry FROM card_status ORDER BY file").fetchall()
    finally:
        db.close()


def test_a_replay_reads_no_card(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch,
                                at_once: None) -> None:
    root = make_hub(tmp_path, server, copy=True)
    publish(root)
    _, normal, _ = publish(root)  # remembers the run and the cards' statuses
    assert len(_statuses(root)) == 4
    read = _reads(monkeypatch)
    code, doc, _ = publish(root)
    assert doc["counters"]["replayed"] == 1 and code == 0 and doc["cards"] == normal["cards"]
    assert [r for r in read if r.endswith(".md")] == []


def test_a_card_written_in_place_is_caught(tmp_path: Path, server: FaultServer, at_once: None) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    publish(root)
    _later_tick()
    card = root / "cards" / "u" / "m1.md"
    st = os.stat(card)
    text = card.read_text()
    card.write_text(text.replace("model-name: m1", "model-name: m9"))  # the same size
    os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime: only its ctime moved
    code, doc, _ = publish(root)
    assert doc["counters"]["replayed"] == 0 and doc["counters"]["parsed"] == 1
    assert code == 0 and len(generations(root)) == 2  # a new generation, with the card's new name
    assert '"m9"' in (root / "dist" / "hub" / "index.json").read_text()


def test_statuses_that_lie_cost_a_replay_only(tmp_path: Path, server: FaultServer, at_once: None) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    _, normal, _ = publish(root)
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    with db:  # every card's status kept, with another card's digest
        db.execute("UPDATE card_status SET entry = substr(entry, 1, length(entry) - 64) || ?", ("ab" * 32,))
    db.close()
    _touch(root / "cards" / "u" / "m0.md")
    code, doc, _ = publish(root)
    # not replayed, and every check served under the key of the card's real bytes: none parsed again
    assert doc["counters"]["replayed"] == 0 and doc["counters"]["parsed"] == 0 and doc["cards"] == normal["cards"]
    assert publish(root)[1]["counters"]["replayed"] == 1  # kept afresh, from the bytes


def test_damaged_status_rows_are_misses(tmp_path: Path, server: FaultServer, at_once: None) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    _, normal, _ = publish(root)
    db = sqlite3.connect(root / "store" / "ledger.sqlite")
    with db:  # SQLite keeps whatever it is given: a number, a blob, a row for no card
        key = db.execute("SELECT key FROM card_status LIMIT 1").fetchone()[0]
        db.execute("UPDATE card_status SET entry = 7 WHERE rowid = (SELECT min(rowid) FROM card_status)")
        db.execute("UPDATE card_status SET entry = x'00ff' WHERE rowid = (SELECT max(rowid) FROM card_status)")
        db.execute("INSERT INTO card_status VALUES (?, ?, ?)", (key, "../elsewhere.md", "1:2 " + "0" * 64))
    db.close()
    _touch(root / "cards" / "u" / "m1.md")
    code, doc, _ = publish(root)
    assert code == 0 and doc["counters"]["replayed"] == 1 and doc["cards"] == normal["cards"]


def test_files_just_written_are_not_kept(tmp_path: Path, server: FaultServer, fresh: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    publish(root)
    assert _statuses(root) == []  # written a moment ago: read again next time
    # nor is the run remembered: its blobs were fetched a moment ago too (unchanged.remember)
    assert publish(root)[1]["counters"]["replayed"] == 0
    monkeypatch.setattr(filestatus, "SETTLE_NS", 0)  # time passes
    publish(root)
    assert len(_statuses(root)) == 3 and publish(root)[1]["counters"]["replayed"] == 1


def test_a_replay_by_statuses_keys_no_card(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch,
                                          at_once: None) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    _, normal, _ = publish(root)

    def no_keying(*args: object, **kwargs: object) -> None:
        raise AssertionError("a card was keyed")

    monkeypatch.setattr(CheckStep, "keyed", no_keying)
    read = _reads(monkeypatch)
    code, doc, _ = publish(root)
    assert code == 0 and doc["counters"]["replayed"] == 1 and doc["cards"] == normal["cards"]
    assert [r for r in read if r.endswith(".md")] == []


def test_a_card_with_a_new_status_is_read_and_the_run_replayed(tmp_path: Path, server: FaultServer,
                                                              monkeypatch: pytest.MonkeyPatch, at_once: None) -> None:
    root = make_hub(tmp_path, server)
    publish(root)
    _, normal, _ = publish(root)
    _touch(root / "cards" / "u" / "m1.md")
    read = _reads(monkeypatch)
    code, doc, _ = publish(root)
    assert code == 0 and doc["counters"]["replayed"] == 1 and doc["cards"] == normal["cards"]
    assert [Path(r).name for r in read if r.endswith(".md")] == ["m1.md"]


@pytest.mark.parametrize("change", ["written", "deleted"])
def test_an_english_twin_outside_the_run_keys_it(tmp_path: Path, server: FaultServer, at_once: None,
                                                change: str) -> None:
    """A `_cn.md` card's check key has its English card's bytes, also when that card is not one of the run's."""
    root = make_hub(tmp_path, server)
    folder = root / "cards" / "u"
    (folder / "m0_cn.md").write_text((folder / "m0.md").read_text())
    paths = (str(folder / "m0_cn.md"), str(folder / "m1.md"))

    def replayed() -> int:
        result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                         "--format", "json", "--config", str(root / "hub" / "hub.yaml"), *paths)
        doc = json.loads(result.output)
        assert [c["card"] for c in doc["cards"]] == [paths[1]]  # the twin is checked, not published

        return int(doc["counters"]["replayed"])

    replayed()
    replayed()
    assert replayed() == 1
    _later_tick()
    english = folder / "m0.md"
    if change == "written":
        english.write_text(english.read_text().replace("model-name: m0", "model-name: m7"))
    else:
        english.unlink()
    assert replayed() == 0

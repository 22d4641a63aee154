"""The ledger's step index (publish/ledger.py): made on the first open of an older ledger, used by `others`, and
not needed to open a ledger that cannot be written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hubtool.publish import ledger as ledger_module
from hubtool.publish.ledger import SCHEMA, Ledger


def _older_ledger(path: Path) -> None:
    """A ledger as a hubtool without the index left it: verdicts of three steps."""
    db = sqlite3.connect(path)
    db.execute(SCHEMA)
    db.executemany("INSERT INTO verdicts VALUES (?, ?, 'passed', '{}', 0)",
                   [(f"k{i}", ("check", "fetch", "hub-run")[i % 3]) for i in range(30)])
    db.commit()
    db.close()


def test_an_older_ledger_gets_the_index_and_counts_through_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _older_ledger(path)
    ledger = Ledger(path)
    try:
        assert ledger.others("hub-run") == 20
        plan = ledger.db.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM verdicts WHERE step != ?",
                                 ("hub-run",)).fetchall()
        assert "verdicts_by_step" in str(plan)
    finally:
        ledger.close()


def test_a_ledger_that_cannot_be_written_opens_without_the_index(tmp_path: Path) -> None:
    """Root ignores file modes, so the read-only ledger is SQLite's query_only: the index is not made, and the
    counts are the same as with it."""
    path = tmp_path / "ledger.sqlite"
    _older_ledger(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA query_only=1")
    ledger_module._index_steps(db)  # attempt to write a readonly database: left without it
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'verdicts_by_step'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM verdicts WHERE step != 'hub-run'").fetchone()[0] == 20
    db.close()

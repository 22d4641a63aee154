"""What was verified, under which inputs: a SQLite ledger (WAL) in the store.

A row is keyed by a hash of everything its verdict depends on (the card's bytes,
the asset's SHA-256, the golden set's content hash, the runtime's identity,
hubtool's version...). A re-run over an unchanged hub finds every key and does
no work; any change to an input changes the key.  Only passes are reused.
Two publishers may share a ledger: writes are short transactions and readers
never block (WAL), so the worst case is a step verified twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from . import __version__

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    recorded REAL NOT NULL
)
"""


def key_of(step: str, *parts: Any) -> str:
    """A stable key over a step's inputs (and hubtool's version, which can change any verdict)."""
    if all(isinstance(p, (str, int)) or p is None for p in parts):
        # the common case (hashes, names): no JSON encoder per card on an unchanged re-run
        blob = "\0".join([step, __version__, *("\1" if p is None else f"{type(p).__name__}:{p}" for p in parts)])
    else:
        blob = json.dumps([step, __version__, *parts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=60000")
        self.db.execute(SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The recorded detail of a *passed* step under this key, or None."""
        row = self.db.execute("SELECT detail FROM verdicts WHERE key = ? AND status = 'passed'", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        detail: dict[str, Any] = json.loads(row[0])
        return detail

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, detail in self.db.execute(
                    f"SELECT key, detail FROM verdicts WHERE status = 'passed' AND key IN ({marks})", chunk):
                found[key] = json.loads(detail)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def record(self, key: str, step: str, status: str, detail: dict[str, Any]) -> None:
        self.record_many([(key, step, status, detail)])

    def record_many(self, rows: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        if not rows:
            return
        now = time.time()
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)",
                                [(k, s, st, json.dumps(d, sort_keys=True), now) for k, s, st, d in rows])

    def _transaction(self) -> Any:
        db = self.db

        class _Tx:
            def __enter__(self) -> None:
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type: Any, *rest: Any) -> None:
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    def close(self) -> None:
        self.db.close()

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from ..durable import JSON, JSONObject

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    recorded REAL NOT NULL
)
"""


def key_of(step: str, *parts: JSON) -> str:
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

    def get(self, key: str) -> JSONObject | None:
        """The recorded detail of a *passed* step under this key, or None."""
        row = self.db.execute("SELECT detail FROM verdicts WHERE key = ? AND status = 'passed'", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        detail: JSONObject = json.loads(row[0])
        return detail

    def get_many(self, keys: list[str]) -> dict[str, JSONObject]:
        found: dict[str, JSONObject] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, detail in self.db.execute(
                    f"SELECT key, detail FROM verdicts WHERE status = 'passed' AND key IN ({marks})", chunk):
                found[key] = json.loads(detail)
        self.hits += len(found)
        return found

    def record(self, key: str, step: str, status: str, detail: JSONObject) -> None:
        self.record_many([(key, step, status, detail)])

    def record_many(self, rows: list[tuple[str, str, str, JSONObject]]) -> None:
        if not rows:
            return
        now = time.time()
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)",
                                [(k, s, st, json.dumps(d, sort_keys=True), now) for k, s, st, d in rows])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

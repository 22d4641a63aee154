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
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from ..durable import JSON, JSONObject, json_object
from ..errors import StoreError
from ..progress import SILENT, Progress
from ..textdecode import is_utf8

#: how long a publisher waits for another to let go of the ledger (SQLite busy timeout)
BUSY_SECONDS = 60

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    recorded REAL NOT NULL
)
"""

#: what `others` counts reads this index, not the table: at 20k rows, 1 ms instead of 5-11 (a replay asks it)
STEP_INDEX = "CREATE INDEX IF NOT EXISTS verdicts_by_step ON verdicts(step)"

#: the cards' digests by file status that a remembered run kept (publish/carddigests.py), under its key;
#: local only, and not verdicts: a row here never makes a remembered run stale
STATUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS card_status (
    key TEXT NOT NULL,
    file TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (key, file)
)
"""


def key_of(step: str, *parts: JSON) -> str:
    """A stable key over a step's inputs (and hubtool's version, which can change any verdict)."""
    if all(isinstance(p, (str, int)) or p is None for p in parts):
        # the common case (hashes, names): no JSON encoder per card on an unchanged re-run
        blob = "\0".join([step, __version__, *("\1" if p is None else f"{type(p).__name__}:{p}" for p in parts)])
    else:
        blob = json.dumps([step, __version__, *parts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()  # a path may be no UTF-8 (HUB004)


class Ledger:
    """The verdict cache. A corrupt or truncated file is moved aside (and said so) and started afresh:
    losing it costs only work. Any other SQLite failure (a full disk, a read-only store) is a StoreError
    that names the file."""

    def __init__(self, path: Path, *, progress: Progress = SILENT, repair: bool = True) -> None:
        """Open (or create) the ledger; one that is unreadable is moved aside and started afresh, said on
        `progress`, unless `repair` is False: then it is a StoreError, and left for a run that repairs it."""
        self.path = path
        self.hits = 0
        self.shared_hits = 0  # of those, found in a shared ledger (sharedledger.py)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open(check=repair)
        except sqlite3.DatabaseError as exc:
            if not (repair and _corrupt(exc)):
                raise _store_error(path, exc) from exc
            aside = self._move_aside()
            progress.notice(f"the ledger {path} was unreadable ({exc}); moved to {aside.name} and started "
                            "afresh: finished steps are verified again")
            try:
                self.db = self._open()
            except sqlite3.DatabaseError as again:
                raise _store_error(path, again) from again
        except (FileExistsError, NotADirectoryError) as exc:  # `store: /dev/null`: "File exists" said nothing
            raise StoreError(f"cannot create the ledger {path}: {exc.filename or path.parent} is not a folder",
                             hint="the ledger lives in the store's folder: give a folder (--store, hub.yaml store:)"
                             ) from exc
        except OSError as exc:
            raise StoreError(f"cannot create the ledger {path}: {exc.strerror}") from exc

    def _open(self, *, check: bool = True) -> sqlite3.Connection:
        """The connection; `check` reads the whole file first (~35 ms for 10k cards' verdicts), for a caller that
        repairs what it finds: one that does not meets any damage as a StoreError where it reads."""
        db = sqlite3.connect(str(self.path), timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
            _use_wal(db, time.monotonic() + BUSY_SECONDS)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(SCHEMA)
            db.execute(STATUS_SCHEMA)
            _index_steps(db)
            if check:  # a truncated file opens, then fails here
                verdict = db.execute("PRAGMA quick_check(1)").fetchone()
                if verdict is None or verdict[0] != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed ({verdict[0] if verdict else '?'})")
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self) -> Path:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):  # a stale WAL must not be replayed into the new file
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists():
                os.replace(extra, aside.with_name(aside.name + suffix))
        return aside

    def get(self, key: str) -> JSONObject | None:
        """The recorded detail of a *passed* step under this key, or None."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: list[str], *, count: bool = True) -> dict[str, JSONObject]:
        """The passed steps recorded under these keys; `count` False for a look ahead that is not a use."""
        found: dict[str, JSONObject] = {}
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, detail in self.db.execute(
                        f"SELECT key, detail FROM verdicts WHERE status = 'passed' AND key IN ({marks})", chunk):
                    doc = _detail(detail)
                    if doc is not None:  # a row that does not parse is a miss: the step runs again
                        found[key] = doc
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from exc
        self.hits += len(found) if count else 0
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

    def keep_local(self, key: str, step: str, detail: JSONObject) -> None:
        """Record a pass in this file only, never in a shared ledger: it is about this machine (its store)."""
        Ledger.record_many(self, [(key, step, "passed", detail)])

    def forget(self, key: str) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM verdicts WHERE key = ?", (key,))
            self.db.execute("DELETE FROM card_status WHERE key = ?", (key,))

    def keep_statuses(self, key: str, entries: Mapping[str, str]) -> None:
        """The card statuses kept under `key` (a hub run's slot), replacing those kept before; local only.

        Rows, not a field of the run's record: 10k cards' entries in its JSON were 6 MiB of the peak of the
        run that wrote it."""
        with self._transaction():
            self.db.execute("DELETE FROM card_status WHERE key = ?", (key,))
            # SQLite's text is UTF-8: a card whose path is not (HUB004, held back) has its digest taken again
            self.db.executemany("INSERT INTO card_status VALUES (?, ?, ?)",
                                ((key, file, entry) for file, entry in entries.items() if is_utf8(file)))

    def statuses(self, key: str) -> dict[str, str]:
        """The card statuses kept under `key` (file -> entry)."""
        try:
            return {file: str(entry) for file, entry in
                    self.db.execute("SELECT file, entry FROM card_status WHERE key = ?", (key,))}
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from exc

    def others(self, step: str) -> int:
        """How many rows of other steps there are: with `newest`, what proves that none was deleted since."""
        try:
            return int(self.db.execute("SELECT count(*) FROM verdicts WHERE step != ?", (step,)).fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from exc

    def newest(self, key: str, step: str) -> JSONObject | None:
        """The record of `step` under `key`, only if no other step's row was recorded since: the ledger has
        learned nothing after it.  (A replaced row is a new one, with a higher rowid than every row it follows.)"""
        try:
            found = self.db.execute("SELECT rowid, detail FROM verdicts WHERE key = ? AND step = ? "
                                    "AND status = 'passed'", (key, step)).fetchone()
            if found is None or self.db.execute("SELECT 1 FROM verdicts WHERE rowid > ? AND step != ? LIMIT 1",
                                                (found[0], step)).fetchone() is not None:
                return None
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from exc
        doc = _detail(found[1])
        self.hits += doc is not None
        return doc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:  # SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR...
            raise _store_error(self.path, exc) from exc

    def close(self) -> None:
        self.db.close()


def _use_wal(db: sqlite3.Connection, deadline: float) -> None:
    """Switch the file to WAL.  SQLite answers a journal-mode change that meets another connection's
    lock with "database is locked" at once, without its busy handler: two publishers opening a new
    ledger together failed so (~1 in 60 such races).  Retried until `deadline`, as a busy wait would."""
    delay = 0.002
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's "not a database" / "malformed", as opposed to a full disk or a read-only file."""
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "file is encrypted" in text


def _store_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    why = _unwritable(path.parent)  # SQLite says "unable to open database file"; the OS says why
    return StoreError(f"the ledger {path} cannot be used: {exc}" + (f" ({path.parent}: {why})" if why else ""),
                      hint="check the disk (full? read-only?); the ledger is a cache and may be deleted")


def _unwritable(folder: Path) -> str | None:
    import tempfile  # on this error path only: with random, ~2 ms of a replay

    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def _index_steps(db: sqlite3.Connection) -> None:
    """The step index, made on the first open by a hubtool that has it (once, ~10 ms at 20k rows); a read-only
    ledger of an older one goes without it, as before: only slower to count."""
    try:
        db.execute(STEP_INDEX)
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise


def _detail(text: object) -> JSONObject | None:
    return json_object(text) if isinstance(text, (str, bytes)) else None

"""A ledger every machine that publishes a hub shares: `publish --ledger DIR|s3://bucket/prefix`.

Each passed step is also written, create-only, as `ledger/v1/<2 hex>/<key>.json` in a
folder (a shared disk) or a bucket, so a CI runner that starts empty does not run the
golden steps another machine already passed; the local SQLite ledger is its cache.
A key is a hash of everything the verdict depends on (ledger.key_of), so a record can
only ever be the same verdict again: create-only makes the first one stay, and two
machines racing for a key lose nothing.  What cannot be read back as a passed verdict
(truncated, not JSON, another status) is a miss: the step runs again.

Trust: whoever can write there can mark a step passed without it running.  Give the
shared ledger the same write access as the published hub.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..durable import JSONObject, json_object
from ..errors import StoreError
from ..progress import SILENT, Progress
from ..textdecode import read_intact
from .ledger import Ledger

if TYPE_CHECKING:
    from ..assets.s3.refs import S3RefStore

PREFIX = "ledger/v1/"
OUTCOMES = f"{PREFIX}outcomes/"  # <2 hex>/<key>/<time>-<nonce>.json: a card's outcome, newest counts
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a verdict record is ~1 KB: far over, it is damage


def record_name(key: str) -> str:
    return f"{PREFIX}{key[:2]}/{key}.json"


class VerdictStore(Protocol):
    where: str

    def known(self) -> set[str] | None:
        """The record names present, when listing is cheaper than asking for each (None: ask)."""

    def read(self, name: str) -> bytes | None: ...

    def create(self, name: str, body: bytes) -> None:
        """Write the record unless one is there already."""

    def names(self, prefix: str) -> list[str]:
        """Every record name under `prefix` (a folder's path ending in /)."""


class FolderVerdicts:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def known(self) -> set[str] | None:
        return None  # opening a file that is not there costs what listing it would

    def read(self, name: str) -> bytes | None:
        try:
            data = read_intact(self.root / name, MAX_RECORD_BYTES)  # another machine's folder: maybe a FIFO
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the shared ledger's {self.root / name}: {exc.strerror}") from exc
        return b"" if data is None else data  # damaged: a miss, and the step runs

    def create(self, name: str, body: bytes) -> None:
        path = self.root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                os.fchmod(fd, 0o644)  # other machines' users read it (mkstemp makes it 0600)
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # fails if it exists: the first record stays
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise StoreError(f"cannot write the shared ledger's {path}: {exc.strerror}") from exc

    def names(self, prefix: str) -> list[str]:
        # a folder that cannot be listed lists nothing (os.walk): its records are misses, never an error
        return [(Path(d) / f).relative_to(self.root).as_posix()
                for d, _, files in os.walk(self.root / prefix) for f in files if not f.startswith(".tmp-")]


class BucketVerdicts:
    def __init__(self, refs: S3RefStore) -> None:
        self.refs = refs
        self.where = refs.location.url()

    def known(self) -> set[str] | None:
        return set(self.refs.list(PREFIX))  # one LIST per 1,000 records instead of a GET per miss

    def read(self, name: str) -> bytes | None:
        return self.refs.read(name)

    def create(self, name: str, body: bytes) -> None:
        self.refs.create(name, body)

    def names(self, prefix: str) -> list[str]:
        return list(self.refs.list(prefix))


class SharedLedger(Ledger):
    """The local ledger, backed by a VerdictStore: misses are looked up there, passes are added there."""

    def __init__(self, path: Path, shared: VerdictStore, *, progress: Progress = SILENT) -> None:
        super().__init__(path, progress=progress)
        self.shared = shared
        self._known: set[str] | None = None
        self._listed = False

    def get_many(self, keys: list[str], *, count: bool = True) -> dict[str, JSONObject]:
        found = super().get_many(keys, count=count)
        missing = [k for k in keys if k not in found]
        if not missing:
            return found
        if not self._listed:
            self._known, self._listed = self.shared.known(), True
        fetched: list[tuple[str, str, str, JSONObject]] = []
        for key in missing:
            name = record_name(key)
            if self._known is not None and name not in self._known:
                continue
            record = _passed(self.shared.read(name))
            if record is not None:
                fetched.append((key, record[0], "passed", record[1]))
                found[key] = record[1]
        super().record_many(fetched)  # the local cache learns them (not written back: they are there)
        self.shared_hits += len(fetched)
        self.hits += len(fetched) if count else 0
        return found

    def record_many(self, rows: list[tuple[str, str, str, JSONObject]]) -> None:
        super().record_many(rows)
        for key, step, status, detail in rows:
            if status != "passed":
                continue  # only passes are ever reused
            body = json.dumps({"step": step, "status": status, "detail": detail, "recorded": time.time()},
                              sort_keys=True).encode()
            self.shared.create(record_name(key), body)
            if self._known is not None:
                self._known.add(record_name(key))

    def record_outcome(self, key: str, outcome: JSONObject) -> None:
        """A card's outcome (outcomes.py), as a new record: a re-run's newer outcome is not refused."""
        name = f"{OUTCOMES}{key[:2]}/{key}/{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        self.shared.create(name, json.dumps(outcome, sort_keys=True).encode())

    def outcomes(self, keys: list[str]) -> dict[str, JSONObject]:
        """The newest readable outcome recorded under each key (one listing, then a read per key)."""
        newest: dict[str, str] = {}
        for name in self.shared.names(OUTCOMES):
            key = name.removeprefix(OUTCOMES).split("/")[1] if name.count("/") >= 5 else ""
            if name.endswith(".json") and name > newest.get(key, ""):
                newest[key] = name
        found: dict[str, JSONObject] = {}
        for key in keys:
            latest = newest.get(key)
            doc = json_object(self.shared.read(latest)) if latest else None
            if doc is not None:
                found[key] = doc
        return found


def _passed(body: bytes | None) -> tuple[str, JSONObject] | None:
    """(step, detail) of a passed record, or None for anything else."""
    doc = json_object(body)
    if doc is None or doc.get("status") != "passed":
        return None
    step, detail = doc.get("step"), doc.get("detail")
    return (step, detail) if isinstance(step, str) and isinstance(detail, dict) else None


"""The published hub on disk: generations swapped in atomically (a `PublishTarget`).

`DEST` (e.g. dist/hub) is a symlink to `DEST.generations/<n>`. A new
generation is built completely in a staging folder next to it, fsynced,
renamed to its generation name, and only then does a new symlink replace the
old one with `os.replace` (atomic). A reader that opens DEST/index.json sees
the old generation or the new one, never a mix; a crash at any point leaves
the previous generation published. Two publishers serialise on a lock file.

shutil is imported where a generation is built or pruned: a replay asks only `state` (its import,
with bz2 and lzma, was ~1.7 ms of one).
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..assets import layout
from ..assets.hashing import hash_regular
from ..durable import fsync_dir, fsync_tree, parse_json, pid_alive
from ..errors import SpecialFile, StoreError
from ..filestatus import identity, settled
from ..textdecode import open_regular, read_regular
from .target import Collected, Committed, Published, PublishedState

if TYPE_CHECKING:  # a replay asks a target its state only: the index's code is not imported
    from .index import Snapshot

#: generations a publish keeps (the current one always stays)
KEEP_GENERATIONS = 3
MAX_INDEX_BYTES = 1024 * 1024 * 1024  # a 10,000-card index is ~10 MB


class DirectoryTarget:
    def __init__(self, dest: Path) -> None:
        self.dest = Path(os.path.abspath(dest))
        self.generations = self.dest.with_name(self.dest.name + ".generations")

    def publish(self, snapshot: Snapshot) -> Committed:
        """Commit `snapshot` as the new generation; StoreError (nothing changed) when the disk says no."""
        self._check_places()
        try:
            return self._publish(snapshot)
        except OSError as exc:  # a full disk, a read-only destination: the staging folder is gone again
            where = f" ({exc.filename})" if exc.filename else ""
            raise StoreError(f"cannot publish to {self.dest}: {exc.strerror or exc}{where}",
                             hint="the published hub is as it was; free space or fix permissions and "
                                  "run again") from exc

    def _check_places(self) -> None:
        parent = self.dest.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise StoreError(f"cannot publish to {self.dest}: {parent} is a file, not a folder")
        if self.generations.exists() and not self.generations.is_dir():
            raise StoreError(f"cannot publish to {self.dest}: {self.generations} is a file, not hubtool's "
                             "generations folder", hint="move it away; hubtool keeps its generations there")
        if os.path.lexists(self.dest) and not self.dest.is_symlink() and not self.dest.is_dir():
            raise StoreError(f"cannot publish to {self.dest}: it is a file, not hubtool's published-hub link",
                             hint="move it away, or publish somewhere else with --to")

    def _publish(self, snapshot: Snapshot) -> Committed:
        with self._locked(), self._staging() as stage:
            index = stage / "index.json"
            with index.open("wb") as out:  # streamed: compared with the current one from disk, never held
                snapshot.write_index(out, snapshot.paths())
            current = self._unchanged(index)
            if current is not None and snapshot.catalog is not None and not (current / "index.html").is_file():
                current = None  # published before hubtool wrote catalogs: a generation with one is due
            if current is not None and not _holds_blobs(current, snapshot.blobs):
                current = None  # a blob the store fetched again (it had been changed on disk) is linked anew
            if current is not None:
                return Committed(str(current), unchanged=True)  # the published hub already says exactly this
            for rel, doc in snapshot.documents:
                _write(stage / rel, doc.encoded())
            for digest, src in snapshot.blobs.items():
                _link_blob(src, stage / layout.blob_rel(digest))
            for rel, data in snapshot.catalog() if snapshot.catalog else ():
                _write(stage / rel, data)
            return Committed(str(self._commit(stage)), unchanged=False)

    def latest(self) -> Published | None:
        current = self._current()
        if current is None:
            return None
        try:
            data = read_regular(current / "index.json", MAX_INDEX_BYTES)  # a FIFO would block, /dev/zero not end
            if isinstance(data, int):
                raise ValueError(f"{data:,} bytes, over the {MAX_INDEX_BYTES:,} an index may have")
            index = parse_json(data)
        except (OSError, ValueError, SpecialFile) as exc:
            raise StoreError(f"{current}/index.json cannot be read: {exc}") from exc
        if not isinstance(index, dict):
            raise StoreError(f"{current}/index.json is not a JSON object")
        return Published(str(current), index)

    def state(self) -> PublishedState | None:
        """The current generation, what stands for its index.json's bytes, and its catalog's presence: what a
        remembered run compares (publish/unchanged.py).  The index is known by its file status, as a blob is
        (`filestatus`: 10k cards' index.json is ~11 MB, and hashing it was ~9 ms of a replay); one written
        too recently for its status to stand for its bytes is not `settled`, and no run is remembered on it."""
        current = self._current()
        if current is None:
            return None
        index = current / "index.json"
        taken = time.time_ns()  # before the status: a write after it cannot pass for settled
        try:
            found = os.lstat(index)
            regular = stat.S_ISREG(found.st_mode)
            digest = f"status {identity(found)}" if regular else hash_regular(index)[0]  # a link: what it names
        except (OSError, SpecialFile):  # a link to a FIFO or a device is not waited on, nor read
            return None  # no readable index: a publish writes a new generation
        catalog = (current / "index.html").is_file()
        return PublishedState(str(current), f"{digest}{' catalog' if catalog else ''}",
                              settled=not regular or settled(found, taken))

    def gc(self, *, keep: int, grace_seconds: float, dry_run: bool = False) -> Collected:
        with self._locked():  # publishers wait: nothing can start using an old generation meanwhile
            return Collected(self._prune(self._current(), keep=keep, grace_seconds=grace_seconds,
                                         dry_run=dry_run), [])

    # --- the steps ---------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dest.with_name(f".{self.dest.name}.lock"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a second publisher waits for the first
            yield
        finally:
            os.close(fd)

    def _current(self) -> Path | None:
        if self.dest.is_symlink():
            return self.dest.resolve()
        return self.dest if self.dest.is_dir() else None

    def _next_number(self) -> int:
        numbers = [int(p.name) for p in self.generations.glob("[0-9]*") if p.name.isdigit()]
        return max(numbers, default=0) + 1

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        """A fresh staging folder, removed if the build fails."""
        import shutil  # not at import: see the module's doc

        self.generations.mkdir(parents=True, exist_ok=True)
        stage = self.generations / f".staging-{os.getpid()}"
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
        try:
            yield stage
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)

    def _unchanged(self, index: Path) -> Path | None:
        """The current generation, if it already holds exactly this index (and so these documents)."""
        current = self._current()
        try:
            same = current is not None and _same_files(current / "index.json", index)
        except (OSError, SpecialFile):  # a FIFO in the published index's place: not the same, never waited on
            same = False
        return current if same else None

    def _commit(self, stage: Path) -> Path:
        """Make the staged generation the published one; returns its folder."""
        if self.dest.exists() and not self.dest.is_symlink():
            raise StoreError(f"{self.dest} is a real folder, not hubtool's published-hub link",
                             hint="move it away once; hubtool then publishes generations behind a symlink")
        fsync_tree(stage)
        final = self.generations / f"{self._next_number():08d}"
        os.rename(stage, final)
        link = self.dest.with_name(f".{self.dest.name}.link-{os.getpid()}")
        if link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(final, self.dest.parent), link)
        os.replace(link, self.dest)  # the atomic switch
        fsync_dir(self.dest.parent)
        self._prune(final, keep=KEEP_GENERATIONS, grace_seconds=0)
        return final

    def _prune(self, current: Path | None, *, keep: int, grace_seconds: float, dry_run: bool = False) -> list[str]:
        """Remove generations beyond the newest `keep` (never `current`), and stale staging folders."""
        import shutil  # not at import: see the module's doc

        removed = []
        now = time.time()
        numbered = sorted(p for p in self.generations.iterdir() if p.name.isdigit()) \
            if self.generations.is_dir() else []
        for old in numbered[:-keep] if keep > 0 else numbered:
            if old != current and now - old.stat().st_mtime >= grace_seconds:
                if not dry_run:
                    shutil.rmtree(old, ignore_errors=True)
                removed.append(str(old))
        for stale in self.generations.glob(".staging-*") if self.generations.is_dir() else ():
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not pid_alive(int(pid)):
                if not dry_run:
                    shutil.rmtree(stale, ignore_errors=True)
                removed.append(str(stale))
        return removed


def _holds_blobs(current: Path, blobs: Mapping[str, Path]) -> bool:
    """Whether the generation's blob files are the store's own (hard links to them).  One that is another file
    on the store's device is stale: a blob changed on disk in the store (the same inode as the generation's)
    is fetched again as a new file, and the index alone, which names it by its digest, cannot tell.  A copy on
    another device (the store elsewhere: no hard link possible) is taken as it is."""
    for digest, src in blobs.items():
        try:
            have, want = os.lstat(current / layout.blob_rel(digest)), os.lstat(src)
        except OSError:
            return False
        if have.st_dev == want.st_dev and have.st_ino != want.st_ino:
            return False
    return True


def _same_files(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes, read in pieces: a 10k-card index is never held whole."""
    with open_regular(a) as fa, b.open("rb") as fb:
        if os.fstat(fa.fileno()).st_size != os.fstat(fb.fileno()).st_size:
            return False
        while chunk := fa.read(1 << 20):
            if fb.read(len(chunk)) != chunk:
                return False
    return True


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)  # inside the staging folder: fsynced as a whole before it becomes visible


def _link_blob(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # the same verified bytes, no copy
    except OSError:
        import shutil  # not at import: see the module's doc

        shutil.copyfile(src, dest)

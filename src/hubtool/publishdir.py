"""The published hub on disk: generations swapped in atomically.

`DEST` (e.g. dist/hub) is a symlink to `DEST.generations/<n>`. A new
generation is built completely in a staging folder next to it, fsynced,
renamed to its generation name, and only then does a new symlink replace the
old one with `os.replace` (atomic). A reader that opens DEST/index.json sees
the old generation or the new one, never a mix; a crash at any point leaves
the previous generation published. Two publishers serialise on a lock file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StoreError
from .index import canonical
from .store import pid_alive

KEEP_GENERATIONS = 3


def _syncfs(path: Path) -> bool:
    """syncfs(2) on the filesystem holding `path`: one call instead of one fsync per file."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return int(libc.syncfs(fd)) == 0
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        return False


def _fsync_tree(root: Path) -> None:
    if _syncfs(root):
        return
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class PublishTarget:
    def __init__(self, dest: Path) -> None:
        self.dest = Path(os.path.abspath(dest))
        self.generations = self.dest.with_name(self.dest.name + ".generations")

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dest.with_name(f".{self.dest.name}.lock"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a second publisher waits for the first
            yield
        finally:
            os.close(fd)

    def current(self) -> Path | None:
        if self.dest.is_symlink():
            return self.dest.resolve()
        return self.dest if self.dest.is_dir() else None

    def _next_number(self) -> int:
        numbers = [int(p.name) for p in self.generations.glob("[0-9]*") if p.name.isdigit()]
        return max(numbers, default=0) + 1

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh staging folder, removed if the build fails."""
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

    def write(self, stage: Path, rel: str, doc: object) -> None:
        self.write_bytes(stage, rel, canonical(doc))

    def write_bytes(self, stage: Path, rel: str, data: bytes) -> None:
        path = stage / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def unchanged(self, index_bytes: bytes) -> Path | None:
        """The current generation, if it already holds exactly this index (and so these documents)."""
        current = self.current()
        try:
            same = current is not None and (current / "index.json").read_bytes() == index_bytes
        except OSError:
            same = False
        return current if same else None

    def commit(self, stage: Path) -> Path:
        """Make the staged generation the published one; returns its folder."""
        if self.dest.exists() and not self.dest.is_symlink():
            raise StoreError(f"{self.dest} is a real folder, not hubtool's published-hub link",
                             hint="move it away once; hubtool then publishes generations behind a symlink")
        _fsync_tree(stage)
        final = self.generations / f"{self._next_number():08d}"
        os.rename(stage, final)
        link = self.dest.with_name(f".{self.dest.name}.link-{os.getpid()}")
        if link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(final, self.dest.parent), link)
        os.replace(link, self.dest)  # the atomic switch
        fd = os.open(self.dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._prune(final)
        return final

    def _prune(self, keep: Path) -> None:
        numbered = sorted(p for p in self.generations.iterdir() if p.name.isdigit())
        for old in numbered[:-KEEP_GENERATIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.generations.glob(".staging-*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)

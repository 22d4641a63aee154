"""The content-addressed blob store: blobs/sha256/<2 hex>/<64 hex>, one door in.

The door (`BlobWriter`): bytes stream into a temp file that only this writer
ever writes, are hashed while written, fsynced, compared with the expected
SHA-256 and only then renamed into place (and the folder fsynced).  A crash at
any instant leaves either no blob or a whole, verified one.

Resume without trusting locks: an interrupted writer's temp file is named
`tmp/<sha256>.<pid>.<random>.part`.  A later writer adopts it by renaming it to
its own unique name (atomic: of two adopters only one succeeds) once the owner
process is gone, re-hashes the prefix and appends.  Locks (`flock`) only keep
two processes from downloading the same blob at once; if one is broken, the
cost is bandwidth, never a wrong blob.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import IntegrityError, LockTimeout, StoreError

HEX64 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1024 * 1024
_PART = re.compile(r"(?P<digest>[0-9a-f]{64})\.(?P<pid>[0-9]+)\.[0-9a-f]+\.part")


def check_digest(digest: str) -> str:
    if not HEX64.fullmatch(digest):
        raise StoreError(f"not a SHA-256 digest: {digest!r}", hint="64 lowercase hex digits")
    return digest


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    if pid == 0:  # a partial that its writer gave up on, for anyone to resume
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    path: Path


class BlobStore:
    """A directory store. Everything a reader can see under blobs/ is a verified blob."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- layout -----------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        check_digest(digest)
        # one string format instead of four Path joins: this runs once per asset on every publish
        return Path(f"{self.root}/blobs/sha256/{digest[:2]}/{digest}")

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def _ensure(self, *folders: Path) -> None:
        try:
            for folder in folders:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store at {self.root}: {exc.strerror}",
                             hint="choose another place with --store or HUBTOOL_HOME") from exc

    # --- reading ----------------------------------------------------------------
    def stat(self, digest: str) -> BlobInfo | None:
        path = self.blob_path(digest)
        try:
            return BlobInfo(digest, path.stat().st_size, path)
        except FileNotFoundError:
            return None

    def has(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def iter_blobs(self) -> Iterator[BlobInfo]:
        base = self.root / "blobs" / "sha256"
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            for path in sorted(sub.iterdir()) if sub.is_dir() else ():
                yield BlobInfo(path.name, path.stat().st_size, path)

    def verify(self, digest: str, *, deep: bool = True) -> str | None:
        """Re-hash a blob; returns the actual digest when it does not match its name."""
        if not deep:
            return None if self.has(digest) else "missing"
        actual = hash_file(self.blob_path(digest))
        return None if actual == digest else actual

    def open_range(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) of a blob; a negative start reads the last -start bytes."""
        path = self.blob_path(digest)
        size = path.stat().st_size
        first = max(size + start, 0) if start < 0 else start
        last = size if end is None else min(end, size)
        if first >= size or first >= last:
            raise StoreError(f"range {start}-{end} of {digest[:12]}… ({size} bytes) is not satisfiable")
        with open(path, "rb") as fh:
            fh.seek(first)
            left = last - first
            while left:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def put_if_absent(self, digest: str, src: Path, *, source: str = "") -> str:
        """The store contract's upload: "created" or "exists" (shared with the S3 store)."""
        if self.has(digest):
            return "exists"
        self.put_file(digest, src, source=source or str(src))
        return "created"

    # --- the door ---------------------------------------------------------------
    def writer(self, digest: str, *, source: str, resume: bool = True, keep_bad: bool = False) -> BlobWriter:
        """A new writer for `digest`, adopting an abandoned partial download when `resume`."""
        self._ensure(self.tmp_dir)
        return BlobWriter(self, check_digest(digest), source=source,
                          adopt=self._adopt_partial(digest) if resume else None, keep_bad=keep_bad)

    def put_file(self, digest: str, src: Path, *, source: str, keep_bad: bool = False) -> BlobInfo:
        """Copy a local file in through the door (repository assets, the cache into a mirror)."""
        existing = self.stat(digest)
        if existing is not None:
            return existing
        writer = self.writer(digest, source=source, resume=False, keep_bad=keep_bad)
        try:
            with open(src, "rb") as fh:
                copy_stream(fh, writer.write)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def _adopt_partial(self, digest: str) -> Path | None:
        if not self.tmp_dir.is_dir():
            return None
        for path in sorted(self.tmp_dir.glob(f"{digest}.*.part")):
            match = _PART.fullmatch(path.name)
            if match is None or pid_alive(int(match["pid"])):
                continue
            mine = self._unique_tmp(digest)
            try:
                os.rename(path, mine)  # atomic: of two adopters only one wins
            except FileNotFoundError:
                continue
            meta = path.with_name(path.name + ".json")
            if meta.exists():
                try:
                    os.rename(meta, mine.with_name(mine.name + ".json"))
                except FileNotFoundError:
                    pass
            return mine
        return None

    def _unique_tmp(self, digest: str) -> Path:
        return self.tmp_dir / f"{digest}.{os.getpid()}.{secrets.token_hex(6)}.part"

    # --- maintenance --------------------------------------------------------------
    def remove(self, digest: str) -> None:
        self.blob_path(digest).unlink(missing_ok=True)

    def clean_tmp(self) -> int:
        """Remove temp files of processes that are gone; returns how many."""
        removed = 0
        for path in self.tmp_dir.glob("*.part") if self.tmp_dir.is_dir() else ():
            match = _PART.fullmatch(path.name)
            if match and not pid_alive(int(match["pid"])):
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".json").unlink(missing_ok=True)
                removed += 1
        return removed

    @contextmanager
    def lock(self, digest: str, *, timeout: float = 600.0, notice_after: float = 3.0,
             on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """An exclusive flock per blob, so that two processes do not fetch it twice."""
        folder = self.root / "locks"
        self._ensure(folder)
        fd = os.open(folder / f"{check_digest(digest)}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            start = time.monotonic()
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                waited = time.monotonic() - start
                if waited > timeout:
                    raise LockTimeout(f"another process has been fetching {digest[:12]}… for {waited:.0f} s",
                                      hint="wait for it, or remove the stale lock in " + str(folder))
                if not told and waited > notice_after and on_wait:
                    on_wait(f"waiting for another process fetching {digest[:12]}…")
                    told = True
                time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the flock


class BlobWriter:
    """Stream bytes towards one blob; `commit` makes them visible only if the hash matches."""

    def __init__(self, store: BlobStore, digest: str, *, source: str, adopt: Path | None, keep_bad: bool) -> None:
        self.store = store
        self.digest = digest
        self.source = source
        self.keep_bad = keep_bad
        self.path = adopt or store._unique_tmp(digest)
        self._hash = hashlib.sha256()
        self.offset = 0
        if adopt is not None:
            with open(adopt, "rb") as fh:  # re-hash the prefix: the bytes on disk are the truth
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    self._hash.update(chunk)
                    self.offset += len(chunk)
        self._fh: BinaryIO = open(self.path, "ab")

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    def read_meta(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self.meta_path.read_text())
            return loaded
        except (OSError, ValueError):
            return {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.meta_path.write_text(json.dumps(meta, sort_keys=True))

    def write(self, chunk: bytes | memoryview) -> None:
        self._fh.write(chunk)
        self._hash.update(chunk)
        self.offset += len(chunk)

    def restart(self) -> None:
        """Throw away what was written (the server sent the whole body again)."""
        self._fh.seek(0)
        self._fh.truncate()
        self._hash = hashlib.sha256()
        self.offset = 0

    def head(self, n: int = 4096) -> bytes:
        self._fh.flush()
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def commit(self) -> BlobInfo:
        """fsync, compare, rename into place, fsync the folder; or refuse."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        actual = self._hash.hexdigest()
        if actual != self.digest:
            self._reject(actual)
        final = self.store.blob_path(self.digest)
        self.store._ensure(final.parent)
        try:
            os.link(self.path, final)  # put-if-absent: an existing blob (same name, same bytes) stays
        except FileExistsError:
            pass
        os.unlink(self.path)
        _fsync_dir(final.parent)
        self.meta_path.unlink(missing_ok=True)
        return BlobInfo(self.digest, self.offset, final)

    def _reject(self, actual: str) -> None:
        from .inspect import sniff

        with open(self.path, "rb") as fh:
            facts = sniff(fh.read(4096), size=self.offset)
        what = f"; the body was {facts.description}" if facts.kind in ("html", "lfs-pointer", "empty") else ""
        message = (f"SHA-256 mismatch for {self.source}: expected {self.digest}, got {actual} "
                   f"({self.offset:,} bytes){what}")
        kept = ""
        if self.keep_bad:
            folder = self.store.root / "quarantine"
            self.store._ensure(folder)
            target = folder / f"{actual}.{int(time.time())}"
            os.replace(self.path, target)
            target.with_name(target.name + ".reason.txt").write_text(message + "\n")
            kept = f" (kept in {target})"
        else:
            self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)
        raise IntegrityError(message + kept, url=self.source,
                             hint="the file at the link is not the one the card names: fix the link or the hash")

    def abort(self, *, keep_partial: bool = False) -> None:
        """Stop; keep the bytes for a later resume, or remove them."""
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()
        if not keep_partial or self.offset == 0:
            self.path.unlink(missing_ok=True)
            self.meta_path.unlink(missing_ok=True)
            return
        abandoned = self.path.with_name(f"{self.digest}.0.{secrets.token_hex(6)}.part")
        meta = self.meta_path
        os.rename(self.path, abandoned)
        if meta.exists():
            os.rename(meta, abandoned.with_name(abandoned.name + ".json"))


def copy_stream(src: BinaryIO, sink: Callable[[bytes], None]) -> int:
    total = 0
    for chunk in iter(lambda: src.read(CHUNK), b""):
        sink(chunk)
        total += len(chunk)
    return total


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalRefStore:
    """Small create-only files (O_EXCL): the local twin of the S3 store's conditional refs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if name.startswith("/") or ".." in Path(name).parts:
            raise StoreError(f"bad ref name {name!r}")
        return self.root / name

    def read(self, name: str) -> tuple[bytes, str] | None:
        try:
            path = self._path(name)
            data = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return None
        return data, f"{stat.st_ino}-{stat.st_mtime_ns}"

    def create(self, name: str, body: bytes) -> bool:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_bytes(body)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic create-only: the body is complete before the name exists
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, name: str, body: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_bytes(body)
        os.replace(tmp, path)

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        folder = base if base.is_dir() else base.parent
        if not folder.is_dir():
            return []
        names = [str(p.relative_to(self.root)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
        return sorted(n for n in names if n.startswith(prefix))

"""The directory store: the content-addressed blobs of `layout`, under one root, one door in.

Everything a reader can see under blobs/ is a verified blob: bytes enter only
through `writer.BlobWriter`.  A blob written afterwards (it is a file) is caught
by `proven`, which every fetch asks instead of trusting presence (`proofs`).
Resume without trusting locks: an interrupted writer's temp file is named
`tmp/<sha256>.<pid>.<random>.part`.  A later writer adopts it by renaming it to
its own unique name (atomic: of two adopters only one succeeds) once the owner
process is gone, re-hashes the prefix and appends.
Only a regular file no larger than the writer's limit is adopted: anything else
under such a name (a FIFO, which would block the read, a link to /dev/zero, which
would never end it, a folder, a sparse file of terabytes) is left where it is.
Locks (`flock`) only keep two processes from downloading the same blob at once;
if one is broken, the cost is bandwidth, never a wrong blob.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import cancel
from ..config import HubConfig
from ..durable import pid_alive
from ..errors import LockTimeout, PolicyError, StoreError
from ..places import cache_dir
from ..progress import SILENT, Progress
from ..textdecode import open_regular
from . import layout, proofs
from .blobstore import BlobInfo, Stored
from .hashing import CHUNK
from .writer import BlobWriter, HashingPipeline, copy_stream

_PREFIX = re.compile(r"[0-9a-f]{2}")
_PART = re.compile(r"(?P<digest>[0-9a-f]{64})\.(?P<pid>[0-9]+)\.[0-9a-f]+\.part")


class DirectoryStore:
    """A `BlobStore` in a folder; also the local store every fetch, golden run and publish reads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- layout -----------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        layout.check_digest(digest)
        # one string format instead of four Path joins: this runs once per asset on every publish
        return Path(f"{self.root}/{layout.blob_rel(digest)}")

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def ensure(self, *folders: Path) -> None:
        """Create folders of the store, or say why the store cannot be used."""
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                where = "" if folder == self.root else f" {folder.relative_to(self.root)} in"
                # exist_ok: what exists there (or above it) is not a folder
                why = "a file is in the way" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror
                raise StoreError(f"cannot create{where} the store at {self.root}: {why}",
                                 hint="choose another place with --store or HUBTOOL_HOME, or remove "
                                      "what is in the way") from exc

    def unique_tmp(self, digest: str) -> Path:
        """A temp file name no other writer uses: the digest, this pid, and a random part (os.urandom, which is
        what secrets.token_hex reads: importing secrets, with hmac and random, was ~4 ms of a replay)."""
        return self.tmp_dir / f"{digest}.{os.getpid()}.{os.urandom(6).hex()}.part"

    # --- reading ----------------------------------------------------------------
    def stat(self, digest: str) -> BlobInfo | None:
        """The blob, if a regular file holds its name (a folder or a FIFO there is a stranger, not a blob)."""
        path = self.blob_path(digest)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return BlobInfo(digest, st.st_size, str(path)) if stat.S_ISREG(st.st_mode) else None

    def proven(self, digest: str, on_rotten: Callable[[str], None] | None = None, *,
               progress: Progress = SILENT) -> BlobInfo | None:
        """The blob, if a regular file holds its name and its bytes are its name's (`proofs`: by the status they
        were proved at, else hashed now).  A file there holding other bytes is removed, `on_rotten` hears it,
        and the blob is not there: a fetch brings the right bytes back.  StoreError when it cannot be read, or
        cannot be removed.  `progress` hears a hash's bytes."""
        path = self.blob_path(digest)
        looked = proofs.examine(self.root, digest, path, progress=progress)
        if looked is None:
            return None
        found, rotten = looked
        if rotten is None:
            return BlobInfo(digest, found.st_size, str(path))
        try:
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) == (rotten.found.st_dev, rotten.found.st_ino):  # not a blob stored since
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"blob {digest[:12]}… in the store at {self.root} holds other bytes (they hash to "
                             f"{rotten.actual[:12]}…) and cannot be removed: {exc.strerror}",
                             hint="remove it by hand, or run `hubtool store verify --repair`") from exc
        proofs.forget_proof(self.root, digest)
        if on_rotten is not None:
            on_rotten(f"blob {digest[:12]}… in the store had been changed since it was stored (its bytes hash to "
                      f"{rotten.actual[:12]}…): removed, to be fetched again")
        return None

    def has(self, digest: str) -> bool:
        """Whether the blob is there with its bytes (`proven`)."""
        return self.proven(digest) is not None

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every blob: a regular file named by a digest in the folder of its first two hex digits."""
        for path, why in self._entries():
            if why is None:
                yield BlobInfo(path.name, path.lstat().st_size, str(path))

    def strangers(self) -> Iterator[tuple[Path, str]]:
        """Everything under blobs/ that is not a blob, and why (reported by verify, skipped by all else)."""
        for path, why in self._entries():
            if why is not None:
                yield path, why

    def _entries(self) -> Iterator[tuple[Path, str | None]]:
        base = self.root / layout.BLOBS_PREFIX
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            if not sub.is_dir() or sub.is_symlink() or not _PREFIX.fullmatch(sub.name):
                yield sub, "not a blob folder (two hex digits)"
                continue
            for path in sorted(sub.iterdir()):
                yield path, _why_not_a_blob(path, sub.name)

    def verify(self, digest: str, on_bytes: Callable[[int], None] | None = None) -> str | None:
        """Re-hash a blob; returns the actual digest when it does not match its name.  StoreError when it cannot
        be read, or is no longer a regular file (swapped since it was listed)."""
        path = self.blob_path(digest)
        taken_at = time.time_ns()  # before the hash: a write after this cannot pass for settled
        actual, hashed = proofs.hash_blob(path, on_bytes)
        if actual == digest:
            proofs.keep_proof(self.root, digest, hashed, taken_at)  # the next fetch need not hash it again
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

    # --- the door ---------------------------------------------------------------
    def writer(self, digest: str, *, source: str, resume: bool = True, keep_bad: bool = False,
               max_bytes: int | None = None) -> BlobWriter:
        """A new writer for `digest`, adopting an abandoned partial download of at most `max_bytes` when
        `resume`."""
        self.ensure(self.tmp_dir)
        if resume:  # what Ctrl-C says from now on (only a resumable writer's partial is taken up again)
            cancel.note("downloads", "partial downloads are kept and resume on the next run")
        return BlobWriter(self, layout.check_digest(digest), source=source,
                          adopt=self._adopt_partial(digest, max_bytes) if resume else None, keep_bad=keep_bad)

    def put_file(self, digest: str, src: Path, *, source: str, keep_bad: bool = False,
                 max_bytes: int | None = None) -> Stored:
        """Copy a local regular file in through the door (repository assets, the cache into a mirror).

        SpecialFile for a FIFO, device or socket (nothing read); PolicyError past `max_bytes`, checked
        before copying and while copying (a file that grows), so nothing past the cap is written.
        """
        existing = self.proven(digest)
        if existing is not None:
            return Stored(existing, created=False)
        with open_regular(src) as fh:
            size = os.fstat(fh.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise PolicyError(f"{source}: {size:,} bytes is over the hub's limit of {max_bytes:,}", url=source)
            writer = self.writer(digest, source=source, resume=False, keep_bad=keep_bad)
            writer.expect(size)  # a large file goes around the page cache, as a large download does
            try:
                with HashingPipeline(writer) as sink:  # hashed and written on two threads, as a download is
                    copy_stream(fh, sink.put, max_bytes=max_bytes, source=source)
            except BaseException:
                writer.abort()
                raise
        return Stored(writer.commit(), created=True)

    def _adopt_partial(self, digest: str, max_bytes: int | None) -> Path | None:
        if not self.tmp_dir.is_dir():
            return None
        for path in sorted(self.tmp_dir.glob(f"{digest}.*.part")):
            match = _PART.fullmatch(path.name)
            if match is None or pid_alive(int(match["pid"])) or not _resumable(path, max_bytes):
                continue
            mine = self.unique_tmp(digest)
            try:
                os.rename(path, mine)  # atomic: of two adopters only one wins
            except FileNotFoundError:
                continue
            meta = path.with_name(path.name + ".json")
            if _resumable(meta, None):  # a record that is not a file stays behind: the partial's source is unknown
                try:
                    os.rename(meta, mine.with_name(mine.name + ".json"))
                except FileNotFoundError:
                    pass
            return mine
        return None

    # --- maintenance --------------------------------------------------------------
    def remove(self, digest: str) -> None:
        self.blob_path(digest).unlink(missing_ok=True)
        proofs.forget_proof(self.root, digest)

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
             progress: Progress = SILENT) -> Iterator[None]:
        """An exclusive flock per blob, so that two processes do not fetch it twice."""
        folder = self.root / "locks"
        self.ensure(folder)
        fd = os.open(folder / f"{layout.check_digest(digest)}.lock", os.O_CREAT | os.O_RDWR, 0o644)
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
                if not told and waited > notice_after:
                    progress.notice(f"waiting for another process fetching {digest[:12]}…")
                    told = True
                cancel.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _resumable(path: Path, max_bytes: int | None) -> bool:
    """A partial download is a regular file (not a link to one), within the limit of what it is to become."""
    try:
        found = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(found.st_mode) and (max_bytes is None or found.st_size <= max_bytes)


def _why_not_a_blob(path: Path, prefix: str) -> str | None:
    if not layout.HEX64.fullmatch(path.name):
        return "not a blob name (64 hex digits)"
    if not path.name.startswith(prefix):
        return f"a blob name in the wrong folder (belongs in {path.name[:2]}/)"
    mode = path.lstat().st_mode
    return None if stat.S_ISREG(mode) else "not a regular file"


def local_store(config: HubConfig, override: Path | None = None) -> DirectoryStore:
    """The local store: --store, else hub/hub.yaml's `store`, else the cache dir's store."""
    return DirectoryStore(override or config.store or cache_dir() / "store")

"""Whether a blob in a directory store still holds the bytes its name says, without reading it every time.

A blob enters the store only through the door (`writer`), hashed as it streams.  But it is a file,
and a file can be written afterwards (an editor, a stray `cp`, a half-restored backup, a tester), and
then it holds other bytes under its name.  Each blob found present by a fetch, a publish or a mirror
is asked `prove`: its file status (`filestatus.identity`: any write changes its ctime) against its
proof, the status it had when its bytes last hashed to its name.  The same status: the bytes are
those.  Another status, or no proof: the blob is hashed again now, and either its bytes are its
name's (a proof is kept for next time) or they are not (`Rotten`: the caller removes it, as
`store verify --repair` does, and fetches it again).

As for every status that stands for bytes (`filestatus`), a proof is kept only once the blob has
settled: a blob written a moment ago is hashed again at its next use, once.  Bytes changed beneath
the file system (bit rot, which changes no status) are `store verify`'s to find.  A proof is a small
file beside the blobs (proofs/<2 hex>/<64 hex>): a damaged, foreign or special file there proves
nothing, and costs one more hash.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..errors import SpecialFile, StoreError
from ..filestatus import identity, settled
from ..progress import SILENT, Progress
from ..textdecode import read_intact
from .hashing import hash_regular
from .layout import HEX64, blob_rel

PROOFS = "proofs"
#: an identity is ~60 bytes: anything much larger in a proof's place is not one
MAX_PROOF_BYTES = 256
#: the blobs this process stored or hashed, by path: the status they had then (`vouch`)
_VOUCHED: dict[str, str] = {}


class Rotten(NamedTuple):
    """A blob whose bytes do not hash to its name."""

    actual: str  # what they hash to
    found: os.stat_result  # the status of the file that was hashed (the one to remove, and no other)


def proof_path(root: Path, digest: str) -> Path:
    return Path(f"{root}/{PROOFS}/{digest[:2]}/{digest}")


def prove(root: Path, digest: str, path: Path, found: os.stat_result, *,
          progress: Progress = SILENT) -> Rotten | None:
    """None when the blob at `path` (status `found`) holds the bytes of `digest`: by its proof, else by hashing
    it now (its bytes reported to `progress` as they are hashed: a store of terabytes without proofs, the first
    run after an upgrade, is hashed blob by blob); else what it holds.  StoreError when it cannot be read."""
    status = identity(found)
    if _VOUCHED.get(str(path)) == status:
        return None
    proof = proof_path(root, digest)
    if _proof(proof) == status:
        return None
    taken_at = time.time_ns()  # before the hash: a write after this cannot pass for settled
    progress.transfer_started(digest, f"checking {digest[:12]}… in the store")
    progress.transfer_sized(digest, found.st_size, 0)
    try:
        actual, hashed = hash_blob(path, lambda n: progress.transferred(digest, n))
    finally:
        progress.transfer_done(digest)
    if actual != digest:
        return Rotten(actual, hashed)
    if identity(hashed) == status:  # the file hashed is the one whose status was given
        _VOUCHED[str(path)] = status
        if settled(hashed, taken_at):
            _write_proof(proof, status)
    return None


def examine(root: Path, digest: str, path: Path, *,
            progress: Progress = SILENT) -> tuple[os.stat_result, Rotten | None] | None:
    """The blob at `path`: None when no regular file holds its name (a folder or a FIFO there is a stranger, not
    a blob), else its status and what `prove` says of it.  StoreError when it cannot be looked at or read."""
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # EACCES on its folder, EIO: not "missing", which would fetch it over what is there
        raise StoreError(f"blob {digest[:12]}… in the store cannot be looked at: {exc.strerror or exc}",
                         hint="check the store's permissions and disk") from exc
    if not stat.S_ISREG(found.st_mode):
        return None
    return found, prove(root, digest, path, found, progress=progress)


def vouch(path: Path) -> None:
    """The blob at `path` was just stored by this process, its bytes hashed on their way in: for the rest of the
    run its status stands for them, though no proof can be kept yet (a run that fetches a model and then runs it
    hashed it twice).  The window this leaves, a write by another process in the same tick of the file
    system's clock as the status taken here, is the one git leaves within a command; across runs the rule of
    settled proofs holds."""
    try:
        _VOUCHED[str(path)] = identity(os.lstat(path))
    except OSError:
        pass


def keep_proof(root: Path, digest: str, hashed: os.stat_result, taken_at_ns: int) -> None:
    """Keep a proof for a blob whose bytes hashed to `digest` from `taken_at_ns` on (store verify), under the status
    of the very file that was hashed (`hash_blob`'s): a file put in its place since has another status, and is
    hashed at its next use."""
    if settled(hashed, taken_at_ns):
        _write_proof(proof_path(root, digest), identity(hashed))


def forget_proof(root: Path, digest: str) -> None:
    """Drop the blob's proof (the blob is removed).  One that cannot be removed is harmless: it names a status
    no new blob can have (a new inode, a new ctime)."""
    try:
        proof_path(root, digest).unlink()
    except OSError:
        pass


def forget_orphans(root: Path) -> int:
    """Remove the proofs whose blob is gone (removed by hand, or by a hubtool without proofs); how many.  Only
    hubtool's own entries: a file named by a digest; anything else under proofs/ is left where it is."""
    removed = 0
    try:
        folders = sorted((root / PROOFS).iterdir())
    except OSError:
        return 0
    for folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            entries = sorted(folder.iterdir())
        except OSError:  # unreadable: its proofs stay, and cost nothing but their bytes
            continue
        for proof in entries:
            if not HEX64.fullmatch(proof.name) or not proof.name.startswith(folder.name):
                continue
            try:
                if stat.S_ISREG(os.lstat(Path(f"{root}/{blob_rel(proof.name)}")).st_mode):
                    continue
            except OSError:
                pass  # no blob
            try:
                proof.unlink()
                removed += 1
            except OSError:  # a folder under a proof's name, an unwritable store: left as it is
                pass
    return removed


def _write_proof(path: Path, text: str) -> None:
    """Write a proof in place.  It is a cache: one torn by a crash, or by two writers at once, proves nothing and
    costs a hash; a temp file and a rename for each doubled the cost of proving a store of small blobs the first
    time (30 -> 14 µs a proof here).  A read-only store, or a stranger in the proof's place (a link is not
    followed, a FIFO not waited on, a folder not written into), only costs that hash next time."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:  # the first proof of its two-hex folder
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o644)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.write(fd, text.encode("ascii"))
    except OSError:
        pass
    finally:
        os.close(fd)


def _proof(path: Path) -> str | None:
    try:
        data = read_intact(path, MAX_PROOF_BYTES)
    except OSError:
        return None
    try:
        return None if data is None else data.decode("ascii")
    except UnicodeDecodeError:
        return None


def hash_blob(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, os.stat_result]:
    """`hashing.hash_regular` of a blob, with what keeps it from being hashed said as a StoreError: it is no longer a
    regular file, or it cannot be read (EIO: the caller fails that blob alone)."""
    try:
        return hash_regular(path, on_bytes)
    except SpecialFile as exc:
        raise StoreError(f"{path} is {exc.what}, not a blob", hint="`hubtool store verify` lists such entries; "
                         "remove it by hand") from exc
    except OSError as exc:
        raise StoreError(f"blob {path.name[:12]}… in the store cannot be read: {exc.strerror or exc}",
                         hint="check the disk; `hubtool store verify` re-hashes every blob") from exc

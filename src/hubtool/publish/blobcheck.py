"""`publish --with-assets` publishes only bytes that hash to their name.

The published generation hard-links the store's blobs, so a blob changed in
the store after it was verified (bit rot, a stray editor, a tamperer) would be
published as it is.  Every blob a published card references is hashed again
before the generation is built; a card with a bad one is held back.  The hash
is remembered in the ledger under the file's status (`filestatus`: device,
inode, size, mtime and ctime, which user space cannot set back), so an
unchanged store costs one stat per blob on a re-run; a blob written just
before its status was taken is hashed again next time (git's racy entries).
"""

from __future__ import annotations

import os
import time

from ..assets import layout
from ..assets.store import DirectoryStore
from ..assets.writer import hash_file
from ..durable import JSONObject
from ..filestatus import identity, settled
from .ledger import key_of
from .runs import CardRun
from .steps import StepContext


def hold_back_bad_blobs(runs: list[CardRun], store: DirectoryStore, ctx: StepContext) -> None:
    """Hold back every published card one of whose blobs (assets, translations) is missing or changed."""
    verdicts: dict[str, str | None] = {}
    for run in runs:
        if not run.published:
            continue
        for digest in _digests(run):
            if digest not in verdicts:
                verdicts[digest] = blob_problem(digest, store, ctx)
            problem = verdicts[digest]
            if problem is not None:
                run.published = False
                run.held_because = (f"publish: the store's copy of blob {digest[:12]}… {problem}; run "
                                    "`hubtool store verify --repair`, then publish again")
                break


def carried_blobs(carried: list[JSONObject], store: DirectoryStore, ctx: StepContext) -> set[str]:
    """The blobs carried-over entries name that the store holds, verified; the others lose their path."""
    keep: set[str] = set()
    for doc in carried:
        assets = doc.get("assets")
        for asset in assets if isinstance(assets, list) else []:
            if not isinstance(asset, dict) or not asset.get("path") or not isinstance(asset.get("sha256"), str):
                continue
            digest = str(asset["sha256"])
            if layout.HEX64.fullmatch(digest) and blob_problem(digest, store, ctx) is None:
                keep.add(digest)
            else:
                asset["path"] = None  # not in this generation: only the origin and mirrors serve it
    return keep


def _digests(run: CardRun) -> list[str]:
    found = [a.sha256 for a in run.assets if a.sha256]
    translated = run.golden.translated if run.golden else None
    if translated and isinstance(translated.get("sha256"), str):
        found.append(str(translated["sha256"]))
    return found


def blob_problem(digest: str, store: DirectoryStore, ctx: StepContext) -> str | None:
    """Why the store's blob cannot be published (missing, changed), or None when it hashes to its name."""
    path = store.blob_path(digest)
    taken_at = time.time_ns()
    try:
        st = os.stat(path)
    except OSError:
        return "is missing"
    key = key_of("blob", digest, identity(st))
    if ctx.cached(key) is not None:
        return None
    actual = hash_file(path)
    if actual != digest:
        return f"hashes to {actual[:12]}… (changed on disk since it was verified)"
    if settled(st, taken_at):
        ctx.ledger.record(key, "blob", "passed", {"size": st.st_size})
    return None

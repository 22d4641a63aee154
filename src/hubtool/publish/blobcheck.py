"""`publish --with-assets` publishes only bytes that hash to their name.

The published generation hard-links the store's blobs, so a blob changed in
the store after it was verified (bit rot, a stray editor, a tamperer) would be
published as it is.  Every blob a published card references is hashed again
before the generation is built; a card with a bad one is held back.  The hash
is the store's proof (`assets.proofs`, kept under the file's status: device,
inode, size, mtime and ctime, which user space cannot set back), so an
unchanged store costs one stat and one small read per blob on a re-run; a blob
written just before its status was taken is hashed again next time (git's racy
entries).  Unlike a fetch, this step does not remove a changed blob: the card
is held back, and `store verify --repair` is named.
"""

from __future__ import annotations

from ..assets import layout
from ..assets.proofs import examine
from ..assets.store import DirectoryStore
from ..durable import JSONObject
from ..errors import StoreError
from .runs import CardRun


def hold_back_bad_blobs(runs: list[CardRun], store: DirectoryStore) -> None:
    """Hold back every published card one of whose blobs (assets, translations) is missing or changed."""
    verdicts: dict[str, str | None] = {}
    for run in runs:
        if not run.published:
            continue
        for digest in _digests(run):
            if digest not in verdicts:
                verdicts[digest] = blob_problem(digest, store)
            problem = verdicts[digest]
            if problem is not None:
                run.published = False
                run.held_because = (f"publish: the store's copy of blob {digest[:12]}… {problem}; run "
                                    "`hubtool store verify --repair`, then publish again")
                break


def carried_blobs(carried: list[JSONObject], store: DirectoryStore) -> set[str]:
    """The blobs carried-over entries name that the store holds, verified; the others lose their path."""
    keep: set[str] = set()
    for doc in carried:
        assets = doc.get("assets")
        for asset in assets if isinstance(assets, list) else []:
            if not isinstance(asset, dict) or not asset.get("path") or not isinstance(asset.get("sha256"), str):
                continue
            digest = str(asset["sha256"])
            if layout.HEX64.fullmatch(digest) and blob_problem(digest, store) is None:
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


def blob_problem(digest: str, store: DirectoryStore) -> str | None:
    """Why the store's blob cannot be published (missing, changed, unreadable), or None when it holds the bytes
    of its name."""
    try:
        looked = examine(store.root, digest, store.blob_path(digest))
    except StoreError as exc:
        return f"cannot be read ({exc.message})"
    if looked is None:
        return "is missing"
    rotten = looked[1]
    return None if rotten is None else f"hashes to {rotten.actual[:12]}… (changed on disk since it was verified)"

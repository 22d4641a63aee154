"""A re-publish of a hub where nothing changed: the last run, replayed whole.

A re-run of an unchanged hub does no step (every pass is in the ledger) but still looks each
card's verdicts up, decodes them, runs the cross-card rules and writes the index again to find
it equal to the published one: ~7x the least it must do, which is to read and hash every card.
So a run that could only repeat itself is remembered whole, in the local ledger, and a re-run
that finds the same inputs replays it: the same report, the same exit status, nothing written.

What must be the same (else the run takes the normal path, which is always right):
- the run key: hubtool's code, the check fingerprint (schema, hub.yaml, baseline, golden.yaml
  files), the runtimes' identities, the record versions, the options, and every card's file,
  display path, hub path and check key (its bytes and its twin's) in order;
- every blob the cards reference, by its file identity in the store (device, inode, size,
  mtime, ctime: any write changes ctime), and so every repository-path asset's file in the hub;
- the golden sets' content hashes and the network folders' digests the golden verdicts used;
- the target's published index (a publisher elsewhere changes it), and the ledger itself: a
  row recorded after the remembered run (by any run), or one deleted, makes it stale.

A replay does not read the cards whose file status is the one the last normal run found
(`carddigests`, as git's index does): the status stands for the bytes.  When every card's does (and
the working directory is the same), the statuses stand for the run key: no card is keyed either
(`recall_unread`, which `replay.py` tries before the pipeline is even imported).  Likewise a blob's
or a repository file's status only stands for its bytes once it has settled (`filestatus.settled`):
a run right after a fetch is not remembered, the next one is.

Only a run that is bound to repeat itself is remembered: every card published and verified
(an internal error in a step holds its card back), each check and golden pass served from the
ledger, every asset already in the store, and the commit "unchanged".  A card held back is looked at again on every run,
as failures always are.  Never with --no-cache, --shard, --merge or --executor, nor for a target
that cannot say what it holds cheaply (S3: `S3Target.state`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..assets.inspect import INSPECTOR
from ..assets.store import DirectoryStore
from ..cards.places import card_places
from ..codeidentity import code_identity
from ..config import HubConfig
from ..durable import JSON, JSONObject
from ..errors import GoldenSetError, NetworkSourceError
from ..filestatus import identity, settled
from ..golden.sets import GoldenSets
from ..legacy import TRANSLATOR_VERSION
from .blobstatus import blob_path, same_blobs
from .carddigests import CardDigests, Keyed, current_status, status_listing
from .ledger import Ledger, key_of
from .runrecord import runs_from, runs_record
from .runs import GOLDEN_RECORD, STEPS, CardRun, PublishOptions
from .target import PublishTarget

#: what a remembered run holds; another value is not read
RECORD = 2
STEP = "hub-run"


def applies(options: PublishOptions, *, distributed: bool) -> bool:
    """Whether this run may replay (or be remembered): a plain, cached run on this machine."""
    return not (options.no_cache or options.shard is not None or options.merge or distributed)


class Recalled(NamedTuple):
    runs: list[CardRun]
    where: str  # the generation that is published


class RunMemory:
    """The remembered run of one hub, target and store; it replays under the run key of this run's inputs."""

    def __init__(self, ledger: Ledger, config: HubConfig, options: PublishOptions, store: DirectoryStore, *,
                 fingerprint: str, runtimes: dict[str, str]) -> None:
        self.ledger = ledger
        self.store = store
        destination = options.to if isinstance(options.to, str) else os.path.abspath(options.to)
        self.slot = key_of(STEP, os.path.abspath(config.root), str(destination), os.path.abspath(store.root))
        self.inputs: list[JSON] = [code_identity(), fingerprint, dict(runtimes), INSPECTOR, TRANSLATOR_VERSION,
                                   GOLDEN_RECORD, options.offline, options.allow_unverified, options.with_assets,
                                   options.ledger]
        self.root = config.root
        self.cards: Sequence[Keyed] = ()  # the normal path's (`begin`)
        self.by_status: str | None = None  # and its key by the cards' statuses
        found = ledger.newest(self.slot, STEP)
        self.last = found if found is not None and found.get("record") == RECORD else None

    def digests(self) -> dict[str, str]:
        """The cards' digests by file status that the last run kept (`carddigests`), to key this run's cards;
        none when there is no run to replay (they would only be read again)."""
        return self.ledger.statuses(self.slot) if self.last is not None else {}

    def begin(self, cards: Sequence[Keyed], digests: CardDigests) -> None:
        """The normal path begins with these cards (keyed from their bytes by `digests`): the run is remembered
        under them, and under their statuses when every one stands for its bytes.  Their digests by file status
        are kept for the next run now, not held through this one: each stands for its file's bytes by itself,
        whether this run is remembered or not (`carddigests`)."""
        self.cards = cards
        self.by_status = self._status_key(status_listing([card.file for card in cards], digests.status))
        self.ledger.keep_statuses(self.slot, digests.take())

    def _status_key(self, listing: str | None) -> str | None:
        """The run key by the cards' statuses: with the working directory, their display paths are the same."""
        return None if listing is None else key_of(STEP, RECORD, "by-status", *self.inputs, os.getcwd(), listing)

    def key(self, cards: Sequence[Keyed]) -> str:
        """The run key of these inputs with these cards."""
        listing = hashlib.sha256()
        for card in cards:  # its file, display path, hub path and check key, in the run's order
            listing.update("\0".join(card).encode("utf-8", "surrogateescape") + b"\n")
        return key_of(STEP, RECORD, *self.inputs, listing.hexdigest())

    def recall_unread(self, files: Sequence[str], target: PublishTarget, sets: GoldenSets) -> Recalled | None:
        """The last run, if every card's file status (and every other input) is the one it had, and nothing it
        depended on moved since; else None.  No card is read or keyed: a replayed run's `check_key` is ""."""
        doc = self.last
        if doc is None or doc.get("by-status") is None:
            return None
        if doc["by-status"] != self._status_key(status_listing(files, current_status)):
            return None
        places = card_places(files, self.root)
        keyed = [Keyed(f, display, card, "") for f, (display, card) in zip(files, places, strict=True)]
        return self._recall(doc, keyed, target, sets)

    def recall(self, cards: Sequence[Keyed], target: PublishTarget, sets: GoldenSets) -> Recalled | None:
        """The last run, if it had these inputs and nothing it depended on moved since; else None."""
        doc = self.last
        if doc is None or doc.get("key") != self.key(cards):
            return None
        return self._recall(doc, cards, target, sets)

    def _recall(self, doc: dict[str, Any], cards: Sequence[Keyed], target: PublishTarget,
                sets: GoldenSets) -> Recalled | None:
        """The last run (its run key is this one's) with these cards, if nothing it depended on moved since."""
        if doc.get("verdicts") != self.ledger.others(STEP):
            return None  # a verdict was deleted: the normal run does that step again
        state = target.state()
        if state is None or [state.where, state.digest] != doc.get("target"):
            return None
        blobs, golden, files = doc.get("blobs"), doc.get("golden"), doc.get("files")
        if not isinstance(blobs, dict) or not isinstance(golden, dict) or not isinstance(files, dict):
            return None
        if not same_blobs(self.store.root, blobs) or not _same_golden(golden, sets):
            return None
        if any(_text(_regular(f)) != found for f, found in files.items()):
            return None  # a repository-path asset's file (HUB405): gone or written since
        try:
            runs = runs_from(doc, cards)
        except (KeyError, TypeError, ValueError, IndexError):
            return None  # not what this version writes: the normal path, which remembers it afresh
        return Recalled(runs, state.where)

    def remember(self, runs: list[CardRun], target: PublishTarget, golden: dict[str, str], *, where: str,
                 repo_files: set[str], with_assets: bool) -> None:
        """Keep this run, which found the generation `where` unchanged, if it is bound to repeat itself
        (`repeats`); else forget the last one."""
        state = target.state()
        # another publisher's generation since this run's commit: these runs do not describe what it holds (and
        # an index written a moment ago: its status may not stand for its bytes yet)
        if state is None or state.where != where or not state.settled or not repeats(runs):
            self.ledger.forget(self.slot)  # what it said may no longer be what a run finds
            return
        digests = sorted({d for r in runs for d in r.fetched}
                         | ({str(r.golden.translated["sha256"]) for r in runs if r.golden and r.golden.translated
                             and "sha256" in r.golden.translated} if with_assets else set()))
        now = time.time_ns()  # before the statuses: a file written after this cannot pass for settled
        blobs = _settled_texts({d: blob_path(self.store.root, d) for d in digests}, now)
        files = _settled_texts({f: f for f in sorted(repo_files)}, now)
        if blobs is None or files is None:
            # just fetched or copied: a write in the same tick of the clock would not show in the status
            self.ledger.forget(self.slot)
            return
        self.ledger.keep_local(self.slot, STEP, {
            "record": RECORD, "key": self.key(self.cards), "by-status": self.by_status,
            "target": [state.where, state.digest], "verdicts": self.ledger.others(STEP), "blobs": blobs,
            "golden": dict(golden), "files": files, **runs_record(runs)})


def _regular(path: str) -> os.stat_result | None:
    """A regular file's status; None for anything else, or nothing."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _settled_texts(paths: dict[str, str | None], now: int) -> JSONObject | None:
    """Each path's status as the record keeps it (None: no regular file there), by the name given; None when
    one was written too recently for its status to stand for its bytes (`filestatus.settled`).  As text
    straight away: 10k blobs' stat results were the peak of the run that remembers them."""
    texts: JSONObject = {}
    for name, path in paths.items():
        found = None if path is None else _regular(path)
        if found is not None and not settled(found, now):
            return None
        texts[name] = _text(found)
    return texts


def _text(found: os.stat_result | None) -> str | None:
    """As the record keeps a status (`filestatus.identity`: any write changes its ctime)."""
    return None if found is None else identity(found)


def repeats(runs: list[CardRun]) -> bool:
    """Whether the next run with the same inputs is bound to give exactly this run's report."""
    for run in runs:
        if not (run.published and run.verified):
            return False  # a held-back card is looked at again on every run
        check, fetch, inspect, golden = (run.steps.get(name) for name in STEPS)
        if check is None or not (check.status == "passed" and check.cached):
            return False  # a check passed afresh is served from the ledger next time: another report
        if fetch is None or fetch.status not in ("passed", "skipped") or inspect is None:
            return False
        if any(f.action != "present" for f in run.fetched.values()):
            return False
        if golden is None or not (golden.status == "skipped" or (golden.status == "passed" and golden.cached)):
            return False
    return True


def _same_golden(golden: dict[str, Any], sets: GoldenSets) -> bool:
    """The golden sets' content and the network folders' code, as the remembered verdicts had them."""
    for name, digest in golden.items():
        kind, _, what = name.partition(":")
        if kind == "set":
            try:
                found = sets.get(what).content_sha256
            except GoldenSetError:
                return False
        elif kind == "network":
            from ..golden.network import folder_digest  # with its fetching code (~20 ms): for network cards only

            try:
                found = folder_digest(Path(what))
            except (OSError, NetworkSourceError):  # gone, or no longer code: the pipeline says which
                return False
        else:
            return False
        if found != digest:
            return False
    return True

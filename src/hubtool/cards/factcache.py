"""The facts of every card of the hub, cached, so that a pre-commit run on a few cards still applies
the cross-card rules against all of them in a fraction of a second.

`check/<hub>.json` under the store (hub.yaml `store:`, else hubtool's cache dir) maps each
card's absolute path to one row: its file status (`filestatus`: device, inode, size, mtime and
ctime, so that a card rewritten with its size and mtime kept is still seen) and its facts; a
card whose status changed, or that was written just before its status was taken, is read
again.  The cache is keyed on what the facts depend on (hubtool's version and the card
schema), written atomically, and only ever a cache: a broken or stale file is rebuilt, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..config import HubConfig
from ..durable import JSON, JSONObject, canonical, write_atomic
from ..filestatus import identity, settled
from ..places import cache_dir
from .crosscard import CardFacts
from .places import absolute_paths, within

FORMAT = 3  # rows of [file status or None, facts row or None]


def _stat(path: str, taken_at_ns: int) -> str | None:
    """The file's status, if it may stand for its bytes next time (`filestatus.settled`); else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return identity(st) if settled(st, taken_at_ns) else None


class FactsCache:
    def __init__(self, config: HubConfig, schema: JSONObject) -> None:
        hub = hashlib.sha256(os.path.abspath(config.root).encode()).hexdigest()[:16]
        self.file = (config.store or cache_dir() / "store") / "check" / f"{hub}.json"
        self.key = hashlib.sha256(canonical([__version__, FORMAT, schema])).hexdigest()

    def _read(self) -> JSONObject:
        try:
            doc = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        cards = doc.get("cards") if isinstance(doc, dict) and doc.get("key") == self.key else None
        return cards if isinstance(cards, dict) else {}

    def facts(self, files: list[str], fresh: dict[str, CardFacts | None],
              examine: Callable[[list[str]], list[CardFacts | None]]) -> list[CardFacts]:
        """The facts the cross-card rules need to judge the `fresh` cards (just checked) against every file:
        theirs, those of every cached card that shares a key with one of them (identity, folder and SHA-256,
        link: what the rules compare), and those `examine` reads again (all misses at once, so that a first
        run on a big hub can spread them over the CPUs).  The other cached cards cannot change a finding on
        a fresh card, so their rows are not even decoded (a pre-commit run on a 3,000-card hub)."""
        cached = self._read()
        related = _Keys([f for f in fresh.values() if f is not None])
        cwd = os.getcwd() + os.sep  # display paths as validate.display_path gives them, without a getcwd per card
        known: dict[str, CardFacts | None] = {}
        entries: JSONObject = {}  # the cache as it will be: hits keep their stored row as it is
        misses: list[tuple[str, str, str | None]] = []
        taken_at = time.time_ns()
        for path, absolute in zip(files, absolute_paths(files), strict=True):
            display = within(absolute, cwd)
            stat = _stat(absolute, taken_at)  # before any read: a card edited meanwhile is a miss next time
            if display in fresh:
                known[path] = fresh[display]
                entries[absolute] = _row(stat, fresh[display])
                continue
            row = cached.get(absolute)
            hit = self._cached(row, stat, display, related)
            if hit:
                known[path] = hit.facts
                entries[absolute] = row
            else:
                misses.append((path, absolute, stat))
        for (path, absolute, stat), facts in zip(misses, examine([m[0] for m in misses]) if misses else [],
                                                  strict=True):
            known[path] = facts
            entries[absolute] = _row(stat, facts)
        if entries != cached:  # a commit of one card rewrites the cache; a re-run leaves it be
            self._write(entries)
        return [f for f in (known[path] for path in files) if f is not None]

    @staticmethod
    def _cached(row: JSON, stat: str | None, display: str, related: _Keys) -> _Hit | None:
        """The cached facts if the file is unchanged since (no facts when they cannot matter); None (a miss)
        otherwise, and for a row that is not what this module writes."""
        if not isinstance(row, list) or len(row) != 2 or stat is None or row[0] != stat:
            return None
        if row[1] is None:
            return _Hit(None)  # not an English card that parses: nothing to know
        try:
            if not related.shared_by(row[1]):
                return _Hit(None)
            return _Hit(CardFacts.from_row(row[1], display))
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def _write(self, entries: JSONObject) -> None:
        try:
            data = canonical({"key": self.key, "cards": entries})
        except UnicodeEncodeError:  # a file name that is not UTF-8: that card is read afresh every time
            data = canonical({"key": self.key, "cards": {k: v for k, v in entries.items() if _encodable(k, v)}})
        try:
            write_atomic(self.file, data, durable=False)
        except OSError:
            pass  # a read-only checkout still gets its check, only slower next time


def _encodable(key: str, row: JSON) -> bool:
    try:
        canonical([key, row])
    except UnicodeEncodeError:
        return False
    return True



class _Keys:
    """What the cross-card rules compare, for a set of cards: two cards with none of it in common cannot
    produce a finding on each other (crosscard.py: identity, SHA-256 within a folder, link)."""

    def __init__(self, facts: list[CardFacts]) -> None:
        self.identities = {f.identity for f in facts if f.identity is not None}
        self.hashes = {(f.folder, a.sha256) for f in facts for a in f.assets}
        self.links = {a.link for f in facts for a in f.assets}

    def shared_by(self, row: JSON) -> bool:
        """Whether a cached facts row (CardFacts.to_row) shares a key; TypeError/IndexError if it is no row."""
        fields: Any = row  # hubtool's own cache row: indexed as written, checked by the exceptions
        folder, ident, assets = fields[0], fields[2], fields[5]
        if ident is not None and (str(ident[0]), str(ident[1]), str(ident[2])) in self.identities:
            return True
        return any((folder, a[1]) in self.hashes or a[2] in self.links for a in assets)


def _row(stat: str | None, facts: CardFacts | None) -> JSON:
    return [stat, facts.to_row() if facts else None]  # no status: a miss next time too


@dataclass(frozen=True)
class _Hit:
    facts: CardFacts | None

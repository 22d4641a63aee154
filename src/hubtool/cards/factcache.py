"""The facts of every card of the hub, cached, so that a pre-commit run on a few cards still applies
the cross-card rules against all of them in a fraction of a second.

`check/<hub>.json` under the store (hub.yaml `store:`, else hubtool's cache dir) maps each
card's path to its stat (size, mtime, inode) and its facts; a card whose stat changed is read
again.  The cache is keyed on what the facts depend on (hubtool's version and the card
schema), written atomically, and only ever a cache: a broken or stale file is rebuilt, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from .. import __version__
from ..config import HubConfig, cache_dir
from ..durable import JSON, JSONObject, canonical, write_atomic
from .crosscard import CardFacts
from .validate import display_path


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class FactsCache:
    def __init__(self, config: HubConfig, schema: JSONObject) -> None:
        hub = hashlib.sha256(os.path.abspath(config.root).encode()).hexdigest()[:16]
        self.file = (config.store or cache_dir() / "store") / "check" / f"{hub}.json"
        self.key = hashlib.sha256(canonical([__version__, schema])).hexdigest()

    def _read(self) -> JSONObject:
        try:
            doc = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        cards = doc.get("cards") if isinstance(doc, dict) and doc.get("key") == self.key else None
        return cards if isinstance(cards, dict) else {}

    def facts(self, files: list[str], fresh: dict[str, CardFacts | None],
              examine: Callable[[list[str]], list[CardFacts | None]]) -> list[CardFacts]:
        """The facts of every file: from `fresh` (just checked), the cache, or `examine` (all misses at once,
        so that a first run on a big hub can spread them over the CPUs)."""
        cached = self._read()
        known: dict[str, CardFacts | None] = {}
        stats: dict[str, list[int] | None] = {}
        absolutes: dict[str, str] = {}
        misses: list[str] = []
        for path in files:
            absolute = absolutes[path] = os.path.abspath(path)
            display = display_path(absolute)
            stats[path] = _stat(path)  # before any read: a card edited meanwhile is a miss next time
            if display in fresh:
                known[path] = fresh[display]
                continue
            hit = self._cached(cached.get(absolute), stats[path], display)
            if hit:
                known[path] = hit.facts
            else:
                misses.append(path)
        known.update(zip(misses, examine(misses), strict=True) if misses else ())
        entries: JSONObject = {}
        for path in files:
            facts = known[path]
            stat = stats[path]
            entries[absolutes[path]] = {"stat": list(stat) if stat else None,
                                        "facts": facts.to_json() if facts else None}
        if entries != cached:  # a commit of one card rewrites the cache; a re-run leaves it be
            self._write(entries)
        return [f for f in (known[path] for path in files) if f is not None]

    @staticmethod
    def _cached(entry: JSON, stat: list[int] | None, display: str) -> _Hit | None:
        """The cached facts if the file is unchanged since; None (a miss) otherwise."""
        if not isinstance(entry, dict) or stat is None or entry.get("stat") != stat:
            return None
        if entry.get("facts") is None:
            return _Hit(None)  # not an English card that parses: nothing to know
        try:
            return _Hit(CardFacts.from_json(entry["facts"], display))
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def _write(self, entries: JSONObject) -> None:
        try:
            write_atomic(self.file, canonical({"key": self.key, "cards": entries}), durable=False)
        except OSError:
            pass  # a read-only checkout still gets its check, only slower next time



@dataclass(frozen=True)
class _Hit:
    facts: CardFacts | None

"""The facts of every card of the hub, cached, so that a pre-commit run on a few cards still applies
the cross-card rules against all of them in a fraction of a second.

`check/<hub>.facts` under the store (hub.yaml `store:`, else hubtool's cache dir) holds one record
per card of the hub: its absolute path, its file status (`filestatus`: device, inode, size, mtime
and ctime, so that a card rewritten with its size and mtime kept is still seen) and its facts
(CardFacts.to_row as canonical JSON text); a card whose status changed, or that was written just
before its status was taken, is read again.  The cache is keyed on what the facts depend on
(hubtool's version and the card schema), written atomically, and only ever a cache: a broken or
stale file is rebuilt, never trusted.

Fields and records end with NUL, which no path holds and JSON text escapes: the file is split in
one call.  After the records, a line per record lists the digests of its keys (what the cross-card
rules compare: identity, SHA-256, link); a row's JSON is decoded only when one of the checked cards'
key digests is on its line.  A pre-commit run on a 3,000-card hub decodes a handful of 3,000 rows
(a JSON document of them all took longer to parse than the rest of the cache's work together), and
finds them with one search per key in the ~0.2 MB of key lines (searching every row's text for the
keys' texts took 4 ms, a twentieth of the run).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from ..config import HubConfig
from ..durable import JSONObject, canonical, compact_text, parse_json, write_atomic
from ..filestatus import identity, settled
from ..places import cache_dir
from ..textdecode import read_intact
from .crosscard import CardFacts
from .places import within

FORMAT = 5  # "hubtool-facts", FORMAT, key, SHA-256 of the rest; then path, file status, facts row per card,
#            each field ending with NUL; then a line of key digests per record, in the records' order
MAGIC = "hubtool-facts"
_TAG = [MAGIC.encode(), str(FORMAT).encode()]  # the header's first two fields, as read and as written
#: a card's record: its file status ("" if it may not stand for the bytes), the digests of its keys
#: (`key_digests`) and its facts row ("" if none)
Row = tuple[str, str, str]


def _stat(path: str, taken_at_ns: int) -> str:
    """The file's status, if it may stand for its bytes next time (`filestatus.settled`); else ""."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return identity(st) if settled(st, taken_at_ns) else ""


class CacheFile(NamedTuple):
    rows: dict[str, Row]  # by absolute path
    order: list[str]  # the paths in the file's order: the key lines'
    key_lines: str  # a line of digests per record

    def sharing(self, digests: AbstractSet[str]) -> set[str]:
        """The paths of the records with any of these key digests: one search per digest for a few (a
        pre-commit run), else one pass over the lines (each search scans the lines: a run on a whole hub
        has a digest per card or more)."""
        if len(digests) > _SEARCHES_AT_MOST:
            return {path for path, line in zip(self.order, self.key_lines.split("\n"), strict=False)
                    if not digests.isdisjoint(line.split())}
        found: list[int] = []
        for digest in digests:
            at = self.key_lines.find(digest)
            while at != -1:
                found.append(at)
                at = self.key_lines.find(digest, at + DIGEST_CHARS)
        paths: set[str] = set()
        line = last = 0
        for at in sorted(found):  # the line of each hit, counted on from the one before
            line += self.key_lines.count("\n", last, at)
            last = at
            paths.add(self.order[line])
        return paths


_EMPTY = CacheFile({}, [], "")
#: up to this many digests, one search each in the key lines (~0.1 ms on a 3,000-card hub's); beyond, the
#: lines are split and each compared (~5 ms)
_SEARCHES_AT_MOST = 32
#: a 10,000-card hub's cache is ~10 MB: a file far over that is not one this module wrote
MAX_CACHE_BYTES = 1024 * 1024 * 1024


def read_cache(file: Path, key: str | None = None) -> CacheFile:
    """A facts cache file's records; none if it is missing, damaged (its SHA-256 is in its header: a record
    is never half-trusted) or, given `key`, keyed on other facts than these."""
    try:
        data = read_intact(file, MAX_CACHE_BYTES)  # a special file in its place is damage like any other
    except OSError:
        return _EMPTY
    if data is None:
        return _EMPTY
    header, body = _split_header(data)
    if len(header) != 4 or header[:2] != _TAG or (key is not None and header[2] != key.encode()) \
            or header[3] != hashlib.sha256(body).hexdigest().encode():
        return _EMPTY
    fields = str(body, "utf-8", "surrogateescape").split("\0")
    key_lines = fields[-1]
    lines = key_lines.split("\n")
    count = (len(fields) - 1) // 3
    if len(fields) % 3 != 1 or len(lines) != count + 1 or lines[-1] != "":
        return _EMPTY
    order = fields[0:-1:3]
    rows = {order[i]: (fields[3 * i + 1], lines[i], fields[3 * i + 2]) for i in range(count)}
    return CacheFile(rows, order, key_lines) if len(rows) == count else _EMPTY  # a path twice: not ours


def _split_header(data: bytes) -> tuple[list[bytes], memoryview]:
    """The header's four fields and a view of the records after them (not a copy: the records are most of
    a big hub's 2 MB file); fewer fields if the file is cut short."""
    header: list[bytes] = []
    start = 0
    while len(header) < 4:
        end = data.find(b"\0", start)
        if end == -1:
            break
        header.append(data[start:end])
        start = end + 1
    return header, memoryview(data)[start:]


class FactsCache:
    def __init__(self, config: HubConfig, schema: JSONObject) -> None:
        hub = hashlib.sha256(os.path.abspath(config.root).encode()).hexdigest()[:16]
        self.file = (config.store or cache_dir() / "store") / "check" / f"{hub}.facts"
        self.key = hashlib.sha256(canonical([__version__, FORMAT, schema])).hexdigest()

    def facts(self, files: list[str], absolute: list[str], fresh: dict[str, CardFacts | None],
              examine: Callable[[list[str]], list[CardFacts | None]]) -> list[CardFacts]:
        """The facts the cross-card rules need to judge the `fresh` cards (just checked) against every file
        (`absolute`: the files' places.absolute_paths): theirs, those of every cached card that shares a key
        with one of them (identity, folder and SHA-256, link: what the rules compare), and those `examine`
        reads again (all misses at once, so that a first run on a big hub can spread them over the CPUs).
        The other cached cards cannot change a finding on a fresh card, so their rows are not even decoded
        (a pre-commit run on a 3,000-card hub)."""
        cache = read_cache(self.file, self.key)
        cached = cache.rows
        related = _Keys([f for f in fresh.values() if f is not None], cache)
        cwd = os.getcwd() + os.sep  # display paths as validate.display_path gives them, without a getcwd per card
        known: dict[str, CardFacts | None] = {}
        entries: dict[str, Row] = {}  # the cache as it will be: hits keep their stored record as it is
        misses: list[tuple[str, str, str]] = []
        taken_at = time.time_ns()
        for path, place in zip(files, absolute, strict=True):
            display = within(place, cwd)
            stat = _stat(place, taken_at)  # before any read: a card edited meanwhile is a miss next time
            if display in fresh:
                known[path] = fresh[display]
                entries[place] = _row(stat, fresh[display])
                continue
            row = cached.get(place)
            if row is not None and stat and row[0] == stat:
                try:
                    known[path] = related.facts(place, row[2], display)
                    entries[place] = row
                    continue
                except (KeyError, TypeError, ValueError, IndexError):
                    pass  # not a row this module writes: read the card again
            misses.append((path, place, stat))
        for (path, place, stat), facts in zip(misses, examine([m[0] for m in misses]) if misses else [],
                                               strict=True):
            known[path] = facts
            entries[place] = _row(stat, facts)
        if entries != cached:  # a commit of one card rewrites the cache; a re-run leaves it be
            self._write(entries)
        return [f for f in (known[path] for path in files) if f is not None]

    def _write(self, entries: dict[str, Row]) -> None:
        try:
            data = self._encoded(entries)
        except UnicodeEncodeError:  # a name no file system gives (a lone surrogate): that card is not kept
            data = self._encoded({path: row for path, row in entries.items() if _storable(path)})
        try:
            write_atomic(self.file, data, durable=False)
            self.file.with_suffix(".json").unlink(missing_ok=True)  # the cache as FORMAT 3 wrote it
        except OSError:
            pass  # a read-only checkout still gets its check, only slower next time

    def _encoded(self, entries: dict[str, Row]) -> bytes:
        body = "".join(f"{path}\0{stat}\0{row}\0" for path, (stat, _, row) in entries.items()) \
            + "".join(f"{keys}\n" for _, keys, _ in entries.values())
        data = body.encode("utf-8", errors="surrogateescape")
        return b"\0".join([*_TAG, self.key.encode(), hashlib.sha256(data).hexdigest().encode(), data])


class _Keys:
    """What the cross-card rules compare, for a set of cards: two cards with none of it in common cannot
    produce a finding on each other (crosscard.py: identity, SHA-256 within a folder, link)."""

    def __init__(self, facts: list[CardFacts], cache: CacheFile) -> None:
        self.identities = {f.identity for f in facts if f.identity is not None}
        self.hashes = {(f.folder, a.sha256) for f in facts for a in f.assets}
        self.links = {a.link for f in facts for a in f.assets}
        # a record without any of these digests on its key line shares no key
        self.digests = {d for f in facts for d in key_digests(f).split()}
        self._cache = cache
        self._sharing: set[str] | None = None  # looked up at the first cached row: never on a whole-hub run

    def facts(self, place: str, text: str, display: str) -> CardFacts | None:
        """The facts of the cached row of `place` if they can matter to the checked cards, else None (its text
        is not decoded when its record has none of their key digests); KeyError, TypeError, ValueError or
        IndexError if it is no row."""
        if self._sharing is None:
            self._sharing = self._cache.sharing(self.digests)
        if not text or place not in self._sharing:
            return None
        row = parse_json(text)
        return CardFacts.from_row(row, display) if self.shared_by(row) else None

    def shared_by(self, row: object) -> bool:
        """Whether a cached facts row (CardFacts.to_row) shares a key; TypeError/IndexError if it is no row."""
        fields: Any = row  # hubtool's own cache row: indexed as written, checked by the exceptions
        folder, ident, assets = fields[0], fields[2], fields[5]
        if ident is not None and (str(ident[0]), str(ident[1]), str(ident[2])) in self.identities:
            return True
        return any((folder, a[1]) in self.hashes or a[2] in self.links for a in assets)


DIGEST_CHARS = 16  # of a key's SHA-256, in hex: a false match (1 in 2**64 a pair) only decodes a row


def key_digests(facts: CardFacts) -> str:
    """The digests of what the cross-card rules compare a card by, space-separated: its identity, and each
    asset's SHA-256 and link (the folder of a SHA-256 is compared once the row is decoded)."""
    keys = {"\0".join(("identity", *facts.identity))} if facts.identity is not None else set()
    for asset in facts.assets:
        keys.update((f"sha256\0{asset.sha256}", f"link\0{asset.link}"))
    return " ".join(sorted(hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_CHARS]
                           for key in keys))


def _row(stat: str, facts: CardFacts | None) -> Row:
    """A card's record; facts with a lone surrogate in them (a YAML escape can write one; a file name's
    undecodable bytes are kept) are not stored, and the card is read again every time."""
    if facts is None:
        return stat, "", ""
    text = compact_text(facts.to_row())
    return (stat, key_digests(facts), text) if _storable(text) else ("", "", "")


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return False
    return True

"""Card documents as their canonical bytes, and a run's documents kept on disk until they are written.

A 10,000-card hub's documents are ~13 MB of JSON; holding them while the index is assembled
and the generation written was a third of an unchanged re-publish's peak memory.  They are
written once, as they are made, to an anonymous temporary file (the page cache's memory,
not the process's) and read back one at a time.
"""

from __future__ import annotations

import json
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from ..durable import JSONObject, compact
from ..errors import StoreError


@dataclass(frozen=True, slots=True)
class Document:
    """A card document held as its canonical bytes, and where the index's `document` field goes in
    them: the index is assembled from documents without decoding any."""

    body: bytes  # compact, without the trailing newline
    split: int  # the offset after the fields whose keys sort before "document"

    @classmethod
    def of(cls, doc: JSONObject, **encoded: bytes) -> Document:
        """`doc`'s fields encoded, plus fields given already encoded (a card's metadata, as its run holds it).

        The plain fields between two given ones (and on either side of where `document` goes) are
        encoded as one object each: a card document costs three encoder calls, not sixteen (a
        10k-card re-publish spent a third of its time here)."""
        if "document" in doc or "document" in encoded:
            raise ValueError("a card document has no `document` field: the index gives it")
        before = _members(doc, {k: v for k, v in encoded.items() if k < "document"}, lambda k: k < "document")
        after = _members(doc, {k: v for k, v in encoded.items() if k > "document"}, lambda k: k > "document")
        head = b"{" + before
        return cls(head + (b"," if before and after else b"") + after + b"}", len(head))

    def encoded(self) -> bytes:
        """The document's canonical bytes: what `canonical` of its dict gives."""
        return self.body + b"\n"

    def named(self, name: str) -> bytes:
        """The document with `"document": name` added, compact: its entry in the index."""
        head, rest = self.body[:self.split], self.body[self.split:].removeprefix(b",")
        return b"".join([head, b"," if self.split > 1 else b"", b'"document":', compact(name),
                         b"," if rest != b"}" else b"", rest])

    def to_json(self) -> JSONObject:
        value: JSONObject = json.loads(self.body)
        return value


def _members(doc: JSONObject, encoded: dict[str, bytes], side: Callable[[str], bool]) -> bytes:
    """The members (`"key":value,...`, no braces) of `doc`'s keys on this side of "document" and the
    given encoded ones, in json's key order: runs of plain keys go through the encoder as one object."""
    keys = sorted([k for k in doc if side(k)] + list(encoded))
    parts: list[bytes] = []
    plain: dict[str, object] = {}
    for key in keys:
        if key in encoded:
            if plain:
                parts.append(compact(plain)[1:-1])
                plain = {}
            parts.append(compact(key) + b":" + encoded[key])
        else:
            plain[key] = doc[key]
    if plain:
        parts.append(compact(plain)[1:-1])
    return b",".join(parts)


def _spill_error(exc: OSError) -> StoreError:
    return StoreError(f"cannot keep the card documents in a temporary file ({tempfile.gettempdir()}): "
                      f"{exc.strerror or exc}", hint="free space there, or point TMPDIR at a disk with room; "
                                                     "nothing was published")


class SpilledDocuments(Sequence[tuple[str, Document]]):
    """(path in a directory hub, document) pairs whose bodies live in an anonymous temporary file.

    `add` them in any order, then `order` them once; the sequence then reads each body back
    with one pread.  Only the paths and three integers per document stay in memory.
    """

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(prefix="hubtool-documents-")  # gone with the process, even killed
        except OSError as exc:
            raise _spill_error(exc) from exc
        self._end = 0
        self._paths: list[str] = []
        self._spans = array("q")  # offset, length, split of each document, as added
        self._order: array[int] | None = None

    def add(self, path: str, doc: Document) -> int:
        """Keep `doc` (on disk) under `path`; returns its slot, for `order`."""
        try:
            self._file.write(doc.body)  # appended; the buffered file writes all of it (os.pwrite may write less)
        except OSError as exc:
            raise _spill_error(exc) from exc
        self._spans.extend((self._end, len(doc.body), doc.split))
        self._end += len(doc.body)
        self._paths.append(path)
        return len(self._paths) - 1

    def paths(self) -> list[str]:
        """Each document's path, in the sequence's order, without reading any body."""
        order = self._order if self._order is not None else range(len(self._paths))
        return [self._paths[slot] for slot in order]

    def order(self, slots: Sequence[int]) -> None:
        """Make the sequence list the documents in this order of their slots (each exactly once)."""
        if sorted(slots) != list(range(len(self._paths))):
            raise ValueError("order() takes every slot exactly once")
        try:
            self._file.flush()  # every document is added by now: a full disk says so here, not at the first read
        except OSError as exc:
            raise _spill_error(exc) from exc
        self._order = array("q", slots)

    def __len__(self) -> int:
        return len(self._paths)

    @overload
    def __getitem__(self, i: int) -> tuple[str, Document]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[str, Document]]: ...

    def __getitem__(self, i: int | slice) -> tuple[str, Document] | Sequence[tuple[str, Document]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        slot = self._order[i] if self._order is not None else range(len(self._paths))[i]
        offset, length, split = self._spans[3 * slot:3 * slot + 3]
        try:
            self._file.flush()  # what add() buffered (a no-op once written)
            body = os.pread(self._file.fileno(), length, offset)
        except OSError as exc:
            raise _spill_error(exc) from exc
        if len(body) != length:  # the temporary file is ours alone: a short read is a disk fault
            raise StoreError(f"the card documents' temporary file was cut short ({len(body)} of {length} bytes)",
                             hint="nothing was published; run again")
        return self._paths[slot], Document(body, split)

    def __iter__(self) -> Iterator[tuple[str, Document]]:
        for i in range(len(self)):
            yield self[i]

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass  # flushing what a full disk refused: the file is anonymous and being let go, nothing is lost

"""Pure: published runs -> card documents and the hub's index (a `Snapshot` any target can write)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..assets import layout
from ..config import Mirror
from ..durable import JSONObject, compact, compact_object
from .runs import CardRun, fact_kind

INDEX_FORMAT = "hubtool-index/1"


@dataclass(frozen=True, slots=True)
class AssetEntry:
    index: int
    file_format: str | None
    sha256: str
    size: int | None
    origin: str
    mirrors: tuple[str, ...] = ()
    path: str | None = None  # inside the published hub, with --with-assets
    kind: str | None = None  # what inspection found
    translated: JSONObject | None = None  # the MSL2 translation of a legacy asset (sha256, translator, path)


@dataclass(frozen=True, slots=True)
class CardEntry:
    card: str  # the card's path in the hub
    title: str | None
    metadata_json: bytes  # compact JSON, as the run holds it
    ident: tuple[str, str, str]  # user-id, model-name, model-version
    assets: tuple[AssetEntry, ...]
    golden: JSONObject
    verified: bool  # False: published with --allow-unverified although golden did not run

    @property
    def metadata(self) -> JSONObject:
        value: JSONObject = json.loads(self.metadata_json)
        return value

    @property
    def document(self) -> str:
        """The card document's path in a directory hub."""
        user, name, version = self.ident
        return f"cards/{user}/{name}@{version}.json"


def entry_for(run: CardRun, *, mirrors: Sequence[Mirror], with_assets: bool) -> CardEntry:
    """The index entry of a published run."""
    translated = run.golden.translated if run.golden else None
    assets = []
    for a in run.assets:
        sha = a.sha256 or ""
        fetched = run.fetched.get(sha)
        extra = None
        if translated and translated.get("from") == sha:
            # users of runtime 2.x can fetch the translation the verdict was obtained on
            t_sha = str(translated["sha256"])
            extra = {"sha256": t_sha, "translator": translated["translator"],
                     "path": layout.blob_rel(t_sha) if with_assets else None}
        assets.append(AssetEntry(a.index, a.file_format, sha, fetched.size if fetched else None, a.link or "",
                                 tuple(layout.by_hash_url(m.url, sha) for m in mirrors if m.layout == "by-hash"),
                                 layout.blob_rel(sha) if with_assets else None,
                                 fact_kind(run.inspected.get(sha, {})), extra))
    golden = run.golden
    summary: JSONObject = {
        "status": run.steps["golden"].status, "reason": run.steps["golden"].reason or None,
        "set": golden.set if golden else None, "correct": golden.correct if golden else None,
        "required": golden.required if golden else None, "cases": golden.cases if golden else None,
        "runtime": golden.runtime if golden else None}
    if golden is not None and golden.ran:
        summary["ran"] = golden.ran
    if translated:
        summary["translated"] = True
    metadata = run.metadata or {}
    return CardEntry(run.card, run.title, run.metadata_json or b"{}", _ident(metadata), tuple(assets), summary,
                     run.verified)


def _ident(m: JSONObject) -> tuple[str, str, str]:
    return (str(m.get("user-id")), str(m.get("model-name")), str(m.get("model-version")))


def card_document(entry: CardEntry) -> Document:
    metadata = entry.metadata_json
    if b"NaN" in metadata or b"Infinity" in metadata:
        metadata = compact(entry.metadata)  # a number JSON cannot hold fails here, as the whole document would
    return Document.of({"id": "{}/{}@{}".format(*entry.ident), "card": entry.card, "title": entry.title,
                        "assets": [_asset_document(a) for a in entry.assets], "golden": entry.golden,
                        "verified": entry.verified}, metadata=metadata)


def _asset_document(a: AssetEntry) -> JSONObject:
    doc: JSONObject = {"index": a.index, "file-format": a.file_format, "sha256": a.sha256, "size": a.size,
                       "origin": a.origin, "mirrors": list(a.mirrors), "path": a.path, "kind": a.kind}
    if a.translated is not None:
        doc["translated"] = a.translated
    return doc


@dataclass(frozen=True, slots=True)
class Document:
    """A card document held as its canonical bytes, and where the index's `document` field goes in
    them: a 10,000-card hub's documents cost their bytes, not a tree of dicts, and the index is
    assembled from them without decoding any."""

    body: bytes  # compact, without the trailing newline
    split: int  # the offset after the fields whose keys sort before "document"

    @classmethod
    def of(cls, doc: JSONObject, **encoded: bytes) -> Document:
        """`doc`'s fields encoded, plus fields given already encoded (a card's metadata, as its run holds it)."""
        if "document" in doc or "document" in encoded:
            raise ValueError("a card document has no `document` field: the index gives it")
        fields = sorted([*((k, compact(v)) for k, v in doc.items()), *encoded.items()])
        before = [f for f in fields if f[0] < "document"]
        return cls(compact_object(fields), len(compact_object(before)) - 1)

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


@dataclass(frozen=True)
class Snapshot:
    """A complete published hub, before a target writes it: its card documents and verified blobs."""

    hub_name: str
    runtimes: dict[str, str]
    documents: list[tuple[str, Document]]  # (path in a directory hub, card document), in index order
    blobs: dict[str, Path] = field(default_factory=dict)  # digest -> verified local file (--with-assets)
    # the HTML catalog (path in the generation -> bytes), rendered only when a new generation is written
    catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None

    def index(self, names: Sequence[str]) -> bytes:
        """The index document's canonical bytes, naming card i's document `names[i]`.  Written card by
        card into one buffer: its peak is the index's bytes (twice, while the buffer grows), not its dicts."""
        head: JSONObject = {"format": INDEX_FORMAT, "hub": {"name": self.hub_name}, "hubtool": __version__,
                            "runtimes": dict(sorted(self.runtimes.items()))}
        out = io.BytesIO()
        out.write(b'{"cards":[')  # "cards" sorts before every other key of the index
        for i, ((_, doc), name) in enumerate(zip(self.documents, names, strict=True)):
            if i:
                out.write(b",")
            out.write(doc.named(name))
        out.write(b"],")
        out.write(compact(head)[1:])  # the other keys, without their object's opening brace
        out.write(b"\n")
        return out.getvalue()


def snapshot_of(entries: Iterable[CardEntry], *, hub_name: str, runtimes: dict[str, str],
                blobs: dict[str, Path] | None = None, carried: Sequence[JSONObject] = (),
                catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None) -> Snapshot:
    """The hub of these entries, plus `carried`: card documents kept from the previous generation as they were."""
    docs = [(e.ident, e.document, card_document(e)) for e in entries]
    for doc in carried:
        meta = doc.get("metadata")
        ident = _ident(meta if isinstance(meta, dict) else {})
        docs.append((ident, "cards/{}/{}@{}.json".format(*ident), Document.of(doc)))
    docs.sort(key=lambda d: d[0])
    return Snapshot(hub_name, dict(runtimes), [(name, doc) for _, name, doc in docs], blobs or {}, catalog)

"""Pure: published runs -> card documents and the hub's index (a `Snapshot` any target can write)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import __version__
from ..assets import layout
from ..cards.card import assets_from
from ..config import Mirror
from ..durable import JSONObject, compact
from .docpath import document_path
from .documents import Document, SpilledDocuments
from .runs import CardRun

__all__ = ["INDEX_FORMAT", "AssetEntry", "CardEntry", "Document", "Snapshot", "card_document", "entry_for",
           "snapshot_of"]

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
        return document_path(*self.ident)


def entry_for(run: CardRun, *, mirrors: Sequence[Mirror], with_assets: bool) -> CardEntry:
    """The index entry of a published run."""
    translated = run.golden.translated if run.golden else None
    metadata = run.metadata or {}
    assets = []
    for a in assets_from(metadata):  # not the run's cached list: entries are made again, and not kept
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
                                 fetched.kind if fetched else None, extra))
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
    return CardEntry(run.card, run.title, (run.metadata_json or "{}").encode(), _ident(metadata), tuple(assets),
                     summary, run.verified)


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


@dataclass(frozen=True)
class Snapshot:
    """A complete published hub, before a target writes it: its card documents and verified blobs."""

    hub_name: str
    runtimes: dict[str, str]
    # (path in a directory hub, card document), in index order: on disk for a publish (SpilledDocuments)
    documents: Sequence[tuple[str, Document]]
    blobs: dict[str, Path] = field(default_factory=dict)  # digest -> verified local file (--with-assets)
    # the HTML catalog (path in the generation -> bytes), rendered only when a new generation is written
    catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None

    def paths(self) -> list[str]:
        """Each document's path in a directory hub, in index order."""
        if isinstance(self.documents, SpilledDocuments):
            return self.documents.paths()  # without reading every body back from disk
        return [path for path, _ in self.documents]

    def write_index(self, out: BinaryIO, names: Sequence[str]) -> None:
        """Write the index document's canonical bytes to `out`, naming card i's document `names[i]`:
        card by card, so a 10k-card index is never held in memory."""
        head: JSONObject = {"format": INDEX_FORMAT, "hub": {"name": self.hub_name}, "hubtool": __version__,
                            "runtimes": dict(sorted(self.runtimes.items()))}
        if len(names) != len(self.documents):
            raise ValueError(f"{len(names)} names for {len(self.documents)} documents")
        out.write(b'{"cards":[')  # "cards" sorts before every other key of the index
        for i, ((_, doc), name) in enumerate(zip(self.documents, names, strict=True)):
            if i:
                out.write(b",")
            out.write(doc.named(name))
        out.write(b"],")
        out.write(compact(head)[1:])  # the other keys, without their object's opening brace
        out.write(b"\n")

    def index(self, names: Sequence[str]) -> bytes:
        """The index document's canonical bytes (`write_index`, in memory)."""
        out = io.BytesIO()
        self.write_index(out, names)
        return out.getvalue()

    def close(self) -> None:
        """Let go of the documents' temporary file, if they have one."""
        if isinstance(self.documents, SpilledDocuments):
            self.documents.close()


def snapshot_of(entries: Iterable[CardEntry], *, hub_name: str, runtimes: dict[str, str],
                blobs: dict[str, Path] | None = None, carried: Sequence[JSONObject] = (),
                catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None) -> Snapshot:
    """The hub of these entries, plus `carried`: card documents kept from the previous generation as they were.
    The documents go to a temporary file as they are made (`Snapshot.close` lets go of it)."""
    documents = SpilledDocuments()
    try:
        keys = [(e.ident, documents.add(e.document, card_document(e))) for e in entries]
        for doc in carried:
            meta = doc.get("metadata")
            ident = _ident(meta if isinstance(meta, dict) else {})
            keys.append((ident, documents.add(document_path(*ident), Document.of(doc))))
        keys.sort()
        documents.order([slot for _, slot in keys])
    except BaseException:
        documents.close()
        raise
    return Snapshot(hub_name, dict(runtimes), documents, blobs or {}, catalog)

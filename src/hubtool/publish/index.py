"""Pure: published runs -> card documents and the hub's index (a `Snapshot` any target can write)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..assets import layout
from ..config import Mirror
from ..durable import JSONObject
from .runs import CardRun, fact_kind

INDEX_FORMAT = "hubtool-index/1"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class CardEntry:
    card: str  # the card's path in the hub
    title: str | None
    metadata: JSONObject
    assets: tuple[AssetEntry, ...]
    golden: JSONObject
    verified: bool  # False: published with --allow-unverified although golden did not run

    @property
    def ident(self) -> tuple[str, str, str]:
        m = self.metadata
        return (str(m.get("user-id")), str(m.get("model-name")), str(m.get("model-version")))

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
    return CardEntry(run.card, run.title, run.metadata or {}, tuple(assets), summary,
                     run.verified)


def card_document(entry: CardEntry) -> JSONObject:
    return {
        "id": "{}/{}@{}".format(*entry.ident),
        "card": entry.card,
        "title": entry.title,
        "metadata": entry.metadata,
        "assets": [_asset_document(a) for a in entry.assets],
        "golden": entry.golden,
        "verified": entry.verified,
    }


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
    documents: list[tuple[str, JSONObject]]  # (path in a directory hub, card document), in index order
    blobs: dict[str, Path] = field(default_factory=dict)  # digest -> verified local file (--with-assets)
    # the HTML catalog (path in the generation -> bytes), rendered only when a new generation is written
    catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None

    def index(self, names: Sequence[str]) -> JSONObject:
        """The index document, naming card i's document `names[i]`."""
        return {
            "format": INDEX_FORMAT,
            "hub": {"name": self.hub_name},
            "hubtool": __version__,
            "runtimes": dict(sorted(self.runtimes.items())),
            "cards": [dict(doc, document=name) for (_, doc), name in zip(self.documents, names, strict=True)],
        }


def snapshot_of(entries: Sequence[CardEntry], *, hub_name: str, runtimes: dict[str, str],
                blobs: dict[str, Path] | None = None, carried: Sequence[JSONObject] = (),
                catalog: Callable[[], Iterable[tuple[str, bytes]]] | None = None) -> Snapshot:
    """The hub of these entries, plus `carried`: card documents kept from the previous generation as they were."""
    docs = [(e.ident, e.document, card_document(e)) for e in entries]
    for doc in carried:
        meta = doc.get("metadata")
        m = meta if isinstance(meta, dict) else {}
        ident = (str(m.get("user-id")), str(m.get("model-name")), str(m.get("model-version")))
        docs.append((ident, "cards/{}/{}@{}.json".format(*ident), doc))
    docs.sort(key=lambda d: d[0])
    return Snapshot(hub_name, dict(runtimes), [(name, doc) for _, name, doc in docs], blobs or {}, catalog)

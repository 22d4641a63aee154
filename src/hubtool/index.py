"""Pure: published cards -> the hub's index documents, as canonical JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import __version__

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


@dataclass(frozen=True)
class CardEntry:
    card: str  # the card's path in the hub
    title: str | None
    metadata: dict[str, Any]
    assets: tuple[AssetEntry, ...]
    golden: dict[str, Any]
    verified: bool  # False: published with --allow-unverified although golden did not run
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ident(self) -> tuple[str, str, str]:
        m = self.metadata
        return (str(m.get("user-id")), str(m.get("model-name")), str(m.get("model-version")))

    @property
    def document(self) -> str:
        user, name, version = self.ident
        return f"cards/{user}/{name}@{version}.json"


def canonical(doc: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8, one trailing newline: equal input, equal bytes.

    (No indentation: json's C encoder only runs without it, 10x faster on a big hub.)
    """
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            + "\n").encode()


def card_document(entry: CardEntry) -> dict[str, Any]:
    return {
        "id": "{}/{}@{}".format(*entry.ident),
        "card": entry.card,
        "title": entry.title,
        "metadata": entry.metadata,
        "assets": [{"index": a.index, "file-format": a.file_format, "sha256": a.sha256, "size": a.size,
                    "origin": a.origin, "mirrors": list(a.mirrors), "path": a.path, "kind": a.kind,
                    **entry.extra.get("asset-extra", {}).get(a.sha256, {})}
                   for a in entry.assets],
        "golden": entry.golden,
        "verified": entry.verified,
    }


def build_index(entries: list[CardEntry], *, hub_name: str, runtimes: dict[str, str]) -> dict[str, Any]:
    ordered = sorted(entries, key=lambda e: e.ident)
    return {
        "format": INDEX_FORMAT,
        "hub": {"name": hub_name},
        "hubtool": __version__,
        "runtimes": dict(sorted(runtimes.items())),
        "cards": [dict(card_document(e), document=e.document) for e in ordered],
    }

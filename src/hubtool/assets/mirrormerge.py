"""A mirror written by shards: `mirror --shard I/N` puts its cards' blobs and `manifests/shard-I-of-N.json`;
one `mirror --merge` then writes `manifest.json` from those, with no transfer.

Shards never write `manifest.json` (n jobs would overwrite each other's, each naming only its own
cards).  The merge reads the hub's cards and every shard manifest in the mirror, and writes the
manifest a single `mirror` run would have written, byte for byte.  A card is covered when some
shard manifest lists it with exactly its current assets (a stale manifest from another checkout
covers nothing that changed); a card no manifest covers refuses the merge, naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..cards.card import Card
from ..cards.places import hub_path
from ..cards.report import first_few
from ..cards.shard import Shard
from ..config import HubConfig
from ..durable import JSON, JSONObject, canonical, json_object, objects_in, pretty_json, write_atomic
from ..errors import StoreError, UsageError
from ..textdecode import read_intact
from .mirror import MANIFEST, manifest

if TYPE_CHECKING:
    from .s3.refs import S3RefStore

SHARD_MANIFESTS = "manifests/"
MAX_MANIFEST_BYTES = 1024 * 1024 * 1024  # a 10,000-card shard's manifest is a few MB


def shard_manifest(shard: Shard) -> str:
    return f"{SHARD_MANIFESTS}shard-{shard.index}-of-{shard.total}.json"


@dataclass(frozen=True)
class Merged:
    cards: int
    manifests: int
    where: str


def merge_mirror(cards: Sequence[Card], config: HubConfig, to: str) -> Merged:
    """Write the mirror's manifest.json from its shard manifests; UsageError if a card is in none."""
    refs = _refs(to, config) if to.startswith("s3://") else None  # one client for reading and writing
    found = _read_manifests(to, refs)
    covered: dict[str, tuple[str | None, ...]] = {}
    sizes: dict[str, int] = {}
    for doc in found:
        for entry in objects_in(doc.get("cards")):
            assets = objects_in(entry.get("assets"))
            covered[str(entry.get("card"))] = tuple(_text(a.get("sha256")) for a in assets)
            for a in assets:
                size, sha = a.get("size"), a.get("sha256")
                if isinstance(size, int) and isinstance(sha, str) and a.get("path") is not None:
                    sizes[sha] = size  # in the mirror (a failed asset has no path)
    missing = [c for c in cards if covered.get(hub_path(c.path, config.root)) != tuple(a.sha256 for a in c.assets)]
    if missing:
        raise UsageError(f"--merge: {len(missing)} of {len(cards)} cards are in no shard manifest of {to} with "
                         f"their current assets: {first_few([c.display for c in missing])}",
                         hint="run (or re-run) the `mirror --shard` jobs that hold them, on this checkout; "
                              "manifest.json was not written")
    body = manifest(cards, sizes, config.root)
    if refs is not None:
        refs.put(MANIFEST, canonical(body))
    else:
        write_atomic(Path(to) / MANIFEST, pretty_json(body))
    return Merged(len(cards), len(found), to)


def _read_manifests(to: str, refs: S3RefStore | None) -> list[JSONObject]:
    bodies: list[bytes] = []
    if refs is not None:
        bodies = [b for name in refs.list(SHARD_MANIFESTS) if (b := refs.read(name)) is not None]
    else:
        try:
            # a special file or a huge one is damage: it covers nothing, as a manifest that does not parse
            bodies = [read_intact(p, MAX_MANIFEST_BYTES) or b""
                      for p in sorted((Path(to) / SHARD_MANIFESTS).glob("shard-*-of-*.json"))]
        except OSError as exc:
            raise StoreError(f"cannot read the shard manifests in {to}: {exc.strerror}") from exc
    docs = []
    for body in bodies:
        doc = json_object(body)  # a damaged manifest covers nothing: its cards are named as missing
        if doc is not None and doc.get("format") == "hubtool-mirror/1":
            docs.append(doc)
    return docs


def _refs(to: str, config: HubConfig) -> S3RefStore:
    from .s3.client import S3Location, client_for
    from .s3.refs import S3RefStore

    return S3RefStore(S3Location.parse(to), client_for(config.object_store))


def _text(value: JSON) -> str | None:
    return value if isinstance(value, str) else None

"""Rules across cards, from a few facts per card (small enough to cache for the whole hub).

HUB303: two cards claim the same (user-id, model-name, model-version) — where the hub's
identity is its metadata.  HUB306: one SHA-256 on two different models in one folder (a
copy-paste; the same file under a new name in another version folder is normal).  HUB307: one
asset-link with two different SHA-256.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, NamedTuple

from ..diagnostics import Diagnostic, error
from ..durable import JSON, JSONObject
from .baseline import fingerprint
from .card import Card


class AssetFact(NamedTuple):
    entry: int  # the asset's index in the card's asset list
    sha256: str
    link: str
    line: int  # of the asset-sha256 value
    col: int


class CardFacts(NamedTuple):
    """What the cross-card rules need to know of one (English, parsed) card.

    Named tuples, not frozen dataclasses: a pre-commit run reads 3,000 of them back from the
    cache, and a frozen dataclass costs three times as much to build.
    """

    display: str
    folder: str  # the card's folder, absolute
    model_name: str | None
    identity: tuple[str, str, str] | None  # (user-id, model-name, model-version)
    identity_line: int
    identity_col: int
    assets: tuple[AssetFact, ...]

    def to_json(self) -> JSONObject:
        return {"display": self.display, "folder": self.folder, "model_name": self.model_name,
                "identity": list(self.identity) if self.identity else None, "line": self.identity_line,
                "col": self.identity_col,
                "assets": [[a.entry, a.sha256, a.link, a.line, a.col] for a in self.assets]}

    @classmethod
    def from_json(cls, stored: JSON, display: str) -> CardFacts:
        """Read back what `to_json` wrote; KeyError, TypeError or ValueError if it is not that."""
        doc: Any = stored  # hubtool's own cache record: indexed as written, checked by the exceptions
        ident = doc["identity"]
        return cls(display, str(doc["folder"]), doc["model_name"],
                   (str(ident[0]), str(ident[1]), str(ident[2])) if ident is not None else None,
                   int(doc["line"]), int(doc["col"]),
                   tuple(AssetFact(int(a[0]), str(a[1]), str(a[2]), int(a[3]), int(a[4])) for a in doc["assets"]))


    def to_row(self) -> list[JSON]:
        """The facts as one flat list, without the display path (the facts cache: 3,000 rows read per commit,
        and lists decode and unpack faster than objects with keys)."""
        return [self.folder, self.model_name, list(self.identity) if self.identity else None, self.identity_line,
                self.identity_col, [list(a) for a in self.assets]]

    @classmethod
    def from_row(cls, row: JSON, display: str) -> CardFacts:
        """Read back what `to_row` wrote; KeyError, TypeError or ValueError (or IndexError) if it is not that."""
        doc: Any = row  # hubtool's own cache row: unpacked as written, checked by the exceptions
        folder, name, ident, line, col, assets = doc
        return cls(display, str(folder), None if name is None else str(name),
                   (str(ident[0]), str(ident[1]), str(ident[2])) if ident is not None else None, int(line), int(col),
                   tuple(AssetFact(int(a[0]), str(a[1]), str(a[2]), int(a[3]), int(a[4])) for a in assets))


def facts_of(card: Card) -> CardFacts:
    meta = card.metadata
    key = (meta.get("user-id"), meta.get("model-name"), meta.get("model-version"))
    identity = (str(key[0]), str(key[1]), str(key[2])) if all(isinstance(p, str) for p in key) else None
    ident_pos = card.value_pos("/model-name")
    assets = []
    for a in card.assets:
        if a.sha256 and a.link:
            pos = card.value_pos(f"{a.pointer}/asset-sha256")
            assets.append(AssetFact(a.index, a.sha256.lower(), a.link.strip(), pos.line, pos.col))
    name = meta.get("model-name")
    return CardFacts(card.display, os.path.dirname(os.path.abspath(card.path)),
                     name if isinstance(name, str) else None, identity, ident_pos.line, ident_pos.col, tuple(assets))


def identity_rule(facts: Iterable[CardFacts]) -> list[Diagnostic]:
    """HUB303: no two cards may claim the same (user-id, model-name, model-version)."""
    seen: dict[tuple[str, str, str], CardFacts] = {}
    diags: list[Diagnostic] = []
    for f in facts:
        if f.identity is None:
            continue
        first = seen.setdefault(f.identity, f)
        if first is not f:
            user, name, version = f.identity
            diags.append(_fp(error(f.display, f.identity_line, f.identity_col, "HUB303",
                                   f"{user}/{name} version {version} is already published by "
                                   f"{first.display}:{first.identity_line}", pointer="/model-name",
                                   hint="bump model-version, or remove one of the cards"), list(f.identity)))
    return diags


def same_hash_rule(facts: Iterable[CardFacts], *, by_path: bool = False) -> list[Diagnostic]:
    """HUB306: one SHA-256 on two different models in one folder.

    Models differ by model-name; where the hub's identity is the card's path (`by_path`), every
    card is its own model, so a card copied under a new name in the same folder is caught too
    (there the metadata-identity rule HUB303, which would catch it otherwise, is off).
    """
    first: dict[tuple[str, str], tuple[CardFacts, AssetFact]] = {}
    diags = []
    for f in facts:
        for a in f.assets:
            seen = first.setdefault((f.folder, a.sha256), (f, a))
            other, other_asset = seen
            if other is not f and (by_path or other.model_name != f.model_name):
                what = "another card" if other.model_name == f.model_name else f"model '{other.model_name}'"
                diags.append(_fp(error(
                    f.display, a.line, a.col, "HUB306",
                    f"asset-sha256 {a.sha256[:12]}… is also the SHA-256 of {what} "
                    f"({other.display}:{other_asset.line}) in this folder", pointer=f"/asset/{a.entry}/asset-sha256",
                    hint="two models cannot be one file: a copy-paste? put this model's own SHA-256 here"), a.sha256))
    return diags


def link_hash_rule(facts: Iterable[CardFacts]) -> list[Diagnostic]:
    """HUB307: one asset-link with two different SHA-256."""
    first: dict[str, tuple[CardFacts, AssetFact]] = {}
    diags = []
    for f in facts:
        for a in f.assets:
            other, other_asset = first.setdefault(a.link, (f, a))
            if other_asset.sha256 != a.sha256:
                diags.append(_fp(error(
                    f.display, a.line, a.col, "HUB307",
                    f"{a.link} has SHA-256 {other_asset.sha256[:12]}… at {other.display}:{other_asset.line}, "
                    f"{a.sha256[:12]}… here", pointer=f"/asset/{a.entry}/asset-sha256",
                    hint="one URL is one file: one of the two hashes is wrong (`sha256sum FILE`)"), [a.link, a.sha256]))
    return diags


def _fp(diag: Diagnostic, value: object) -> Diagnostic:
    return diag._replace(fingerprint=fingerprint(value if isinstance(value, str) else repr(value)))


def cross_card(facts: list[CardFacts], *, identity: str) -> list[Diagnostic]:
    """Every cross-card finding, in path order of the cards."""
    ordered = sorted(facts, key=lambda f: f.display)
    diags = identity_rule(ordered) if identity == "metadata" else []
    return diags + same_hash_rule(ordered, by_path=identity == "path") + link_hash_rule(ordered)

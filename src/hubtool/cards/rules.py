"""Rules beyond the schema: per card (dates, hashes, links) and across cards (twins, identity)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import urlsplit

from ..config import HubConfig
from ..diagnostics import Diagnostic, error, warning
from .card import Card

_HEX_FRAGMENT = re.compile(r"[0-9a-fA-F]{8,9}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
#: free text that a translated twin is expected to differ in
TRANSLATED_FIELDS = frozenset({"summary"})


class CardRule(Protocol):
    """A per-card rule a higher part contributes (hubtool.golden checks `golden:` blocks)."""

    def __call__(self, card: Card) -> list[Diagnostic]: ...


def hash_rules(card: Card) -> tuple[list[Diagnostic], set[str]]:
    """Short or upper-case hashes get their own message; returns the pointers handled."""
    diags: list[Diagnostic] = []
    handled: set[str] = set()
    for asset in card.assets:
        value = asset.sha256
        pointer = f"{asset.pointer}/asset-sha256"
        if value is None:
            continue
        pos = card.value_pos(pointer)
        if _HEX_FRAGMENT.fullmatch(value):
            diags.append(error(
                card.display, pos.line, pos.col, "HUB402",
                f"asset-sha256 '{value}' is {len(value)} hex digits: a fragment of a file name, "
                "not a SHA-256", pointer=pointer,
                hint="put the file's full SHA-256 here (64 hex digits): run `sha256sum FILE`"))
            handled.add(pointer)
        elif _HEX64.fullmatch(value) and value != value.lower():
            diags.append(error(card.display, pos.line, pos.col, "HUB403",
                               "asset-sha256 must be written in lowercase hex", pointer=pointer,
                               hint=f"write: {value.lower()}"))
            handled.add(pointer)
    return diags, handled


def date_rule(card: Card) -> list[Diagnostic]:
    value = card.metadata.get("update-time")
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return []  # the schema reports the form
    year, month, day = (int(g) for g in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError as exc:
        pos = card.value_pos("/update-time")
        return [error(card.display, pos.line, pos.col, "HUB304",
                      f"update-time '{value}' is not a real calendar date ({exc})",
                      pointer="/update-time", hint="write the date as YYYY-MM-DD")]
    return []


def link_rules(card: Card, config: HubConfig) -> list[Diagnostic]:
    """Asset links: scheme and host on the hub's allow-lists; repo paths inside the hub."""
    diags: list[Diagnostic] = []
    policy = config.policy
    for asset in card.assets:
        link = asset.link
        pointer = f"{asset.pointer}/asset-link"
        if link is None:
            continue
        pos = card.value_pos(pointer)
        if "://" not in link:
            diags += _repo_path_rule(card, config, link, pointer)
            continue
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
        if parts.scheme not in policy.allowed_schemes:
            diags.append(error(card.display, pos.line, pos.col, "HUB401",
                               f"asset-link uses '{parts.scheme}', not one of the hub's allowed schemes "
                               f"({', '.join(policy.allowed_schemes)})", pointer=pointer,
                               hint="link the asset over https"))
        elif policy.allowed_hosts and not policy.allows_host(host):
            diags.append(error(card.display, pos.line, pos.col, "HUB401",
                               f"asset-link host '{host}' is not on the hub's allow-list", pointer=pointer,
                               hint="host the asset on an allowed host, or add the host to "
                                    "policy.allowed-hosts in hub/hub.yaml"))
    return diags


def _repo_path_rule(card: Card, config: HubConfig, link: str, pointer: str) -> list[Diagnostic]:
    pos = card.value_pos(pointer)
    rel = PurePosixPath(link)
    if rel.is_absolute() or ".." in rel.parts:
        return [error(card.display, pos.line, pos.col, "HUB404",
                      f"asset-link '{link}' leaves the hub: repository paths must stay inside it",
                      pointer=pointer, hint="use a path relative to the hub root, e.g. hub/assets/model.ms")]
    target = config.root / Path(*rel.parts)
    if not target.is_file():
        return [error(card.display, pos.line, pos.col, "HUB405",
                      f"asset-link '{link}' names no file in the hub ({target})", pointer=pointer,
                      hint="commit the file, or fix the path (relative to the hub root)")]
    return []


def twin_rules(twin: Card, english: Card) -> list[Diagnostic]:
    """A _cn.md twin must carry the English card's metadata values (free text aside)."""
    diags: list[Diagnostic] = []
    for key in sorted(set(english.metadata) | set(twin.metadata)):
        if key in TRANSLATED_FIELDS:
            continue
        pointer = "/" + key.replace("~", "~0").replace("/", "~1")
        if key not in twin.metadata:
            pos = twin.value_pos("")
            diags.append(error(twin.display, pos.line, pos.col, "HUB301",
                               f"the twin lacks '{key}', which {english.display} has",
                               pointer=pointer, hint=f"copy '{key}' from the English card"))
        elif key not in english.metadata:
            pos = twin.key_pos(pointer)
            diags.append(error(twin.display, pos.line, pos.col, "HUB301",
                               f"the twin has '{key}', which {english.display} lacks",
                               pointer=pointer, hint="keep the metadata of both cards the same"))
        elif twin.metadata[key] != english.metadata[key]:
            pos = twin.value_pos(pointer)
            epos = english.value_pos(pointer)
            diags.append(error(twin.display, pos.line, pos.col, "HUB301",
                               f"'{key}' differs from the English card: {twin.metadata[key]!r} here, "
                               f"{english.metadata[key]!r} at {english.display}:{epos.line}",
                               pointer=pointer, hint="the two cards must carry the same metadata"))
    return diags


def twin_not_comparable(display: str, line: int, reason: str) -> Diagnostic:
    return warning(display, line, 1, "HUB302", f"this _cn twin cannot be compared with its English card: {reason}",
                   hint="write the twin's metadata keys in English with ':' so hubtool can check it")


@dataclass(frozen=True)
class Identity:
    """What a card claims to be, and where (for the duplicate-identity rule)."""

    key: tuple[str, str, str]  # (user-id, model-name, model-version)
    display: str
    line: int
    col: int


def identity_of(card: Card) -> Identity | None:
    meta = card.metadata
    key = (meta.get("user-id"), meta.get("model-name"), meta.get("model-version"))
    if card.is_twin or not all(isinstance(p, str) for p in key):
        return None
    pos = card.value_pos("/model-name")
    return Identity((str(key[0]), str(key[1]), str(key[2])), card.display, pos.line, pos.col)


def identity_rule(identities: list[Identity]) -> list[Diagnostic]:
    """No two cards may claim the same (user-id, model-name, model-version)."""
    seen: dict[tuple[str, str, str], Identity] = {}
    diags: list[Diagnostic] = []
    for ident in identities:
        first = seen.setdefault(ident.key, ident)
        if first is not ident:
            user, name, version = ident.key
            diags.append(error(ident.display, ident.line, ident.col, "HUB303",
                               f"{user}/{name} version {version} is already published by "
                               f"{first.display}:{first.line}",
                               pointer="/model-name", hint="bump model-version, or remove one of the cards"))
    return diags

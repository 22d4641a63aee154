"""Rules beyond the schema, per card: hashes, dates, asset links, licences, repo-link, template keys.

(Rules across cards are in `crosscard`, twins in `twins`.)
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import urlsplit

from ..config import HubConfig, Policy
from ..diagnostics import Diagnostic, error, warning
from .card import Card

_HEX_FRAGMENT = re.compile(r"[0-9a-fA-F]{8,9}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


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


def date_rule(card: Card, *, today: datetime.date | None = None) -> list[Diagnostic]:
    """HUB304 an impossible date; HUB308 a date after today."""
    value = card.metadata.get("update-time")
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return []  # the schema reports the form
    year, month, day = (int(g) for g in match.groups())
    pos = card.value_pos("/update-time")
    try:
        date = datetime.date(year, month, day)
    except ValueError as exc:
        return [error(card.display, pos.line, pos.col, "HUB304",
                      f"update-time '{value}' is not a real calendar date ({exc})",
                      pointer="/update-time", hint="write the date as YYYY-MM-DD")]
    if date > (today or datetime.date.today()):
        return [error(card.display, pos.line, pos.col, "HUB308", f"update-time {value} is in the future",
                      pointer="/update-time", hint="write the date the card was last updated")]
    return []


def license_rule(card: Card, allowed: tuple[str, ...]) -> list[Diagnostic]:
    """HUB309: the licence is one of the hub's spellings, or an SPDX expression where the hub takes those."""
    value = card.metadata.get("license")
    if not isinstance(value, str) or value in allowed:
        return []
    spdx = "spdx" in allowed
    if spdx and _spdx(value) == value:
        return []
    listed = [a for a in allowed if a != "spdx"] + (["an SPDX licence id or expression"] if spdx else [])
    canonical = _spdx(_SPDX_SPELLINGS.get(value.replace(" ", "").lower(), value)) if spdx else None
    hint = f"did you mean '{canonical}'?" if canonical else f"write one of: {', '.join(listed)}"
    pos = card.value_pos("/license")
    return [error(card.display, pos.line, pos.col, "HUB309",
                  f"license '{value}' is not on the hub's list ({'; '.join(listed)})", pointer="/license",
                  hint=hint + " (or add it to card.licenses in hub/hub.yaml)")]


#: spellings seen in the wild -> the SPDX id they mean
_SPDX_SPELLINGS = {"apache2.0": "Apache-2.0", "apache2": "Apache-2.0", "apachelicense2.0": "Apache-2.0",
                   "mit": "MIT", "bsd3": "BSD-3-Clause", "bsd-3": "BSD-3-Clause", "gpl3": "GPL-3.0-only",
                   "gplv3": "GPL-3.0-only", "gplv2": "GPL-2.0-only"}


def _spdx(expression: str) -> str | None:
    """The canonical form of an SPDX licence expression, or None if it is not one."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        return str(canonicalize_license_expression(expression))
    except InvalidLicenseExpression:
        return None


def repo_link_rule(card: Card, code_hosts: tuple[str, ...], *, required: bool) -> list[Diagnostic]:
    """HUB310: repo-link present (when the schema does not already require it), not empty, https, on a code host."""
    if "repo-link" not in card.metadata:
        if required:
            return []  # HUB201 says so
        pos = card.value_pos("")
        return [_repo(card, pos.line, pos.col, "repo-link is missing", "add repo-link: <https://...> "
                      "(the code that trains or defines the model)")]
    value = card.metadata["repo-link"]
    pos = card.value_pos("/repo-link")
    if not isinstance(value, str) or not value.strip():
        return [_repo(card, pos.line, pos.col, "repo-link is empty", "link the model's code repository")]
    split = scheme_and_host(value.strip())
    if isinstance(split, str):
        return [_repo(card, pos.line, pos.col, f"repo-link {value!r} is not a URL: {split}", "write https://...")]
    scheme, host = split
    if scheme != "https":
        return [_repo(card, pos.line, pos.col, f"repo-link '{value}' is not an https URL", "write https://...")]
    if code_hosts and not Policy(allowed_hosts=code_hosts).allows_host(host):
        return [_repo(card, pos.line, pos.col, f"repo-link host '{host}' is not one of the hub's code hosts "
                      f"({', '.join(code_hosts)})", "link the code on a code host the hub trusts, or add the host "
                                                    "to card.code-hosts in hub/hub.yaml")]
    return []


# https://host/... with a plain host name (no user, port, brackets or escapes): what urlsplit says of it, read
# without it (two links a card, ~2 µs each); anything else goes to urlsplit
_PLAIN_HTTPS = re.compile(r"https://((?:(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.?)(?=[/?#]|$)")


# a host name's label as DNS and the HTTP clients take it (an underscore included: some real hosts have one)
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def scheme_and_host(url: str) -> tuple[str, str] | str:
    """The URL's scheme and lower-case host, or why it is not a URL (`https://[::1`, `http://[zz]/a`, no host, a
    host no client can connect to: `https://a b/c`, a bidi control in the name)."""
    plain = _PLAIN_HTTPS.match(url)
    if plain is not None and len(plain.group(1)) <= 253:
        return "https", plain.group(1).lower()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        fetched = parts.scheme in ("http", "https")  # the schemes a fetch may use; the others are refused by scheme
        if fetched:
            parts.port  # noqa: B018 - raises on a port that is not a number or past 65535
    except ValueError as exc:  # urllib refuses broken IPv6 brackets, in urlsplit or in .hostname
        return str(exc)
    problem = _host_problem(host) if fetched else None
    return (parts.scheme, host) if problem is None else problem


def _host_problem(host: str) -> str | None:
    """Why an http(s) URL's host (as urlsplit gives it: brackets off, lower case) cannot be connected to."""
    if not host:
        return "it has no host"
    if ":" in host:  # an IPv6 literal: urlsplit checked its brackets, not what is inside
        import ipaddress  # here: ~1 ms of import, for the rare card that links one

        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"the host {host!r} is not an IPv6 address"
        return None
    try:  # a name beyond ASCII is connected to as its IDNA form, which refuses bidi controls and the like
        name = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"the host {host!r} is not a valid internationalised domain name"
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"the host {host!r} is not a valid host name"
    return None


def _repo(card: Card, line: int, col: int, message: str, hint: str) -> Diagnostic:
    return warning(card.display, line, col, "HUB310", message, pointer="/repo-link", hint=hint)


def template_keys_rule(card: Card, keys: tuple[str, ...]) -> list[Diagnostic]:
    """HUB311: the keys the hub's template asks for (but its cards need not have)."""
    missing = [k for k in keys if k not in card.metadata]
    if not missing:
        return []
    pos = card.value_pos("")
    return [warning(card.display, pos.line, pos.col, "HUB311",
                    f"the hub's template asks for {', '.join(missing)}, which this card lacks",
                    pointer=f"/{missing[0]}", hint="add it if it is known")]


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
        split = scheme_and_host(link)
        if isinstance(split, str):
            diags.append(error(card.display, pos.line, pos.col, "HUB401", f"asset-link {link!r} is not a URL: {split}",
                               pointer=pointer, hint="write the link as https://host/path"))
            continue
        scheme, host = split
        if scheme not in policy.allowed_schemes:
            diags.append(error(card.display, pos.line, pos.col, "HUB401",
                               f"asset-link uses '{scheme}', not one of the hub's allowed schemes "
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

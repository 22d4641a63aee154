"""The baseline: the findings a hub had when it adopted hubtool, which are reported but do not fail.

An entry is keyed by the card's path (relative to the hub root), the code, the JSON pointer
and a fingerprint of the offending value — not by line, so editing other lines of a card
keeps its entries.  A baselined finding is counted and listed as such; an entry that matches
nothing any more is stale (HUB006, info) and `--write-baseline` drops it.  A new defect fails.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from ..diagnostics import Diagnostic, Severity, info
from ..durable import JSON, parse_json, pretty_json, write_atomic
from ..errors import ConfigError, SpecialFile
from ..textdecode import read_regular
from .levels import relative_posix

FORMAT = "hubtool-baseline/1"
MAX_BASELINE_BYTES = 256 * 1024 * 1024
_NOT_BASELINED = frozenset({"HUB005", "HUB006"})


class Key(NamedTuple):
    path: str
    code: str
    pointer: str
    fingerprint: str


def fingerprint(value: JSON | str) -> str:
    """A short, stable digest of what a finding is about."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=8192)  # every finding of a card asks for its path again
def _rel(display: str, root: Path) -> str:
    rel = relative_posix(display, os.path.abspath(root))
    return PurePosixPath(display).as_posix() if rel is None else rel


def key_of(diag: Diagnostic, root: Path) -> Key:
    return Key(_rel(diag.path, root), diag.code, diag.pointer, diag.fingerprint)


def read(path: Path) -> Counter[Key]:
    """The baseline's entries (a missing file is an empty baseline: a hub may not have one yet)."""
    rewrite = "write it again with `hubtool check --write-baseline FILE`"
    try:
        data = read_regular(path, MAX_BASELINE_BYTES)  # a FIFO or /dev/zero named as the baseline: refused, not read
        if isinstance(data, int):
            raise ConfigError(f"the baseline {path} is {data:,} bytes, over {MAX_BASELINE_BYTES:,}", hint=rewrite)
        doc = parse_json(data.decode("utf-8"))
    except FileNotFoundError:
        return Counter()
    except SpecialFile as exc:
        raise ConfigError(f"cannot read the baseline: {exc.message}", hint="a baseline is a regular file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the baseline {path}: {exc}", hint=rewrite) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{path} is not a hubtool baseline (format {FORMAT})",
                          hint="write it again with `hubtool check --write-baseline FILE`")
    entries: Counter[Key] = Counter()
    findings: Any = doc["findings"]  # entries as written: their shape is checked by the exceptions
    for item in findings:
        try:
            entries[Key(str(item["path"]), str(item["code"]), str(item["pointer"]), str(item["fingerprint"]))] += \
                int(item.get("count", 1))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: a baseline entry lacks {exc}") from exc
    return entries


def eligible(diag: Diagnostic) -> bool:
    return diag.severity in (Severity.ERROR, Severity.WARNING) and diag.code not in _NOT_BASELINED


def apply(diags: list[Diagnostic], entries: Counter[Key], root: Path,
          checked: Iterable[str]) -> list[Diagnostic]:
    """Mark the findings the baseline lists; add a HUB006 for each entry of a checked card that matched none."""
    if not entries:  # no baseline (most hubs): nothing to mark or to call stale, and no finding keyed for it
        return diags
    left = Counter(entries)
    out = []
    for diag in diags:
        key = key_of(diag, root)
        if eligible(diag) and left[key] > 0:
            left[key] -= 1
            diag = diag._replace(baselined=True)
        out.append(diag)
    checked_rel = {_rel(display, root): display for display in checked}
    for key, count in sorted(left.items()):
        if count > 0 and key.path in checked_rel:
            out.append(info(checked_rel[key.path], 0, 0, "HUB006",
                            f"baselined {key.code} at {key.pointer or '/'} no longer occurs"
                            + (f" ({count} times)" if count > 1 else ""),
                            pointer=key.pointer, hint="`hubtool check --write-baseline FILE` drops it"))
    _rel.cache_clear()  # it serves one run's findings; kept, 8,192 paths (~1.7 MiB) would outlive them
    return out


def write(path: Path, diags: Iterable[Diagnostic], root: Path, *, checked: Iterable[str],
          keep: Counter[Key] | None = None) -> int:
    """Write the findings as the new baseline; entries of cards not checked this time are kept."""
    checked_rel = {_rel(display, root) for display in checked}
    entries: Counter[Key] = Counter({k: n for k, n in (keep or Counter()).items() if k.path not in checked_rel})
    for diag in diags:
        if eligible(diag):
            entries[key_of(diag, root)] += 1
    findings: list[JSON] = [
        {"path": k.path, "code": k.code, "pointer": k.pointer, "fingerprint": k.fingerprint,
         **({"count": n} if n > 1 else {})} for k, n in sorted(entries.items())]
    write_atomic(path, pretty_json({"format": FORMAT, "findings": findings}))
    return sum(entries.values())

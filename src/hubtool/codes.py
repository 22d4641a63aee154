"""Every diagnostic code hubtool reports: its short name, default severity and what it means.

A hub tunes a code by code or by name (`rules:` and `per-path:` in hub/hub.yaml,
`--select`/`--ignore` on the command line); `hubtool rules` lists them.  Codes
are stable: a code is never reused for another meaning.
"""

from __future__ import annotations

from typing import NamedTuple

from .diagnostics import Severity


class Code(NamedTuple):
    code: str
    name: str
    default: Severity
    summary: str


_ALL = [
    # HUB0xx: the file and its front matter
    Code("HUB001", "card-file", Severity.ERROR, "the card cannot be read, or is over limits.max-card-bytes"),
    Code("HUB002", "no-front-matter", Severity.ERROR, "no '---' fenced YAML front matter where the dialect wants it"),
    Code("HUB003", "unclosed-front-matter", Severity.ERROR, "the front matter's closing '---' is missing"),
    Code("HUB004", "not-utf8", Severity.ERROR, "the card, or its path, is not UTF-8"),
    Code("HUB005", "unused-suppression", Severity.INFO, "a `# hubtool: ignore[...]` comment suppresses nothing"),
    Code("HUB006", "stale-baseline", Severity.INFO, "a baselined finding no longer occurs"),
    # HUB1xx: YAML
    Code("HUB101", "yaml-syntax", Severity.ERROR, "the front matter is not valid YAML"),
    Code("HUB102", "duplicate-key", Severity.ERROR, "a key appears twice in one mapping"),
    Code("HUB103", "yaml-alias", Severity.ERROR, "YAML anchors and aliases are refused"),
    Code("HUB104", "yaml-tag", Severity.ERROR, "YAML tags are refused"),
    Code("HUB105", "complex-key", Severity.ERROR, "a key is a list or mapping"),
    Code("HUB106", "control-character", Severity.ERROR, "a character YAML does not allow"),
    Code("HUB107", "multiple-documents", Severity.ERROR, "more than one YAML document in the front matter"),
    Code("HUB108", "too-deep", Severity.ERROR, "the metadata is nested too deep"),
    Code("HUB109", "not-a-mapping", Severity.ERROR, "the front matter is empty or not a mapping"),
    Code("HUB110", "lossy-number", Severity.WARNING, "a version YAML readers see as another number (1.10 -> 1.1)"),
    Code("HUB111", "unreadable-number", Severity.ERROR, "a number too long or not finite (.inf, .nan) for readers"),
    # HUB2xx: the schema
    Code("HUB201", "missing-key", Severity.ERROR, "a key the hub requires is missing"),
    Code("HUB202", "wrong-type", Severity.ERROR, "a value of the wrong type"),
    Code("HUB203", "not-allowed-value", Severity.ERROR, "a value that is not one of the allowed ones"),
    Code("HUB204", "value-form", Severity.ERROR, "a value that does not have the required form"),
    Code("HUB205", "unknown-key", Severity.WARNING, "a key the schema does not know"),
    Code("HUB206", "schema", Severity.ERROR, "any other schema violation (length, range...)"),
    # HUB3xx: cross-card and semantic rules
    Code("HUB301", "twin-differs", Severity.ERROR, "a _cn twin's metadata disagrees with its English card"),
    Code("HUB302", "twin-not-comparable", Severity.WARNING, "a _cn twin whose metadata cannot be read"),
    Code("HUB303", "duplicate-identity", Severity.ERROR,
         "two cards claim the same (user-id, model-name, model-version)"),
    Code("HUB304", "impossible-date", Severity.ERROR, "update-time is not a real calendar date"),
    Code("HUB305", "twin-without-english", Severity.WARNING, "a _cn twin without its English card"),
    Code("HUB306", "sha256-two-models", Severity.ERROR, "one SHA-256 on two different models in one folder"),
    Code("HUB307", "link-two-sha256", Severity.ERROR, "one asset-link with two different SHA-256"),
    Code("HUB308", "future-date", Severity.ERROR, "update-time is in the future"),
    Code("HUB309", "license-not-allowed", Severity.ERROR, "a licence not on the hub's list"),
    Code("HUB310", "repo-link", Severity.WARNING, "repo-link missing, empty, not https, or not on a code host"),
    Code("HUB311", "template-key-missing", Severity.WARNING, "a key the hub's template asks for is missing"),
    # HUB4xx: assets
    Code("HUB401", "asset-host", Severity.ERROR,
         "an asset link that is not a URL, has no host a client can connect to, or a scheme or host not allowed"),
    Code("HUB402", "hash-fragment", Severity.ERROR, "asset-sha256 is 8 or 9 hex digits of a file name"),
    Code("HUB403", "hash-uppercase", Severity.ERROR, "asset-sha256 in uppercase"),
    Code("HUB404", "path-leaves-hub", Severity.ERROR, "a repository asset path that leaves the hub"),
    Code("HUB405", "path-missing", Severity.ERROR, "a repository asset path that names no file"),
    # HUB5xx: golden inference
    Code("HUB501", "golden-set", Severity.ERROR, "the card's golden set does not exist or is invalid"),
    Code("HUB502", "golden-preprocess", Severity.ERROR, "the card's preprocessing overrides are invalid"),
]
CODES: dict[str, Code] = {c.code: c for c in _ALL}
_BY_NAME: dict[str, Code] = {c.name: c for c in _ALL}


def resolve(token: str) -> list[str]:
    """The codes a token names: a code (HUB204), a prefix (HUB2, HUB), or a name (value-form); [] if none."""
    token = token.strip()
    if token in _BY_NAME:
        return [_BY_NAME[token].code]
    upper = token.upper()
    return [code for code in CODES if code.startswith(upper)] if upper.startswith("HUB") else []


def label(code: str) -> str:
    """`HUB204 value-form`, for listings."""
    known = CODES.get(code)
    return f"{code} {known.name}" if known else code

"""The hub's configuration: hub/hub.yaml, validated, with defaults and environment overrides.

Every setting a part needs is a typed field here; no part reads the YAML document itself.
The settings are named tuples, not dataclasses: every `hubtool check` defines them, and a
pre-commit run cannot afford dataclasses (see diagnostics.Diagnostic).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from . import codes, profile
from .diagnostics import Severity
from .durable import JSON
from .errors import ConfigError
from .yamlfile import read_validated

CONFIG_RELPATH = Path("hub") / "hub.yaml"
DEFAULT_MAX_CARD_BYTES = 1024 * 1024


class Policy(NamedTuple):
    """Download policy (DESIGN.md section 5)."""

    allowed_schemes: tuple[str, ...] = ("https",)
    allowed_hosts: tuple[str, ...] = ()
    allow_private: tuple[str, ...] = ()
    max_asset_bytes: int = 16 * 1024**3
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5  # in a row without progress
    max_attempts: int = 50  # per asset and source, progress or not
    asset_deadline: float = 4 * 3600.0  # seconds per asset and source: 16 GiB at ~1.2 MB/s
    max_redirects: int = 5

    def allows_host(self, host: str) -> bool:
        """`host` matches an allowed name, or a `*.domain` pattern (which excludes the bare domain)."""
        for pattern in self.allowed_hosts:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False


class Mirror(NamedTuple):
    url: str
    layout: str = "by-hash"  # by-hash | by-path


class ObjectStoreSettings(NamedTuple):
    """`object-store:` in hub/hub.yaml: how to reach s3:// targets and mirrors."""

    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str | None = None
    ca_bundle: Path | None = None  # resolved against the hub root


class RuntimeSettings(NamedTuple):
    """`runtimes:` in hub/hub.yaml."""

    mslite_python: str | None = None  # runtimes.mindspore-lite.python: the CPython 3.7 to build the env with
    mindspore_unsandboxed: bool = False  # runtimes.mindspore.allow-unsandboxed-code
    mindspore_address_space: int | None = None  # runtimes.mindspore.address-space (bytes)


class ModuleTypes(NamedTuple):
    """The module-type vocabulary: '<base>' (when `bare`) or '<base>-<task>'."""

    bases: tuple[str, ...]
    bare: bool = False
    max_tasks: int | None = None


class CardSettings(NamedTuple):
    """`card:` in hub/hub.yaml (after its profile): what the hub's cards must look like."""

    required: tuple[str, ...]
    template_keys: tuple[str, ...]
    module_types: ModuleTypes
    evaluation: str  # mapping | text
    licenses: tuple[str, ...]  # exact spellings, and "spdx" for any SPDX expression
    code_hosts: tuple[str, ...]
    identity: str  # metadata | path
    twin_keys: dict[str, str]
    twin_values: dict[str, str]


#: a rule's level: a severity, or None for off
Level = Severity | None


class RuleSettings(NamedTuple):
    """`rules:` and `per-path:`: the severity of each code, hub-wide and for path globs."""

    rules: dict[str, Level]  # code -> level
    per_path: tuple[tuple[str, dict[str, Level]], ...] = ()  # (glob, code -> level), later wins


@cache
def _default_document() -> tuple[str, dict[str, Any]]:
    return profile.resolved({})


class HubConfig(NamedTuple):
    """Everything hubtool needs to know about one hub (`default_config` for a hub without hub.yaml)."""

    root: Path
    card: CardSettings
    rules: RuleSettings
    path: Path | None = None  # the hub.yaml read, if any
    name: str = "hub"
    cards_dir: Path = Path("cards")
    max_card_bytes: int = DEFAULT_MAX_CARD_BYTES
    extra_module_types: tuple[str, ...] = ()
    extra_file_formats: tuple[str, ...] = ()
    extra_backends: tuple[str, ...] = ()
    policy: Policy = Policy()
    mirrors: tuple[Mirror, ...] = ()
    store: Path | None = None
    publish_to: Path = Path("dist/hub")
    # read-only: a named tuple's defaults are shared by every instance
    default_golden_sets: Mapping[str, str] = {}
    networks: Mapping[str, JSON] = {}  # golden.networks: model-name -> network source
    repositories: Mapping[str, JSON] = {}  # golden.repositories: repository URL -> pin
    object_store: ObjectStoreSettings = ObjectStoreSettings()
    runtimes: RuntimeSettings = RuntimeSettings()
    profile: str = profile.DEFAULT
    baseline: Path | None = None


def default_config(root: Path) -> HubConfig:
    """The configuration of a hub without hub/hub.yaml: the default profile's card and rules."""
    document = _default_document()[1]
    return HubConfig(root=root, card=_card(document.get("card", {})), rules=_rule_settings(document))


def find_hub_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds hub/hub.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_RELPATH).exists():  # a FIFO or folder there is refused when read, not skipped
            return folder
    return None


def load_config(config_path: Path | None = None, *, start: Path | None = None) -> HubConfig:
    """Read hub/hub.yaml (explicit path, or found above `start`); defaults when there is none."""
    if config_path is None:
        root = find_hub_root(start or Path.cwd())
        if root is None:
            return default_config((start or Path.cwd()).resolve())
        config_path = root / CONFIG_RELPATH
    config_path = config_path.resolve()
    root = config_path.parent.parent if config_path.parent.name == "hub" else config_path.parent
    data = read_validated(config_path, "hub", ConfigError, empty_ok=True).data
    name, doc = profile.resolved(data if isinstance(data, dict) else {})
    return _from_document(doc, root=root, path=config_path, profile_name=name)


def profile_config(name: str, root: Path) -> HubConfig:
    """The configuration a hub.yaml that says only `extends: <name>` would give."""
    resolved_name, doc = profile.resolved({"extends": name})
    return _from_document(doc, root=root, path=root / CONFIG_RELPATH, profile_name=resolved_name)


# The document was validated against schemas/hub.schema.json: its shape is known, so the
# readers below only apply defaults and convert.
def _policy(pol: dict[str, Any]) -> Policy:
    default = Policy()
    return Policy(
        allowed_schemes=tuple(pol.get("allowed-schemes", default.allowed_schemes)),
        allowed_hosts=tuple(h.lower() for h in pol.get("allowed-hosts", ())),
        allow_private=tuple(pol.get("allow-private-addresses", ())),
        max_asset_bytes=int(pol.get("max-asset-bytes", default.max_asset_bytes)),
        connect_timeout=float(pol.get("connect-timeout", default.connect_timeout)),
        read_timeout=float(pol.get("read-timeout", default.read_timeout)),
        retries=int(pol.get("retries", default.retries)),
        max_attempts=int(pol.get("max-attempts", default.max_attempts)),
        asset_deadline=float(pol.get("asset-deadline", default.asset_deadline)),
        max_redirects=int(pol.get("max-redirects", default.max_redirects)),
    )


def _object_store(settings: dict[str, Any], root: Path) -> ObjectStoreSettings:
    ca = settings.get("ca-bundle")
    return ObjectStoreSettings(endpoint_url=settings.get("endpoint-url"), region=settings.get("region"),
                               addressing_style=settings.get("addressing-style"),
                               ca_bundle=root / ca if ca else None)


def repository_key(url: str) -> str:
    """A repository URL as golden.repositories is keyed: scheme and host in lower case, no .git, no final /."""
    scheme, sep, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    path = path.rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


def _runtimes(settings: dict[str, Any]) -> RuntimeSettings:
    mslite = settings.get("mindspore-lite") or {}
    python = mslite.get("python") if isinstance(mslite, dict) else None
    mindspore = settings.get("mindspore") or {}
    mindspore = mindspore if isinstance(mindspore, dict) else {}
    space = mindspore.get("address-space")
    return RuntimeSettings(mslite_python=str(python) if python else None,
                           mindspore_unsandboxed=mindspore.get("allow-unsandboxed-code") is True,
                           mindspore_address_space=space if isinstance(space, int) else None)


def _card(card: dict[str, Any], extra_bases: tuple[str, ...] = ()) -> CardSettings:
    mt = card.get("module-type", {})
    bases = tuple(mt.get("bases", ())) + tuple(b for b in extra_bases if b not in mt.get("bases", ()))
    return CardSettings(
        required=tuple(card.get("required", ())), template_keys=tuple(card.get("template-keys", ())),
        module_types=ModuleTypes(bases, bool(mt.get("bare", False)), mt.get("max-tasks")),
        evaluation=str(card.get("evaluation", "mapping")), licenses=tuple(card.get("licenses", ("spdx",))),
        code_hosts=tuple(h.lower() for h in card.get("code-hosts", ())),
        identity=str(card.get("identity", "metadata")),
        twin_keys=dict(card.get("twin-keys", {})), twin_values=dict(card.get("twin-values", {})))


def _levels(mapping: dict[str, str | bool], where: str) -> dict[str, Level]:
    """Code or name -> level; a prefix (HUB1) sets every code it starts."""
    out: dict[str, Level] = {}
    for token, level in mapping.items():
        found = codes.resolve(token)
        if not found:
            raise ConfigError(f"{where}: {token!r} is neither a diagnostic code nor a rule name",
                              hint="`hubtool rules` lists every code and name")
        for code in found:
            out[code] = None if level in ("off", False) else Severity(level)  # YAML reads a bare off as false
    return out


def _rule_settings(raw: dict[str, Any]) -> RuleSettings:
    per_path = tuple((glob, _levels(levels, f"per-path {glob!r}")) for glob, levels in raw.get("per-path", {}).items())
    levels = _levels(raw.get("rules", {}), "rules")
    if raw.get("card", {}).get("identity") == "path":
        levels.setdefault("HUB303", None)  # a card's path is its identity: metadata repeats are not an error
    return RuleSettings(levels, per_path)


def _from_document(raw: dict[str, Any], *, root: Path, path: Path, profile_name: str) -> HubConfig:
    schema_ext = raw.get("schema", {})
    store = raw.get("store")
    max_card = os.environ.get("HUBTOOL_MAX_CARD_BYTES") or raw.get("limits", {}).get("max-card-bytes")
    return HubConfig(
        root=root, path=path, name=str(raw.get("name", root.name)),
        cards_dir=Path(raw.get("cards", "cards")),
        max_card_bytes=int(max_card or DEFAULT_MAX_CARD_BYTES),
        extra_module_types=tuple(schema_ext.get("extra-module-types", ())),
        extra_file_formats=tuple(schema_ext.get("extra-file-formats", ())),
        extra_backends=tuple(schema_ext.get("extra-backends", ())),
        policy=_policy(raw.get("policy", {})),
        mirrors=tuple(Mirror(m["url"], m.get("layout", "by-hash")) for m in raw.get("mirrors", ())),
        store=(root / store) if store else None,
        publish_to=Path(raw.get("publish", {}).get("to", "dist/hub")),
        default_golden_sets=dict(raw.get("golden", {}).get("default-sets", {})),
        networks={str(k).lower(): v for k, v in (raw.get("golden", {}).get("networks") or {}).items()},
        repositories={repository_key(str(k)): v
                      for k, v in (raw.get("golden", {}).get("repositories") or {}).items()},
        object_store=_object_store(raw.get("object-store", {}) or {}, root),
        runtimes=_runtimes(raw.get("runtimes", {}) or {}),
        profile=profile_name, rules=_rule_settings(raw),
        card=_card(raw.get("card", {}), tuple(schema_ext.get("extra-module-types", ()))),
        baseline=root / raw["baseline"] if raw.get("baseline") else None,
    )

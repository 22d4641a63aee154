"""The hub's configuration: hub/hub.yaml, validated, with defaults and environment overrides.

Every setting a part needs is a typed field here; no part reads the YAML document itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .yamlfile import read_validated

CONFIG_RELPATH = Path("hub") / "hub.yaml"
DEFAULT_MAX_CARD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Policy:
    """Download policy (DESIGN.md section 5)."""

    allowed_schemes: tuple[str, ...] = ("https",)
    allowed_hosts: tuple[str, ...] = ()
    allow_private: tuple[str, ...] = ()
    max_asset_bytes: int = 16 * 1024**3
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5
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


@dataclass(frozen=True)
class Mirror:
    url: str
    layout: str = "by-hash"  # by-hash | by-path


@dataclass(frozen=True)
class ObjectStoreSettings:
    """`object-store:` in hub/hub.yaml: how to reach s3:// targets and mirrors."""

    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str | None = None
    ca_bundle: Path | None = None  # resolved against the hub root


@dataclass(frozen=True)
class RuntimeSettings:
    """`runtimes:` in hub/hub.yaml."""

    mslite_python: str | None = None  # runtimes.mindspore-lite.python: the CPython 3.7 to build the env with


@dataclass(frozen=True)
class HubConfig:
    """Everything hubtool needs to know about one hub."""

    root: Path
    path: Path | None = None  # the hub.yaml read, if any
    name: str = "hub"
    cards_dir: Path = Path("cards")
    max_card_bytes: int = DEFAULT_MAX_CARD_BYTES
    extra_module_types: tuple[str, ...] = ()
    extra_file_formats: tuple[str, ...] = ()
    extra_backends: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    mirrors: tuple[Mirror, ...] = ()
    store: Path | None = None
    publish_to: Path = Path("dist/hub")
    default_golden_sets: dict[str, str] = field(default_factory=dict)
    object_store: ObjectStoreSettings = field(default_factory=ObjectStoreSettings)
    runtimes: RuntimeSettings = field(default_factory=RuntimeSettings)


def find_hub_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds hub/hub.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_RELPATH).is_file():
            return folder
    return None


def cache_dir() -> Path:
    """hubtool's cache: $HUBTOOL_HOME, else $XDG_CACHE_HOME/hubtool, else ~/.cache/hubtool."""
    if os.environ.get("HUBTOOL_HOME"):
        return Path(os.environ["HUBTOOL_HOME"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "hubtool"
    return Path.home() / ".cache" / "hubtool"


def load_config(config_path: Path | None = None, *, start: Path | None = None) -> HubConfig:
    """Read hub/hub.yaml (explicit path, or found above `start`); defaults when there is none."""
    if config_path is None:
        root = find_hub_root(start or Path.cwd())
        if root is None:
            return HubConfig(root=(start or Path.cwd()).resolve())
        config_path = root / CONFIG_RELPATH
    config_path = config_path.resolve()
    root = config_path.parent.parent if config_path.parent.name == "hub" else config_path.parent
    data = read_validated(config_path, "hub", ConfigError, empty_ok=True).data
    return _from_document(data if isinstance(data, dict) else {}, root=root, path=config_path)


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
        max_redirects=int(pol.get("max-redirects", default.max_redirects)),
    )


def _object_store(settings: dict[str, Any], root: Path) -> ObjectStoreSettings:
    ca = settings.get("ca-bundle")
    return ObjectStoreSettings(endpoint_url=settings.get("endpoint-url"), region=settings.get("region"),
                               addressing_style=settings.get("addressing-style"),
                               ca_bundle=root / ca if ca else None)


def _runtimes(settings: dict[str, Any]) -> RuntimeSettings:
    mslite = settings.get("mindspore-lite") or {}
    python = mslite.get("python") if isinstance(mslite, dict) else None
    return RuntimeSettings(mslite_python=str(python) if python else None)


def _from_document(raw: dict[str, Any], *, root: Path, path: Path) -> HubConfig:
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
        object_store=_object_store(raw.get("object-store", {}) or {}, root),
        runtimes=_runtimes(raw.get("runtimes", {}) or {}),
    )

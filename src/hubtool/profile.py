"""Dialect profiles: hub.yaml documents shipped with hubtool that a hub's own hub.yaml extends.

`profiles/<name>.yaml` is validated by schemas/hub.schema.json like any hub.yaml and may
itself `extends:` another profile.  A hub.yaml is merged onto its profile: mappings merge
key by key, lists and values replace (a hub that lists allowed-hosts lists all of them).
"""

from __future__ import annotations

from pathlib import Path

from .durable import JSONObject
from .errors import ConfigError
from .yamlfile import read_validated

PROFILES = Path(__file__).resolve().parent / "profiles"
DEFAULT = "hubtool"


def available() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


def merge(base: JSONObject, over: JSONObject) -> JSONObject:
    """`over` onto `base`: nested mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        out[key] = merge(below, value) if isinstance(value, dict) and isinstance(below, dict) else value
    return out


def profile_document(name: str, *, seen: tuple[str, ...] = ()) -> JSONObject:
    """The profile `name` with everything it extends merged in."""
    if name in seen:
        raise ConfigError(f"profiles extend each other in a circle: {' -> '.join((*seen, name))}")
    path = PROFILES / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown profile {name!r}", hint=f"hubtool ships: {', '.join(available())}")
    data = read_validated(path, "hub", ConfigError).data
    doc: JSONObject = dict(data) if isinstance(data, dict) else {}
    parent = doc.pop("extends", None)
    return merge(profile_document(str(parent), seen=(*seen, name)), doc) if parent else doc


def resolved(doc: JSONObject) -> tuple[str, JSONObject]:
    """A hub.yaml document merged onto the profile it extends (the default profile if it names none)."""
    own = dict(doc)
    name = str(own.pop("extends", DEFAULT))
    return name, merge(profile_document(name), own)

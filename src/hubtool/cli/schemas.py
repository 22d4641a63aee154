"""Which card schema `hubtool schema` gives, and where it lies on disk (for an editor to point at)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import HubConfig, profile_config
from ..durable import JSONObject, write_atomic
from ..places import cache_dir
from ..schema import exported_card_schema, schema_dir


@dataclass(frozen=True)
class CardSchema:
    profile: str
    schema: JSONObject


def effective_card_schema(hub: HubConfig, profile: str | None) -> CardSchema:
    """A profile's card schema, or the hub's own (its profile with its hub.yaml's card settings)."""
    config = profile_config(profile, hub.root) if profile else hub
    return CardSchema(config.profile, exported_card_schema(
        config.card, profile=config.profile, file_formats=config.extra_file_formats, backends=config.extra_backends))


def card_schema_file(found: CardSchema) -> Path:
    """The bundled file when the schema is a shipped profile's, else a copy in hubtool's cache."""
    text = json.dumps(found.schema, indent=2, ensure_ascii=False) + "\n"
    bundled = schema_dir() / "profiles" / f"{found.profile}.card.schema.json"
    if bundled.is_file() and bundled.read_text(encoding="utf-8") == text:
        return bundled
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = cache_dir() / "schemas" / f"{found.profile}-{digest}.card.schema.json"
    if not path.is_file():
        write_atomic(path, text.encode())
    return path

"""Settings files (hub.yaml, the profiles it extends, golden.yaml) as last read cleanly, kept by their bytes.

Every run reads hub/hub.yaml and its profiles, and a publish each golden set's golden.yaml: YAML
with positions (yamlsource, PyYAML) checked against a schema (fastjsonschema).  On a replay of an
unchanged hub those imports and that work were ~20 ms of 0.2 s.  So a file that read cleanly is
kept in hubtool's cache (`settings/<key>`): its data and its values' positions, under a key over
its bytes, the schema it was checked against (name and bytes), and hubtool's own files
(`codeidentity`): other bytes, another schema or another hubtool is another key.

Only a clean read is kept: a file with a problem is read again, and says so again, every time.
An entry is trusted whole or not at all (its first line is the SHA-256 of the rest), and never
needed: when the cache cannot be written nothing is kept, and deleting it costs a parse per file.
Each edit of a hub.yaml is a new entry: past `MAX_ENTRIES`, the oldest written half goes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from . import textdecode
from .codeidentity import code_identity
from .diagnostics import Pos
from .durable import JSON, parse_json, write_atomic
from .errors import SchemaError
from .places import cache_dir
from .schema import schema_path

FORMAT = 1
FOLDER = "settings"
#: an entry is a settings file's data (at most yamlfile.MAX_SETTINGS_BYTES of YAML) and positions
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: a hub's settings files and their recent versions (a few KiB each)
MAX_ENTRIES = 256


class Settings(NamedTuple):
    """A settings file's data, and where each of its values is (pointer -> position), for the messages."""

    data: JSON
    values: Mapping[str, Pos]


def memo_key(content: bytes, schema: str, *, empty_ok: bool) -> str | None:
    """The key of a settings file with these bytes, read against this schema; None when the schema cannot be
    read (the read says so)."""
    try:
        schema_digest = _file_digest(schema_path(schema))
    except (OSError, SchemaError):
        return None
    digest = hashlib.sha256(f"hubtool-settings\0{FORMAT}\0{code_identity()}\0{schema}\0{empty_ok}\0".encode())
    digest.update(schema_digest)
    digest.update(content)
    return digest.hexdigest()


@cache
def _file_digest(path: Path) -> bytes:
    """A schema file's SHA-256, read once per process (a hub.yaml and its profiles share the hub schema), as
    schema.load_schema reads it once."""
    return hashlib.sha256(path.read_bytes()).digest()


def recalled(key: str) -> Settings | None:
    """The settings kept under `key`, or None (none kept, or not whole, or not of this shape)."""
    try:
        raw = textdecode.read_intact(cache_dir() / FOLDER / key, MAX_ENTRY_BYTES)
    except OSError:
        return None
    if raw is None:
        return None
    check, _, body = raw.partition(b"\n")
    if check != hashlib.sha256(body).hexdigest().encode():
        return None
    try:
        doc: Any = parse_json(body)  # our own memo as written: its shape is checked by the exceptions
        values = {str(pointer): Pos(int(line), int(col)) for pointer, (line, col) in doc["values"].items()}
        return Settings(doc["data"], values)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def keep(key: str, settings: Settings) -> None:
    """Keep a clean read under `key`, if its data comes back from JSON as it is (a NaN does not: not kept)."""
    body = json.dumps({"data": settings.data, "values": {p: [pos.line, pos.col] for p, pos in settings.values.items()}},
                      ensure_ascii=False, separators=(",", ":")).encode()
    if json.loads(body)["data"] != settings.data:
        return
    folder = cache_dir() / FOLDER
    try:
        write_atomic(folder / key, hashlib.sha256(body).hexdigest().encode() + b"\n" + body, durable=False)
    except OSError:
        return  # a cache that cannot be written: the next run parses the file again
    _prune(str(folder))


def _prune(folder: str) -> None:
    """Past MAX_ENTRIES, remove the oldest written half (after a write only: a miss, not every run)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path) for entry in listing)
    except OSError:
        return
    if len(entries) > MAX_ENTRIES:
        for _, path in entries[:len(entries) - MAX_ENTRIES // 2]:
            try:
                os.unlink(path)
            except OSError:
                pass  # gone meanwhile, or not ours to remove: the next prune tries again

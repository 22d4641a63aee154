"""Translated copies of legacy assets in the store, keyed by (source SHA-256, translator version)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..assets.store import DirectoryStore
from ..durable import parse_json, write_atomic
from ..textdecode import read_intact
from . import TRANSLATOR_VERSION

MAX_RECORD_BYTES = 64 * 1024  # three short fields


@dataclass(frozen=True)
class Translated:
    source_sha256: str
    sha256: str
    path: Path
    translator: str = TRANSLATOR_VERSION


def translate_into_store(store: DirectoryStore, source_sha256: str) -> Translated:
    """The MSL2 translation of a stored 1.0/1.1 blob, made once and stored like any blob.

    Raises TranslationRefused or LegacyFormatError when the model cannot be translated.
    """
    record = store.root / "translations" / f"{source_sha256}.t{TRANSLATOR_VERSION}.json"
    try:
        kept = read_intact(record, MAX_RECORD_BYTES)  # None for a FIFO in its place, whose read would block
        if kept is not None:
            record_doc: Any = parse_json(kept)  # checked by the exceptions below
            digest = record_doc["sha256"]
            if store.has(digest):
                return Translated(source_sha256, digest, store.blob_path(digest))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    # the translator (flatbuffers, which imports numpy: ~100 ms and ~15 MiB) only when one is made
    from .upgrade import map_file, release, upgrade_bytes

    data = map_file(store.blob_path(source_sha256))
    try:
        out = upgrade_bytes(data)
    finally:
        release(data)
    digest = hashlib.sha256(out).hexdigest()
    writer = store.writer(digest, source=f"translation of {source_sha256[:12]}", resume=False)
    try:
        writer.write(out)
    except BaseException:
        writer.abort()
        raise
    writer.commit()  # through the door like every blob: hashed, fsynced, renamed
    # the record is a cache: losing it (or not writing it, a folder being in its place) costs one re-translation
    try:
        write_atomic(record, json.dumps({"source": source_sha256, "sha256": digest,
                                         "translator": TRANSLATOR_VERSION}).encode(), durable=False)
    except OSError:
        pass
    return Translated(source_sha256, digest, store.blob_path(digest))

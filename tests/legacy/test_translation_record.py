"""The store's record of a translation is a cache: damage in its place costs one translation, never a hang."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import SHARED
from hubtool.assets.store import DirectoryStore
from hubtool.legacy import TRANSLATOR_VERSION
from hubtool.legacy.store_translation import translate_into_store

SOURCE = SHARED / "legacy-ms" / "retinaface1.ms"  # a real MindSpore Lite 1.0 model


@pytest.fixture
def stored(tmp_path: Path) -> tuple[DirectoryStore, str]:
    store = DirectoryStore(tmp_path / "store")
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    store.put_file(digest, SOURCE, source=str(SOURCE))
    return store, digest


def record_of(store: DirectoryStore, digest: str) -> Path:
    return store.root / "translations" / f"{digest}.t{TRANSLATOR_VERSION}.json"


@pytest.mark.parametrize("damage", [os.mkfifo, lambda p: p.symlink_to("/dev/zero"), os.mkdir,
                                    lambda p: p.write_bytes(b"[" * 100_000)],
                         ids=["fifo", "link-to-dev-zero", "folder", "deep-json"])
def test_damage_in_the_records_place_costs_one_translation(stored: tuple[DirectoryStore, str], alarm: None,
                                                           damage: Callable[[Path], object]) -> None:
    store, digest = stored
    first = translate_into_store(store, digest)
    record = record_of(store, digest)
    assert record.is_file()
    record.unlink()
    damage(record)
    again = translate_into_store(store, digest)
    assert again.sha256 == first.sha256 and store.has(again.sha256)
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == again.sha256
    assert record.is_dir() or (record.is_file() and not record.is_symlink())  # replaced, unless a folder is there

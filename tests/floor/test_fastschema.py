"""The compiled-validator cache: compiled once per schema, loaded after, never trusted blindly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubtool.fastschema import fast_validator
from hubtool.schema import load_schema

SCHEMA = {"$id": "urn:test:cache:1", "type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}


def entries(home: Path) -> list[Path]:
    return sorted((home / "schemas").glob("fastjsonschema-*.marshal"))


def test_compiled_once_then_loaded_and_the_same_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBTOOL_HOME", str(tmp_path))
    first = fast_validator(SCHEMA)
    [entry] = entries(tmp_path)
    stamp = entry.stat().st_mtime_ns
    second = fast_validator(SCHEMA)  # from the cache: the entry is not rewritten
    assert entry.stat().st_mtime_ns == stamp
    for validate in (first, second):
        validate({"a": 1})
        with pytest.raises(Exception, match="must contain"):
            validate({})
    changed = dict(SCHEMA, required=[])  # another schema, another entry
    fast_validator(changed)({})
    assert len(entries(tmp_path)) == 2


def test_a_corrupt_entry_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBTOOL_HOME", str(tmp_path))
    fast_validator(SCHEMA)
    [entry] = entries(tmp_path)
    entry.write_bytes(b"\x00garbage")
    fast_validator(SCHEMA)({"a": 2})
    assert entry.read_bytes() != b"\x00garbage"


def test_an_unwritable_cache_only_costs_the_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HUBTOOL_HOME", str(blocker))  # cache_dir()/schemas cannot be created
    fast_validator(load_schema("hub"))({"name": "t"})
    assert os.path.isfile(blocker)

"""The compiled-validator cache: compiled once per schema, loaded after, never trusted blindly."""

from __future__ import annotations

import os
from collections.abc import Callable
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


def other_code(entry: Path) -> None:
    """Marshal data of another shape, with a right digest: a 'validator' named x, which is 1."""
    import hashlib
    import marshal

    data = marshal.dumps(("x", compile("x = 1", "s", "exec")))
    entry.write_bytes(hashlib.sha256(data).digest() + data)


def raising_code(entry: Path) -> None:
    """Code that raises, with no digest: never run."""
    import marshal

    entry.write_bytes(marshal.dumps(("f", compile("raise SystemError('ran')", "s", "exec"))))


def bit_flip(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x10
    entry.write_bytes(bytes(data))


def fifo(entry: Path) -> None:
    entry.unlink()
    os.mkfifo(entry)  # a read would wait for a writer forever


def link_to_zero(entry: Path) -> None:
    entry.unlink()
    entry.symlink_to("/dev/zero")  # a read would never end


@pytest.mark.parametrize("damage", [other_code, raising_code, bit_flip, fifo, link_to_zero])
def test_an_entry_that_is_not_a_validator_is_damage_compiled_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alarm: None, damage: Callable[[Path], None]) -> None:
    monkeypatch.setenv("HUBTOOL_HOME", str(tmp_path))
    fast_validator(SCHEMA)
    [entry] = entries(tmp_path)
    damage(entry)
    validate = fast_validator(SCHEMA)
    validate({"a": 2})
    with pytest.raises(Exception, match="must contain"):
        validate({})
    assert entry.is_file() and not entry.is_symlink()  # replaced by the compiled entry
    fast_validator(SCHEMA)({"a": 3})  # which loads

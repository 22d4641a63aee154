"""settingsmemo.py: a settings file read cleanly is kept by its bytes and its reader, and served whole or not at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubtool import settingsmemo
from hubtool.config import load_config
from hubtool.errors import ConfigError
from hubtool.places import cache_dir
from hubtool.yamlfile import read_validated

HUB = "name: memo\npolicy:\n  allowed-hosts: [example.org]\n"


def _hub(tmp_path: Path, text: str = HUB) -> Path:
    path = tmp_path / "hub" / "hub.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _entries() -> list[Path]:
    folder = cache_dir() / settingsmemo.FOLDER
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files yamlsource parses from now on."""
    from hubtool import yamlsource

    seen: list[str] = []
    real = yamlsource.parse

    def counting(text: str, **kwargs: object) -> object:
        seen.append(str(kwargs.get("path")))
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yamlsource, "parse", counting)
    return seen


def test_a_file_read_again_is_not_parsed_again_and_reads_the_same(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = _hub(tmp_path)
    first = read_validated(path, "hub", ConfigError)
    seen = _parses(monkeypatch)
    again = read_validated(path, "hub", ConfigError)
    assert seen == [] and again == first
    assert again.values["/policy/allowed-hosts/0"] == first.values["/policy/allowed-hosts/0"]
    path.write_text(HUB.replace("example.org", "example.com"))  # other bytes: another key, parsed
    changed = read_validated(path, "hub", ConfigError)
    assert seen == [str(path)] and changed.data["policy"]["allowed-hosts"] == ["example.com"]  # type: ignore[index]
    assert load_config(path).policy.allowed_hosts == ("example.com",)


def test_a_file_with_a_problem_is_never_kept_and_says_it_every_time(tmp_path: Path) -> None:
    path = _hub(tmp_path, "name: memo\npolicy:\n  allowed-hosts: 7\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"hub\.yaml:3:\d+: "):
            read_validated(path, "hub", ConfigError)
    assert _entries() == []


def test_empty_ok_is_part_of_the_key(tmp_path: Path) -> None:
    path = _hub(tmp_path, "")
    assert read_validated(path, "hub", ConfigError, empty_ok=True).data == {}
    with pytest.raises(ConfigError):
        read_validated(path, "hub", ConfigError)


def test_an_entry_that_is_not_whole_or_not_a_file_is_a_miss_and_is_written_again(tmp_path: Path) -> None:
    path = _hub(tmp_path)
    expected = read_validated(path, "hub", ConfigError)
    [entry] = _entries()
    good = entry.read_bytes()
    check, _, body = good.partition(b"\n")
    for damaged in (good[:-3], b"", check + b"\n" + body.replace(b"example.org", b"example.net"),
                    b"0" * 64 + b"\n{}", check + b"\n" + b"[]"):
        entry.write_bytes(damaged)
        assert read_validated(path, "hub", ConfigError) == expected
        assert entry.read_bytes() == good
    entry.unlink()
    os.mkfifo(entry)  # a FIFO where an entry was: never opened for reading (it would never answer)
    assert read_validated(path, "hub", ConfigError) == expected


def test_a_value_json_cannot_give_back_is_not_kept(tmp_path: Path) -> None:
    settings = settingsmemo.Settings({"x": float("nan")}, {})
    settingsmemo.keep("a" * 64, settings)
    assert _entries() == []
    settingsmemo.keep("b" * 64, settingsmemo.Settings({"x": [1, "two", None, 1.5]}, {}))
    assert settingsmemo.recalled("b" * 64) == settingsmemo.Settings({"x": [1, "two", None, 1.5]}, {})


def test_the_key_is_the_bytes_the_schema_and_hubtools_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = settingsmemo.memo_key(b"name: memo\n", "hub", empty_ok=False)
    assert key == settingsmemo.memo_key(b"name: memo\n", "hub", empty_ok=False)
    assert key != settingsmemo.memo_key(b"name: memo2\n", "hub", empty_ok=False)
    assert key != settingsmemo.memo_key(b"name: memo\n", "golden", empty_ok=False)
    monkeypatch.setattr(settingsmemo, "code_identity", lambda: "an edited checkout")
    assert key != settingsmemo.memo_key(b"name: memo\n", "hub", empty_ok=False)
    monkeypatch.undo()
    schema = tmp_path / "hub.schema.json"
    schema.write_bytes(settingsmemo.schema_path("hub").read_bytes() + b"\n")
    monkeypatch.setattr(settingsmemo, "schema_path", lambda name: schema)
    assert key != settingsmemo.memo_key(b"name: memo\n", "hub", empty_ok=False)


def test_a_cache_that_cannot_be_written_keeps_nothing_and_reads_the_file(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("HUBTOOL_HOME", str(blocker))
    path = _hub(tmp_path)
    expected = {"name": "memo", "policy": {"allowed-hosts": ["example.org"]}}
    assert read_validated(path, "hub", ConfigError).data == expected


def test_a_hub_read_before_is_loaded_without_pyyaml(tmp_path: Path) -> None:
    """The point of it: a process that loads a hub.yaml (and the profile it extends) read before imports
    neither PyYAML nor the schema's validator."""
    path = _hub(tmp_path)
    code = ("import sys; from pathlib import Path; from hubtool.config import load_config; "
            f"c = load_config(Path({str(path)!r})); "
            "print(c.name, 'yaml' in sys.modules, 'fastjsonschema' in sys.modules)")
    env = {**os.environ, "HUBTOOL_HOME": str(cache_dir())}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["memo", "True", "True"]
    assert again.stdout.split() == ["memo", "False", "False"]


def test_past_its_bound_the_memo_keeps_the_newest_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settingsmemo, "MAX_ENTRIES", 6)
    keys = [f"{i:064x}" for i in range(7)]
    for i, key in enumerate(keys):
        settingsmemo.keep(key, settingsmemo.Settings({"version": i}, {}))
        entry = cache_dir() / settingsmemo.FOLDER / key
        os.utime(entry, ns=(i * 10**9, i * 10**9))  # written in this order, a second apart
    assert [p.name for p in _entries()] == keys[-3:]
    assert settingsmemo.recalled(keys[-1]) == settingsmemo.Settings({"version": 6}, {})

"""Stores and destinations that are not what they should be: a mirror or publish destination that is a file, a
FIFO or a link to /dev/zero is a store error that says so, at once, before any asset is fetched (`mirror --to FILE`
ended in an internal FileExistsError after failing each asset; `publish --to FILE` called the file a folder); a
store to verify or collect that is not there is a usage error."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes
from test_fetch_cli import make_hub

from helpers import run_cli


def a_file(path: Path) -> None:
    path.write_text("not a folder")


def a_link_to_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("occupy", [a_file, os.mkfifo, a_link_to_zero])
def test_a_mirror_whose_folder_is_not_one_is_refused_before_fetching(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch, occupy: Callable[[Path], None]) -> None:
    root = make_hub(tmp_path / "hub", server, {"a.bin": random_bytes(3000, seed=1)})
    monkeypatch.chdir(root)
    out = tmp_path / "mirror"
    occupy(out)
    result = run_cli("mirror", "--to", str(out), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2, result.output
    assert "store error: cannot create the store at" in result.output and "a file is in the way" in result.output
    assert sum(r.hits for r in server.routes.values()) == 0


def test_a_folder_in_the_manifests_place_is_a_store_error(tmp_path: Path, server: FaultServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path / "hub", server, {"a.bin": random_bytes(3000, seed=2)})
    monkeypatch.chdir(root)
    (tmp_path / "mirror" / "manifest.json").mkdir(parents=True)
    result = run_cli("mirror", "--to", str(tmp_path / "mirror"), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2, result.output
    assert "cannot write the mirror's manifest.json" in result.output


@pytest.mark.parametrize("occupy", [a_file, os.mkfifo])  # a link there is hubtool's to replace, never followed
def test_publishing_to_a_file_says_it_is_a_file(tmp_path: Path, server: FaultServer,
                                               monkeypatch: pytest.MonkeyPatch, occupy: Callable[[Path], None]) -> None:
    root = make_hub(tmp_path / "hub", server, {"a.bin": b"\x0a\x05conv1" + bytes(500)})
    monkeypatch.chdir(root)
    occupy(tmp_path / "dist")
    result = run_cli("publish", "--to", str(tmp_path / "dist"), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2, result.output
    assert "it is a file, not hubtool's published-hub link" in result.output


@pytest.mark.parametrize("command", [["store", "verify"], ["store", "gc"]])
@pytest.mark.parametrize("occupy", [None, a_file])
def test_looking_after_a_store_that_is_not_there_says_so(tmp_path: Path, server: FaultServer,
                                                         monkeypatch: pytest.MonkeyPatch, command: list[str],
                                                         occupy: Callable[[Path], None] | None) -> None:
    """A mistyped --store was "0 blobs verified: 0 corrupt", exit 0: a clean bill for a store never looked at."""
    root = make_hub(tmp_path / "hub", server, {"a.bin": random_bytes(100, seed=3)})
    monkeypatch.chdir(root)
    store = tmp_path / "stroe"
    if occupy is not None:
        occupy(store)
    result = run_cli(*command, "--store", str(store))
    assert result.exit_code == 2, result.output
    assert f"no store at {store}: it is {'not a folder' if occupy else 'not there'}" in result.output
    assert not store.exists() or store.is_file()

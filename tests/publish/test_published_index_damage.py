"""A published generation's index.json that is not a file: a store error, never waited on or read without end."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer

from helpers import card_text, run_cli
from hubtool.errors import StoreError
from hubtool.publish.directory import MAX_INDEX_BYTES, DirectoryTarget


def generation(tmp_path: Path) -> tuple[DirectoryTarget, Path]:
    dest = tmp_path / "dist" / "hub"
    folder = tmp_path / "dist" / "hub.generations" / "00000001"
    folder.mkdir(parents=True)
    dest.symlink_to(folder)
    return DirectoryTarget(dest), folder / "index.json"


def oversized(path: Path) -> None:
    with open(path, "wb") as fh:
        fh.truncate(MAX_INDEX_BYTES + 1)  # sparse: nothing on disk, and nothing read


@pytest.mark.parametrize("damage", [os.mkfifo, lambda p: p.symlink_to("/dev/zero"), os.mkdir, oversized,
                                    lambda p: p.write_bytes(b"[" * 100_000)],
                         ids=["fifo", "link-to-dev-zero", "folder", "oversized", "deep-json"])
def test_an_index_that_cannot_be_read_is_a_store_error(tmp_path: Path, alarm: None,
                                                       damage: Callable[[Path], object]) -> None:
    target, index = generation(tmp_path)
    damage(index)
    with pytest.raises(StoreError, match="index.json cannot be read"):
        target.latest()


@pytest.mark.parametrize("damage", [os.mkfifo, lambda p: p.symlink_to("/dev/zero"), os.mkdir,
                                    lambda p: p.symlink_to(p.parent / "missing")],
                         ids=["fifo", "link-to-dev-zero", "folder", "dangling-link"])
def test_a_replay_neither_waits_on_nor_reads_without_end_an_index_that_is_not_a_file(
        tmp_path: Path, alarm: None, damage: Callable[[Path], object]) -> None:
    """What stands for the current index's bytes, asked by a replay: an index that is not a regular file was
    hashed through its name, and a FIFO there was waited on forever, a link to /dev/zero read without end."""
    target, index = generation(tmp_path)
    damage(index)
    assert target.state() is None  # nothing to compare: the pipeline writes a new generation


def test_an_index_linked_to_a_file_stands_by_that_file_s_bytes(tmp_path: Path) -> None:
    target, index = generation(tmp_path)
    (index.parent / "real.json").write_text('{"cards": []}')
    index.symlink_to("real.json")
    found = target.state()
    assert found is not None and found.digest == hashlib.sha256(b'{"cards": []}').hexdigest()


def test_a_whole_index_is_read(tmp_path: Path) -> None:
    target, index = generation(tmp_path)
    index.write_text('{"cards": []}')
    found = target.latest()
    assert found is not None and found.index == {"cards": []}


def test_publish_over_a_fifo_in_the_published_index_writes_a_new_generation(
        tmp_path: Path, server: FaultServer, alarm: None) -> None:
    """The comparison with the current index (is the new one the same?) met a FIFO there and waited forever."""
    body = b"\x0a\x05conv1" + bytes(500)
    server.add("/a.ckpt", body)
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "hub.yaml").write_text(
        "name: t\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "a.md").write_text(
        card_text(link=server.url("/a.ckpt"), sha=hashlib.sha256(body).hexdigest(), **{"model-name": "a"}))
    args = ("publish", "--to", str(tmp_path / "dist" / "hub"), "--store", str(tmp_path / "store"),
            "--config", str(tmp_path / "hub" / "hub.yaml"), str(tmp_path / "cards"))
    assert run_cli(*args).exit_code == 0
    first = (tmp_path / "dist" / "hub").resolve()
    (first / "index.json").unlink()
    os.mkfifo(first / "index.json")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    now = (tmp_path / "dist" / "hub").resolve()
    assert now != first and (now / "index.json").is_file()
    assert '"a"' in (now / "index.json").read_text()

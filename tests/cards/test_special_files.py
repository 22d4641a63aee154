"""Only regular files are read: a FIFO, a device, a socket or a folder named like a card (or a
link to one) is refused before any read, so nothing hangs or reads an endless file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import card_text, write_hub

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))


def special_hub(tmp_path: Path) -> Path:
    cards = write_hub(tmp_path, {"u/good.md": card_text()})
    os.mkfifo(cards / "u" / "pipe.md")  # a read would block until a writer comes: forever
    (cards / "u" / "zero.md").symlink_to("/dev/zero")  # a read would never end
    (cards / "u" / "folder.md").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(cards / "u" / "sock.md"))
    return cards


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # a hang is the failure this guards against: the timeout turns it into an error, not a stuck suite
    return subprocess.run([HUBTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_check_refuses_special_files_and_checks_the_rest(tmp_path: Path) -> None:
    special_hub(tmp_path)
    proc = run("check", "cards", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""
    assert "cards/u/pipe.md: HUB001 error: the card is a FIFO, not a regular file" in proc.stdout
    assert "cards/u/zero.md: HUB001 error: the card is a character device" in proc.stdout
    assert "cards/u/sock.md: HUB001 error: the card is a socket" in proc.stdout
    assert "4 cards checked: 3 errors" in proc.stdout  # a folder is walked into, not read; good.md passes
    proc = run("check", "cards/u/good.md", cwd=tmp_path)  # the cross-card pass reads the whole hub too
    assert proc.returncode == 0, proc.stdout


def test_publish_holds_special_files_back_without_hanging(tmp_path: Path) -> None:
    special_hub(tmp_path)
    proc = run("publish", "--to", str(tmp_path / "dist"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "cards/u/pipe.md  failed" in proc.stdout and "not a regular file" in proc.stdout


def test_a_special_hub_yaml_is_a_config_error(tmp_path: Path) -> None:
    write_hub(tmp_path, {"u/good.md": card_text()})
    (tmp_path / "hub" / "hub.yaml").unlink()
    os.mkfifo(tmp_path / "hub" / "hub.yaml")
    proc = run("check", "cards", cwd=tmp_path)
    assert proc.returncode == 2 and "hub.yaml is a FIFO, not a regular file" in proc.stderr


def _special(path: Path, kind: str) -> None:
    """`path` made a special file of `kind`: a FIFO, a link to /dev/zero, or a folder."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "zero", "folder"])
def test_a_special_baseline_is_a_config_error(tmp_path: Path, kind: str) -> None:
    write_hub(tmp_path, {"u/good.md": card_text()})
    _special(tmp_path / "b.json", kind)
    proc = run("check", "--baseline", "b.json", "cards", cwd=tmp_path)
    assert proc.returncode == 2 and "cannot read the baseline" in proc.stderr and "not a regular file" in proc.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_special_file_in_place_of_the_facts_cache_is_a_miss(tmp_path: Path, kind: str) -> None:
    write_hub(tmp_path, {"u/a.md": card_text(), "u/b.md": card_text(**{"model-name": "b"})})
    home = tmp_path / "home"
    env_run = {**os.environ, "HUBTOOL_HOME": str(home)}

    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HUBTOOL, "check", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=env_run)

    assert check("cards").returncode == 0
    [cache] = (home / "store" / "check").glob("*.facts")
    _special(cache, kind)
    proc = check("cards/u/a.md")  # the cross-card rules read every card again, and the cache is written anew
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert cache.is_file() and not cache.is_symlink()

"""`upgrade-ms` and `inspect` read only regular files: a FIFO or a link to a device is refused
before any read (a FIFO would block forever, /dev/zero never end)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubtool.assets.inspect import inspect_file
from hubtool.errors import SpecialFile

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))


@pytest.fixture
def specials(tmp_path: Path) -> list[Path]:
    os.mkfifo(tmp_path / "pipe.ms")
    (tmp_path / "zero.ms").symlink_to("/dev/zero")
    return [tmp_path / "pipe.ms", tmp_path / "zero.ms"]


def test_upgrade_ms_refuses_special_files(tmp_path: Path, specials: list[Path]) -> None:
    for path, what in zip(specials, ["a FIFO", "a character device"], strict=True):
        proc = subprocess.run([HUBTOOL, "upgrade-ms", str(path), str(tmp_path / "out.ms")],
                              capture_output=True, text=True, timeout=60)  # a hang fails here, not forever
        assert proc.returncode == 1 and f"it is {what}, not a regular file" in proc.stderr
        assert not (tmp_path / "out.ms").exists()


def test_inspect_refuses_special_files(specials: list[Path]) -> None:
    for path in specials:
        with pytest.raises(SpecialFile, match="not a regular file"):
            inspect_file(path)

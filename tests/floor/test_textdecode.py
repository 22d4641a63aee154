"""Reading a card's bytes: what the size says, what the file holds, and the limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubtool.errors import SpecialFile
from hubtool.textdecode import read_regular


def test_a_regular_file_is_read_whole_up_to_the_limit(tmp_path: Path) -> None:
    card = tmp_path / "c.md"
    card.write_bytes(b"x" * 5000)
    assert read_regular(card, 5000) == b"x" * 5000
    assert read_regular(card, 4999) == 5000  # over the limit: its size, nothing read
    card.write_bytes(b"")
    assert read_regular(card, 10) == b""


def test_a_file_whose_size_says_less_than_it_holds_is_still_read_to_the_limit() -> None:
    # /proc files are regular with st_size 0: the one byte read past the size shows there is more
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc on this system")
    data = read_regular(status, 1 << 20)
    assert isinstance(data, bytes) and b"VmRSS" in data
    cut = read_regular(status, 10)
    assert isinstance(cut, bytes) and len(cut) == 11  # one byte over the limit: the caller sees it is too big


def test_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "f.md"
    os.mkfifo(fifo)
    with pytest.raises(SpecialFile):
        read_regular(fifo, 10)

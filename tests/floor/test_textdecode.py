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


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("kind", ["folder", "socket", "link to /dev/zero", "link to a FIFO"])
def test_special_files_are_refused_by_name_and_no_descriptor_is_left_open(tmp_path: Path, kind: str) -> None:
    import socket

    place = tmp_path / "c.md"
    held = None
    if kind == "folder":
        place.mkdir()
    elif kind == "socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(place))
    elif kind == "link to /dev/zero":
        place.symlink_to("/dev/zero")
    else:
        os.mkfifo(tmp_path / "fifo")
        place.symlink_to(tmp_path / "fifo")
    before = _open_fds()
    try:
        with pytest.raises(SpecialFile) as caught:
            read_regular(place, 1 << 20)
    finally:
        if held is not None:
            held.close()
    assert _open_fds() == before - (held is not None)  # the closed socket's own descriptor, nothing else
    expected = {"folder": "a folder", "socket": "a socket", "link to /dev/zero": "a character device",
                "link to a FIFO": "a FIFO"}[kind]
    assert caught.value.what == expected


def test_the_bytes_and_the_status_are_those_of_the_file_read(tmp_path: Path) -> None:
    from hubtool.textdecode import read_regular_stat

    card = tmp_path / "c.md"
    card.write_bytes(b"abc\n" * 1000)
    before = _open_fds()
    data, found = read_regular_stat(card, 1 << 20)
    assert data == b"abc\n" * 1000 and found.st_size == 4000 and found.st_ino == card.stat().st_ino
    assert read_regular_stat(card, 3999)[0] == 4000
    assert _open_fds() == before

"""The collector pause: off inside, as it was afterwards, even when the work raises or a caller paused it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hubtool.gcpause import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_off_inside_and_back_on_after_even_when_the_work_raises() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyboardInterrupt), collector_paused():
        raise KeyboardInterrupt
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_outer_one_in_force() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()  # as `hubtool check` pauses it for the whole command
    with collector_paused():
        pass
    assert not gc.isenabled()

"""The cyclic garbage collector held off while a run builds what it keeps to its end.

A whole-hub check keeps every card's verdict, and a publish replay a few objects per card, until
they end; neither makes a reference cycle (tests/cards/test_checkrun.py holds the check to that).
The collector would only scan those objects again and again: ~20 ms of a 0.46 s check of 2,970
real cards, ~0.1 s of a 10k-card replay.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside; afterwards the collector is as it was (a caller may have paused it).
    A process forked inside inherits the pause."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""Ctrl-C for a process whose work runs in threads: one stop flag, checked between steps.

Python delivers SIGINT to the main thread only; download threads would go on
until their files are done.  The CLI's SIGINT handler calls `request_stop`,
which sets the flag and runs the registered hooks (they shut the sockets that
downloads are blocked on), so every thread reaches a check within about a
second and raises KeyboardInterrupt there.  Long loops say what they finished
with `note`, so that the CLI can tell what was done before the interrupt.
"""

from __future__ import annotations

import threading
import weakref

_STOP = threading.Event()
_HOOKS: weakref.WeakSet[Stoppable] = weakref.WeakSet()
_NOTES: dict[str, str] = {}


class Stoppable:
    """Something with a `stop()` to call at once on Ctrl-C (registered weakly: no leaks)."""

    def stop(self) -> None:
        raise NotImplementedError


def on_stop(hook: Stoppable) -> None:
    _HOOKS.add(hook)


def request_stop() -> None:
    """Ask every thread to stop at its next check; wake the ones blocked on a socket."""
    _STOP.set()
    for hook in list(_HOOKS):
        hook.stop()


def stop_requested() -> bool:
    return _STOP.is_set()


def check() -> None:
    """Raise KeyboardInterrupt in this thread if a stop was requested."""
    if _STOP.is_set():
        raise KeyboardInterrupt


def sleep(seconds: float) -> None:
    """time.sleep that ends early, with KeyboardInterrupt, when a stop is requested."""
    if _STOP.wait(max(seconds, 0.0)):
        raise KeyboardInterrupt


def note(topic: str, text: str) -> None:
    """What a long step has finished so far ("3 of 10 assets are in the store")."""
    _NOTES[topic] = text


def notes() -> list[str]:
    return list(_NOTES.values())


def reset() -> None:
    """For a new command in the same process (tests run many)."""
    _STOP.clear()
    _NOTES.clear()


__all__ = ["Stoppable", "check", "note", "notes", "on_stop", "request_stop", "reset", "sleep", "stop_requested"]

"""Hermetic tests (no real network, no writes to the real cache directory) and the shared fixtures."""

from __future__ import annotations

import ipaddress
import signal
import socket
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from faultserver import FaultServer
from s3_servers import Server, start_moto


class RealNetworkUsed(AssertionError):
    """A test tried to reach a host outside 127.0.0.0/8."""


def _runtime_dir() -> str:
    """Where the real runtime envs are, decided before any test redirects the cache dir.

    Tests use the installed MindSpore Lite env read-only; everything they write
    goes to their own temp dirs.
    """
    from hubtool.runtimes.mslite.env import runtimes_dir

    return str(runtimes_dir())


RUNTIME_DIR = _runtime_dir()


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("hubtool-home")
    monkeypatch.setenv("HUBTOOL_HOME", str(home))
    monkeypatch.setenv("HUBTOOL_RUNTIME_DIR", RUNTIME_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.delenv("HUBTOOL_MAX_CARD_BYTES", raising=False)
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise RealNetworkUsed(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A real HTTP server on 127.0.0.1 with fault injection (tests/faultserver.py)."""
    srv = FaultServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def moto() -> Iterator[Server]:
    """moto's standalone S3 server on loopback, one per test session."""
    started = start_moto()
    yield started
    assert started.proc is not None
    started.proc.terminate()
    started.proc.wait()


class Hung(BaseException):
    """Raised by `alarm`: a BaseException, so that no `except OSError` on the way takes it for an I/O error."""


@pytest.fixture
def alarm() -> Iterator[None]:
    """A hang (a read of a FIFO, of /dev/zero) fails the test after 30 s instead of stopping the suite."""
    def hung(_signum: int, _frame: FrameType | None) -> None:
        raise Hung("hung: the work did not end within 30 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)

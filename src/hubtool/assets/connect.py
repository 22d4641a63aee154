"""Connections that go where the policy looked, and end when the asset's time is up.

`check_url` resolves a host once and checks every address it gets; the
connection then goes to the address that was checked, while the Host header,
TLS SNI and the certificate check keep the name.  So a DNS answer that changes
between the check and the connect (DNS rebinding) cannot reach loopback or a
private range.

Every socket a request uses is watched during an attempt: a timeout per read
cannot stop a server that trickles one byte just inside it, forever (or sends
its headers that way), so at the asset's deadline the watched sockets are shut
down and the blocked read returns at once.
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.response import BaseHTTPResponse
from urllib3.util.connection import create_connection

from .. import cancel


class Guard(cancel.Stoppable):
    """One thread's pins (host and port → the checked address) and the sockets of its current attempt."""

    def __init__(self) -> None:
        self._pins: dict[tuple[str, int], str] = {}
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.expired = False
        cancel.on_stop(self)  # Ctrl-C cuts the sockets too: a blocked read ends at once

    def stop(self) -> None:
        self._cut()

    def pin(self, host: str, port: int, address: str) -> None:
        self._pins[(_key(host), port)] = address

    def address(self, host: str, port: int) -> str | None:
        return self._pins.get((_key(host), port))

    def watch(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._sockets.add(sock)

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Shut down every socket watched in this block once `seconds` have passed."""
        with self._lock:
            self._sockets = weakref.WeakSet()
            self.expired = False
        timer = threading.Timer(max(seconds, 0.0), self._cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _cut(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed, or a plain socket a TLS wrapper took over
                pass


def _key(host: str) -> str:
    return host.strip("[]").lower()


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections connect to the guard's pinned addresses only."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: object) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        http, https = _connection_classes(self.guard)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


def _quick_acks(sock: socket.socket | None) -> None:
    """ACK at once (Linux): a server that writes its headers and its body separately without TCP_NODELAY
    waits for our ACK of the headers before sending the body, and on a kept-alive connection the kernel
    delays that ACK by ~40 ms: measured, 91 ms instead of 51 per request to a 50 ms server. The flag
    is not sticky, so it is set before each response is read."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if sock is not None and quickack is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:  # not a TCP socket (a test double), or the option is refused: only speed is lost
            pass


def _connection_classes(guard: Guard) -> tuple[type[HTTPConnection], type[HTTPSConnection]]:
    class GuardedHTTP(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            # urllib3's own _new_conn resolves self.host again; this connects to the checked address and
            # leaves self.host alone, so that TLS SNI and the certificate check still use the name
            address = guard.address(self.host, self.port or 80)
            if address is None:  # every hop passes check_url first, which pins; anything else is refused
                raise NewConnectionError(self, f"{self.host}: connection to an address that was not checked")
            try:
                sock = create_connection((address, self.port), self.timeout, source_address=self.source_address,
                                         socket_options=self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connection to {self.host} ({address}) timed out") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"failed to connect to {self.host} ({address}): {exc}") from exc
            guard.watch(sock)
            return sock

        def connect(self) -> None:
            super().connect()
            guard.watch(self.sock)

        def request(self, *args: object, **kwargs: object) -> None:
            guard.watch(self.sock)  # a kept-alive connection belongs to this attempt too
            super().request(*args, **kwargs)  # type: ignore[arg-type]

        def getresponse(self) -> BaseHTTPResponse:  # type: ignore[override]
            _quick_acks(self.sock)  # after the request is sent: the answer's first segment is ACKed at once
            return super().getresponse()

    class GuardedHTTPS(GuardedHTTP, HTTPSConnection):
        pass

    return GuardedHTTP, GuardedHTTPS

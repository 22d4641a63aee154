"""A fault-injecting HTTP proxy in front of a real S3 server (moto, RGW), for hostile-server tests.

Requests are forwarded verbatim (the Host header too, so SigV4 signatures stay
valid on servers that check them); answers to object GETs are damaged as the
current `mode` says:

- `cut`:   the real Content-Length, half the body, then the connection closes
- `short`: Content-Length says half, and half is sent (a body that lies short)
- `long`:  Content-Length says more than there is; the real body, then close
- `5xx`:   503 SlowDown, as a busy server says it

Everything else (HEAD, listings, uploads) passes unchanged.
"""

from __future__ import annotations

import http.client
import socket
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from faultserver import LoopbackServer

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


class S3FaultProxy(LoopbackServer):
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.mode: str | None = None
        self.damaged = 0  # answers damaged so far
        super().__init__(_handler(self))

    @property
    def endpoint(self) -> str:
        return self.base


def _handler(proxy: S3FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
            answer = upstream.getresponse()
            data = answer.read()
            upstream.close()
            is_object_get = self.command == "GET" and "?" not in self.path.split("/", 2)[-1] \
                and answer.status in (200, 206) and "/blobs/" in self.path
            if is_object_get and proxy.mode is not None:
                proxy.damaged += 1
                self._damaged(answer, data)
                return
            self._answer_headers(answer, len(data))
            if self.command != "HEAD":
                self.wfile.write(data)

        def _answer_headers(self, answer: http.client.HTTPResponse, length: int) -> None:
            """The upstream's status and headers, with a Content-Length of our choosing (true or a lie)."""
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _damaged(self, answer: http.client.HTTPResponse, data: bytes) -> None:
            if proxy.mode == "5xx":
                self.send_response(503, "Slow Down")
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOW_DOWN)))
                self.end_headers()
                self.wfile.write(SLOW_DOWN)
                return
            half = len(data) // 2
            announced = {"cut": len(data), "short": half, "long": len(data) + 1000}[str(proxy.mode)]
            self._answer_headers(answer, announced)
            self.wfile.write(data[:half] if proxy.mode in ("cut", "short") else data)
            self.wfile.flush()
            if proxy.mode != "short":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward  # noqa: N815 - http.server's naming

    return Handler

"""A real HTTP server on 127.0.0.1 with fault injection, for download tests and benchmarks.

Each route serves a body with a behaviour: Range honoured or ignored, cut
connections, 5xx/429 before success, slow bodies, lying Content-Length,
redirects, fixed statuses.  Counters record what clients asked for.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    file: Path | None = None  # serve a file with sendfile instead of `body` (benchmarks)
    status: int = 200
    ranges: bool = True
    fail: list[int] = field(default_factory=list)  # statuses answered before the body, one per request
    retry_after: str | None = None
    cut_after: int | None = None  # close the connection after this many body bytes...
    cut_times: int = 1  # ...this many times
    delay: float = 0.0  # seconds before each 64 KiB of body
    content_length: int | None = None  # announce this instead of the truth
    redirect: str | None = None
    etag: str | None = None
    latency: float = 0.0  # before answering at all
    headers: dict[str, str] = field(default_factory=dict)
    no_length: bool = False  # no Content-Length: the body ends when the connection closes
    hits: int = 0
    range_requests: list[str] = field(default_factory=list)
    bytes_sent: int = 0

    def size(self) -> int:
        return self.file.stat().st_size if self.file else len(self.body)


class FaultServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.lock = threading.Lock()
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clients cutting connections is the point
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes = b"", **kwargs: Any) -> Route:
        route = Route(body=body, **kwargs)
        self.routes[path] = route
        return route

    def start(self) -> FaultServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            route = server.routes.get(self.path.split("?")[0])
            if route is None:
                self._plain(404, b"not found")
                return
            with server.lock:
                route.hits += 1
                failing = route.fail.pop(0) if route.fail else None
            if route.latency:
                time.sleep(route.latency)
            if failing is not None:
                extra = {"Retry-After": route.retry_after} if route.retry_after else {}
                self._plain(failing, b"try again", extra)
                return
            if route.redirect is not None:
                self._plain(route.status if route.status in (301, 302, 303, 307, 308) else 302, b"",
                            {"Location": route.redirect})
                return
            if route.status != 200:
                self._plain(route.status, route.body)
                return
            self._body(route)

        def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self, route: Route) -> None:
            size = route.size()
            start = 0
            header = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if header:
                route.range_requests.append(header)
            partial = bool(header and route.ranges and header.startswith("bytes=")
                           and (if_range is None or if_range == route.etag))
            if partial:
                start = int(header[6:].split("-")[0])
                if start >= size:
                    self._plain(416, b"", {"Content-Range": f"bytes */{size}"})
                    return
            self.send_response(206 if partial else 200)
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.send_header("Accept-Ranges", "bytes")
            if route.etag:
                self.send_header("ETag", route.etag)
            for key, value in route.headers.items():
                self.send_header(key, value)
            length = route.content_length if route.content_length is not None else size - start
            if route.no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            self._send(route, start, size)

        def _send(self, route: Route, start: int, size: int) -> None:
            limit = size
            with server.lock:
                if route.cut_after is not None and route.cut_times > 0:
                    route.cut_times -= 1
                    limit = min(size, start + route.cut_after)
            if route.file is not None and not route.delay:
                with open(route.file, "rb") as fh:
                    sent = self.connection.sendfile(fh, offset=start, count=limit - start)
                    route.bytes_sent += sent
            else:
                data = route.body if route.file is None else route.file.read_bytes()
                pos = start
                while pos < limit:
                    if route.delay:
                        time.sleep(route.delay)
                    chunk = data[pos:min(pos + 65536, limit)]
                    try:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                    except OSError:
                        return
                    pos += len(chunk)
                    route.bytes_sent += len(chunk)
            if limit < size:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

    return Handler


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)

"""A real HTTP server on 127.0.0.1 with fault injection, for download tests and benchmarks.

Each route serves a body with a behaviour: Range honoured or ignored, cut
connections, 5xx/429 before success, slow bodies, lying Content-Length,
redirects, fixed statuses; and the hostile ones: wrong bytes, failing resumes,
a new ETag on every answer, gzip/deflate although identity was asked, a byte
at a time forever, headers a byte at a time.  Counters record what clients
asked for (Range headers, Host headers).
"""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar


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
    corrupt: int = 0  # this many answers send wrong bytes (every byte flipped)
    fail_ranged: list[int] = field(default_factory=list)  # statuses for Range requests, one per request
    new_etag: bool = False  # a different ETag on every answer: the file "changes" all the time
    encoding: str | None = None  # "gzip" or "deflate": the wire body is the compressed body
    trickle: float = 0.0  # one byte, then this many seconds, ...
    endless: bool = False  # ...forever (with trickle: a body that never ends)
    slow_headers: float = 0.0  # the status line and headers one byte at a time, this far apart
    hits: int = 0
    range_requests: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    bytes_sent: int = 0

    def wire(self) -> bytes:
        """The bytes as sent: the body, compressed when the route lies about its encoding."""
        data = self.body if self.file is None else self.file.read_bytes()
        if self.encoding == "gzip":
            return gzip.compress(data, mtime=0)
        if self.encoding == "deflate":
            return zlib.compress(data)
        return data

    def size(self) -> int:
        if self.encoding:
            return len(self.wire())
        return self.file.stat().st_size if self.file else len(self.body)


Server = TypeVar("Server", bound="LoopbackServer")


class LoopbackServer:
    """A threaded HTTP server on loopback for tests and benchmarks; clients cutting connections is the point,
    so their errors are not printed."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # clients cutting connections is the point
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self: Server) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultServer(LoopbackServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Route] = {}
        self.lock = threading.Lock()
        super().__init__(_make_handler(self), host, port)

    def add(self, path: str, body: bytes = b"", **kwargs: Any) -> Route:
        route = Route(body=body, **kwargs)
        self.routes[path] = route
        return route



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
                route.hosts.append(self.headers.get("Host", ""))
                if self.headers.get("Range"):
                    route.range_requests.append(self.headers["Range"])
                failing = route.fail.pop(0) if route.fail else None
                if failing is None and self.headers.get("Range") and route.fail_ranged:
                    failing = route.fail_ranged.pop(0)
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

        def send_response(self, code: int, message: str | None = None) -> None:
            route = server.routes.get(self.path.split("?")[0])
            if route is not None and route.slow_headers:
                self._slow_headers(route, code)
                return
            super().send_response(code, message)

        def _slow_headers(self, route: Route, code: int) -> None:
            for byte in f"HTTP/1.1 {code} OK\r\nX-Slow: ".encode():
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(route.slow_headers)
            while True:  # a header line that never ends
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(route.slow_headers)

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
            if route.new_etag:
                route.etag = f'"v{route.hits}"'
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.encoding:
                self.send_header("Content-Encoding", route.encoding)
            for key, value in route.headers.items():
                self.send_header(key, value)
            length = route.content_length if route.content_length is not None else size - start
            if route.no_length or route.endless:
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
            with server.lock:
                wrong = route.corrupt > 0
                route.corrupt -= wrong
            if route.trickle:
                self._trickle(route, start, limit)
            elif route.file is not None and not route.delay and not wrong:
                with open(route.file, "rb") as fh:
                    sent = self.connection.sendfile(fh, offset=start, count=limit - start)
                    route.bytes_sent += sent
            else:
                data = route.wire()
                data = bytes(b ^ 0xFF for b in data) if wrong else data
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

        def _trickle(self, route: Route, start: int, limit: int) -> None:
            data, pos = route.wire(), start
            try:
                while route.endless or pos < limit:
                    self.wfile.write(data[pos % len(data):pos % len(data) + 1])
                    self.wfile.flush()
                    pos += 1
                    route.bytes_sent += 1
                    time.sleep(route.trickle)
            except OSError:
                return

    return Handler


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)

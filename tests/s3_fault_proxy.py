"""A fault-injecting HTTP proxy in front of a real S3 server (moto, RGW), for hostile-server tests.

Requests are forwarded verbatim (the Host header too, so SigV4 signatures stay
valid on servers that check them); answers to object GETs are damaged as the
current `mode` says:

- `cut`:   the real Content-Length, half the body, then the connection closes
- `short`: Content-Length says half, and half is sent (a body that lies short)
- `long`:  Content-Length says more than there is; the real body, then close
- `5xx`:   503 SlowDown, as a busy server says it

and requests that write are damaged as `upload_fault` says, `budget` times (-1: always):

- `flip-part`:      one byte of an UploadPart body is changed on its way to the server
- `cut-part`:       an UploadPart's connection is closed after half its body, unanswered
- `complete-500`:   CompleteMultipartUpload is answered 500 and never reaches the server
- `completed-500`:  CompleteMultipartUpload reaches the server (it completes), then is answered 500
- `written-500`:    a PutObject reaches the server (it is written), then is answered 500

With `disguise_etags`, every ETag is disguised as a token that is not the MD5, both ways (as servers under
SSE-KMS give).  Everything else passes unchanged.  `requests` counts (method, S3 action) pairs seen.
"""

from __future__ import annotations

import http.client
import re
import socket
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from faultserver import LoopbackServer

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
            b"<Message>We encountered an internal error. Please try again.</Message></Error>")


def _action(method: str, path: str) -> str:
    """The S3 action a request is, as far as the faults need: UploadPart, Complete..., else the method."""
    query = urlsplit(path).query
    if method == "PUT" and "partNumber=" in query:
        return "UploadPart"
    if method == "POST" and "uploadId=" in query:
        return "CompleteMultipartUpload"
    if method == "POST" and "uploads" in query.split("&"):
        return "CreateMultipartUpload"
    return method


def _disguise(etag: bytes) -> bytes:
    """An ETag that is not the MD5 (its hex digits reversed), and back again: as a server under SSE-KMS gives,
    a token the server still recognises when the client hands it back."""
    match = re.search(rb"[0-9a-f]{32}", etag)
    if match is None:
        return etag
    return etag[:match.start()] + match[0][::-1] + etag[match.end():]


def _take_fault(proxy: S3FaultProxy, action: str) -> str | None:
    fault = proxy.upload_fault
    wanted = {"flip-part": "UploadPart", "cut-part": "UploadPart", "complete-500": "CompleteMultipartUpload",
              "completed-500": "CompleteMultipartUpload", "written-500": "PUT"}.get(fault or "")
    if wanted != action or proxy.budget == 0:
        return None
    proxy.budget -= 1 if proxy.budget > 0 else 0
    return fault


class S3FaultProxy(LoopbackServer):
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.mode: str | None = None
        self.damaged = 0  # answers damaged so far
        self.damage_budget = -1  # how many more GET answers to damage (-1: all)
        self.upload_fault: str | None = None
        self.budget = -1
        self.disguise_etags = False
        self.only: str | None = None  # upload faults only for paths holding this (one blob's digest, say)
        self.requests: list[tuple[str, str]] = []
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
            action = _action(self.command, self.path)
            proxy.requests.append((self.command, action))
            fault = _take_fault(proxy, action) if proxy.only is None or proxy.only in self.path else None
            if fault == "cut-part":
                self.rfile.read(length // 2)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if fault == "complete-500":
                self.rfile.read(length)
                self._internal_error()
                return
            body = self.rfile.read(length) if length else None
            if proxy.disguise_etags and action == "CompleteMultipartUpload" and body:
                # the client names parts by the ETags it was given: undo the disguise for the server
                body = re.sub(rb"<ETag>([^<]*)</ETag>", lambda m: b"<ETag>" + _disguise(m[1]) + b"</ETag>", body)
            if fault == "flip-part" and body:
                body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0x01]) + body[len(body) // 2 + 1:]
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
            answer = upstream.getresponse()
            data = answer.read()
            upstream.close()
            if fault in ("completed-500", "written-500"):
                self._internal_error()
                return
            if proxy.disguise_etags:
                data = re.sub(rb"<ETag>([^<]*)</ETag>", lambda m: b"<ETag>" + _disguise(m[1]) + b"</ETag>", data)
            is_object_get = self.command == "GET" and "?" not in self.path.split("/", 2)[-1] \
                and answer.status in (200, 206) and "/blobs/" in self.path
            if is_object_get and proxy.mode is not None and proxy.damage_budget != 0:
                proxy.damage_budget -= 1 if proxy.damage_budget > 0 else 0
                proxy.damaged += 1
                self._damaged(answer, data)
                return
            # a HEAD's Content-Length is the object's, not the (empty) body's
            self._answer_headers(answer, int(answer.getheader("Content-Length") or 0) if self.command == "HEAD"
                                 else len(data))
            if self.command != "HEAD":
                self.wfile.write(data)

        def _internal_error(self) -> None:
            self.send_response(500, "Internal Server Error")
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(INTERNAL)))
            self.end_headers()
            self.wfile.write(INTERNAL)

        def _answer_headers(self, answer: http.client.HTTPResponse, length: int) -> None:
            """The upstream's status and headers, with a Content-Length of our choosing (true or a lie)."""
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() == "etag" and proxy.disguise_etags:
                    value = _disguise(value.encode()).decode()  # noqa: PLW2901 - the disguise is the point
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

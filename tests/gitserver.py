"""A real git smart-HTTP server on loopback: git's own http-backend behind http.server (CGI by hand).

Serves every repository under `root` (GIT_HTTP_EXPORT_ALL); counts requests so tests can prove
what was (not) fetched.  Used for a network's code cloned from a card's repo-link at a pinned commit.
"""

from __future__ import annotations

import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BACKEND = "/usr/lib/git-core/git-http-backend"


class GitServer:
    def __init__(self, root: Path, *, v2: bool = True) -> None:
        """`v2` False speaks protocol v0 only, whose upload-pack refuses a want of a commit no ref points at."""
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._backend()

            def do_POST(self) -> None:  # noqa: N802
                self._backend()

            def _backend(self) -> None:
                server.requests.append(f"{self.command} {self.path}")
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {"GIT_PROJECT_ROOT": str(server.root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
                       "QUERY_STRING": query, "REQUEST_METHOD": self.command, "REMOTE_ADDR": "127.0.0.1",
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "GIT_PROTOCOL": self.headers.get("Git-Protocol", "") if v2 else "",
                       "PATH": os.environ.get("PATH", "")}
                if self.headers.get("Content-Encoding") == "gzip":
                    env["HTTP_CONTENT_ENCODING"] = "gzip"
                out = subprocess.run([BACKEND], input=body, capture_output=True, env=env, timeout=60).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def __enter__(self) -> GitServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

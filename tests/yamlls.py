"""A minimal Language Server Protocol client for yaml-language-server (npm), the validator editors run.

It speaks JSON-RPC over the server's stdio, hands the server its settings (the card schema for
every `*.yaml`) when asked, opens documents and collects the diagnostics the server publishes.
A reader thread drains the server's output so neither side can block on a full pipe.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

JsonObject = dict[str, object]


def server_path() -> Path:
    """The server `make test` installs; required unless HUBTOOL_SKIP_YAMLLS=1 is set on purpose."""
    configured = os.environ.get("HUBTOOL_YAML_LS")
    server = Path(configured) if configured else None
    if server is None or not server.is_file():
        if os.environ.get("HUBTOOL_SKIP_YAMLLS") == "1":
            pytest.skip("HUBTOOL_SKIP_YAMLLS=1: the yaml-language-server lane is deliberately skipped")
        pytest.fail("yaml-language-server not found: run `make test` (it installs it with npm) or set "
                    "HUBTOOL_YAML_LS; set HUBTOOL_SKIP_YAMLLS=1 to skip on purpose")
    return server


class YamlLanguageServer:
    def __init__(self, server: Path, schema: Path) -> None:
        self._settings: JsonObject = {"validate": True, "schemas": {schema.as_uri(): "*.yaml"}}
        self._proc = subprocess.Popen([str(server), "--stdio"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._inbox: queue.Queue[JsonObject | None] = queue.Queue()
        threading.Thread(target=self._read_all, daemon=True).start()

    def _read_all(self) -> None:
        out = self._proc.stdout
        assert out is not None
        while True:
            length = None
            while (line := out.readline().strip()):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:  # end of output
                self._inbox.put(None)
                return
            self._inbox.put(json.loads(out.read(length)))

    def _send(self, message: JsonObject) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        stdin.flush()

    def _next(self, timeout: float) -> JsonObject:
        message = self._inbox.get(timeout=timeout)
        if message is None:
            raise AssertionError("yaml-language-server exited")
        if message.get("method") == "workspace/configuration":  # the server asks for its settings
            items = message["params"]["items"]  # type: ignore[index]
            self._send({"id": message["id"],
                        "result": [self._settings if item["section"] == "yaml" else {} for item in items]})
        elif "method" in message and "id" in message:  # any other request (e.g. registerCapability)
            self._send({"id": message["id"], "result": None})
        return message

    def start(self) -> None:
        self._send({"id": 1, "method": "initialize",
                    "params": {"processId": os.getpid(), "rootUri": None,
                               "capabilities": {"workspace": {"configuration": True}}}})
        while True:  # the server's own requests carry ids too: wait for our answer
            message = self._next(60)
            if message.get("id") == 1 and "method" not in message:
                break
        self._send({"method": "initialized", "params": {}})

    def diagnostics(self, documents: list[Path], timeout: float = 120) -> dict[Path, list[JsonObject]]:
        """Open each document and return what the server publishes for it (its first verdict)."""
        by_uri = {doc.resolve().as_uri(): doc for doc in documents}
        for uri, doc in by_uri.items():
            self._send({"method": "textDocument/didOpen",
                        "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                    "text": doc.read_text(encoding="utf-8")}}})
        found: dict[Path, list[JsonObject]] = {}
        while len(found) < len(by_uri):
            message = self._next(timeout)
            if message.get("method") == "textDocument/publishDiagnostics":
                params = message["params"]
                assert isinstance(params, dict)
                if params["uri"] in by_uri:
                    found.setdefault(by_uri[params["uri"]], params["diagnostics"])
        return found

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait(timeout=10)


@contextmanager
def yaml_language_server(schema: Path) -> Iterator[YamlLanguageServer]:
    server = YamlLanguageServer(server_path(), schema)
    try:
        server.start()
        yield server
    finally:
        server.close()

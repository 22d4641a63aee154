"""Real S3-API servers for the object-storage tests: moto's standalone server, and Ceph RGW.

moto runs every time (fast lane: a real HTTP server, but blind to integrity).
RGW is a real server (started by tests/servers/rgw.sh, which `make test` runs);
its absence fails the RGW tests unless HUBTOOL_SKIP_RGW=1 is set on purpose.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubtool.assets.s3.client import make_client


@dataclass
class Server:
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    verify: bool | str = True
    proc: subprocess.Popen[bytes] | None = None

    def client(self) -> Any:
        os.environ["AWS_ACCESS_KEY_ID"] = self.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        return make_client(endpoint_url=self.endpoint, addressing_style="path", verify=self.verify)

    def bucket(self) -> tuple[Any, str]:
        client = self.client()
        name = f"hubtool-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=name)
        return client, name


def ledger_location(kind: str, tmp_path: Path, moto: Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A shared ledger for `publish --ledger`: a folder, or (kind "s3") a fresh moto bucket, credentials set."""
    if kind == "folder":
        return str(tmp_path / "shared-ledger")
    _, bucket = moto.bucket()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto.secret_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    return f"s3://{bucket}/hub"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> Server:
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start within 30 s")
    return Server("moto", f"http://127.0.0.1:{port}", "testing", "testing", proc=proc)


def rgw(https: bool = False) -> Server:
    env_file = os.environ.get("HUBTOOL_RGW_ENV")
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        for line in Path(env_file).read_text().splitlines():
            key, _, value = line.partition("=")
            values[key] = value
    if not values:
        if os.environ.get("HUBTOOL_SKIP_RGW") == "1":
            pytest.skip("HUBTOOL_SKIP_RGW=1: the Ceph RGW lane is deliberately skipped")
        pytest.fail("no Ceph RGW for the object-storage tests: run `make test` (it starts one with "
                    "tests/servers/rgw.sh) or set HUBTOOL_RGW_ENV; set HUBTOOL_SKIP_RGW=1 to skip on purpose")
    endpoint = values["HUBTOOL_RGW_HTTPS_ENDPOINT" if https else "HUBTOOL_RGW_ENDPOINT"]
    return Server("rgw-https" if https else "rgw", endpoint, values["HUBTOOL_RGW_ACCESS_KEY"],
                  values["HUBTOOL_RGW_SECRET_KEY"], values["HUBTOOL_RGW_CA_BUNDLE"] if https else True)

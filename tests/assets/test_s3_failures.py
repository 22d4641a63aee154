"""`hubtool mirror` to S3 when the bucket, the credentials, the endpoint or the transfer fail: a clear
per-run error (exit 2) or per-asset error (exit 1, the other assets and the manifest go on), never a
traceback; the bucket is read directly after each."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest
from faultserver import random_bytes
from s3_fault_proxy import S3FaultProxy
from s3_servers import Server, rgw

from helpers import card_text, run_cli
from hubtool.assets.s3.blobs import S3BlobStore
from hubtool.assets.s3.client import S3Location
from hubtool.assets.s3.refs import S3RefStore

FIRST = random_bytes(200_000, seed=41)
SECOND = random_bytes(200_000, seed=42)


def _hub(root: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch, *, ca: str | None = None,
         keys: tuple[str, str] = ("testing", "testing")) -> None:
    """Two cards, each with its own asset in the repository; the object store at `endpoint`."""
    (root / "hub" / "assets").mkdir(parents=True)
    ca_line = f"\n  ca-bundle: {ca}" if ca else ""
    (root / "hub" / "hub.yaml").write_text(f"name: s3 hub\nobject-store:\n  endpoint-url: {endpoint}\n"
                                           f"  addressing-style: path{ca_line}\n")
    for name, body in (("first", FIRST), ("second", SECOND)):
        (root / "hub" / "assets" / f"{name}.ckpt").write_bytes(body)
        (root / "cards" / "u").mkdir(parents=True, exist_ok=True)
        (root / "cards" / "u" / f"{name}.md").write_text(card_text(
            **{"model-name": name}, link=f"hub/assets/{name}.ckpt", sha=hashlib.sha256(body).hexdigest()))
    monkeypatch.setenv("HOME", str(root))  # no ~/.aws of this machine's
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[1])
    monkeypatch.chdir(root)


def _mirror(tmp_path: Path, url: str, command: str = "mirror") -> tuple[int, str]:
    extra = ["--with-assets"] if command == "publish" else []
    result = run_cli(command, "--to", url, "--store", str(tmp_path / "store"), *extra)
    return result.exit_code, result.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_no_credentials(command: str, moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, bucket = moto.bucket()
    _hub(tmp_path, moto.endpoint, monkeypatch)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # as off EC2, once the metadata service times out
    code, output = _mirror(tmp_path, f"s3://{bucket}/m", command)
    assert code == 2 and "no S3 credentials: set AWS_ACCESS_KEY_ID" in output, output


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_a_missing_bucket(command: str, moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub(tmp_path, moto.endpoint, monkeypatch)
    code, output = _mirror(tmp_path, "s3://hubtool-no-such-bucket/m", command)
    assert code == 2 and "the bucket does not exist" in output, output


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_refused_credentials(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto accepts any key; RGW checks signatures (403 SignatureDoesNotMatch)."""
    server = rgw()
    client, bucket = server.bucket()
    _hub(tmp_path, server.endpoint, monkeypatch, keys=(server.access_key, "not-the-secret"))
    code, output = _mirror(tmp_path, f"s3://{bucket}/m", command)
    assert code == 2 and "access denied: check the credentials" in output, output
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_an_endpoint_that_is_down(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub(tmp_path, f"http://127.0.0.1:{_closed_port()}", monkeypatch)
    code, output = _mirror(tmp_path, "s3://b/m", command)
    assert code == 2 and "the endpoint cannot be reached" in output, output


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_a_self_signed_endpoint_without_its_ca(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = rgw(https=True)
    client, bucket = server.bucket()
    _hub(tmp_path, server.endpoint, monkeypatch, keys=(server.access_key, server.secret_key))
    code, output = _mirror(tmp_path, f"s3://{bucket}/m", command)
    assert code == 2 and "TLS certificate was not accepted: give its CA as object-store.ca-bundle" in output, output


@pytest.mark.parametrize("command", ["mirror", "publish"])
def test_a_ca_bundle_that_does_not_exist(command: str, moto: Server, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _hub(tmp_path, moto.endpoint, monkeypatch, ca="missing/ca.pem")
    code, output = _mirror(tmp_path, "s3://b/m", command)
    assert code == 2 and "object-store.ca-bundle" in output and "missing/ca.pem is not a file" in output, output


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_one_asset_whose_upload_is_cut_fails_alone(kind: str, moto: Server, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attempt at the first asset's part is cut (botocore tries 3 times): that asset fails, the
    second is uploaded and the manifest written; the re-run uploads the first."""
    server = moto if kind == "moto" else rgw()
    client, bucket = server.bucket()
    proxy = S3FaultProxy(server.endpoint).start()
    try:
        _hub(tmp_path, proxy.endpoint, monkeypatch, keys=(server.access_key, server.secret_key))
        proxy.upload_fault, proxy.only = "cut-part", hashlib.sha256(FIRST).hexdigest()
        code, output = _mirror(tmp_path, f"s3://{bucket}/m")
        assert code == 1, output
        lines = [line for line in output.splitlines() if "#asset/0" in line]
        assert lines[0].startswith("FAILED  cards/u/first.md") and "[store]" in lines[0], output
        assert lines[1].startswith("ok      cards/u/second.md") and "confirmed the MD5" in lines[1], output
        store = S3BlobStore(S3Location(bucket, "m/"), client)
        first, second = hashlib.sha256(FIRST).hexdigest(), hashlib.sha256(SECOND).hexdigest()
        assert store.stat(first) is None and store.verify(second) is None
        assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
        manifest = json.loads(S3RefStore(S3Location(bucket, "m/"), client).read("manifest.json") or b"")
        assert len(manifest["cards"]) == 2
        proxy.upload_fault = None
        code, output = _mirror(tmp_path, f"s3://{bucket}/m")
        assert code == 0 and "uploaded to" in output and "already in the bucket" in output, output
        assert store.verify(first) is None
    finally:
        proxy.stop()

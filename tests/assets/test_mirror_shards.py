"""`mirror --shard I/N` jobs and one `mirror --merge`: the mirror holds what a single `mirror` writes, its
manifest byte for byte; shards never write manifest.json; a card no shard manifest covers (with its current
assets) refuses the merge. On a folder and on a bucket (moto); shards are real processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes
from s3_servers import Server
from test_fetch_cli import make_hub

from helpers import card_text
from hubtool.cards.shard import Shard

N = 3


def _mirror(root: Path, to: str, store: str, *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "mirror", "--to", to,
                           "--store", str(root / store), "--config", str(root / "hub" / "hub.yaml"),
                           str(root / "cards"), *args], capture_output=True, text=True, timeout=300, cwd=root)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(params=["folder", "s3"])
def mirrors(request: pytest.FixtureRequest, tmp_path: Path, moto: Server,
            monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, object]:
    """Two empty mirrors (one for a single run, one for the shards) and a reader of their files."""
    if request.param == "folder":
        def folder_read(to: str, name: str) -> bytes | None:
            path = Path(to) / name
            return path.read_bytes() if path.is_file() else None
        return str(tmp_path / "single"), str(tmp_path / "sharded"), folder_read
    client, bucket = moto.bucket()
    for key, value in [("AWS_ACCESS_KEY_ID", moto.access_key), ("AWS_SECRET_ACCESS_KEY", moto.secret_key),
                       ("AWS_ENDPOINT_URL", moto.endpoint)]:
        monkeypatch.setenv(key, value)

    def bucket_read(to: str, name: str) -> bytes | None:
        try:
            return client.get_object(Bucket=bucket, Key=f"{to.rsplit('/', 1)[1]}/{name}")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
    return f"s3://{bucket}/single", f"s3://{bucket}/sharded", bucket_read


def _owned(root: Path) -> dict[int, list[str]]:
    cards = sorted(p.relative_to(root).as_posix() for p in (root / "cards").rglob("*.md"))
    return {i: [c for c in cards if Shard(i, N).takes(c)] for i in range(1, N + 1)}


def test_shards_and_a_merge_make_the_single_mirror(tmp_path: Path, server: FaultServer, mirrors: tuple) -> None:  # type: ignore[type-arg]
    single, sharded, read = mirrors
    assets = {f"f{i}.bin": random_bytes(3000 + i, seed=i) for i in range(9)}
    root = make_hub(tmp_path / "hub", server, assets)
    server.add("/gone.bin", b"", status=404)  # one card whose asset fails: the manifest says so the same way
    (root / "cards" / "u" / "gone.md").write_text(card_text(link=server.url("/gone.bin"), sha="0" * 64,
                                                            **{"model-name": "gone"}))
    code, out = _mirror(root, single, "store-single")
    assert code == 1, out
    for i in range(1, N + 1):
        code, out = _mirror(root, sharded, f"store-{i}", "--shard", f"{i}/{N}")
        assert f"shard {i}/{N}: {len(_owned(root)[i])} of 10 cards" in out, out
        assert read(sharded, "manifest.json") is None  # a shard never writes the hub's manifest
        assert json.loads(read(sharded, f"manifests/shard-{i}-of-{N}.json"))["cards"] is not None
    code, out = _mirror(root, sharded, "store-merge", "--merge")
    assert code == 0 and f"manifest.json written for 10 cards from {N} shard manifests" in out, out
    assert read(sharded, "manifest.json") == read(single, "manifest.json")
    for card in json.loads(read(single, "manifest.json"))["cards"]:
        for asset in card["assets"]:
            if asset["path"]:
                assert read(sharded, asset["path"]) == read(single, asset["path"])
    assert not (root / "store-merge").exists() or not list((root / "store-merge").rglob("*.bin"))


def test_a_merge_missing_a_shard_or_after_a_card_changed_refuses(tmp_path: Path, server: FaultServer) -> None:
    assets = {f"f{i}.bin": random_bytes(3000 + i, seed=i) for i in range(9)}
    root = make_hub(tmp_path / "hub", server, assets)
    to = str(tmp_path / "sharded")
    owned = _owned(root)
    absent = max(owned, key=lambda i: len(owned[i]))
    for i in set(owned) - {absent}:
        _mirror(root, to, f"store-{i}", "--shard", f"{i}/{N}")
    code, out = _mirror(root, to, "store-merge", "--merge")
    assert code == 2 and f"{len(owned[absent])} of 9 cards are in no shard manifest" in out, out
    assert all(c in out for c in owned[absent][:5]) and not (Path(to) / "manifest.json").exists()
    _mirror(root, to, f"store-{absent}", "--shard", f"{absent}/{N}")
    assert _mirror(root, to, "store-merge", "--merge")[0] == 0
    changed = root / owned[absent][0]  # a new asset for one card: its shard manifest no longer covers it
    server.add("/new.bin", b"new bytes")
    changed.write_text(card_text(link=server.url("/new.bin"), sha=hashlib.sha256(b"new bytes").hexdigest(),
                                 **{"model-name": "changed"}))
    code, out = _mirror(root, to, "store-merge", "--merge")
    assert code == 2 and "1 of 9 cards" in out and changed.name in out, out
    manifest = Path(to) / "manifests" / f"shard-{absent}-of-{N}.json"
    manifest.write_text("{not json")  # damaged: covers nothing
    code, out = _mirror(root, to, "store-merge", "--merge")
    assert code == 2 and f"{len(owned[absent])} of 9 cards" in out, out
    manifest.unlink()
    os.mkfifo(manifest)  # a special file covers nothing either, and is not waited on
    code, out = _mirror(root, to, "store-merge", "--merge")
    assert code == 2 and f"{len(owned[absent])} of 9 cards" in out, out

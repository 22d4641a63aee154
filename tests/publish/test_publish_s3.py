"""Publishing to S3 (moto every run, Ceph RGW): generations, crashes at every step, races, GC, the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from faultserver import random_bytes
from s3_fault_proxy import S3FaultProxy
from s3_servers import Server, rgw

from helpers import card_text, run_cli
from hubtool.assets.s3.blobs import S3BlobStore
from hubtool.assets.s3.client import S3Location, make_client
from hubtool.assets.s3.refs import S3RefStore
from hubtool.durable import JSONObject
from hubtool.errors import StoreError
from hubtool.publish import s3gc
from hubtool.publish.index import Document, Snapshot
from hubtool.publish.s3 import S3Target
from hubtool.publish.s3gc import DELETE_WINDOW, Collector, Lease

BODY = random_bytes(300_000, seed=9)
SHA = hashlib.sha256(BODY).hexdigest()


def _snapshot(i: int, *, name: str = "m", user: str = "u") -> Snapshot:
    doc: JSONObject = {"id": f"{user}/{name}@{i}", "card": f"cards/{user}/{name}.md", "title": None,
                       "metadata": {"n": i}, "assets": [], "golden": {"status": "skipped"}, "verified": True}
    return Snapshot("t", {}, [(f"cards/{user}/{name}@{i}.json", Document.of(doc))])


def _server(kind: str, moto: Server) -> Server:
    return moto if kind == "moto" else rgw()


def _latest(target: S3Target) -> tuple[int, JSONObject]:
    found = target.latest()
    assert found is not None
    return int(found.generation.rsplit("/", 1)[-1].removesuffix(".json")), found.index


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_publish_generations_and_a_crash_at_every_step(kind: str, moto: Server,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client, bucket = _server(kind, moto).bucket()
    target = S3Target(S3Location(bucket, "pub/"), client)
    first = target.publish(_snapshot(1))
    assert first.where == f"s3://{bucket}/pub/refs/index/0000000001.json" and not first.unchanged
    assert target.capabilities["conditional-writes"] is True
    assert isinstance(target.capabilities["checksum-sha256"], bool)
    assert target.publish(_snapshot(1)).unchanged
    real_put, real_create = S3RefStore.put, S3RefStore.create
    for step in range(3):  # crash at the card document, the index, and the commit
        calls = {"n": 0}

        def crashing_put(self: S3RefStore, name: str, body: bytes, step: int = step,
                         calls: dict[str, int] = calls) -> None:
            calls["n"] += 1
            if calls["n"] > step:
                raise RuntimeError("crash")
            real_put(self, name, body)

        monkeypatch.setattr(S3RefStore, "put", crashing_put)
        if step == 2:
            monkeypatch.setattr(S3RefStore, "create", lambda self, name, body: (_ for _ in ()).throw(
                RuntimeError("crash")) if name.startswith("refs/index/") else real_create(self, name, body))
        with pytest.raises(RuntimeError):
            S3Target(S3Location(bucket, "pub/"), client).publish(_snapshot(2))
        monkeypatch.setattr(S3RefStore, "put", real_put)
        monkeypatch.setattr(S3RefStore, "create", real_create)
        generation, seen = _latest(target)
        assert generation == 1 and seen["cards"][0]["metadata"] == {"n": 1}  # type: ignore[index]
    second = target.publish(_snapshot(2))
    assert second.where.endswith("0000000002.json")
    assert _latest(target)[1]["cards"][0]["metadata"] == {"n": 2}  # type: ignore[index]


def test_racing_publishers_rebase(moto: Server) -> None:
    client, bucket = moto.bucket()
    location = S3Location(bucket, "")
    results: list[str] = []

    def publisher(i: int) -> None:
        results.append(S3Target(location, client).publish(_snapshot(10 + i)).where)

    threads = [threading.Thread(target=publisher, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each got its own generation, none was overwritten
    assert sorted(r.rsplit("/", 1)[-1] for r in results) == [f"{g:010d}.json" for g in (1, 2, 3, 4)]


def test_gc_keeps_recent_generations(moto: Server) -> None:
    client, bucket = moto.bucket()
    target = S3Target(S3Location(bucket, ""), client)
    for i in range(5):
        target.publish(_snapshot(i))
    client.put_object(Bucket=bucket, Key=f"blobs/sha256/{SHA[:2]}/{SHA}", Body=BODY)  # unreferenced
    assert target.gc(keep=2, grace_seconds=3600).removed == []  # all within the grace period
    removed = target.gc(keep=2, grace_seconds=0).removed
    assert f"blobs/sha256/{SHA[:2]}/{SHA}" in removed
    assert len(target.refs.list("refs/index/")) == 2
    assert _latest(target)[0] == 5


@pytest.mark.parametrize("body", [b"[]", b"{not json", b"[" * 100_000, b'{"index_sha256": 7}',
                                  b'{"index_sha256": "%s"}' % (b"0" * 64)])
def test_gc_meeting_a_damaged_generation_ref_removes_nothing(moto: Server, body: bytes) -> None:
    """What a damaged ref protects is unknown: a clear StoreError, and every object stays (the bucket's server
    may be anyone's, and was an internal error on a ref that was a JSON list)."""
    client, bucket = moto.bucket()
    target = S3Target(S3Location(bucket, ""), client)
    for i in range(3):
        target.publish(_snapshot(i))
    client.put_object(Bucket=bucket, Key=f"blobs/sha256/{SHA[:2]}/{SHA}", Body=BODY)  # unreferenced
    first = sorted(target.refs.list("refs/index/"))[0]
    client.put_object(Bucket=bucket, Key=first, Body=body)
    before = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    if body.startswith(b'{"index_sha256": "0'):  # a ref naming an index that is not there: nothing to protect
        assert f"blobs/sha256/{SHA[:2]}/{SHA}" in target.gc(keep=5, grace_seconds=0).removed
        return
    with pytest.raises(StoreError, match="gc removes nothing"):
        target.gc(keep=5, grace_seconds=0)
    assert {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]} == before


def test_each_new_generation_gets_its_catalog_and_gc_keeps_only_the_kept_ones(moto: Server) -> None:
    client, bucket = moto.bucket()
    target = S3Target(S3Location(bucket, "hub/"), client)
    rendered: list[int] = []

    def snapshot(i: int) -> Snapshot:
        def catalog() -> list[tuple[str, bytes]]:
            rendered.append(i)
            return [("index.html", f"<p>{i}</p>".encode()), ("catalog.css", b"p{}"), ("images/s/a.png", b"png")]

        return dataclasses.replace(_snapshot(i), catalog=catalog)

    target.publish(snapshot(1))
    assert target.publish(snapshot(1)).unchanged and rendered == [1]  # an unchanged hub renders nothing
    head = target.refs.read("refs/index/0000000001.json")
    assert head is not None
    prefix = json.loads(head)["catalog"]
    assert prefix == f"catalog/{json.loads(head)['index_sha256']}/"
    page = client.get_object(Bucket=bucket, Key=f"hub/{prefix}index.html")
    assert page["Body"].read() == b"<p>1</p>" and page["ContentType"] == "text/html; charset=utf-8"
    assert client.head_object(Bucket=bucket, Key=f"hub/{prefix}images/s/a.png")["ContentType"] == "image/png"
    for i in (2, 3):
        target.publish(snapshot(i))
    removed = target.gc(keep=2, grace_seconds=0).removed
    assert f"{prefix}index.html" in removed and f"{prefix}images/s/a.png" in removed  # generation 1's
    kept = {json.loads(target.refs.read(n) or b"{}")["catalog"] for n in target.refs.list("refs/index/")}
    assert len(kept) == 2
    for kept_prefix in kept:
        assert f"{kept_prefix}index.html" in target.refs.list(kept_prefix)


# --- through the CLI: mirror and publish to s3:// ------------------------------------------------------


def _s3_hub(root: Path, server: Server, monkeypatch: pytest.MonkeyPatch, cards: dict[str, dict[str, str]]) -> None:
    """A hub whose cards' asset is in the repository, and whose object store is `server`."""
    (root / "hub" / "assets").mkdir(parents=True)
    (root / "hub" / "assets" / "m.ckpt").write_bytes(BODY)
    ca = f"\n  ca-bundle: {server.verify}" if isinstance(server.verify, str) else ""
    (root / "hub" / "hub.yaml").write_text(f"name: s3 hub\nobject-store:\n  endpoint-url: {server.endpoint}\n"
                                           f"  addressing-style: path{ca}\n")
    for rel, fields in cards.items():
        text = card_text(link="hub/assets/m.ckpt", sha=SHA, **fields)
        (root / "cards" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "cards" / rel).write_text(text)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    monkeypatch.chdir(root)


def test_each_published_card_names_its_own_document(moto: Server, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The index is ordered by identity, the cards by path: with the two orders apart, each card must still
    point at its own document (they were paired by position once, and swapped)."""
    client, bucket = moto.bucket()
    _s3_hub(tmp_path / "hub", moto, monkeypatch, {"a/zz.md": {"user-id": "b", "model-name": "zz"},
                                                  "b/aa.md": {"user-id": "a", "model-name": "aa"}})
    published = run_cli("publish", "--to", f"s3://{bucket}/pub", "--store", str(tmp_path / "store"))
    assert published.exit_code == 0, published.output
    target = S3Target(S3Location(bucket, "pub/"), client)
    cards = _latest(target)[1]["cards"]
    assert [c["id"] for c in cards] == ["a/aa@1.0", "b/zz@1.0"]  # type: ignore[index, union-attr]
    for card in cards:  # type: ignore[union-attr]
        body = target.refs.read(card["document"])  # type: ignore[index]
        assert body is not None and json.loads(body)["id"] == card["id"]  # type: ignore[index]


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_mirror_and_publish_to_s3(kind: str, moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = _server(kind, moto)
    client, bucket = server.bucket()
    _s3_hub(tmp_path / "hub", server, monkeypatch, {"u/m.md": {}})
    store = str(tmp_path / "store")
    mirrored = run_cli("mirror", "--to", f"s3://{bucket}/mirror", "--store", store)
    assert mirrored.exit_code == 0, mirrored.output
    location = S3Location(bucket, "mirror/")
    assert S3BlobStore(location, client).verify(SHA) is None
    manifest = json.loads(S3RefStore(location, client).read("manifest.json") or b"")
    assert manifest["cards"][0]["assets"][0]["sha256"] == SHA
    published = run_cli("publish", "--to", f"s3://{bucket}/pub", "--with-assets", "--store", store)
    assert published.exit_code == 0, published.output
    target = S3Target(S3Location(bucket, "pub/"), client)
    generation, index = _latest(target)
    assert generation == 1 and index["cards"][0]["assets"][0]["sha256"] == SHA  # type: ignore[index]
    doc = target.refs.read(index["cards"][0]["document"])  # type: ignore[index]
    assert doc is not None and json.loads(doc)["id"] == "u/m@1.0"
    again = run_cli("publish", "--to", f"s3://{bucket}/pub", "--with-assets", "--store", store)
    assert again.exit_code == 0 and "(unchanged)" in again.output
    # the bucket cannot say cheaply that it still holds every object: S3 runs are never replayed whole
    third = run_cli("publish", "--to", f"s3://{bucket}/pub", "--with-assets", "--store", store)
    assert third.exit_code == 0 and "(unchanged)" in third.output and "replayed" not in third.output
    shown = run_cli("published", "show", "--to", f"s3://{bucket}/pub")
    assert shown.exit_code == 0 and "refs/index/0000000001.json" in shown.output and "u/m@1.0" in shown.output
    dry = run_cli("published", "gc", "--to", f"s3://{bucket}/pub", "--grace-hours", "0", "--dry-run")
    assert dry.exit_code == 0 and "objects would be removed (dry run)" in dry.output, dry.output
    assert run_cli("published", "gc", "--to", f"s3://{bucket}/pub", "--grace-hours", "0").exit_code == 0
    assert _latest(target)[0] == 1 and S3BlobStore(S3Location(bucket, "pub/"), client).verify(SHA) is None


def test_store_verify_reads_an_s3_store_and_repairs_it(moto: Server, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`--store s3://...` is the bucket's blobs (it used to be read as an empty local folder: "0 blobs verified")."""
    client, bucket = moto.bucket()
    _s3_hub(tmp_path, moto, monkeypatch, {})
    store = S3BlobStore(S3Location(bucket, "mirror/"), client)
    source = tmp_path / "good.bin"
    source.write_bytes(BODY)
    store.put_file(SHA, source, source="test")
    lie = hashlib.sha256(b"promised").hexdigest()
    client.put_object(Bucket=bucket, Key=store.blob_key(lie), Body=b"other bytes")  # a body that is not its name
    url = f"s3://{bucket}/mirror"
    result = run_cli("store", "verify", "--store", url)
    assert result.exit_code == 1, result.output
    assert f"CORRUPT s3://{bucket}/mirror/blobs/sha256/{lie[:2]}/{lie}: content hashes to" in result.output
    assert "2 blobs verified: 1 corrupt" in result.output
    repaired = run_cli("store", "verify", "--store", url, "--repair")
    assert repaired.exit_code == 0 and "(removed)" in repaired.output
    assert store.stat(lie) is None and store.stat(SHA) is not None  # checked in the bucket itself
    assert "1 blobs verified: 0 corrupt" in run_cli("store", "verify", "--store", url).output
    refused = run_cli("store", "gc", "--store", url)
    assert refused.exit_code == 2 and "published gc" in refused.output  # not a local folder named "s3:"


# --- GC beside a running publish -----------------------------------------------------------------------


def _with_blob(i: int, blob: Path) -> Snapshot:
    """Generation i, whose one card references (and, with --with-assets, carries) the blob BODY."""
    snapshot = _snapshot(i)
    doc = dict(snapshot.documents[0][1].to_json(), assets=[{"sha256": SHA, "size": len(BODY)}])
    return dataclasses.replace(snapshot, documents=[(snapshot.documents[0][0], Document.of(doc))], blobs={SHA: blob})


def _blob_published_then_dropped(client: Any, bucket: str, tmp_path: Path) -> tuple[S3Target, Path]:
    """Generation 1 carries the blob; generations 2 and 3 do not: with keep=2 it is garbage."""
    blob = tmp_path / "blob.bin"
    blob.write_bytes(BODY)
    target = S3Target(S3Location(bucket, "pub/"), client)
    target.publish(_with_blob(1, blob))
    for i in (2, 3):
        target.publish(_snapshot(i))
    return target, blob


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_gc_racing_a_publish_that_reuses_an_old_blob_never_breaks_the_generation(
        kind: str, moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving that broke it: GC reads what is referenced, a publish then finds the old blob
    present (uploading nothing), and GC deletes it. The publisher's lease and settle put it back."""
    client, bucket = _server(kind, moto).bucket()
    target, blob = _blob_published_then_dropped(client, bucket, tmp_path)
    gc_has_read, publisher_has_checked = threading.Event(), threading.Event()
    reads = {"n": 0}
    real_protected, real_put_file = Collector.protected, S3BlobStore.put_file

    def protected(self: Collector) -> Any:
        found = real_protected(self)
        reads["n"] += 1
        if reads["n"] == 2:  # the read after the listing: now let the publisher look at the blob
            gc_has_read.set()
            assert publisher_has_checked.wait(10)
        return found

    def put_file(self: S3BlobStore, digest: str, src: Path, *, source: str = "") -> Any:
        stored = real_put_file(self, digest, src, source=source)
        publisher_has_checked.set()
        return stored

    monkeypatch.setattr(Collector, "protected", protected)
    monkeypatch.setattr(S3BlobStore, "put_file", put_file)
    # a wider window than 1 s, so that a slow machine's publisher still looks within GC's window (else GC
    # reads again, keeps the blob, and the settle this test is about is never needed)
    monkeypatch.setattr(s3gc, "DELETE_WINDOW", 4.0)
    monkeypatch.setattr(s3gc, "SETTLE", 8.0)
    collected: list[list[str]] = []
    gc = threading.Thread(target=lambda: collected.append(target.gc(keep=2, grace_seconds=0).removed))
    gc.start()
    assert gc_has_read.wait(10)
    committed = S3Target(S3Location(bucket, "pub/"), client).publish(_with_blob(4, blob))
    gc.join()
    blob_rel = f"blobs/sha256/{SHA[:2]}/{SHA}"
    assert blob_rel in collected[0]  # GC did delete it, under the read from before the lease
    assert committed.where.endswith("0000000004.json")
    index = _latest(target)[1]
    assert index["cards"][0]["assets"][0]["sha256"] == SHA  # type: ignore[index]
    store = S3BlobStore(S3Location(bucket, "pub/"), client)
    assert store.verify(SHA) is None  # read straight from the server: the generation's blob is there
    assert target.refs.list("leases/") == [] and target.refs.list("gc/") == []


def test_gc_that_reads_again_after_its_window_keeps_what_a_new_lease_names(
        moto: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lease taken just after GC's read, and a GC slower than its delete window: it reads the leases
    again before deleting, and the blob stays."""
    client, bucket = moto.bucket()
    target, _ = _blob_published_then_dropped(client, bucket, tmp_path)
    blob_rel = f"blobs/sha256/{SHA[:2]}/{SHA}"
    leases: list[Lease] = []
    reads = {"n": 0}
    real_protected = Collector.protected

    def protected(self: Collector) -> Any:
        found = real_protected(self)
        reads["n"] += 1
        if reads["n"] == 2:  # GC's read after the listing: a publisher leases the blob, GC dawdles
            leases.append(Lease.take(target.refs, {blob_rel}))
            time.sleep(DELETE_WINDOW * 1.2)
        return found

    monkeypatch.setattr(Collector, "protected", protected)
    removed = target.gc(keep=2, grace_seconds=0).removed
    assert leases and blob_rel not in removed and leases[0].name not in removed
    assert S3BlobStore(S3Location(bucket, "pub/"), client).verify(SHA) is None
    leases[0].drop(target.refs)
    monkeypatch.setattr(Collector, "protected", real_protected)
    assert blob_rel in target.gc(keep=2, grace_seconds=0).removed


def test_a_gc_dry_run_changes_nothing(moto: Server, tmp_path: Path) -> None:
    client, bucket = moto.bucket()
    target, _ = _blob_published_then_dropped(client, bucket, tmp_path)
    client.create_multipart_upload(Bucket=bucket, Key=f"pub/blobs/sha256/00/{'0' * 64}")
    before = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    dry = target.gc(keep=2, grace_seconds=0, dry_run=True)
    assert f"blobs/sha256/{SHA[:2]}/{SHA}" in dry.removed and len(dry.aborted) == 1
    assert sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]) == before
    assert len(client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 1
    done = target.gc(keep=2, grace_seconds=0)
    assert set(done.removed) == set(dry.removed) and len(done.aborted) == 1
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert _latest(target)[0] == 3


def test_gc_aborts_only_uploads_older_than_the_grace_period(tmp_path: Path) -> None:
    """On RGW, which dates uploads truly (moto dates them all 2010-11-10)."""
    client, bucket = rgw().bucket()
    target, _ = _blob_published_then_dropped(client, bucket, tmp_path)
    client.create_multipart_upload(Bucket=bucket, Key=f"pub/blobs/sha256/00/{'0' * 64}")  # a live publish's
    assert target.gc(keep=2, grace_seconds=3600).aborted == []
    assert len(client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 1
    time.sleep(1.1)
    assert len(target.gc(keep=2, grace_seconds=1).aborted) == 1
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


@pytest.mark.parametrize("kind", ["moto", "rgw"])
def test_a_commit_that_landed_but_was_answered_500_says_it_made_the_generation(kind: str, moto: Server) -> None:
    """botocore retries the 500; the retry meets the object the first attempt wrote (412). That generation
    is this publish's: it must say so, not "unchanged"."""
    server = _server(kind, moto)
    client, bucket = server.bucket()
    proxy = S3FaultProxy(server.endpoint).start()
    try:
        proxied = make_client(endpoint_url=proxy.endpoint, addressing_style="path")
        target = S3Target(S3Location(bucket, "pub/"), proxied)
        target.publish(_snapshot(1))
        proxy.upload_fault, proxy.budget, proxy.only = "written-500", 1, "/refs/index/"
        second = target.publish(_snapshot(2))
        assert proxy.budget == 0  # the fault did happen
        assert second.where.endswith("0000000002.json") and not second.unchanged
        assert _latest(S3Target(S3Location(bucket, "pub/"), client))[0] == 2  # read directly
        assert target.publish(_snapshot(2)).unchanged  # and a real re-run is still "unchanged"
    finally:
        proxy.stop()


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000, b"[]", b'{"index_sha256": 7}', b"\xff\xfe"])
def test_a_damaged_newest_generation_ref_is_a_store_error_to_read_and_to_publish_on(moto: Server,
                                                                                  body: bytes) -> None:
    """The newest ref is what a reader and the next publish read first: one that is not JSON was a JSONDecodeError
    out of the target (an internal error), where the ref that is JSON of the wrong shape was a StoreError."""
    client, bucket = moto.bucket()
    target = S3Target(S3Location(bucket, ""), client)
    for i in range(2):
        target.publish(_snapshot(i))
    newest = sorted(target.refs.list("refs/index/"))[-1]
    client.put_object(Bucket=bucket, Key=newest, Body=body)
    with pytest.raises(StoreError, match="is not a generation record"):
        target.latest()
    with pytest.raises(StoreError, match="is not a generation record"):
        target.publish(_snapshot(3))
    assert client.get_object(Bucket=bucket, Key=newest)["Body"].read() == body  # left for a person to look at

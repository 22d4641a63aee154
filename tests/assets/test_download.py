"""Downloads against a real loopback server with fault injection; the store invariant after each."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from helpers import assert_store_invariant
from hubtool import durable
from hubtool.assets import writer
from hubtool.assets.fetcher import Fetcher
from hubtool.assets.hashing import CHUNK
from hubtool.assets.mirror import AssetResult, AssetTask
from hubtool.assets.report import render_assets
from hubtool.assets.retrying import MAX_RETRY_AFTER, retry_after
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.config import Mirror, Policy
from hubtool.errors import IntegrityError, OfflineError, PolicyError, TransferError

POLICY = Policy(allowed_schemes=("http", "https"), allowed_hosts=("127.0.0.1",), allow_private=("127.0.0.1",),
                max_asset_bytes=8 * 1024 * 1024, connect_timeout=2, read_timeout=2, retries=3)
BODY = random_bytes(3 * 1024 * 1024 + 17, seed=1)
SHA = hashlib.sha256(BODY).hexdigest()
CUT = CHUNK + CHUNK // 2  # past the first whole chunk, so that a partial file exists


@pytest.fixture
def store(tmp_path: Path) -> DirectoryStore:
    return DirectoryStore(tmp_path / "store")


def fetcher(store: DirectoryStore, **kwargs: object) -> Fetcher:
    kwargs.setdefault("policy", POLICY)
    policy = kwargs.pop("policy")
    return build_fetcher(store, policy, backoff=0.01, **kwargs)  # type: ignore[arg-type]


def test_plain_download_then_present(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY)
    f = fetcher(store)
    first = f.fetch(server.url("/m.ms"), SHA)
    assert (first.action, first.size, first.transferred) == ("downloaded", len(BODY), len(BODY))
    assert f.fetch(server.url("/m.ms"), SHA).action == "present"
    assert server.routes["/m.ms"].hits == 1
    assert_store_invariant(store)


@pytest.mark.parametrize("sync_file_range", [True, False], ids=["sync_file_range", "fdatasync fallback"])
def test_periodic_writeback_keeps_the_bytes(server: FaultServer, store: DirectoryStore,
                                            monkeypatch: pytest.MonkeyPatch, sync_file_range: bool) -> None:
    """Writeback starts every FLUSH_EVERY bytes (sync_file_range, or fdatasync where it is missing); the
    blob is whole and durable either way, and a resumed download is too."""
    monkeypatch.setattr(writer, "FLUSH_EVERY", CHUNK)  # several times within this body
    calls: list[tuple[int, int]] = []
    real = durable.start_writeback
    if sync_file_range:
        assert getattr(durable._libc(), "sync_file_range", None) is not None  # Linux with glibc: it exists here

        def recorded(fd: int, offset: int, length: int) -> None:
            calls.append((offset, length))
            real(fd, offset, length)

        monkeypatch.setattr(writer, "start_writeback", recorded)
    else:
        monkeypatch.setattr(durable, "_libc", lambda: None)
        monkeypatch.setattr(durable.os, "fdatasync", lambda fd: calls.append((fd, 0)))
    server.add("/m.ms", BODY, cut_after=CUT)
    f = fetcher(store)
    assert f.fetch(server.url("/m.ms"), SHA).action == "downloaded"
    assert store.blob_path(SHA).read_bytes() == BODY
    assert len(calls) >= 2
    if sync_file_range:  # each call covers the bytes written since the one before, in order
        assert calls[0][0] == 0 and all(length >= CHUNK for _, length in calls)
        assert all(a[0] + a[1] <= b[0] for a, b in zip(calls, calls[1:], strict=False)), calls
    assert_store_invariant(store)


def test_cut_connection_resumes_with_range(server: FaultServer, store: DirectoryStore) -> None:
    cut = 1024 * 1024 + 5
    route = server.add("/m.ms", BODY, cut_after=cut, etag='"v1"')
    outcome = fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert outcome.size == len(BODY)
    [asked] = route.range_requests
    resumed_at = int(asked[len("bytes="):-1])
    assert cut - CHUNK < resumed_at <= cut  # at most the chunk being read when the cut came is lost
    assert route.bytes_sent <= len(BODY) + CHUNK
    assert_store_invariant(store)


def test_range_ignored_restarts_cleanly(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, cut_after=CUT, ranges=False)
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).size == len(BODY)
    assert route.hits == 2 and len(route.range_requests) == 1
    assert route.bytes_sent == CUT + len(BODY)
    assert_store_invariant(store)


def test_changed_etag_restarts(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, cut_after=CUT, etag='"v1"')
    f = fetcher(store, policy=POLICY._replace(retries=0))
    with pytest.raises(TransferError):
        f.fetch(server.url("/m.ms"), SHA)
    assert_store_invariant(store, temps=True)  # the partial is kept for a resume
    route.etag = '"v2"'  # the file changed on the server: If-Range fails, a 200 restarts
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).resumed_from > 0
    assert route.bytes_sent == CUT + len(BODY)
    assert_store_invariant(store)


@pytest.mark.parametrize("status", [500, 503, 502])
def test_server_errors_then_success(server: FaultServer, store: DirectoryStore, status: int) -> None:
    route = server.add("/m.ms", BODY, fail=[status, status])
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).action == "downloaded"
    assert route.hits == 3


def test_429_honours_retry_after(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, fail=[429], retry_after="1")
    start = time.monotonic()
    fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert time.monotonic() - start >= 1.0


@pytest.mark.parametrize("value", ["nan", "soon", "-1", "1.5", "inf", "1e400", "9" * 5000, "Thu, 99 Foo 2026",
                                   "\u00b2", "  ", "Mon, 01 Jan 1900 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_bad_retry_after_falls_back_to_the_capped_backoff(value: str) -> None:
    wait = retry_after(value)
    assert wait is None or 0.0 <= wait <= MAX_RETRY_AFTER


@pytest.mark.parametrize(("value", "expected"), [("3", 3.0), ("0", 0.0), ("86400", MAX_RETRY_AFTER),
                                                 ("Mon, 01 Jan 1990 00:00:00 GMT", 0.0)])
def test_retry_after_seconds_and_dates(value: str, expected: float) -> None:
    assert retry_after(value) == expected


@pytest.mark.parametrize("value", ["nan", "soon", "Thu, 99 Foo 2026"])
def test_a_server_sending_a_bad_retry_after_is_retried_normally(server: FaultServer, store: DirectoryStore,
                                                                 value: str) -> None:
    route = server.add("/m.ms", BODY, fail=[503], retry_after=value)
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).action == "downloaded"
    assert route.hits == 2
    assert_store_invariant(store)


def test_persistent_5xx_gives_up_with_the_reason(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, fail=[503] * 10)
    with pytest.raises(TransferError, match="HTTP 503.*gave up after 3 retries"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert route.hits == 4
    assert_store_invariant(store)


def test_404_is_final(server: FaultServer, store: DirectoryStore) -> None:
    with pytest.raises(TransferError, match="HTTP 404"):
        fetcher(store).fetch(server.url("/missing.ms"), SHA)
    assert_store_invariant(store)


def test_slow_body_times_out(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, delay=1.0)
    f = fetcher(store, policy=POLICY._replace(read_timeout=0.2, retries=1))
    with pytest.raises(TransferError, match="timed out|Read timed out|connection lost"):
        f.fetch(server.url("/m.ms"), SHA)


def test_content_length_larger_than_body(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY[:1000], content_length=5000, no_length=False)
    f = fetcher(store, policy=POLICY._replace(read_timeout=0.3, retries=1))
    with pytest.raises(TransferError):
        f.fetch(server.url("/m.ms"), hashlib.sha256(BODY[:1000]).hexdigest())


def test_content_length_smaller_than_body(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, content_length=1000)
    with pytest.raises(IntegrityError, match="1,000 bytes"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert_store_invariant(store)


def test_html_page_with_200_is_named(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", b"<!DOCTYPE html><html><body>Please log in</body></html>")
    with pytest.raises(IntegrityError, match="HTML page") as info:
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert SHA in info.value.message and "expected" in info.value.message
    assert_store_invariant(store)


def test_lfs_pointer_is_named(server: FaultServer, store: DirectoryStore) -> None:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{SHA}\nsize {len(BODY)}\n".encode()
    server.add("/m.ms", pointer)
    with pytest.raises(IntegrityError, match="Git-LFS pointer"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)


def test_keep_bad_quarantines_with_reason(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", b"wrong bytes")
    with pytest.raises(IntegrityError, match="kept in"):
        fetcher(store, keep_bad=True).fetch(server.url("/m.ms"), SHA)
    [kept] = [p for p in (store.root / "quarantine").iterdir() if not p.name.endswith(".txt")]
    assert kept.read_bytes() == b"wrong bytes"
    assert "expected " + SHA in kept.with_name(kept.name + ".reason.txt").read_text()
    assert_store_invariant(store)


def test_size_cap_from_content_length(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY)
    with pytest.raises(PolicyError, match="over the hub's limit"):
        fetcher(store, policy=POLICY._replace(max_asset_bytes=1024)).fetch(server.url("/m.ms"), SHA)
    assert_store_invariant(store)


def test_size_cap_while_streaming(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, no_length=True)
    with pytest.raises(PolicyError, match="more than the hub's limit"):
        fetcher(store, policy=POLICY._replace(max_asset_bytes=1024 * 1024)).fetch(server.url("/m.ms"), SHA)
    assert_store_invariant(store)


def test_redirect_to_allowed_path(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/old.ms", redirect="/new.ms")
    server.add("/new.ms", BODY)
    assert fetcher(store).fetch(server.url("/old.ms"), SHA).size == len(BODY)


@pytest.mark.parametrize("target, reason", [
    ("http://evil.example/m.ms", "not on the hub's allow-list"),
    ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ("http://169.254.169.254/latest/meta-data", "not on the hub's allow-list"),
])
def test_redirect_hops_are_checked(server: FaultServer, store: DirectoryStore, target: str, reason: str) -> None:
    server.add("/m.ms", redirect=target)
    with pytest.raises(PolicyError, match=reason):
        fetcher(store).fetch(server.url("/m.ms"), SHA)


def test_redirect_to_private_address_is_refused(server: FaultServer, store: DirectoryStore) -> None:
    policy = POLICY._replace(allowed_hosts=())  # no host list: only the address rule stands
    server.add("/m.ms", redirect="http://10.1.2.3/m.ms")
    with pytest.raises(PolicyError, match="10.1.2.3, a private"):
        fetcher(store, policy=policy).fetch(server.url("/m.ms"), SHA)


def test_redirect_loop(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/a", redirect="/b")
    server.add("/b", redirect="/a")
    with pytest.raises(PolicyError, match="more than 5 redirects"):
        fetcher(store).fetch(server.url("/a"), SHA)


def test_mirror_first_then_origin_on_404_or_bad_bytes(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/origin/m.ms", BODY)
    server.add(f"/bad/blobs/sha256/{SHA[:2]}/{SHA}", b"corrupt mirror copy")
    mirrors = (Mirror(server.url("/missing")), Mirror(server.url("/bad")))
    outcome = fetcher(store, mirrors=mirrors).fetch(server.url("/origin/m.ms"), SHA)
    assert outcome.source.endswith("/origin/m.ms")
    assert_store_invariant(store)
    # the asset is fine, and the report says which mirrors failed it and how
    assert [bad.split(":", 2)[:2] for bad in outcome.bad_mirrors] == [server.url("/missing").split(":", 2)[:2],
                                                                      server.url("/bad").split(":", 2)[:2]]
    assert "404" in outcome.bad_mirrors[0] and "SHA-256" in outcome.bad_mirrors[1]
    task = AssetTask("cards/a.md", 0, server.url("/origin/m.ms"), SHA, "ms")
    line = render_assets([AssetResult(task, outcome)], "text").splitlines()[0]
    assert f"bad mirror skipped: {server.url('/bad')}" in line, line


def test_mirror_serves_by_hash(server: FaultServer, store: DirectoryStore) -> None:
    server.add(f"/mirror/blobs/sha256/{SHA[:2]}/{SHA}", BODY)
    origin = server.add("/origin/m.ms", BODY)
    outcome = fetcher(store, mirrors=(Mirror(server.url("/mirror")),)).fetch(server.url("/origin/m.ms"), SHA)
    assert "/mirror/" in outcome.source and origin.hits == 0


def test_origin_mismatch_is_final(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/origin/m.ms", b"not it")
    with pytest.raises(IntegrityError):
        fetcher(store, mirrors=(Mirror(server.url("/none")),)).fetch(server.url("/origin/m.ms"), SHA)


def test_repository_assets_go_through_the_door(tmp_path: Path, store: DirectoryStore) -> None:
    (tmp_path / "hub" / "assets").mkdir(parents=True)
    (tmp_path / "hub" / "assets" / "m.ms").write_bytes(BODY)
    (tmp_path / "outside.ms").write_bytes(BODY)
    (tmp_path / "hub" / "assets" / "link.ms").symlink_to(tmp_path / "outside.ms")
    f = fetcher(store, hub_root=tmp_path / "hub")
    assert f.fetch("assets/m.ms", SHA).action == "copied"
    store.remove(SHA)
    with pytest.raises(PolicyError, match="leaves the hub"):
        f.fetch("../outside.ms", SHA)
    with pytest.raises(PolicyError, match="leaves the hub"):
        f.fetch("assets/link.ms", SHA)
    with pytest.raises(IntegrityError):
        f.fetch("assets/m.ms", "0" * 64)
    assert_store_invariant(store)


def test_offline_never_touches_the_network(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY)
    with pytest.raises(OfflineError):
        fetcher(store, offline=True).fetch(server.url("/m.ms"), SHA)
    assert route.hits == 0


class Recorder:
    """A Progress that keeps what the library told it."""

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.bytes: dict[str, int] = {}
        self.sizes: dict[str, tuple[int, int]] = {}

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def status(self, text: str) -> None:
        self.notices.append(text)

    def transfer_started(self, key: str, label: str) -> None:
        self.bytes.setdefault(key, 0)

    def transfer_sized(self, key: str, total: int, done: int) -> None:
        self.sizes[key] = (total, done)

    def transferred(self, key: str, nbytes: int) -> None:
        self.bytes[key] = self.bytes.get(key, 0) + nbytes

    def transfer_done(self, key: str) -> None:
        pass


def test_the_library_reports_through_its_progress_only(server: FaultServer, store: DirectoryStore,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    server.add("/origin/m.ms", BODY)
    recorder = Recorder()
    f = fetcher(store, mirrors=(Mirror(server.url("/missing")),), progress=recorder)
    assert f.fetch(server.url("/origin/m.ms"), SHA).action == "downloaded"
    assert len(recorder.notices) == 1 and recorder.notices[0].startswith("mirror failed, trying the next source")
    assert recorder.bytes == {SHA: len(BODY)} and recorder.sizes == {SHA: (len(BODY), 0)}  # the size is told
    assert capfd.readouterr() == ("", "")  # nothing printed: only hubtool.cli writes to the terminal

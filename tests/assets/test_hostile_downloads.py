"""Servers that try to make a download loop, hang, or blame the wrong source (issue #13).

Each class runs against a real loopback server (tests/faultserver.py) and ends
with the store invariant: every blob's name is its hash, nothing half-written
visible, and a partial only where a resume is promised.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from helpers import assert_store_invariant
from hubtool.assets.fetcher import Fetcher
from hubtool.assets.hashing import CHUNK
from hubtool.assets.http import HttpDownloader
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.assets.writer import copy_stream
from hubtool.config import Mirror, Policy
from hubtool.errors import IntegrityError, PolicyError, TransferError
from hubtool.progress import Silent

POLICY = Policy(allowed_schemes=("http", "https"), allowed_hosts=("127.0.0.1",), allow_private=("127.0.0.1",),
                max_asset_bytes=8 * 1024 * 1024, connect_timeout=2, read_timeout=2, retries=3,
                max_attempts=50, asset_deadline=30)
BODY = random_bytes(3 * 1024 * 1024 + 17, seed=7)
SHA = hashlib.sha256(BODY).hexdigest()
CUT = CHUNK + CHUNK // 2


class Notices(Silent):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def notice(self, text: str) -> None:
        self.lines.append(text)


@pytest.fixture
def store(tmp_path: Path) -> DirectoryStore:
    return DirectoryStore(tmp_path / "store")


def fetcher(store: DirectoryStore, policy: Policy = POLICY, **kwargs: object) -> Fetcher:
    return build_fetcher(store, policy, backoff=0.01, **kwargs)  # type: ignore[arg-type]


def non_range_hits(route_hits: int, range_requests: list[str]) -> int:
    return route_hits - len(range_requests)


# --- the budget: bounded by attempts and a deadline; thrown-away bytes are not progress -----------------------

def test_a_new_etag_on_every_answer_cannot_keep_the_budget_full(server: FaultServer, store: DirectoryStore) -> None:
    # every resume is answered with a "changed" file, whose prefix is then thrown away and sent again
    route = server.add("/m.ms", BODY, cut_after=CUT, cut_times=1000, new_etag=True)
    with pytest.raises(TransferError, match="gave up after 3 retries"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert route.hits <= 2 * (POLICY.retries + 1)
    assert_store_invariant(store)  # the last answer changed the file: nothing worth resuming is kept


def test_progress_forever_is_bounded_by_max_attempts(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, cut_after=1000, cut_times=10**6, etag='"v1"')  # 1,000 new bytes per request
    with pytest.raises(TransferError, match=r"after 8 requests \(policy.max-attempts\)"):
        fetcher(store, POLICY._replace(max_attempts=8)).fetch(server.url("/m.ms"), SHA)
    assert route.hits == 8
    assert_store_invariant(store, temps=True)


@pytest.mark.parametrize("endless", [False, True], ids=["long-body", "endless-close-delimited"])
def test_a_byte_just_inside_the_read_timeout_fails_at_the_deadline(server: FaultServer, store: DirectoryStore,
                                                                    endless: bool) -> None:
    server.add("/m.ms", BODY, trickle=0.05, endless=endless)
    start = time.monotonic()
    with pytest.raises(TransferError, match="asset deadline of 1.5 s"):
        fetcher(store, POLICY._replace(read_timeout=1, asset_deadline=1.5)).fetch(server.url("/m.ms"), SHA)
    assert time.monotonic() - start < 4
    assert_store_invariant(store, temps=True)


def test_headers_a_byte_at_a_time_fail_at_the_deadline(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, slow_headers=0.05)
    start = time.monotonic()
    with pytest.raises(TransferError, match="asset deadline of 1.5 s"):
        fetcher(store, POLICY._replace(read_timeout=1, asset_deadline=1.5)).fetch(server.url("/m.ms"), SHA)
    assert time.monotonic() - start < 4
    assert_store_invariant(store)


def test_a_long_retry_after_never_outlasts_the_deadline(server: FaultServer, store: DirectoryStore) -> None:
    server.add("/m.ms", BODY, fail=[503] * 10, retry_after="50")
    start = time.monotonic()
    with pytest.raises(TransferError, match="the next try would be after 50 s"):
        fetcher(store, POLICY._replace(asset_deadline=5)).fetch(server.url("/m.ms"), SHA)
    assert time.monotonic() - start < 2


# --- resumes that fail, and hashes that fail after a resume ----------------------------------------------------

def test_a_resume_that_fails_twice_restarts_from_zero_once(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, cut_after=CUT, etag='"v1"', fail_ranged=[500] * 10)
    assert fetcher(store).fetch(server.url("/m.ms"), SHA).size == len(BODY)
    assert len(route.range_requests) == 2 and non_range_hits(route.hits, route.range_requests) == 2
    assert_store_invariant(store)


def test_the_restart_from_zero_happens_once(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, cut_after=CUT, cut_times=100, etag='"v1"', fail_ranged=[500] * 100)
    with pytest.raises(TransferError, match="gave up after 3 retries"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert non_range_hits(route.hits, route.range_requests) == 2  # the first try and the one restart
    assert_store_invariant(store, temps=True)


def test_a_hash_mismatch_after_a_resume_downloads_once_more_from_zero(server: FaultServer,
                                                                      store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, corrupt=1, cut_after=CUT, etag='"v1"')  # a wrong prefix, then a cut
    notices = Notices()
    outcome = fetcher(store, progress=notices).fetch(server.url("/m.ms"), SHA)
    assert outcome.size == len(BODY)
    assert route.hits == 3 and len(route.range_requests) == 1
    assert any("once more from the start" in line for line in notices.lines)
    assert_store_invariant(store)


def test_a_source_that_is_wrong_from_zero_too_is_named(server: FaultServer, store: DirectoryStore) -> None:
    route = server.add("/m.ms", BODY, corrupt=100, cut_after=CUT, etag='"v1"')
    with pytest.raises(IntegrityError) as info:
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert server.url("/m.ms") in info.value.message
    assert route.hits == 3  # the cut one, its resume, and one whole download from zero
    assert_store_invariant(store)


def test_a_mirrors_wrong_prefix_is_never_resumed_by_the_origin(server: FaultServer, store: DirectoryStore) -> None:
    mirror = FaultServer().start()
    try:
        by_hash = f"/blobs/sha256/{SHA[:2]}/{SHA}"
        bad = mirror.add(by_hash, BODY, corrupt=100, cut_after=CUT, cut_times=100, fail_ranged=[503] * 100)
        origin = server.add("/m.ms", BODY, etag='"v1"')
        notices = Notices()
        f = fetcher(store, mirrors=[Mirror(mirror.base)], progress=notices)
        assert f.fetch(server.url("/m.ms"), SHA).source == server.url("/m.ms")
        assert bad.hits >= 2
        assert origin.range_requests == [] and origin.bytes_sent == len(BODY)
        assert any("not resuming a partial download of " + mirror.base in line for line in notices.lines)
        assert_store_invariant(store)
    finally:
        mirror.stop()


# --- Content-Encoding although identity was asked -----------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_answer_is_hashed_as_sent_and_says_so(server: FaultServer, store: DirectoryStore,
                                                           encoding: str) -> None:
    server.add("/m.ms", BODY, encoding=encoding)
    with pytest.raises(IntegrityError, match=f"Content-Encoding: {encoding} although hubtool asked for identity"):
        fetcher(store).fetch(server.url("/m.ms"), SHA)
    assert_store_invariant(store)


def test_a_file_served_as_gzip_whose_hash_is_of_its_bytes_is_fine(server: FaultServer,
                                                                 store: DirectoryStore) -> None:
    server.add("/m.tar.gz", BODY, encoding="gzip")  # a .tar.gz with a misconfigured Content-Encoding
    wire = gzip.compress(BODY, mtime=0)
    outcome = fetcher(store).fetch(server.url("/m.tar.gz"), hashlib.sha256(wire).hexdigest())
    assert outcome.size == len(wire)
    assert_store_invariant(store)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_never_writes_past_the_cap(server: FaultServer, store: DirectoryStore,
                                                      encoding: str) -> None:
    zeros = bytes(64 * 1024 * 1024)  # 64 MiB that compress to ~64 KiB, against a cap of 8 MiB
    server.add("/bomb.ms", zeros, encoding=encoding)
    with pytest.raises(IntegrityError):
        fetcher(store, keep_bad=True).fetch(server.url("/bomb.ms"), hashlib.sha256(zeros).hexdigest())
    sizes = [p.stat().st_size for p in store.root.rglob("*") if p.is_file()]
    wire = len(gzip.compress(zeros) if encoding == "gzip" else zlib.compress(zeros))
    assert max(sizes) <= wire < POLICY.max_asset_bytes  # only the bytes as sent, in quarantine
    assert_store_invariant(store)


# --- DNS rebinding ----------------------------------------------------------------------------------------

@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultServer, FaultServer]]:
    """`rebind.test` answers 127.0.0.2 (allowed) the first time and 127.0.0.1 (not allowed) after."""
    allowed = FaultServer("127.0.0.2").start()
    private = FaultServer("127.0.0.1", allowed.port).start()
    real = socket.getaddrinfo
    answers = iter(["127.0.0.2"])

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host == "rebind.test":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield allowed, private
    allowed.stop()
    private.stop()


def test_the_connection_goes_to_the_address_that_was_checked(rebinding: tuple[FaultServer, FaultServer],
                                                              store: DirectoryStore) -> None:
    allowed, private = rebinding
    good = allowed.add("/m.ms", BODY)
    secret = private.add("/m.ms", b"internal service")
    policy = POLICY._replace(allowed_hosts=("rebind.test",), allow_private=("127.0.0.2",))
    url = f"http://rebind.test:{allowed.port}/m.ms"
    assert fetcher(store, policy).fetch(url, SHA).size == len(BODY)
    assert secret.hits == 0 and good.hits == 1
    assert good.hosts == [f"rebind.test:{allowed.port}"]  # the name is kept in the Host header
    assert_store_invariant(store)


def test_a_name_that_resolves_private_is_refused_before_connecting(rebinding: tuple[FaultServer, FaultServer],
                                                                   store: DirectoryStore) -> None:
    allowed, private = rebinding
    secret = private.add("/m.ms", b"internal service")
    policy = POLICY._replace(allowed_hosts=("rebind.test",), allow_private=("127.0.0.2",))
    url = f"http://rebind.test:{allowed.port}/m.ms"
    f = fetcher(store, policy)
    allowed.add("/m.ms", BODY)
    f.fetch(url, SHA)  # uses the one 127.0.0.2 answer
    store.remove(SHA)
    with pytest.raises(PolicyError, match="resolves to 127.0.0.1"):
        f.fetch(url, SHA)
    assert secret.hits == 0
    assert_store_invariant(store)


# --- repository assets: regular files only, capped like downloads -----------------------------------------

def test_repository_assets_are_regular_files_under_the_cap(tmp_path: Path, store: DirectoryStore) -> None:
    assets = tmp_path / "hub" / "assets"
    assets.mkdir(parents=True)
    os.mkfifo(assets / "pipe.ms")  # a read would wait for a writer forever
    (assets / "big.ms").write_bytes(BODY)
    f = fetcher(store, POLICY._replace(max_asset_bytes=len(BODY) - 1), hub_root=tmp_path / "hub")
    with pytest.raises(PolicyError, match="pipe.ms is a FIFO, not a regular file"):
        f.fetch("assets/pipe.ms", SHA)
    with pytest.raises(PolicyError, match=f"{len(BODY):,} bytes is over the hub's limit of {len(BODY) - 1:,}"):
        f.fetch("assets/big.ms", SHA)
    assert_store_invariant(store)


def test_a_repository_asset_that_grows_past_the_cap_while_copied_is_cut(tmp_path: Path,
                                                                       store: DirectoryStore) -> None:
    src = tmp_path / "grows.ms"
    src.write_bytes(BODY[:CHUNK])
    with open(src, "rb") as fh, pytest.raises(PolicyError, match="more than the hub's limit"):
        src.write_bytes(BODY)  # it grew after its size was looked at
        copy_stream(fh, lambda chunk: None, max_bytes=CHUNK + 1, source=str(src))


def test_a_pinned_https_connection_keeps_the_name_for_sni_and_the_certificate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: DirectoryStore) -> None:
    """The socket goes to the checked 127.0.0.1, TLS still verifies a certificate made out to tls.test."""
    import ssl

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=tls.test", "-addext", "subjectAltName=DNS:tls.test"],
                   check=True, capture_output=True, timeout=60)
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    tls = FaultServer()
    tls.httpd.socket = context.wrap_socket(tls.httpd.socket, server_side=True)
    tls.start()
    real = socket.getaddrinfo

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host == "tls.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        tls.add("/m.ms", BODY)
        policy = POLICY._replace(allowed_schemes=("https",), allowed_hosts=("tls.test",))
        http = HttpDownloader(backoff=0.01)
        http._session().verify = str(cert)  # the test's own CA: hubtool itself never turns verification off
        outcome = http.download(f"https://tls.test:{tls.port}/m.ms", SHA, store, policy)
        assert outcome.size == len(BODY) and names and set(names) == {"tls.test"}
        assert tls.routes["/m.ms"].hosts == [f"tls.test:{tls.port}"]
        assert_store_invariant(store)
    finally:
        tls.stop()

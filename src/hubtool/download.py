"""One asset from its sources into the store: hashed while streaming, resumable, policy-checked.

Sources are tried in order: the blob already in the store, other local stores,
the hub repository (relative links), the hub's mirrors, then the origin.  A
mirror that fails (transport error, 404, 5xx, even wrong bytes) hands over to
the next source; the origin's verdict is final.  Every byte passes through
`BlobStore.writer` (the store's one door).
"""

from __future__ import annotations

import email.utils
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import requests

from . import __version__
from .config import Mirror, Policy
from .errors import AssetError, IntegrityError, OfflineError, PolicyError, TransferError
from .store import CHUNK, BlobInfo, BlobStore, BlobWriter
from .urlpolicy import check_url, redirect_target

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class FetchOutcome:
    """How an asset got into the store."""

    digest: str
    size: int
    source: str  # "store", a path, or the URL the bytes came from
    action: str  # present | copied | downloaded
    transferred: int = 0  # bytes received over the network
    resumed_from: int = 0


class _Retry(Exception):
    """A transient failure: try the same URL again (resuming)."""

    def __init__(self, reason: str, *, progress: bool, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.progress = progress
        self.wait = wait


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return None if when is None else min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)


class Fetcher:
    """Brings assets into one store under one policy. Thread-safe (a session per thread)."""

    def __init__(self, store: BlobStore, policy: Policy, *, hub_root: Path | None = None,
                 mirrors: tuple[Mirror, ...] = (), local_stores: tuple[BlobStore, ...] = (),
                 offline: bool = False, keep_bad: bool = False, backoff: float = 0.5,
                 lock_timeout: float = 600.0, on_bytes: Callable[[str, int], None] | None = None,
                 on_message: Callable[[str], None] | None = None,
                 s3_client: Callable[[], Any] | None = None) -> None:
        self.store = store
        self.policy = policy
        self.hub_root = hub_root
        self.mirrors = mirrors
        self.local_stores = local_stores
        self.offline = offline
        self.keep_bad = keep_bad
        self.backoff = backoff
        self.lock_timeout = lock_timeout
        self.on_bytes = on_bytes or (lambda digest, n: None)
        self.on_message = on_message or (lambda text: None)
        self._local = threading.local()
        self.s3_client = s3_client  # makes the client for s3:// mirrors, when the hub lists any
        self.requests_sent = 0  # observable by tests and reports

    # --- sources --------------------------------------------------------------------
    def fetch(self, link: str, digest: str) -> FetchOutcome:
        """Make sure the blob `digest` is in the store; raise an AssetError subclass if it cannot be."""
        present = self.store.stat(digest)
        if present is not None:
            return FetchOutcome(digest, present.size, "store", "present")
        for other in self.local_stores:
            info = other.stat(digest)
            if info is not None:
                got = self.store.put_file(digest, info.path, source=str(info.path), keep_bad=self.keep_bad)
                return FetchOutcome(digest, got.size, str(info.path), "copied")
        if "://" not in link:
            path = self._repo_path(link)
            got = self.store.put_file(digest, path, source=str(path), keep_bad=self.keep_bad)
            return FetchOutcome(digest, got.size, str(path), "copied")
        if self.offline:
            raise OfflineError(f"{link}: not in the store, and --offline forbids downloading it", url=link,
                               hint="run without --offline, or fetch it on a machine with network access")
        with self.store.lock(digest, timeout=self.lock_timeout, on_wait=self.on_message):
            present = self.store.stat(digest)  # the process we waited for may have fetched it
            if present is not None:
                return FetchOutcome(digest, present.size, "store", "present")
            return self._from_network(link, digest)

    def _repo_path(self, link: str) -> Path:
        if self.hub_root is None:
            raise PolicyError(f"{link}: a repository path, but no hub root is known", url=link)
        rel = PurePosixPath(link)
        root = Path(os.path.realpath(self.hub_root))
        path = Path(os.path.realpath(root.joinpath(*rel.parts)))
        if rel.is_absolute() or (path != root and root not in path.parents):
            raise PolicyError(f"{link}: the path leaves the hub root {root}", url=link,
                              hint="repository assets must live inside the hub")
        if not path.is_file():
            raise TransferError(f"{link}: no such file in the hub ({path})", url=link)
        return path

    def _from_s3(self, url: str, digest: str) -> FetchOutcome:
        """A published hub or mirror on S3 storage, read through the local store's door."""
        from .s3store import S3BlobStore, S3Location

        if self.s3_client is None:
            raise TransferError(f"{url}: no S3 client configured", url=url)
        remote = S3BlobStore(S3Location.parse(url), self.s3_client())
        if remote.stat(digest) is None:
            raise TransferError(f"{url}: blob {digest[:12]}… is not there", url=url)
        info = remote.fetch(digest, self.store)
        return FetchOutcome(digest, info.size, url, "downloaded", info.size)

    def _candidates(self, link: str, digest: str) -> list[tuple[str, Policy]]:
        out = []
        for mirror in self.mirrors:
            if mirror.url.startswith("s3://"):
                continue  # handled by _from_s3
            base = mirror.url.rstrip("/")
            url = (f"{base}/blobs/sha256/{digest[:2]}/{digest}" if mirror.layout == "by-hash"
                   else base + urlsplit(link).path)
            host = (urlsplit(base).hostname or "").lower()
            # the hub chose its mirrors: their host is trusted like an allowed host
            policy = replace(self.policy, allowed_hosts=self.policy.allowed_hosts + (host,)) \
                if self.policy.allowed_hosts else self.policy
            out.append((url, policy))
        out.append((link, self.policy))
        return out

    def _from_network(self, link: str, digest: str) -> FetchOutcome:
        failures: list[str] = []
        for mirror in self.mirrors:
            if mirror.url.startswith("s3://"):
                try:
                    return self._from_s3(mirror.url, digest)
                except (AssetError, OSError) as exc:
                    failures.append(f"{mirror.url}: {exc}")
                except Exception as exc:  # noqa: BLE001 - botocore's errors: the next source is tried
                    failures.append(f"{mirror.url}: {type(exc).__name__}: {exc}")
        candidates = self._candidates(link, digest)
        for i, (url, policy) in enumerate(candidates):
            is_origin = i == len(candidates) - 1
            try:
                return self._download(url, digest, policy)
            except (TransferError, PolicyError, IntegrityError) as exc:
                if is_origin:
                    if failures:
                        exc.message += " (mirrors tried first: " + "; ".join(failures) + ")"
                        exc.args = (exc.message,)
                    raise
                failures.append(f"{url}: {exc.message}")
                self.on_message(f"mirror failed, trying the next source: {exc.message}")
        raise AssertionError("the origin is always the last candidate")

    # --- one URL ---------------------------------------------------------------------
    def _download(self, url: str, digest: str, policy: Policy) -> FetchOutcome:
        check_url(url, policy)  # refuse before creating anything
        writer = self.store.writer(digest, source=url, keep_bad=self.keep_bad)
        resumed_from = writer.offset
        transferred = 0
        budget = policy.retries
        attempt = 0
        try:
            while True:
                before = writer.offset
                try:
                    self._attempt(url, writer, policy)
                    transferred += writer.offset - before
                    break
                except _Retry as exc:
                    transferred += max(writer.offset - before, 0)
                    budget = policy.retries if exc.progress else budget  # bytes arrived: a fresh budget
                    if budget <= 0:
                        raise TransferError(f"{url}: {exc.reason} (gave up after {policy.retries} retries)",
                                            url=url, hint="the server or the network is failing; "
                                                          "run again later: the download resumes") from None
                    budget -= 1
                    attempt = 0 if exc.progress else attempt + 1
                    time.sleep(exc.wait if exc.wait is not None else min(self.backoff * 2 ** attempt, 30.0))
        except IntegrityError:
            raise
        except PolicyError:
            writer.abort()
            raise
        except BaseException:
            writer.abort(keep_partial=True)
            raise
        info: BlobInfo = writer.commit()
        return FetchOutcome(digest, info.size, url, "downloaded", transferred, resumed_from)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = True  # TLS verification is never switched off
            session.trust_env = False  # no proxies or netrc from the environment between us and the policy
            session.headers["User-Agent"] = f"hubtool/{__version__}"
            self._local.session = session
        return session

    def _open(self, url: str, headers: dict[str, str], policy: Policy) -> requests.Response:
        current = url
        for _hop in range(policy.max_redirects + 1):
            check_url(current, policy)
            try:
                self.requests_sent += 1
                resp = self._session().get(current, headers=headers, stream=True, allow_redirects=False,
                                           timeout=(policy.connect_timeout, policy.read_timeout))
            except requests.RequestException as exc:
                raise _Retry(f"cannot connect: {_short(exc)}", progress=False) from exc
            if resp.status_code in _REDIRECTS and "Location" in resp.headers:
                resp.close()
                current = redirect_target(current, resp.headers["Location"])
                continue
            return resp
        raise PolicyError(f"{url}: more than {policy.max_redirects} redirects", url=url)

    def _attempt(self, url: str, writer: BlobWriter, policy: Policy) -> None:
        headers = {"Accept-Encoding": "identity"}
        meta = writer.read_meta()
        if writer.offset:
            headers["Range"] = f"bytes={writer.offset}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator  # a changed file answers 200: we restart
        resp = self._open(url, headers, policy)
        with resp:
            self._check_status(url, resp, writer, meta)
            writer.write_meta({"url": url, "etag": resp.headers.get("ETag"),
                               "last_modified": resp.headers.get("Last-Modified")})
            length = _int_or_none(resp.headers.get("Content-Length"))
            if length is not None and writer.offset + length > policy.max_asset_bytes:
                raise PolicyError(f"{url}: {writer.offset + length:,} bytes is over the hub's limit of "
                                  f"{policy.max_asset_bytes:,}", url=url)
            self._stream(url, resp, writer, policy, length)

    def _check_status(self, url: str, resp: requests.Response, writer: BlobWriter, meta: dict[str, Any]) -> None:
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}", progress=False, wait=_retry_after(resp.headers.get("Retry-After")))
        if status == 416:  # our partial is bad or the file shrank: start over
            writer.restart()
            raise _Retry("HTTP 416 for a resumed download; restarting", progress=False, wait=0)
        if status not in (200, 206):
            raise TransferError(f"{url}: HTTP {status} {resp.reason or ''}".rstrip(), url=url)
        if status == 200:
            if writer.offset:
                self.on_message(f"{url}: the server sent the whole file again; restarting")
            writer.restart()
            return
        match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if match is None or int(match[1]) != writer.offset:
            writer.restart()
            raise _Retry(f"206 with Content-Range {resp.headers.get('Content-Range')!r}, not starting at "
                         f"our offset; restarting", progress=False, wait=0)
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            if meta.get(key) and resp.headers.get(header) and meta[key] != resp.headers[header]:
                writer.restart()
                raise _Retry(f"{header} changed since the partial download; restarting", progress=False, wait=0)

    def _stream(self, url: str, resp: requests.Response, writer: BlobWriter, policy: Policy,
                length: int | None) -> None:
        received = 0
        start = writer.offset
        try:
            with _Pipeline(writer) as sink:
                for chunk in resp.iter_content(CHUNK):
                    sink.put(chunk)
                    received += len(chunk)
                    self.on_bytes(writer.digest, len(chunk))
                    if start + received > policy.max_asset_bytes:
                        raise PolicyError(f"{url}: more than the hub's limit of {policy.max_asset_bytes:,} "
                                          "bytes", url=url)
        except requests.RequestException as exc:
            raise _Retry(f"connection lost after {received:,} bytes: {_short(exc)}", progress=received > 0) from exc
        if length is not None and received != length:
            raise _Retry(f"body of {received:,} bytes, but Content-Length said {length:,}", progress=received > 0)


class _Pipeline:
    """Hash and write in a second thread while the next chunk arrives.

    hashlib, file writes and socket reads all release the GIL on large buffers,
    so receiving overlaps hashing: the download costs max(network, hash + disk)
    instead of their sum.  The queue is bounded: memory stays at a few chunks.
    """

    def __init__(self, writer: BlobWriter, depth: int = 4) -> None:
        import queue

        self._writer = writer
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hubtool-hash", daemon=True)

    def __enter__(self) -> _Pipeline:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if self._error is None:
                try:
                    self._writer.write(chunk)
                except BaseException as exc:  # re-raised in the receiving thread
                    self._error = exc

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def __exit__(self, *exc_info: object) -> None:
        self._queue.put(None)  # whatever arrived before a failure is still written (and resumable)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


__all__ = ["AssetError", "FetchOutcome", "Fetcher"]

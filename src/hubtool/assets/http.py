"""One URL into the store's door: policy-checked on every hop, resumable, retried, hashed while streaming.

A transient failure (a cut, a 5xx, a 429, a lying Content-Length) is a `Retry`
value, not an exception: the loop in `download` decides whether the budget
allows another attempt.  Bytes that arrived renew the budget; a retry resumes
with `Range` from what is on disk.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from .. import __version__
from ..config import Policy
from ..errors import IntegrityError, PolicyError, TransferError
from ..progress import SILENT, Progress
from .fetcher import FetchOutcome, TransferStats
from .store import DirectoryStore
from .urlpolicy import check_url, redirect_target
from .writer import CHUNK, BlobWriter, HashingPipeline

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Retry:
    """A transient failure: try the same URL again (resuming)."""

    reason: str
    progress: bool  # bytes arrived before it: a fresh retry budget
    wait: float | None = None  # what the server asked for (Retry-After), else the backoff


def retry_after(value: str | None) -> float | None:
    """Seconds to wait as a server's Retry-After says (RFC 9110: delta-seconds or an HTTP-date),
    at most MAX_RETRY_AFTER; None, and so the normal backoff, for anything else (`nan`, `soon`,
    `-1`, `1.5`, a date that cannot be, digits by the thousand)."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return MAX_RETRY_AFTER if len(text) > 6 else min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # an HTTP-date is GMT
            when = when.replace(tzinfo=datetime.timezone.utc)
        delay = when.timestamp() - time.time()
    except (TypeError, ValueError, IndexError, OverflowError):  # what the stdlib raises for a non-date
        return None
    return min(max(delay, 0.0), MAX_RETRY_AFTER) if math.isfinite(delay) else None


class HttpDownloader:
    """Downloads under a policy into a directory store. Thread-safe (a session per thread)."""

    def __init__(self, *, keep_bad: bool = False, backoff: float = 0.5, progress: Progress = SILENT,
                 stats: TransferStats | None = None) -> None:
        self.keep_bad = keep_bad
        self.backoff = backoff
        self.progress = progress
        self.stats = stats or TransferStats()
        self._local = threading.local()

    def download(self, url: str, digest: str, store: DirectoryStore, policy: Policy) -> FetchOutcome:
        """Bring `url` into `store` as blob `digest`, or raise TransferError, PolicyError, IntegrityError."""
        check_url(url, policy)  # refuse before creating anything
        writer = store.writer(digest, source=url, keep_bad=self.keep_bad)
        resumed_from = writer.offset
        try:
            transferred = self._attempts(url, writer, policy)
        except IntegrityError:
            raise
        except PolicyError:
            writer.abort()
            raise
        except BaseException:
            writer.abort(keep_partial=True)
            raise
        info = writer.commit()
        return FetchOutcome(digest, info.size, url, "downloaded", transferred, resumed_from)

    def _attempts(self, url: str, writer: BlobWriter, policy: Policy) -> int:
        """Attempt until the body is whole or the retry budget is spent; returns the bytes received."""
        transferred = 0
        budget = policy.retries
        attempt = 0
        while True:
            before = writer.offset
            retry = self._attempt(url, writer, policy)
            transferred += max(writer.offset - before, 0)
            if retry is None:
                return transferred
            budget = policy.retries if retry.progress else budget  # bytes arrived: a fresh budget
            if budget <= 0:
                raise TransferError(f"{url}: {retry.reason} (gave up after {policy.retries} retries)",
                                    url=url, hint="the server or the network is failing; "
                                                  "run again later: the download resumes")
            budget -= 1
            attempt = 0 if retry.progress else attempt + 1
            time.sleep(retry.wait if retry.wait is not None else min(self.backoff * 2 ** attempt, 30.0))

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = True  # TLS verification is never switched off
            session.trust_env = False  # no proxies or netrc from the environment between us and the policy
            session.headers["User-Agent"] = f"hubtool/{__version__}"
            self._local.session = session
        return session

    def _open(self, url: str, headers: dict[str, str], policy: Policy) -> requests.Response | Retry:
        current = url
        for _hop in range(policy.max_redirects + 1):
            check_url(current, policy)
            try:
                self.stats.requests += 1
                resp = self._session().get(current, headers=headers, stream=True, allow_redirects=False,
                                           timeout=(policy.connect_timeout, policy.read_timeout))
            except requests.RequestException as exc:
                return Retry(f"cannot connect: {_short(exc)}", progress=False)
            if resp.status_code in _REDIRECTS and "Location" in resp.headers:
                resp.close()
                current = redirect_target(current, resp.headers["Location"])
                continue
            return resp
        raise PolicyError(f"{url}: more than {policy.max_redirects} redirects", url=url)

    def _attempt(self, url: str, writer: BlobWriter, policy: Policy) -> Retry | None:
        headers = {"Accept-Encoding": "identity"}
        meta = writer.read_meta()
        if writer.offset:
            headers["Range"] = f"bytes={writer.offset}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if isinstance(validator, str):
                headers["If-Range"] = validator  # a changed file answers 200: we restart
        resp = self._open(url, headers, policy)
        if isinstance(resp, Retry):
            return resp
        with resp:
            retry = self._check_status(url, resp, writer, meta)
            if retry is not None:
                return retry
            writer.write_meta({"url": url, "etag": resp.headers.get("ETag"),
                               "last_modified": resp.headers.get("Last-Modified")})
            length = _int_or_none(resp.headers.get("Content-Length"))
            if length is not None and writer.offset + length > policy.max_asset_bytes:
                raise PolicyError(f"{url}: {writer.offset + length:,} bytes is over the hub's limit of "
                                  f"{policy.max_asset_bytes:,}", url=url)
            return self._stream(url, resp, writer, policy, length)

    def _check_status(self, url: str, resp: requests.Response, writer: BlobWriter,
                      meta: Mapping[str, object]) -> Retry | None:
        status = resp.status_code
        if status == 429 or status >= 500:
            return Retry(f"HTTP {status}", progress=False, wait=retry_after(resp.headers.get("Retry-After")))
        if status == 416:  # our partial is bad or the file shrank: start over
            writer.restart()
            return Retry("HTTP 416 for a resumed download; restarting", progress=False, wait=0)
        if status not in (200, 206):
            raise TransferError(f"{url}: HTTP {status} {resp.reason or ''}".rstrip(), url=url)
        if status == 200:
            if writer.offset:
                self.progress.notice(f"{url}: the server sent the whole file again; restarting")
            writer.restart()
            return None
        match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if match is None or int(match[1]) != writer.offset:
            writer.restart()
            return Retry(f"206 with Content-Range {resp.headers.get('Content-Range')!r}, not starting at "
                         f"our offset; restarting", progress=False, wait=0)
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            if meta.get(key) and resp.headers.get(header) and meta[key] != resp.headers[header]:
                writer.restart()
                return Retry(f"{header} changed since the partial download; restarting", progress=False, wait=0)
        return None

    def _stream(self, url: str, resp: requests.Response, writer: BlobWriter, policy: Policy,
                length: int | None) -> Retry | None:
        received = 0
        start = writer.offset
        try:
            with HashingPipeline(writer) as sink:
                for chunk in resp.iter_content(CHUNK):
                    sink.put(chunk)
                    received += len(chunk)
                    self.progress.transferred(writer.digest, len(chunk))
                    if start + received > policy.max_asset_bytes:
                        raise PolicyError(f"{url}: more than the hub's limit of {policy.max_asset_bytes:,} "
                                          "bytes", url=url)
        except requests.RequestException as exc:
            return Retry(f"connection lost after {received:,} bytes: {_short(exc)}", progress=received > 0)
        if length is not None and received != length:
            return Retry(f"body of {received:,} bytes, but Content-Length said {length:,}", progress=received > 0)
        return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"

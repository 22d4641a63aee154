"""One URL into the store's door: policy-checked on every hop, resumable, retried, hashed while streaming.

A transient failure (a cut, a 5xx, a 429, a lying Content-Length) is a `Retry`
value, not an exception: the source's `Budget` (retrying.py) decides whether
another attempt is allowed.  A retry resumes with `Range` from what is on disk;
a partial file is resumed only by the URL that wrote it, and a resumed file
whose hash fails is downloaded once more from zero before the source is blamed.

The body is hashed, counted and size-capped exactly as it arrives: hubtool asks
for `identity` and never decompresses, so a server that sends gzip or deflate
anyway cannot make it write past the cap (a compression bomb stays small), and
the hash check says what happened.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

import requests
import urllib3

from .. import __version__, cancel
from ..config import Policy
from ..errors import IntegrityError, PolicyError, TransferError
from ..progress import SILENT, Progress
from .connect import Guard, GuardedAdapter
from .fetcher import FetchOutcome, TransferStats
from .hashing import CHUNK
from .retrying import Budget, Retry, retry_after
from .store import DirectoryStore
from .urlpolicy import check_url, redirect_target
from .writer import BlobWriter, HashingPipeline

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_REDIRECTS = (301, 302, 303, 307, 308)


class _Download:
    """What one source's download of one asset has seen so far."""

    def __init__(self, url: str, policy: Policy, budget: Budget) -> None:
        self.url = url
        self.policy = policy
        self.budget = budget
        self.transferred = 0
        self.resumed_from = 0  # the partial found when the download began
        self.resumed = False  # part of the file came from an earlier response
        self.encoding: str | None = None  # a Content-Encoding the server sent although we asked for identity


class HttpDownloader:
    """Downloads under a policy into a directory store. Thread-safe (a session and a guard per thread)."""

    def __init__(self, *, keep_bad: bool = False, backoff: float = 0.5, progress: Progress = SILENT,
                 stats: TransferStats | None = None) -> None:
        self.keep_bad = keep_bad
        self.backoff = backoff
        self.progress = progress
        self.stats = stats or TransferStats()
        self._local = threading.local()

    def download(self, url: str, digest: str, store: DirectoryStore, policy: Policy) -> FetchOutcome:
        """Bring `url` into `store` as blob `digest`, or raise TransferError, PolicyError, IntegrityError."""
        check_url(url, policy, resolve=False)  # refuse before creating anything; addresses: per request
        writer = store.writer(digest, source=url, keep_bad=self.keep_bad, max_bytes=policy.max_asset_bytes)
        self._own_partial(url, writer)
        run = _Download(url, policy, Budget(url, policy, offset=writer.offset, backoff=self.backoff))
        run.resumed_from = writer.offset
        try:
            self._attempts(run, writer)
            if run.resumed and not writer.matches():
                self.progress.notice(f"{url}: the resumed file does not hash to its name; "
                                     "downloading it once more from the start")
                writer.restart()
                run.resumed = False
                run.budget.fresh_start()
                self._attempts(run, writer)
        except PolicyError:
            writer.abort()
            raise
        except BaseException:
            writer.abort(keep_partial=True)
            raise
        try:
            info = writer.commit()
        except IntegrityError as exc:
            if run.encoding:
                exc.message += (f"; the server sent it with Content-Encoding: {run.encoding} although hubtool "
                                "asked for identity (hubtool hashes the bytes as sent and never decompresses)")
                exc.args = (exc.message,)
            raise
        return FetchOutcome(digest, info.size, url, "downloaded", run.transferred, run.resumed_from)

    def _own_partial(self, url: str, writer: BlobWriter) -> None:
        """A partial file is resumed only by the URL that wrote it: a mirror's wrong prefix is not the origin's."""
        owner = writer.read_meta().get("url") if writer.offset else url
        if owner != url:
            self.progress.notice(f"{url}: not resuming a partial download of {owner or 'an unknown source'}; "
                                 "starting from zero")
            writer.restart()

    def _attempts(self, run: _Download, writer: BlobWriter) -> None:
        """Attempt until the body is whole, or the budget raises TransferError."""
        last: Retry | None = None
        while True:
            cancel.check()  # Ctrl-C: the partial is kept (download's handler) and resumes next time
            run.budget.begin(last)
            started_at = writer.offset
            with self._guard().deadline(run.budget.left()):
                last = self._attempt(run, writer)
            run.transferred += max(writer.offset - started_at, 0)
            if last is None:
                return
            wait, restart = run.budget.after(last, started_at=started_at, offset=writer.offset)
            if restart:
                self.progress.notice(f"{run.url}: resuming failed twice ({last.reason}); starting from zero")
                writer.restart()
                run.resumed = False
            cancel.sleep(wait)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = True  # TLS verification is never switched off
            session.trust_env = False  # no proxies or netrc from the environment between us and the policy
            session.headers["User-Agent"] = f"hubtool/{__version__}"
            adapter = GuardedAdapter(self._guard())
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _guard(self) -> Guard:
        guard: Guard | None = getattr(self._local, "guard", None)
        if guard is None:
            guard = self._local.guard = Guard()
        return guard

    def _open(self, run: _Download, headers: dict[str, str]) -> requests.Response | Retry:
        current, policy = run.url, run.policy
        for _hop in range(policy.max_redirects + 1):
            checked = check_url(current, policy)
            if checked.address is not None:
                self._guard().pin(checked.host, checked.port, checked.address)
            left = max(run.budget.left(), 0.001)
            try:
                self.stats.requests += 1
                resp = self._session().get(current, headers=headers, stream=True, allow_redirects=False,
                                           timeout=(min(policy.connect_timeout, left), min(policy.read_timeout, left)))
            except requests.RequestException as exc:
                return Retry(f"cannot connect: {_short(exc)}")
            if resp.status_code in _REDIRECTS and "Location" in resp.headers:
                resp.close()
                current = redirect_target(current, resp.headers["Location"])
                continue
            return resp
        raise PolicyError(f"{run.url}: more than {policy.max_redirects} redirects", url=run.url)

    def _attempt(self, run: _Download, writer: BlobWriter) -> Retry | None:
        headers = {"Accept-Encoding": "identity"}
        meta = writer.read_meta()
        if writer.offset:
            headers["Range"] = f"bytes={writer.offset}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if isinstance(validator, str):
                headers["If-Range"] = validator  # a changed file answers 200: we restart
        resp = self._open(run, headers)
        if isinstance(resp, Retry):
            return resp
        with resp:
            retry = self._check_status(run, resp, writer, meta)
            if retry is not None:
                return retry
            writer.write_meta({"url": run.url, "etag": resp.headers.get("ETag"),
                               "last_modified": resp.headers.get("Last-Modified")})
            self._note_encoding(run, resp)
            length = _int_or_none(resp.headers.get("Content-Length"))
            if length is not None and writer.offset + length > run.policy.max_asset_bytes:
                raise PolicyError(f"{run.url}: {writer.offset + length:,} bytes is over the hub's limit of "
                                  f"{run.policy.max_asset_bytes:,}", url=run.url)
            if length is not None:  # a 206 says the rest; the bar shows the whole file
                self.progress.transfer_sized(writer.digest, writer.offset + length, writer.offset)
            writer.expect(length)
            return self._stream(run, resp, writer, length)

    def _note_encoding(self, run: _Download, resp: requests.Response) -> None:
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity") and run.encoding is None:
            run.encoding = encoding
            self.progress.notice(f"{run.url}: the server sent Content-Encoding: {encoding} although hubtool "
                                 "asked for identity; the bytes are hashed as sent, never decompressed")

    def _check_status(self, run: _Download, resp: requests.Response, writer: BlobWriter,
                      meta: Mapping[str, object]) -> Retry | None:
        status, url = resp.status_code, run.url
        if status == 429 or status >= 500:
            return Retry(f"HTTP {status}", wait=retry_after(resp.headers.get("Retry-After")))
        if status == 416:  # our partial is bad or the file shrank: start over
            writer.restart()
            return Retry("HTTP 416 for a resumed download; restarting", wait=0)
        if status not in (200, 206):
            raise TransferError(f"{url}: HTTP {status} {resp.reason or ''}".rstrip(), url=url)
        if status == 200:
            if writer.offset:
                self.progress.notice(f"{url}: the server sent the whole file again; restarting")
            writer.restart()
            run.resumed = False
            return None
        match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if match is None or int(match[1]) != writer.offset:
            writer.restart()
            return Retry(f"206 with Content-Range {resp.headers.get('Content-Range')!r}, not starting at "
                         f"our offset; restarting", wait=0)
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            if meta.get(key) and resp.headers.get(header) and meta[key] != resp.headers[header]:
                writer.restart()
                return Retry(f"{header} changed since the partial download; restarting", wait=0)
        run.resumed = True
        return None

    def _stream(self, run: _Download, resp: requests.Response, writer: BlobWriter,
                length: int | None) -> Retry | None:
        received, start, cap = 0, writer.offset, run.policy.max_asset_bytes
        try:
            with HashingPipeline(writer) as sink:
                # raw, not iter_content: a Content-Encoding is never decoded (see the module's docstring)
                for chunk in resp.raw.stream(CHUNK, decode_content=False):
                    cancel.check()
                    if start + received + len(chunk) > cap:
                        raise PolicyError(f"{run.url}: more than the hub's limit of {cap:,} bytes", url=run.url)
                    sink.put(chunk)
                    received += len(chunk)
                    self.progress.transferred(writer.digest, len(chunk))
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            return Retry(f"connection lost after {received:,} bytes: {_short(exc)}")
        if self._guard().expired:  # the deadline cut the socket: a close-delimited body only looks complete
            return Retry(f"the asset deadline passed after {received:,} bytes")
        if length is not None and received != length:
            return Retry(f"body of {received:,} bytes, but Content-Length said {length:,}")
        return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"

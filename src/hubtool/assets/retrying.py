"""How long one source may keep trying for one asset, whatever the server does.

Three bounds, all from the hub's policy: `retries` failures in a row without
progress, `max-attempts` requests in all, and `asset-deadline` seconds in all
(waits included).  Progress means bytes past the furthest point the file has
reached: bytes thrown away again (a resume answered with the wrong range, a
changed ETag, a body that failed its hash) and fetched once more are not
progress, so a server cannot keep the budget full by sending the same prefix
forever.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import time
from dataclasses import dataclass

from ..config import Policy
from ..errors import TransferError

MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 30.0
_RESUME_HINT = "the server or the network is failing; run again later: the download resumes"


@dataclass(frozen=True)
class Retry:
    """A transient failure: try the same URL again (resuming)."""

    reason: str
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


class Budget:
    """One source's budget for one asset; `begin` before each request, `after` each failed one."""

    def __init__(self, url: str, policy: Policy, *, offset: int, backoff: float) -> None:
        self.url = url
        self.policy = policy
        self.backoff = backoff
        self.ends = time.monotonic() + policy.asset_deadline
        self.furthest = offset
        self.requests = 0
        self._in_a_row = 0
        self._failed_resumes = 0
        self.restarted = False  # a failing resume already started over from zero

    def left(self) -> float:
        """Seconds until the deadline."""
        return self.ends - time.monotonic()

    def begin(self, last: Retry | None) -> None:
        """Count a request, or raise TransferError when the deadline or max-attempts is reached."""
        why = f" (last: {last.reason})" if last else ""
        if self.left() <= 0:
            raise self._spent(f"not complete within the asset deadline of {self.policy.asset_deadline:g} s "
                              f"(policy.asset-deadline){why}")
        if self.requests >= self.policy.max_attempts:
            raise self._spent(f"not complete after {self.requests} requests (policy.max-attempts){why}")
        self.requests += 1

    def after(self, retry: Retry, *, started_at: int, offset: int) -> tuple[float, bool]:
        """The wait before the next attempt and whether to start over from zero; raises when spent."""
        if offset > self.furthest:  # this failure came after progress: it starts a new run of failures
            self.furthest = offset
            self._in_a_row = 1
            self._failed_resumes = 0
        else:
            self._in_a_row += 1
        if self._in_a_row > self.policy.retries:
            raise self._spent(f"{retry.reason} (gave up after {self.policy.retries} retries)")
        restart = False
        if started_at and offset <= started_at and not self.restarted:
            self._failed_resumes += 1
            restart = self._failed_resumes >= 2  # the server cannot resume this: once, from zero
            self.restarted = restart
        wait = retry.wait if retry.wait is not None else min(self.backoff * 2 ** (self._in_a_row - 1), MAX_BACKOFF)
        if wait >= self.left():
            raise self._spent(f"not complete within the asset deadline of {self.policy.asset_deadline:g} s "
                              f"(policy.asset-deadline; the next try would be after {wait:g} s; "
                              f"last: {retry.reason})")
        return wait, restart

    def fresh_start(self) -> None:
        """The file starts over from zero on purpose (its hash failed after a resume): progress counts again."""
        self.furthest = 0
        self._in_a_row = 0
        self._failed_resumes = 0

    def _spent(self, why: str) -> TransferError:
        return TransferError(f"{self.url}: {why}", url=self.url, hint=_RESUME_HINT)

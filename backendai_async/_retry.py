"""When a failed attempt may be tried again, and after how long. Pure policy, no I/O.

Backend.AI has no idempotency keys, so a request that may have reached the server is
retried only when its method is idempotent (or the caller says the call is: a GraphQL
query); a request that provably never left (the connection was never established) may be
retried whatever its method. Our own deadline and aborts are never retried. A server's
``Retry-After`` is a floor: the SDK never retries sooner than it asked, and gives up at once
when the wait would pass the call's deadline or is longer than :data:`MAX_RETRY_AFTER`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from .errors import ClientError, RequestError, RequestTimeoutError, ResponseError, ServerError

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRIES",
    "MAX_RETRY_AFTER",
    "MIN_DELAY",
    "NO_RETRY",
    "RETRY_STATUSES",
    "RetryPolicy",
    "backoff",
    "parse_retry_after",
    "reconnect_delay",
    "retry_delay",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
"""A longer ``Retry-After`` is not a short wait: the call fails with the server's answer."""
MAX_RETRIES = 10
"""The most extra attempts one call may make, whatever ``retry=`` asks for."""
MIN_DELAY = 0.2
"""The shortest wait between attempts (a ``Retry-After: 0`` must not spin)."""
_BASE_DELAY = 0.5
_MAX_DELAY = 8.0


@dataclass(frozen=True)
class RetryPolicy:
    """How a call may be repeated: data handed to the one sender, which runs the loop.

    ``retries`` extra attempts at most; ``attempt_timeout`` limits each attempt (a timed-out
    attempt may then be repeated, for idempotent calls, while the call's deadline lasts);
    ``idempotent`` overrides the method's own rule (True for a GraphQL query sent by POST,
    False for a mutation, which is never repeated, not even after a refused connection).
    ``gone_is_done``: a 404 to a retry after an attempt that may have acted means that
    attempt did the work (a destroy whose answer was lost): the call returns None.
    """

    retries: int = 0
    attempt_timeout: float | None = None
    idempotent: bool | None = None
    gone_is_done: bool = False

    def __post_init__(self) -> None:
        retries = self.retries
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ValueError(f"retry must be a non-negative int, got {retries!r}")
        if retries > MAX_RETRIES:
            raise ValueError(f"retry={retries} asks for more than {MAX_RETRIES} extra attempts")
        limit = self.attempt_timeout
        if limit is not None and (isinstance(limit, bool) or not limit > 0):
            raise ValueError(f"attempt_timeout must be positive seconds or None, got {limit!r}")

    @classmethod
    def of(cls, retry: int | RetryPolicy) -> RetryPolicy:
        """``retry=`` as given to a call: a count, or a policy."""
        if isinstance(retry, RetryPolicy):
            return retry
        if type(retry) is int and 0 <= retry <= MAX_RETRIES:
            return _COUNTS[retry]
        return cls(retry)


NO_RETRY = RetryPolicy()
_COUNTS = tuple(RetryPolicy(n) for n in range(MAX_RETRIES + 1))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None.

    Unparsable or negative values give None (no instruction from the server). Large values
    are returned as they are: the retry loop decides that they are too long.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = float(when.timestamp()) - (time.time() if now is None else now)
        seconds = max(seconds, 0.0)
    if not seconds >= 0 or seconds == float("inf"):
        return None
    return seconds


def backoff(attempt: int) -> float:
    """Capped exponential backoff (0.5 s, 1 s, 2 s … 8 s) with downward jitter."""
    delay: float = min(_BASE_DELAY * 2.0**attempt, _MAX_DELAY)
    return delay * (1 - 0.25 * random.random())


def retry_delay(
    method: str, error: ClientError, attempt: int, policy: RetryPolicy = NO_RETRY
) -> float | None:
    """How long to wait before attempt ``attempt + 1``, or None if ``error`` is final.

    A ``Retry-After`` longer than :data:`MAX_RETRY_AFTER` makes the error final (the
    server asked for more than a short wait); a shorter one is honoured, never undercut.
    """
    idempotent = policy.idempotent
    if idempotent is None:
        idempotent = method in IDEMPOTENT_METHODS
    elif not idempotent:
        return None
    if isinstance(error, RequestError):
        if not error.retryable:
            return None
        if error.sent and not idempotent:
            return None
        return max(backoff(attempt), MIN_DELAY)
    if isinstance(error, RequestTimeoutError):
        # Only an attempt's own limit: the call's deadline (phase "total") is final.
        return max(backoff(attempt), MIN_DELAY) if error.phase == "attempt" and idempotent else None
    if isinstance(error, ServerError) and error.status in RETRY_STATUSES and idempotent:
        asked = error.retry_after
        if asked is None:
            return max(backoff(attempt), MIN_DELAY)
        if asked > MAX_RETRY_AFTER:
            return None
        return max(asked, MIN_DELAY)
    return None


def reconnect_delay(
    error: ClientError | None, failures: int, hint_ms: int | None, base: float
) -> float | None:
    """How long an event stream waits before reconnecting, or None if ``error`` is final.

    ``error`` is why the connection ended (None: the server closed it); ``failures`` counts
    the consecutive connections that delivered nothing (1 for the first); ``hint_ms`` is the
    server's ``retry:`` field, which replaces ``base`` as the first delay. The delay doubles
    per failure, capped at :data:`MAX_RETRY_AFTER`. A broken or silent connection, a refused
    one, a cut answer and 429/502/503/504 are worth another connection; our own deadline,
    aborts, other statuses and answers that are not an event stream are not.
    """
    if isinstance(error, RequestError):
        if not error.retryable:
            return None
    elif isinstance(error, RequestTimeoutError):
        if error.phase not in ("read", "connect"):
            return None
    elif isinstance(error, ServerError):
        if error.status not in RETRY_STATUSES:
            return None
        if error.retry_after is not None:
            return None if error.retry_after > MAX_RETRY_AFTER else error.retry_after
    elif error is not None and not isinstance(error, ResponseError):
        return None
    first = hint_ms / 1000 if hint_ms is not None else base
    delay: float = min(first * 2.0 ** (failures - 1), MAX_RETRY_AFTER)
    return delay

"""When a failed attempt may be tried again, and after how long. Pure policy, no I/O.

Backend.AI has no idempotency keys, so a request that may have reached the server is
retried only when its method is idempotent; a request that provably never left (the
connection was never established) may be retried whatever its method. Our own deadline
and aborts are never retried.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

from .errors import ClientError, RequestError, ServerError

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "backoff", "parse_retry_after", "retry_delay"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
_BASE_DELAY = 0.5
_MAX_DELAY = 8.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None.

    Values that are negative, unparsable or above 60 s give None: such a server is not
    asking for a short wait, and a caller's deadline should not be spent sleeping.
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
    if not 0 <= seconds <= MAX_RETRY_AFTER:
        return None
    return seconds


def backoff(attempt: int) -> float:
    """Capped exponential backoff (0.5 s, 1 s, 2 s … 8 s) with downward jitter."""
    delay: float = min(_BASE_DELAY * 2.0**attempt, _MAX_DELAY)
    return delay * (1 - 0.25 * random.random())


def retry_delay(method: str, error: ClientError, attempt: int) -> float | None:
    """How long to wait before attempt ``attempt + 1``, or None if ``error`` is final."""
    if isinstance(error, RequestError):
        if not error.retryable:
            return None
        if error.sent and method not in IDEMPOTENT_METHODS:
            return None
        return backoff(attempt)
    if isinstance(error, ServerError) and error.status in RETRY_STATUSES:
        if method not in IDEMPOTENT_METHODS:
            return None
        if error.retry_after is not None:
            return error.retry_after
        return backoff(attempt)
    return None

"""Backend.AI request signing: pure functions, no I/O and no aiohttp.

The manager recomputes this from what it received, so the inputs must be exactly what goes
on the wire: the raw path with its query, the Host header, the media type of the
Content-Type header, the date header's text and the version header's text.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

try:  # the C function hmac.digest() wraps: one call, no HMAC object
    from _hashlib import hmac_digest as _hmac_digest
except ImportError:  # pragma: no cover - a Python built without OpenSSL's _hashlib
    import hmac

    def _hmac_digest(key: bytes, msg: bytes, digest: str) -> bytes:  # type: ignore[misc]
        return hmac.digest(key, msg, digest)


__all__ = [
    "EMPTY_BODY_SHA256",
    "SigningKeys",
    "authorization_header",
    "cached_signing_key",
    "derive_signing_key",
    "format_date",
    "make_sign_string",
    "sign",
]

EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def derive_signing_key(secret_key: str, day: str, host: str) -> bytes:
    """``HMAC(HMAC(secret, YYYYMMDD), host)``: the per-day, per-host signing key."""
    k1 = _hmac_digest(secret_key.encode("utf-8"), day.encode("ascii"), "sha256")
    return _hmac_digest(k1, host.encode("utf-8"), "sha256")


cached_signing_key: Callable[[str, str, str], bytes] = functools.lru_cache(maxsize=64)(
    derive_signing_key
)
""":func:`derive_signing_key`, remembered process-wide per (secret, day, host): every client
of one key pair shares it, and a hit costs no Python frame."""


def make_sign_string(
    method: str,
    path_qs: str,
    date: str,
    host: str,
    media_type: str,
    version: str,
    body_sha256: str = EMPTY_BODY_SHA256,
) -> str:
    """The text the manager signs (see PROTOCOL.md); every field verbatim from the wire."""
    return (
        f"{method}\n{path_qs}\n{date}\nhost:{host}\ncontent-type:{media_type}\n"
        f"x-backendai-version:{version}\n{body_sha256}"
    )


def sign(key: bytes, sign_string: str) -> str:
    """Hex HMAC-SHA256 of the sign string."""
    return _hmac_digest(key, sign_string.encode("utf-8"), "sha256").hex()


def authorization_header(access_key: str, signature: str) -> str:
    """The ``Authorization`` header value the manager parses."""
    return f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{signature}"


def format_date(epoch_seconds: float) -> tuple[str, str]:
    """``(header value, YYYYMMDD)`` for a UTC instant, both from the same second.

    Whole seconds with ``Z`` (``2022-06-15T12:34:56Z``): the key day and the header can
    never disagree, and the text can be cached for a second.
    """
    tm = time.gmtime(epoch_seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", tm), time.strftime("%Y%m%d", tm)


class SigningKeys:
    """Derived keys cached per (day, host), and the date text cached per second.

    Deriving a key costs two HMACs; a client signs thousands of requests a second against
    one host, so both are computed once and reused until the second or the day changes.
    """

    __slots__ = ("_date", "_keys", "_second", "_secret")

    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key
        self._keys: dict[tuple[str, str], bytes] = {}
        self._second = -1
        self._date = ("", "")

    def __repr__(self) -> str:
        return "SigningKeys(secret=********)"

    def now(self, epoch_seconds: float | None = None) -> tuple[str, str]:
        """Date header text and key day for now (or for ``epoch_seconds``)."""
        t = time.time() if epoch_seconds is None else epoch_seconds
        second = int(t)
        if second != self._second:
            self._date = format_date(second)
            self._second = second
        return self._date

    def key(self, day: str, host: str) -> bytes:
        """The signing key for a day and host, derived at most once per pair."""
        cache_key = (day, host)
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) > 16:  # a new day (or many hosts): drop the stale entries
                self._keys.clear()
            key = self._keys[cache_key] = derive_signing_key(self._secret, day, host)
        return key

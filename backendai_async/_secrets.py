"""Masking secrets: in JSON-like values (by key) and in free text (by pattern and by value).

Errors are translated in one place (``_http.py``); that place passes every text it puts on
an error through :func:`redact`, with the secrets the client knows (secret key, password,
login session id, tokens seen in the request), so neither our messages nor the stand-in for
the underlying aiohttp exception can carry them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from yarl import URL

__all__ = ["MASK", "is_secret_key", "mask_secrets", "redact", "safe_url", "url_secrets"]

MASK = "********"
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "otp",
    "signature",
    "privkey",
    "private_key",
    "verification_code",
)

_QUERY_WORDS = "|".join(re.escape(w) for w in _SECRET_WORDS)
_PATH_TOKEN = re.compile(r"(/tus/upload/)[^/?#\s'\"]+")
"""A token carried in the path: the manager's own tus route before API v6."""
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ in any URL
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:)[^@\s/'\"]*@"), r"\1" + MASK + "@"),
    # ?token=...&x=  /  &sToken=...
    (
        re.compile(r"(?i)([?&;][^=&\s'\"]*(?:" + _QUERY_WORDS + r")[^=&\s'\"]*=)[^&\s'\"<>]*"),
        r"\1" + MASK,
    ),
    (_PATH_TOKEN, r"\1" + MASK),
    # credential=ACCESSKEY:hexsignature
    (re.compile(r"(?i)(credential=[^:\s'\",]+:)[0-9a-f]+"), r"\1" + MASK),
    # "Authorization": "...", Cookie: ..., X-BackendAI-SessionID: ... in header reprs
    (
        re.compile(
            r"(?i)((?:authorization|set-cookie|cookie|x-backendai-sessionid|x-backendai-token)"
            r"['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n]+"
        ),
        r"\1" + MASK,
    ),
)


def is_secret_key(key: str) -> bool:
    """True for field names that hold secrets (``password``, ``sToken``, ``secret_key`` …)."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-looking field replaced by ``********``."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v) for v in value]
    return value


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, secret query values, signatures, secret headers and
    every ``known`` secret value (8 characters or longer) replaced by ``********``."""
    for secret in known:
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def url_secrets(url: URL) -> list[str]:
    """The secret values a URL carries (its password, secret-looking query values, a
    token in a tus path)."""
    found = [url.password] if url.password else []
    found += [m.group(0).rsplit("/", 1)[1] for m in _PATH_TOKEN.finditer(url.raw_path)]
    if url.raw_query_string:
        found += [v for k, v in url.query.items() if is_secret_key(k) and v]
    return found


def safe_url(url: URL) -> str:
    """The URL as text, with secret-looking query values and path tokens masked and no
    user info."""
    if url.user or url.password:
        url = url.with_user(None)
    if url.raw_query_string and any(is_secret_key(k) for k in url.query):
        url = url.with_query([(k, MASK if is_secret_key(k) else v) for k, v in url.query.items()])
    text = str(url)
    return _PATH_TOKEN.sub(r"\1" + MASK, text) if "/tus/upload/" in text else text

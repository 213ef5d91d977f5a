"""An independent re-implementation of the manager's request-signature check.

Pure functions over plain values (no aiohttp, nothing from the SDK) so that a bug shared by
the SDK's signer and this verifier cannot hide: the golden vectors test this module alone.
The order of the checks and the error texts follow the real manager (23.09): date window,
Authorization header, access key, signing method, version header, then the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = [
    "ALL_API_VERSIONS",
    "PROBLEM_BASE",
    "VerifyResult",
    "accepted_versions",
    "build_sign_string",
    "compute_signature",
    "parse_api_version",
    "parse_authorization",
    "parse_date",
    "verify_signature",
]

PROBLEM_BASE = "https://api.backend.ai/probs/"
DATE_WINDOW = timedelta(minutes=15)
FIRST_BODYLESS_VERSION = "v4.20181215"
"""Versions sorting before this one (as strings, like the manager) hash the request body."""

ALL_API_VERSIONS: tuple[str, ...] = (
    "v3.20170615",
    "v4.20181215",
    "v4.20190115",
    "v4.20190315",
    "v4.20190615",
    "v5.20191215",
    "v6.20200815",
    "v6.20210815",
    "v6.20220315",
    "v6.20220615",
    "v6.20230315",
    "v7.20230615",
    "v8.20240315",
    "v8.20240915",
    "v9.20250722",
)

_INVALID_AUTH = ("invalid-auth-params", "Missing or invalid authorization parameters.")
_AUTH_FAILED = ("auth-failed", "Credential/signature mismatch.")
_VERSION_RE = re.compile(r"v(\d+)\.(\d{8})")


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of one check: ``ok``, or the problem the manager would answer with."""

    ok: bool
    status: int = 200
    problem_type: str | None = None
    title: str | None = None
    msg: str | None = None
    access_key: str | None = None
    sign_string: str | None = None
    expected_signature: str | None = None

    def problem(self) -> dict[str, str]:
        """The RFC 7807 body for a failed check (type, title, msg)."""
        body = {"type": self.problem_type or "", "title": self.title or ""}
        if self.msg is not None:
            body["msg"] = self.msg
        return body


def _fail(
    status: int, kind: tuple[str, str], msg: str, access_key: str | None = None
) -> VerifyResult:
    return VerifyResult(
        ok=False,
        status=status,
        problem_type=PROBLEM_BASE + kind[0],
        title=kind[1],
        msg=msg,
        access_key=access_key,
    )


def parse_api_version(value: str) -> tuple[int, str] | None:
    """``"v6.20230315"`` -> ``(6, "20230315")``; None for anything else."""
    m = _VERSION_RE.fullmatch(value)
    return (int(m.group(1)), m.group(2)) if m else None


def accepted_versions(announced: str) -> frozenset[str]:
    """Versions a server announcing ``announced`` accepts in ``X-BackendAI-Version``.

    Known versions up to the announced one; v3 only on v3/v4-era servers (later managers
    dropped it). An unparsable announcement accepts every known version but v3, so a test
    can announce garbage and still talk to the server.
    """
    top = parse_api_version(announced)
    if top is None:
        return frozenset(ALL_API_VERSIONS[1:])
    found = set()
    for version in ALL_API_VERSIONS:
        key = parse_api_version(version)
        assert key is not None
        if key <= top and (key[0] > 3 or top[0] <= 4):
            found.add(version)
    return frozenset(found)


_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_date(raw: str) -> datetime | None:
    """Parse a date header the way the manager accepts it; None when unparsable.

    ISO-8601 with ``Z``/``+HH:MM``/no offset (naive means UTC), any number of fraction
    digits, and the RFC 7231 HTTP-date (which the manager's lenient parser takes too). The
    result keeps the offset it was sent in: the signing key's date is taken in that offset.
    """
    text = raw.strip()
    m = _ISO_RE.fullmatch(text)
    if m is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
    except ValueError:
        return None


def parse_authorization(value: str) -> tuple[str, str, str]:
    """``"BackendAI signMethod=M, credential=AK:SIG"`` -> ``(M, AK, SIG)``.

    Raises ValueError with the manager's message for a malformed header.
    """
    pieces = value.split(" ", 1)
    if len(pieces) != 2:
        raise ValueError("Malformed authorization header")
    scheme, rest = pieces
    if scheme not in ("BackendAI", "Sorna"):
        raise ValueError("Invalid authorization type name")
    params: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise ValueError("Missing or malformed authorization parameters")
        params[key.strip()] = val.strip()
    access_key, sep, signature = params.get("credential", "").partition(":")
    if not sep or "signMethod" not in params:
        raise ValueError("Missing or malformed authorization parameters")
    return params["signMethod"], access_key, signature


def build_sign_string(
    method: str,
    raw_path: str,
    raw_date: str,
    host: str,
    content_type: str,
    version: str,
    body: bytes = b"",
    *,
    hash_name: str = "sha256",
    version_header: str = "x-backendai-version",
) -> str:
    """The text the manager signs; ``body`` counts only for versions before v4.20181215."""
    hashed = (
        body if version < FIRST_BODYLESS_VERSION and content_type != "multipart/form-data" else b""
    )
    return (
        f"{method}\n{raw_path}\n{raw_date}\nhost:{host}\ncontent-type:{content_type}\n"
        f"{version_header}:{version}\n{hashlib.new(hash_name, hashed).hexdigest()}"
    )


def compute_signature(
    secret_key: str, date: datetime, host: str, sign_string: str, *, hash_name: str = "sha256"
) -> str:
    """Hex HMAC of ``sign_string`` under the key derived from secret, date (YYYYMMDD) and host."""
    k1 = hmac.new(secret_key.encode("utf-8"), date.strftime("%Y%m%d").encode(), hash_name)
    k2 = hmac.new(k1.digest(), host.encode(), hash_name)
    return hmac.new(k2.digest(), sign_string.encode(), hash_name).hexdigest()


def _get(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and CIMultiDicts."""
    value = headers.get(name)
    if value is not None:
        return value
    lname = name.lower()
    items: Iterable[tuple[str, str]] = headers.items()
    return next((v for k, v in items if k.lower() == lname), None)


def verify_signature(
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes,
    host: str,
    content_type: str,
    secret_key: str | Mapping[str, str],
    now: datetime,
) -> VerifyResult:
    """Check one request like the manager's auth middleware; never raises.

    ``raw_path`` is path+query exactly as on the wire, ``host`` the Host header, and
    ``content_type`` the media type without parameters (``application/octet-stream`` when the
    header is absent). ``secret_key`` is either the secret for whichever access key the
    request names, or a mapping access key -> secret (unknown key -> 401). ``now`` must be
    timezone-aware. A missing Authorization header fails with 401 "Unauthorized access",
    as the manager answers for an auth-required route.
    """
    raw_date = (
        _get(headers, "Date") or _get(headers, "X-BackendAI-Date") or _get(headers, "X-Sorna-Date")
    )
    date = parse_date(raw_date) if raw_date else None
    if date is None or not (now - DATE_WINDOW < date < now + DATE_WINDOW):
        return _fail(400, _INVALID_AUTH, "Date/time sync error")
    assert raw_date is not None

    auth = _get(headers, "Authorization")
    if not auth:
        return _fail(401, _AUTH_FAILED, "Unauthorized access")
    try:
        sign_method, access_key, signature = parse_authorization(auth)
    except ValueError as e:
        return _fail(400, _INVALID_AUTH, str(e))

    if isinstance(secret_key, str):
        secret: str | None = secret_key
    else:
        secret = secret_key.get(access_key)
    if secret is None:
        return _fail(401, _AUTH_FAILED, "Access key not found")

    mac_type, sep, hash_name = sign_method.lower().partition("-")
    if not sep or "-" in hash_name:
        return _fail(401, _AUTH_FAILED, "Invalid signature", access_key)
    if mac_type != "hmac":
        return _fail(
            400, _INVALID_AUTH, "Unsupported request signing method (MAC type)", access_key
        )
    if hash_name not in hashlib.algorithms_guaranteed or hash_name.startswith("shake"):
        return _fail(
            400, _INVALID_AUTH, "Unsupported request signing method (hash type)", access_key
        )

    new_version = _get(headers, "X-BackendAI-Version")
    version = new_version or _get(headers, "X-Sorna-Version")
    if version is None:
        return _fail(400, _INVALID_AUTH, "API version missing in request headers", access_key)

    sign_string = build_sign_string(
        method,
        raw_path,
        raw_date,
        host,
        content_type,
        version,
        body,
        hash_name=hash_name,
        version_header="x-backendai-version" if new_version else "x-sorna-version",
    )
    expected = compute_signature(secret, date, host, sign_string, hash_name=hash_name)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        failed = _fail(401, _AUTH_FAILED, "Signature mismatch", access_key)
        return replace(failed, sign_string=sign_string, expected_signature=expected)
    return VerifyResult(
        ok=True, access_key=access_key, sign_string=sign_string, expected_signature=expected
    )

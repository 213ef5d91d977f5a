"""SESSION-mode values: the result of a login, a portable login state, and the 200-as-401 check.

Kept apart from the resource (``resources/auth.py``) because the cookie and response helpers
touch aiohttp objects, which resources never do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from types import MappingProxyType
from typing import Any

from aiohttp import ClientResponse
from aiohttp.abc import AbstractCookieJar
from yarl import URL

from ._body import decode_body
from .errors import MASK, PROBLEM_BASE, AuthenticationError, mask_secrets

__all__ = [
    "MONITOR_REFUSED",
    "LoginResult",
    "LoginState",
    "decode_session_body",
    "jar_cookies",
    "read_login_answer",
    "restore_cookies",
]

MONITOR_REFUSED = "Monitor user does not allow to login."
_TOTP_AUTH = "require-totp-authentication"
_TOTP_REGISTRATION = "require-totp-registration"
_UNAUTHORIZED_CODE = "user_auth_unauthorized"
SESSION_ID_HEADER = "X-BackendAI-SessionID"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if data is None else MappingProxyType(dict(data))


@dataclass(frozen=True, repr=False)
class LoginResult:
    """What ``login()`` / ``token_login()`` / ``login_status()`` found; truthy only if logged in.

    ``data`` is the webserver's public data: ``access_key``, ``role``, ``status`` after a
    login, or the problem (``type``, ``title``, ``details`` …) after a refusal. Secret-looking
    fields (a 2FA registration token) stay readable in ``data`` but are masked in ``repr`` and
    ``to_dict()``.
    """

    authenticated: bool
    fail_reason: str | None = None
    fail_type: str | None = None
    data: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))

    def __bool__(self) -> bool:
        return self.authenticated

    @property
    def access_key(self) -> str | None:
        """The logged-in user's access key (None when not authenticated)."""
        value = (self.data or _EMPTY).get("access_key") if self.authenticated else None
        return value if isinstance(value, str) else None

    @property
    def role(self) -> str | None:
        """``superadmin`` / ``admin`` / ``user`` / ``monitor`` as the webserver reported it."""
        value = (self.data or _EMPTY).get("role")
        return value if isinstance(value, str) else None

    @property
    def needs_otp(self) -> bool:
        """The account has 2FA: call ``login(otp=...)`` with the current one-time code."""
        return (self.fail_type or "").endswith(_TOTP_AUTH)

    @property
    def needs_totp_registration(self) -> bool:
        """The account must register a TOTP device first (``data`` carries the token)."""
        return (self.fail_type or "").endswith(_TOTP_REGISTRATION)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for logs, secrets masked."""
        return {
            "authenticated": self.authenticated,
            "fail_reason": self.fail_reason,
            "fail_type": self.fail_type,
            "data": mask_secrets(dict(self.data)) if self.data is not None else None,
        }

    def __repr__(self) -> str:
        masked = self.to_dict()["data"]
        return (
            f"LoginResult(authenticated={self.authenticated}, fail_reason={self.fail_reason!r}, "
            f"fail_type={self.fail_type!r}, data={masked!r})"
        )


@dataclass(frozen=True, repr=False)
class LoginState:
    """A webserver login as plain data: save it where you like, restore it in another client.

    ``session_id`` is the webserver's session key (sent as ``X-BackendAI-SessionID``) and
    ``cookies`` the endpoint's cookies (name -> value). Both are credentials: store them
    like passwords. ``to_dict()`` / ``from_dict()`` give a JSON-compatible form. Nothing is
    written anywhere by the SDK.
    """

    endpoint: str
    session_id: str | None = None
    cookies: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not self.endpoint:
            raise ValueError("LoginState.endpoint must be the webserver URL as a string")
        if self.session_id is not None and (
            not isinstance(self.session_id, str) or not self.session_id
        ):
            raise ValueError("LoginState.session_id must be a non-empty string or None")
        if not isinstance(self.cookies, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in self.cookies.items()
        ):
            raise ValueError("LoginState.cookies must map cookie names to string values")
        object.__setattr__(self, "cookies", MappingProxyType(dict(self.cookies)))

    @property
    def empty(self) -> bool:
        """True when there is nothing to restore (never logged in, or logged out)."""
        return self.session_id is None and not self.cookies

    def to_dict(self) -> dict[str, Any]:
        """``{"endpoint", "session_id", "cookies"}``, JSON-serialisable (secrets in clear)."""
        return {
            "endpoint": self.endpoint,
            "session_id": self.session_id,
            "cookies": dict(self.cookies),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoginState:
        """The inverse of :meth:`to_dict`; a malformed value raises ``ValueError``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a login state must be a mapping, got {type(data).__name__}")
        unknown = set(data) - {"endpoint", "session_id", "cookies"}
        if unknown:
            raise ValueError(f"unknown login state fields: {sorted(unknown)}")
        cookies = data.get("cookies") or {}
        return cls(data.get("endpoint"), data.get("session_id"), cookies)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        sid = MASK if self.session_id else None
        names = sorted(self.cookies)
        return f"LoginState(endpoint={self.endpoint!r}, session_id={sid}, cookies={names})"


def jar_cookies(jar: AbstractCookieJar, endpoint: URL) -> dict[str, str]:
    """The cookies ``jar`` would send to ``endpoint`` (name -> value)."""
    return {name: morsel.value for name, morsel in jar.filter_cookies(endpoint).items()}


def restore_cookies(jar: AbstractCookieJar, endpoint: URL, cookies: Mapping[str, str]) -> None:
    """Put saved cookies back as host-only cookies of ``endpoint`` (path ``/``)."""
    if not cookies:
        return
    morsels: SimpleCookie = SimpleCookie()
    for name, value in cookies.items():
        morsels[name] = value
        morsels[name]["path"] = "/"
    jar.update_cookies(morsels, response_url=endpoint)


async def read_login_answer(resp: ClientResponse, limit: int | None) -> tuple[Any, str | None]:
    """The decoded body plus the ``X-BackendAI-SessionID`` a new webserver session announces."""
    return await decode_body(resp, limit), resp.headers.get(SESSION_ID_HEADER)


def _says_unauthorized(body: dict[str, Any]) -> bool:
    """A 200 answer that wraps the manager's 401 (GraphQL ``errors`` or a bare error code)."""
    if body.get("error_code") == _UNAUTHORIZED_CODE:
        return True
    errors = body.get("errors")
    return isinstance(errors, list) and _UNAUTHORIZED_CODE in json.dumps(errors, default=str)


async def decode_session_body(resp: ClientResponse, limit: int | None) -> Any:
    """``decode_body`` for SESSION mode: a 200 that says the login is gone raises a 401.

    Newer webservers answer a dead login on some routes with HTTP 200 and the manager's
    ``user_auth_unauthorized`` wrapped in the body; status alone would let it pass as data.
    """
    body = await decode_body(resp, limit)
    if (
        type(body) is dict
        and ("errors" in body or "error_code" in body)
        and _says_unauthorized(body)
    ):
        raise AuthenticationError(
            "server responded failure: 401 Unauthorized - the webserver login is missing "
            f"or has expired (HTTP {resp.status} with user_auth_unauthorized in the body); "
            "log in again",
            title="401 Unauthorized - login missing or expired",
            description="the webserver login is missing or has expired",
            problem_type=PROBLEM_BASE + "auth-failed",
            status=401,
            status_text="Unauthorized",
            body=body,
            error_code=_UNAUTHORIZED_CODE,
        )
    return body

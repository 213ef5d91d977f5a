"""ClientConfig: who to talk to and how, validated once and immutable afterwards.

Argument order follows the JS SDK: ``ClientConfig(access_key, secret_key, endpoint,
connection_mode)``; in SESSION mode the first two are the user id (e-mail) and password.
The environment is read only by :meth:`ClientConfig.from_env`, never behind your back.
"""

from __future__ import annotations

import enum
import functools
import os
import ssl as ssl_module
from collections.abc import Mapping
from typing import Any

from yarl import URL

from ._secrets import MASK as _MASK
from .timeouts import Timeouts
from .version import NEWEST_VERSION, ApiVersion

__all__ = ["DEFAULT_ENDPOINT", "ClientConfig", "ConnectionMode", "check_header_text"]

DEFAULT_ENDPOINT = "https://api.backend.ai"
_FORBIDDEN = ("\r", "\n", "\x00")
_DEFAULT_TIMEOUTS = Timeouts()  # immutable: one for every config that sets none


def check_header_text(value: object, argument: str) -> str:
    """A value that goes into a header or the signature: no CR, LF, NUL or outer spaces."""
    if not isinstance(value, str):
        raise ValueError(f"{argument} must be a string, got {type(value).__name__}")
    if "\r" in value or "\n" in value or "\x00" in value:  # _FORBIDDEN
        raise ValueError(f"{argument} contains a line break or NUL character")
    if value != value.strip():
        raise ValueError(f"{argument} has leading or trailing whitespace")
    return value


def _shown(url: URL) -> str:
    """A URL for reprs and logs: its password (user info) masked."""
    return str(url.with_password(_MASK)) if url.password else str(url)


class ConnectionMode(str, enum.Enum):
    """API: HMAC-signed calls to the manager. SESSION: cookie login to the webserver."""

    API = "API"
    SESSION = "SESSION"


def _mode(value: ConnectionMode | str) -> ConnectionMode:
    if value is ConnectionMode.API:
        return value
    try:
        return ConnectionMode(value.upper() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(f"connection_mode must be 'API' or 'SESSION', got {value!r}") from None


def _endpoint(value: str | URL) -> URL:
    try:
        url = value if isinstance(value, URL) else URL(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"endpoint is not a valid URL: {value!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"endpoint must be an absolute http(s) URL such as 'https://api.backend.ai', "
            f"got {str(value)!r}"
        )
    if url.query_string or url.fragment:
        raise ValueError(f"endpoint must not carry a query or fragment: {str(value)!r}")
    # Keep a path prefix (deployments behind a reverse proxy), without a trailing slash.
    return url.with_path(url.path.rstrip("/") or "/")


@functools.lru_cache(maxsize=32)
def _endpoint_of_text(text: str) -> URL:
    """:func:`_endpoint` of a string, remembered (a URL is immutable)."""
    return _endpoint(text)


def _require(
    value: str | None, argument: str, env: str, mode: ConnectionMode, *, header: bool = True
) -> str:
    if value is None or not str(value).strip():
        raise ValueError(
            f"{argument} is required in {mode.value} mode: pass {argument}= or set {env}"
        )
    if not isinstance(value, str):
        raise ValueError(f"{argument} must be a string, got {type(value).__name__}")
    return check_header_text(value, argument) if header else value


class ClientConfig:
    """Immutable connection settings. Secrets never appear in ``repr``/``str``.

    Connection options (keyword-only): ``ssl`` (True, False or an ``ssl.SSLContext``),
    ``proxy`` and ``trust_env`` (aiohttp's: read proxies and ``~/.netrc`` from the
    environment), ``limit``/``limit_per_host`` (connection pool), ``timeouts`` (or a
    plain ``timeout`` in seconds for the per-call deadline), ``user_agent``,
    ``max_response_size`` (bytes; a larger JSON/text answer raises instead of filling
    memory) and ``api_version`` (the newest version the client may negotiate).
    """

    __slots__ = (
        "_access_key",
        "_connection_mode",
        "_endpoint",
        "_password",
        "_secret_key",
        "_user_id",
        "api_version",
        "limit",
        "limit_per_host",
        "max_response_size",
        "proxy",
        "ssl",
        "timeouts",
        "trust_env",
        "user_agent",
    )
    _access_key: str
    _secret_key: str
    _user_id: str
    _password: str
    _endpoint: URL
    _connection_mode: ConnectionMode
    api_version: str
    ssl: bool | ssl_module.SSLContext
    proxy: URL | None
    trust_env: bool
    limit: int
    limit_per_host: int
    timeouts: Timeouts
    user_agent: str | None
    max_response_size: int | None

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        endpoint: str | URL | None = None,
        connection_mode: ConnectionMode | str = ConnectionMode.API,
        *,
        user_id: str | None = None,
        password: str | None = None,
        ssl: bool | ssl_module.SSLContext = True,
        proxy: str | URL | None = None,
        trust_env: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        timeouts: Timeouts | None = None,
        timeout: float | None = None,
        user_agent: str | None = None,
        max_response_size: int | None = 64 * 1024 * 1024,
        api_version: str | ApiVersion = NEWEST_VERSION,
    ) -> None:
        mode = _mode(connection_mode)
        set_ = object.__setattr__
        set_(self, "_connection_mode", mode)
        if endpoint is None:
            endpoint = DEFAULT_ENDPOINT
        set_(
            self,
            "_endpoint",
            _endpoint_of_text(endpoint) if type(endpoint) is str else _endpoint(endpoint),
        )
        if mode is ConnectionMode.API:
            if user_id is not None or password is not None:
                raise ValueError("user_id/password are for SESSION mode; API mode takes keys")
            set_(
                self, "_access_key", _require(access_key, "access_key", "BACKEND_ACCESS_KEY", mode)
            )
            set_(
                self, "_secret_key", _require(secret_key, "secret_key", "BACKEND_SECRET_KEY", mode)
            )
            set_(self, "_user_id", "")
            set_(self, "_password", "")
        else:
            uid = user_id if user_id is not None else access_key
            pw = password if password is not None else secret_key
            set_(self, "_user_id", _require(uid, "user_id", "BACKEND_ACCESS_KEY", mode))
            set_(
                self,
                "_password",
                _require(pw, "password", "BACKEND_SECRET_KEY", mode, header=False),
            )
            set_(self, "_access_key", "")
            set_(self, "_secret_key", "")
        if not isinstance(ssl, (bool, ssl_module.SSLContext)):
            raise ValueError("ssl must be True, False or an ssl.SSLContext")
        if timeouts is not None and timeout is not None:
            raise ValueError("pass either timeouts= or timeout=, not both")
        if timeouts is None:
            timeouts = _DEFAULT_TIMEOUTS if timeout is None else Timeouts(total=timeout)
        if not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative int (0 means no limit)")
        if not isinstance(limit_per_host, int) or limit_per_host < 0:
            raise ValueError("limit_per_host must be a non-negative int (0 means no limit)")
        if max_response_size is not None and max_response_size <= 0:
            raise ValueError("max_response_size must be positive bytes or None")
        if user_agent is not None:
            check_header_text(user_agent, "user_agent")
        version = (
            api_version if isinstance(api_version, ApiVersion) else ApiVersion.parse(api_version)
        )
        set_(self, "ssl", ssl)
        set_(self, "proxy", URL(str(proxy)) if proxy is not None else None)
        set_(self, "trust_env", bool(trust_env))
        set_(self, "limit", limit)
        set_(self, "limit_per_host", limit_per_host)
        set_(self, "timeouts", timeouts)
        set_(self, "user_agent", user_agent)
        set_(self, "max_response_size", max_response_size)
        set_(self, "api_version", str(version))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> ClientConfig:
        """Read ``BACKEND_ACCESS_KEY``, ``BACKEND_SECRET_KEY``, ``BACKEND_ENDPOINT`` (default
        ``https://api.backend.ai``) and ``BACKEND_ENDPOINT_TYPE`` (``api`` | ``session``)."""
        env = os.environ if environ is None else environ
        kind = env.get("BACKEND_ENDPOINT_TYPE", "api").strip().lower() or "api"
        if kind not in ("api", "session"):
            raise ValueError(f"BACKEND_ENDPOINT_TYPE must be 'api' or 'session', got {kind!r}")
        return cls(
            env.get("BACKEND_ACCESS_KEY"),
            env.get("BACKEND_SECRET_KEY"),
            env.get("BACKEND_ENDPOINT") or DEFAULT_ENDPOINT,
            kind.upper(),
            **options,
        )

    create_from_env = from_env  # the JS SDK's name

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ClientConfig is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ClientConfig is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        who = (
            f"access_key={self._access_key!r}, secret_key={_MASK}"
            if self._connection_mode is ConnectionMode.API
            else f"user_id={self._user_id!r}, password={_MASK}"
        )
        return (
            f"ClientConfig({who}, endpoint={self.endpoint_shown!r}, "
            f"connection_mode={self._connection_mode.value!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("ClientConfig holds secrets and is not picklable")

    # Read-only attributes with the JS getters' names, in snake_case.
    @property
    def access_key(self) -> str:
        return self._access_key

    @property
    def secret_key(self) -> str:
        return self._secret_key

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def password(self) -> str:
        return self._password

    @property
    def endpoint(self) -> URL:
        return self._endpoint

    @property
    def endpoint_shown(self) -> str:
        """The endpoint for logs and reprs (a password in its user info masked)."""
        return _shown(self._endpoint)

    @property
    def url_secrets(self) -> tuple[str, ...]:
        """Passwords carried by the endpoint or proxy URL (masked in every error text)."""
        urls = (self._endpoint, self.proxy) if self.proxy is not None else (self._endpoint,)
        return tuple(u.password for u in urls if u.password)

    @property
    def endpoint_host(self) -> str:
        """``host[:port]`` as the Host header carries it (no default port)."""
        return str(self._endpoint.host_port_subcomponent)

    @property
    def connection_mode(self) -> ConnectionMode:
        return self._connection_mode

    @property
    def api_version_major(self) -> int:
        return ApiVersion.parse(self.api_version).major

    @property
    def hash_type(self) -> str:
        return "sha256"

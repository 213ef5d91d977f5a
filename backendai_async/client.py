"""The Client: lifecycle, version negotiation, and the one public request path.

``Client`` owns (or borrows) one ``aiohttp.ClientSession``. Every SDK method ends in
:meth:`Client.request`, which negotiates the API version on first use (once, under a lock)
and hands the call to the transport.
"""

from __future__ import annotations

import asyncio
import enum
import json as json_module
import logging
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from ._abort import AbortSignal, InFlight
from ._compat import Compat, compat_for
from ._http import ResponseReader, Transport, decode_body
from ._login import LoginState, decode_session_body, restore_cookies
from .config import ClientConfig, ConnectionMode
from .errors import ResponseError
from .middleware import VERSION_HEADER, HmacSigner
from .resources.auth import Auth, AuthAliases
from .resources.sessions import SessionAliases, Sessions
from .timeouts import USE_DEFAULT, UseDefault
from .version import (
    ApiVersion,
    UnsupportedVersionError,
    features_for,
    manager_version_key,
    negotiate,
)

__all__ = ["Client", "ClientClosedError", "ClientState"]

__version__ = "0.1.0"
_log = logging.getLogger("backendai_async")
SESSION_ID_HEADER = "X-BackendAI-SessionID"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ClientState(enum.Enum):
    """UNOPENED until the first call or ``open()``; CLOSED after ``close()``, for good."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class ClientClosedError(RuntimeError):
    """A call was made on a client that was already closed."""


class Client(SessionAliases, AuthAliases):
    """An asyncio Backend.AI client.

    ``Client(config, agent_signature)`` as in the JS SDK. Use it as ``async with Client(cfg)
    as client:`` (or call ``await client.close()``). Pass ``session=`` to use your own
    ``aiohttp.ClientSession`` (it is never closed by the client) and ``middlewares=`` for
    extra aiohttp client middlewares: they run outside the signer, which always signs the
    final request. In SESSION mode, ``login_state=`` restores a login saved with
    ``export_session()`` (no request is sent; see ``docs/modes.md``).
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        agent_signature: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        middlewares: Sequence[aiohttp.ClientMiddlewareType] = (),
        login_state: LoginState | Mapping[str, Any] | None = None,
    ) -> None:
        if config is None:
            config = ClientConfig.from_env()
        if not isinstance(config, ClientConfig):
            raise TypeError(f"config must be a ClientConfig, got {type(config).__name__}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError("session must be an aiohttp.ClientSession")
        self._config = config
        self._agent_signature = agent_signature
        self._session_mode = config.connection_mode is ConnectionMode.SESSION
        self._user_middlewares = tuple(middlewares)
        self._signer = (
            None if self._session_mode else HmacSigner(config.access_key, config.secret_key)
        )
        self._state = ClientState.UNOPENED
        self._session = session
        self._owns_session = session is None
        self._transport: Transport | None = None
        self._in_flight = InFlight()
        self._lock: asyncio.Lock | None = None
        self._ceiling = ApiVersion.parse(config.api_version)
        self._version: ApiVersion | None = None
        self._api_version: str | None = None
        self._manager_version: str | None = None
        self._compat: Compat | None = None
        self._features: frozenset[str] | None = None
        base_ua = (
            config.user_agent or f"Backend.AI Client for Python (backendai_async {__version__})"
        )
        self.user_agent = f"{base_ua}; {agent_signature}" if agent_signature else base_ua
        self._probe_headers: dict[str, str] = {"User-Agent": self.user_agent}
        self._login_session_id: str | None = None
        self._plain_headers: dict[str, str] = {}
        self._json_headers: dict[str, str] = {}
        self._rebuild_headers()
        # Resource namespaces (thin: they describe requests, ``_send`` sends them).
        self.sessions = Sessions(self)
        self.auth = Auth(self)
        self._pending_cookies: dict[str, str] = {}  # restored cookies, until the jar exists
        if login_state is not None:
            self.auth.import_session(login_state)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._state is ClientState.CLOSED

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The underlying ``aiohttp.ClientSession`` (None before the client is opened)."""
        return self._session

    async def open(self) -> Client:
        """Create the HTTP session now (otherwise the first call does). Idempotent."""
        self._ready()
        return self

    async def __aenter__(self) -> Client:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Abort calls in flight (they raise ``AbortError``) and close an owned session."""
        if self._state is ClientState.CLOSED:
            return
        was_open = self._state is ClientState.OPEN
        self._state = ClientState.CLOSED
        if self._in_flight.abort_all("the client was closed"):
            await asyncio.sleep(0)  # let the aborted calls unwind and release their connections
        if was_open and self._owns_session and self._session is not None:
            await self._session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if getattr(self, "_state", None) is ClientState.OPEN and getattr(
            self, "_owns_session", False
        ):
            _warn(
                "backendai_async.Client was never closed: use 'async with Client(...)' or "
                "'await client.close()'",
                ResourceWarning,
                source=self,
            )

    def __repr__(self) -> str:
        return (
            f"Client(endpoint={str(self._config.endpoint)!r}, "
            f"mode={self._config.connection_mode.value}, state={self._state.value}, "
            f"api_version={self._api_version!r})"
        )

    def _ready(self) -> Transport:
        """The transport, creating the session on first use; refuses a closed client."""
        transport = self._transport
        if transport is not None and self._state is ClientState.OPEN:
            return transport
        if self._state is ClientState.CLOSED:
            raise ClientClosedError("this Client is closed; create a new Client to make calls")
        cfg = self._config
        middlewares: tuple[aiohttp.ClientMiddlewareType, ...] = self._user_middlewares
        if self._signer is not None:
            middlewares = (*middlewares, self._signer)  # innermost: signs the final request
        per_request: tuple[aiohttp.ClientMiddlewareType, ...] | None = None
        if self._session is None:
            if cfg.ssl is False:
                _log.warning("TLS certificate verification is OFF for %s", cfg.endpoint)
            connector = aiohttp.TCPConnector(
                limit=cfg.limit, limit_per_host=cfg.limit_per_host, ssl=cfg.ssl
            )
            jar: aiohttp.abc.AbstractCookieJar = (
                aiohttp.CookieJar(unsafe=True) if self._session_mode else aiohttp.DummyCookieJar()
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=jar,
                middlewares=middlewares,
                trust_env=cfg.trust_env,
                timeout=cfg.timeouts.to_aiohttp(cfg.timeouts.total),
            )
            if self._pending_cookies:
                restore_cookies(jar, cfg.endpoint, self._pending_cookies)
                self._pending_cookies = {}
        else:
            if self._session.closed:
                raise ClientClosedError("the aiohttp.ClientSession given to Client is closed")
            # Per-request middlewares replace the session's: keep its own, then ours.
            own = tuple(getattr(self._session, "_middlewares", ()) or ())
            per_request = (*own, *middlewares)
        self._transport = Transport(
            self._session,
            cfg.endpoint,
            cfg.timeouts,
            in_flight=self._in_flight,
            middlewares=per_request,
            proxy=cfg.proxy,
            max_response_size=cfg.max_response_size,
            limit=cfg.limit if self._owns_session else 0,
        )
        self._state = ClientState.OPEN
        return self._transport

    # -- versions ------------------------------------------------------------------------

    @property
    def api_version(self) -> str | None:
        """The negotiated API version (``"v6.20230315"``), None until negotiated."""
        return self._api_version

    @property
    def api_version_major(self) -> int | None:
        return self._version.major if self._version is not None else None

    @property
    def manager_version(self) -> str | None:
        """The manager release (``"23.09.10"``), None until negotiated."""
        return self._manager_version

    @property
    def compat(self) -> Compat:
        """Paths and fields of the negotiated version (negotiate first)."""
        if self._compat is None:
            raise RuntimeError("the API version is not negotiated yet: await a call first")
        return self._compat

    async def get_server_version(
        self, *, timeout: float | UseDefault | None = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """``GET /`` (``GET /func/`` in SESSION mode), unauthenticated: ``{version, manager}``."""
        transport = self._ready()
        path = "/func/" if self._session_mode else "/"
        return await transport.call(
            "GET", transport.url(path), headers=self._probe_headers, timeout=timeout, signal=signal
        )

    async def get_manager_version(
        self, *, timeout: float | UseDefault | None = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> str:
        """Negotiate (once per client) and return the manager release, e.g. ``"23.09.10"``."""
        await self._ensure_negotiated(timeout, signal)
        assert self._manager_version is not None
        return self._manager_version

    async def _ensure_negotiated(
        self, timeout: float | UseDefault | None, signal: AbortSignal | None
    ) -> str:
        if self._api_version is not None:
            return self._api_version
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._api_version is None:
                self._apply_server_version(
                    await self.get_server_version(timeout=timeout, signal=signal)
                )
        assert self._api_version is not None
        return self._api_version

    def _apply_server_version(self, info: Any) -> None:
        version = info.get("version") if isinstance(info, dict) else None
        manager = info.get("manager") if isinstance(info, dict) else None
        if not isinstance(version, str) or not isinstance(manager, str):
            raise ResponseError(
                f"the server's version answer is not {{'version', 'manager'}}: {info!r:.200}",
                title="Unexpected version answer",
                body=info,
            )
        try:
            chosen = negotiate(version, self._ceiling)
        except UnsupportedVersionError as exc:
            raise ResponseError(str(exc), title="Unsupported server version", body=info) from exc
        if str(chosen) != version:
            _log.debug("the server speaks %s; this client speaks %s", version, chosen)
        self._version = chosen
        self._compat = compat_for(chosen)
        self._manager_version = manager
        self._features = None
        self._api_version = str(chosen)
        self._rebuild_headers()

    def supports(self, feature: str) -> bool:
        """Whether the negotiated server has a JS-SDK feature flag; unknown flags are False."""
        if self._version is None or self._manager_version is None:
            raise RuntimeError(
                "supports() needs the server version: await client.get_manager_version() first"
            )
        if self._features is None:
            self._features = features_for(self._version, self._manager_version)
        return feature in self._features

    def is_api_version_compatible_with(self, version: str) -> bool:
        """True when the negotiated API version is at least ``version``."""
        if self._version is None:
            return False
        return self._version >= ApiVersion.parse(version)

    def is_manager_version_compatible_with(self, version: str | Sequence[str]) -> bool:
        """True when the manager is at least ``version``.

        With a list (back-ported features), the condition on the manager's own
        ``major.minor`` line is used, else the highest one, as the JS SDK does.
        """
        if self._manager_version is None:
            return False
        current = manager_version_key(self._manager_version)
        if isinstance(version, str):
            return current >= manager_version_key(version)
        conditions = sorted((manager_version_key(v) for v in version), reverse=True)
        if not conditions:
            raise ValueError("is_manager_version_compatible_with() needs at least one version")
        same_line = [c for c in conditions if c[:2] == current[:2]]
        return current >= (same_line[0] if same_line else conditions[0])

    # -- requests ------------------------------------------------------------------------

    def abort(self, reason: str | None = None) -> None:
        """Abort every call in flight on this client; each raises ``AbortError``."""
        self._in_flight.abort_all(reason or "aborted by client.abort()")

    def _path(self, path: str) -> str:
        if self._session_mode and not path.startswith("/server/"):
            return "/func" + path
        return path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        retry: int = 0,
    ) -> Any:
        """Send one signed request and return the decoded body.

        JSON → ``dict``/``list``; ``text/*`` → ``str``; other types → ``bytes``; an empty
        body → ``None``. ``timeout`` is the whole call's deadline in seconds (retries
        included; ``None`` = no deadline). ``retry`` extra attempts happen only when safe
        (see ``docs/errors.md``). Raises a :class:`~backendai_async.ClientError` subclass.
        """
        method = method.upper() if isinstance(method, str) else method
        if method not in _METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}")
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise ValueError(f"retry must be a non-negative int, got {retry!r}")
        if signal is not None and not isinstance(signal, AbortSignal):
            raise TypeError("signal must be an AbortSignal (AbortController().signal)")
        if json is not None and data is not None:
            raise ValueError("pass either json= or data=, not both")
        return await self._send(
            method,
            path,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=timeout,
            signal=signal,
            retry=retry,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        retry: int = 0,
        reader: ResponseReader = decode_body,
        idle_timeout: float | UseDefault | None = USE_DEFAULT,
        parameters: Any = None,
    ) -> Any:
        """The request path under every SDK method (arguments already validated).

        ``path`` is the API path (``/session/x``); SESSION mode adds ``/func``. ``reader``
        consumes the response (streaming downloads pass their own); ``parameters`` is what
        errors record as the request parameters (masked), defaulting to ``json``.
        """
        transport = self._ready()
        url = transport.url(self._path(path))
        if self._session_mode and reader is decode_body:
            reader = decode_session_body  # a 200 that wraps a dead login's 401 raises
        if self._api_version is None:
            await self._ensure_negotiated(timeout, signal)
        if json is not None:
            data = json_module.dumps(json, separators=(",", ":")).encode()
            base = self._json_headers
        else:
            base = self._plain_headers
        if headers:
            base = {**base, **headers}
        return await transport.call(
            method,
            url,
            headers=base,
            params=params,
            data=data,
            timeout=timeout,
            signal=signal,
            retry=retry,
            reader=reader,
            idle_timeout=idle_timeout,
            parameters=json if parameters is None else parameters,
        )

    def _set_login_session_id(self, session_id: str | None) -> None:
        """Send ``X-BackendAI-SessionID`` on every call (SESSION mode without cookies)."""
        self._login_session_id = session_id
        self._rebuild_headers()

    def _rebuild_headers(self) -> None:
        """Precompute the header dicts once per (version, login session), not per call."""
        plain = {"User-Agent": self.user_agent}
        if self._api_version is not None:
            plain[VERSION_HEADER] = self._api_version
        if self._login_session_id:
            plain[SESSION_ID_HEADER] = self._login_session_id
        self._plain_headers = plain
        self._json_headers = {**plain, "Content-Type": "application/json"}

"""The Client: lifecycle, version negotiation, GraphQL, and the namespaces.

``Client`` owns (or borrows) one ``aiohttp.ClientSession`` and one :class:`Transport`, the
only sender. Namespaces (``client.sessions``, ``client.vfolder`` …) are created on first
use and talk to the client through one narrow interface (:class:`_ClientApi`, see
``resources/_base.py``); they never touch the client's internals.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import aiohttp

from ._abort import AbortSignal, InFlight
from ._body import ACCEPT_ENCODING, decode_body
from ._compat import Compat, compat_for
from ._http import PathSpec, Transport
from ._retry import RetryPolicy
from ._secrets import redact
from .config import ClientConfig, ConnectionMode, check_header_text
from .errors import ClientClosedError, ResponseError, ServerError
from .middleware import VERSION_HEADER, HmacSigner, OwnOriginCredentials
from .resources._aliases import AccountAliases, AuthAliases, SessionAliases
from .resources._aliases import Events as _Events
from .resources._aliases import Streams as _Streams
from .resources._base import Alias, Namespace
from .timeouts import USE_DEFAULT, UseDefault
from .version import (
    ApiVersion,
    UnsupportedVersionError,
    features_for,
    manager_at_least,
    negotiate,
)

if TYPE_CHECKING:
    from ._login import LoginState
    from .resources.account import Account
    from .resources.agents import Agents, AgentSummaries
    from .resources.auth import Auth
    from .resources.cloud import Cloud
    from .resources.compute_sessions import ComputeSession
    from .resources.domains import Domains
    from .resources.edu_app import EduApp
    from .resources.enterprise import Enterprise
    from .resources.events import Events
    from .resources.groups import Groups
    from .resources.images import Images
    from .resources.keypairs import KeyPairs
    from .resources.maintenance import Maintenance
    from .resources.model_service import ModelService
    from .resources.policies import ResourcePolicies
    from .resources.presets import ResourcePresets
    from .resources.registry import Registry
    from .resources.scaling_groups import ScalingGroups
    from .resources.service import Service
    from .resources.session_templates import SessionTemplate
    from .resources.sessions import Sessions
    from .resources.settings import Setting
    from .resources.storage import StorageProxies
    from .resources.streams import Streams
    from .resources.usage import Resources
    from .resources.user_config import UserConfig
    from .resources.users import Users
    from .resources.utils import Utils
    from .resources.vfolders import VFolder
    from .types import ServerVersion

__all__ = ["Client", "ClientState"]

__version__ = "0.1.0"
T = TypeVar("T")
_log = logging.getLogger("backendai_async")
SESSION_ID_HEADER = "X-BackendAI-SessionID"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CLOSE_WAIT = 5.0  # seconds close() waits for aborted calls to unwind before closing anyway


def _graphql_path(compat: Compat) -> str:
    return compat.graphql_path


class ClientState(enum.Enum):
    """UNOPENED until the first call or ``open()``; CLOSED after ``close()``, for good."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class _ClientApi:
    """The narrow interface the namespaces use (``resources._base.Api``), for one client.

    ``send`` becomes the transport's own ``call`` after the first use, so a namespace call
    costs no extra frame.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self.config = client.config
        self.session_mode = client._session_mode
        self.query = client.query

    def send(self, method: str, path: PathSpec, **kwargs: Any) -> Any:
        transport = self._client._ready()
        self.__dict__["send"] = transport.call
        return transport.call(method, path, **kwargs)

    def scoped(self, work: Callable[[float | None], Awaitable[T]], **kwargs: Any) -> Awaitable[T]:
        return self._client._ready().scoped(work, **kwargs)

    def compat(self) -> Compat | None:
        """The negotiated version's table (None before negotiation)."""
        return self._client._compat

    def websocket(self, path: PathSpec, **kwargs: Any) -> Any:
        from ._websocket import open_websocket

        return open_websocket(self._client._ready(), path, **kwargs)

    def supports(self, feature: str) -> bool:
        return self._client.supports(feature)

    # -- SESSION-mode login state (for client.auth only) -----------------------------------

    @property
    def login_session_id(self) -> str | None:
        return self._client._login_session_id

    @login_session_id.setter
    def login_session_id(self, value: str | None) -> None:
        self._client._set_login_session_id(value)

    def export_cookies(self) -> dict[str, str]:
        client = self._client
        session = client._session
        if session is not None and not session.closed and client._owns_session:
            from ._login import jar_cookies

            return jar_cookies(session.cookie_jar, client.config.endpoint)
        return dict(client._pending_cookies)

    def import_cookies(self, cookies: Mapping[str, str]) -> None:
        """Adopt cookies (only into the client's own jar; a caller's session is left alone)."""
        client = self._client
        if not client._owns_session:
            return
        session = client._session
        if session is not None and not session.closed:
            from ._login import restore_cookies

            restore_cookies(session.cookie_jar, client.config.endpoint, cookies)
        else:
            client._pending_cookies = dict(cookies)


class Client(SessionAliases, AuthAliases, AccountAliases):
    """An asyncio Backend.AI client.

    ``Client(config, agent_signature)`` as in the JS SDK. Use it as ``async with Client(cfg)
    as client:`` (or call ``await client.close()``). Pass ``session=`` to use your own
    ``aiohttp.ClientSession`` (it is never closed by the client) and ``middlewares=`` for
    extra aiohttp client middlewares: they run outside the signer, which always signs the
    final request. In SESSION mode, ``login_state=`` restores a login saved with
    ``export_session()`` (no request is sent; see ``docs/modes.md``).
    """

    sessions: Namespace[Sessions] = Namespace(".sessions", "Sessions")
    auth: Namespace[Auth] = Namespace(".auth", "Auth")
    # -- administration objects (GraphQL-backed; docs/administration.md) --
    keypair: Namespace[KeyPairs] = Namespace(".keypairs", "KeyPairs")
    user: Namespace[Users] = Namespace(".users", "Users")
    group: Namespace[Groups] = Namespace(".groups", "Groups")
    domain: Namespace[Domains] = Namespace(".domains", "Domains")
    resource_policy: Namespace[ResourcePolicies] = Namespace(".policies", "ResourcePolicies")
    resource_preset: Namespace[ResourcePresets] = Namespace(".presets", "ResourcePresets")
    scaling_group: Namespace[ScalingGroups] = Namespace(".scaling_groups", "ScalingGroups")
    agent: Namespace[Agents] = Namespace(".agents", "Agents")
    agent_summary: Namespace[AgentSummaries] = Namespace(".agents", "AgentSummaries")
    storageproxy: Namespace[StorageProxies] = Namespace(".storage", "StorageProxies")
    image: Namespace[Images] = Namespace(".images", "Images")
    resources: Namespace[Resources] = Namespace(".usage", "Resources")
    # -- REST-side administration (docs/administration.md, from "Account calls") --
    account: Namespace[Account] = Namespace(".account", "Account")
    session_template: Namespace[SessionTemplate] = Namespace(
        ".session_templates", "SessionTemplate"
    )
    maintenance: Namespace[Maintenance] = Namespace(".maintenance", "Maintenance")
    registry: Namespace[Registry] = Namespace(".registry", "Registry")
    setting: Namespace[Setting] = Namespace(".settings", "Setting")
    service: Namespace[Service] = Namespace(".service", "Service")
    user_config: Namespace[UserConfig] = Namespace(".user_config", "UserConfig")
    enterprise: Namespace[Enterprise] = Namespace(".enterprise", "Enterprise")
    cloud: Namespace[Cloud] = Namespace(".cloud", "Cloud")
    edu_app: Namespace[EduApp] = Namespace(".edu_app", "EduApp")
    utils: Namespace[Utils] = Namespace(".utils", "Utils")
    model_service: Namespace[ModelService] = Namespace(".model_service", "ModelService")
    # -- end of administration objects --
    compute_session: Namespace[ComputeSession] = Namespace(".compute_sessions", "ComputeSession")
    vfolder: Namespace[VFolder] = Namespace(".vfolders", "VFolder")
    events: Namespace[Events] = Namespace(".events", "Events")
    streams: Namespace[Streams] = Namespace(".streams", "Streams")
    session_events = Alias("events", _Events.session_events)
    stream_pty = Alias("streams", _Streams.stream_pty)
    stream_execute = Alias("streams", _Streams.stream_execute)
    stream_proxy = Alias("streams", _Streams.stream_proxy)

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
        if agent_signature is not None:
            check_header_text(agent_signature, "agent_signature")
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
        self._closing: asyncio.Future[None] | None = None
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
        self._login_session_id: str | None = None
        self._plain_headers: dict[str, str] = {}
        self._json_headers: dict[str, str] = {}
        self._pending_cookies: dict[str, str] = {}  # restored cookies, until the jar exists
        self._api = _ClientApi(self)
        self._rebuild_headers()
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
        """Abort every queued and in-flight call (they raise ``AbortError``), wait until they
        have let go, then close an owned session. Concurrent calls all return once closed."""
        if self._closing is None:
            if not self._in_flight:  # nothing to abort: close here, in the caller's task
                done = self._closing = asyncio.get_running_loop().create_future()
                try:
                    await self._close()
                finally:
                    # Also when the caller was cancelled part-way: aiohttp closes every
                    # connection before its first await (what is skipped is waiting for
                    # them to be lost). No task and no shield: close() costs ~1,000 fewer
                    # opcodes (bench cold).
                    done.set_result(None)
                return
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        was_open = self._state is ClientState.OPEN
        self._state = ClientState.CLOSED
        if self._transport is not None:
            self._transport.closed = True
        if self._in_flight.abort_all("the client was closed"):
            try:
                await asyncio.wait_for(self._in_flight.wait_empty(), _CLOSE_WAIT)
            except asyncio.TimeoutError:
                _log.debug(
                    "close(): %d calls still unwinding; closing anyway", len(self._in_flight)
                )
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
            f"Client(endpoint={self._config.endpoint_shown!r}, "
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
        else:  # SESSION mode: the login cookie goes to the webserver only
            middlewares = (*middlewares, OwnOriginCredentials(cfg.endpoint))
        per_request: tuple[aiohttp.ClientMiddlewareType, ...] | None = None
        if self._session is None:
            if cfg.ssl is False:
                _log.warning("TLS certificate verification is OFF for %s", cfg.endpoint_shown)
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
                timeout=cfg.timeouts.to_aiohttp(None),
            )
            if self._pending_cookies:
                from ._login import restore_cookies

                restore_cookies(jar, cfg.endpoint, self._pending_cookies)
                self._pending_cookies = {}
        else:
            if self._session.closed:
                raise ClientClosedError("the aiohttp.ClientSession given to Client is closed")
            # Per-request middlewares replace the session's: keep its own, then ours.
            own = tuple(getattr(self._session, "_middlewares", ()) or ())
            per_request = (*own, *middlewares)
        default_reader = decode_body
        if self._session_mode:
            from ._login import decode_session_body as default_reader
        transport = Transport(
            self._session,
            cfg.endpoint,
            cfg.timeouts,
            in_flight=self._in_flight,
            negotiate=self._negotiate,
            middlewares=per_request,
            proxy=cfg.proxy,
            max_response_size=cfg.max_response_size,
            limit=cfg.limit if self._owns_session else 0,
            path_prefix="/func" if self._session_mode else "",
            default_reader=default_reader,
        )
        transport.compat = self._compat
        self._transport = transport
        self._push_headers()
        self._state = ClientState.OPEN
        return transport

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
    ) -> ServerVersion:
        """``GET /`` (``GET /func/`` in SESSION mode), unauthenticated: ``{version, manager}``.

        Any other answer (a Web UI page, a proxy's error) is a ``ResponseError`` saying which
        mode or endpoint to use.
        """
        version: ServerVersion = await self._ready().call(
            "GET", "/", versioned=False, timeout=timeout, signal=signal, reader=self._read_version
        )
        return version

    async def _read_version(self, resp: aiohttp.ClientResponse, limit: int | None) -> ServerVersion:
        """The reader of ``GET /``: the version answer, or an error saying what was there."""
        return _version_answer(await decode_body(resp, limit), self._session_mode)

    async def get_manager_version(
        self,
        *,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        retry: int = 0,
    ) -> str:
        """Negotiate (once per client) and return the manager release, e.g. ``"23.09.10"``."""
        if self._state is ClientState.CLOSED:
            raise ClientClosedError("this Client is closed; create a new Client to make calls")
        if self._manager_version is None:
            transport = self._ready()
            policy = RetryPolicy.of(retry)
            await transport.scoped(
                lambda _deadline: self._negotiate(policy, signal),
                method="GET",
                path="/",
                timeout=timeout,
                signal=signal,
            )
        assert self._manager_version is not None
        return self._manager_version

    async def _negotiate(self, policy: RetryPolicy, signal: AbortSignal | None) -> Compat:
        """Ask the server's version once, under a lock (waits run inside the caller's call)."""
        compat = self._compat
        if compat is not None:
            return compat
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._compat is None:
                try:
                    info = await self._ready().call(
                        "GET",
                        "/",
                        versioned=False,
                        timeout=None,  # the calling call's deadline covers it
                        signal=signal,
                        retry=policy.retries,
                        reader=self._read_version,
                    )
                except ServerError as err:
                    if self._session_mode and err.status == 404:
                        err.message += (
                            " (the endpoint has no /func/: SESSION mode needs a Backend.AI "
                            "webserver; for a manager use API mode with an access/secret key)"
                        )
                    raise
                self._apply_server_version(info)
        assert self._compat is not None
        return self._compat

    def _apply_server_version(self, info: ServerVersion) -> None:
        version, manager = info["version"], info["manager"]
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
        if self._transport is not None:
            self._transport.compat = self._compat
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
        if not isinstance(version, str) and not version:
            raise ValueError("is_manager_version_compatible_with() needs at least one version")
        if self._manager_version is None:
            return False
        return manager_at_least(self._manager_version, version)

    # -- requests ------------------------------------------------------------------------

    def abort(self, reason: str | None = None) -> None:
        """Abort every call in flight on this client; each raises ``AbortError``."""
        self._in_flight.abort_all(reason or "aborted by client.abort()")

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
        body → ``None``. ``timeout`` is the whole call's deadline in seconds (negotiation,
        queueing, retries and waits included; ``None`` = no deadline). ``retry`` extra
        attempts (at most 10) happen only when safe (see ``docs/errors.md``). Raises a
        :class:`~backendai_async.ClientError` subclass.
        """
        method = method.upper() if isinstance(method, str) else method
        if method not in _METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}")
        policy = RetryPolicy.of(retry)
        if signal is not None and not isinstance(signal, AbortSignal):
            raise TypeError("signal must be an AbortSignal (AbortController().signal)")
        if json is not None and data is not None:
            raise ValueError("pass either json= or data=, not both")
        if not isinstance(path, str):
            raise ValueError(f"path must be a string starting with '/', got {path!r}")
        return await self._api.send(
            method,
            path,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=timeout,
            signal=signal,
            retry=policy,
        )

    async def query(
        self,
        q: str | Callable[[Compat], str],
        variables: Mapping[str, Any] | None = None,
        *,
        signal: AbortSignal | None = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        retry: int = 0,
        mutation: bool | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL query or mutation and return its ``data`` object.

        ``POST /admin/gql`` where the server has it, else ``/admin/graphql``. Errors in the
        answer (HTTP 200 with ``errors``, or 400 ``graphql-error``) raise
        :class:`~backendai_async.GraphQLError`. A query is retried only with ``retry=``; a
        mutation never. ``q`` may be a function of the negotiated :class:`Compat` (version-
        aware field lists); then it counts as a mutation unless ``mutation=False`` says
        otherwise (for a string, ``mutation`` is read from ``q``).
        """
        if isinstance(q, str):
            if not q.strip():
                raise ValueError("q must be a non-empty GraphQL document")
            if mutation is None:
                from ._graphql import is_mutation

                mutation = is_mutation(q)
        elif not callable(q):
            raise TypeError(f"q must be a GraphQL document string, got {type(q).__name__}")
        elif mutation is None:
            mutation = True  # unknown until negotiated: never retry it
        if variables is not None and not isinstance(variables, Mapping):
            raise TypeError(f"variables must be a mapping, got {type(variables).__name__}")
        if mutation and retry:
            raise ValueError(
                "a GraphQL mutation is never retried: pass retry=0 (a document given as a "
                "function needs mutation=False to be retried)"
            )
        policy = RetryPolicy(RetryPolicy.of(retry).retries, idempotent=not mutation)
        shown = dict(variables) if variables is not None else None
        try:
            json.dumps(shown)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"variables must be JSON values (str, number, list, dict): {exc}"
            ) from None
        from ._graphql import graphql_reader

        body: Any
        if isinstance(q, str):
            body = {"query": q, "variables": shown}
        else:
            text_of = q
            body = lambda compat: {"query": text_of(compat), "variables": shown}  # noqa: E731
        result: dict[str, Any] = await self._api.send(
            "POST",
            _graphql_path,
            json=body,
            timeout=timeout,
            signal=signal,
            retry=policy,
            reader=graphql_reader(self._session_mode),
            parameters={"variables": shown},
        )
        return result

    def _set_login_session_id(self, session_id: str | None) -> None:
        """Send ``X-BackendAI-SessionID`` on every call (SESSION mode without cookies)."""
        self._login_session_id = session_id
        self._rebuild_headers()

    def _rebuild_headers(self) -> None:
        """Precompute the header dicts once per (version, login session), not per call."""
        plain = {"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        if self._api_version is not None:
            plain[VERSION_HEADER] = self._api_version
        if self._login_session_id:
            plain[SESSION_ID_HEADER] = self._login_session_id
        self._plain_headers = plain
        self._json_headers = {**plain, "Content-Type": "application/json"}
        self._push_headers()

    def _push_headers(self) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.plain_headers = self._plain_headers
        transport.json_headers = self._json_headers
        transport.probe_headers = {
            "User-Agent": self.user_agent,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        cfg = self._config
        transport.known_secrets = tuple(
            filter(None, (cfg.secret_key, cfg.password, self._login_session_id, *cfg.url_secrets))
        )


def _version_answer(info: Any, session_mode: bool) -> ServerVersion:
    """``info`` if it is the ``{version, manager}`` answer, else a ``ResponseError``."""
    if (
        isinstance(info, dict)
        and isinstance(info.get("version"), str)
        and isinstance(info.get("manager"), str)
    ):
        return cast("ServerVersion", info)
    raise ResponseError(_not_a_version_answer(info, session_mode), body=info)


def _not_a_version_answer(info: Any, session_mode: bool) -> str:
    """Why ``GET /`` did not give a version, and which mode or endpoint the user wants."""
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else info
    if isinstance(text, str) and "<html" in text[:2000].lower():
        if session_mode:
            return (
                "the endpoint answered GET /func/ with an HTML page, not Backend.AI's version "
                "JSON: is this the webserver's address behind a proxy that rewrites /func?"
            )
        return (
            "the endpoint answered GET / with an HTML page, not the manager's version JSON: "
            "this looks like a Backend.AI webserver (Web UI). Use "
            "ClientConfig(user_id, password, endpoint, 'SESSION') for a webserver, or point "
            "API mode at the manager's address"
        )
    shown = redact(repr(info)[:120])
    return f"the server's version answer is not {{'version', 'manager'}}: {shown}"

"""A fake Backend.AI manager on loopback: real HTTP, real signature checks, recorded requests.

Tests of the SDK talk to it over a socket and then assert on what it received, so the wire
format is what gets tested. Middlewares run in the real manager's order (URL match and API
version, then date, Authorization, access key, version presence, signature), with request
recording and fault injection wrapped around them.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Literal, Protocol, cast

import yarl
from aiohttp import web
from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy

from ._faults import Fault, apply_fault, pick_fault
from ._logging import server_logger
from ._verify import (
    FIRST_BODYLESS_VERSION,
    PROBLEM_BASE,
    accepted_versions,
    verify_signature,
)

__all__ = [
    "EXAMPLE_KEYPAIRS",
    "STATE_KEY",
    "BackendAITestServer",
    "Keypair",
    "RecordedRequest",
    "RouteInstaller",
    "ServerState",
    "build_app",
    "problem_response",
]

Role = Literal["superadmin", "admin", "user"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RouteInstaller = Callable[[web.Application, "ServerState"], None]


class Companion(Protocol):
    """A server with its own port that a route module adds (``state.companions``)."""

    async def start(self, host: str, ssl_context: ssl.SSLContext | None = None) -> None: ...

    async def close(self) -> None: ...


GraphQLResolver = Callable[[Mapping[str, Any] | None, "Keypair"], Any]
"""An old-style GraphQL resolver; new code registers ``testing.GraphQLField``s."""

EXAMPLE_KEYPAIRS: Mapping[str, str] = {
    "AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIANABBDUSEREXAMPLE": "C8qnIo29EZvXkPK_MXcuAakYTy4NYrxwmCEyNPlf",
}
DEFAULT_GROUP_ID = "0b7c1f2e-4a55-4c3e-9d7a-1a2b3c4d5e10"
RECORD_BODY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Keypair:
    """An access/secret key pair and the role of its owner."""

    access_key: str
    secret_key: str = field(repr=False)
    role: Role = "user"

    @property
    def is_superadmin(self) -> bool:
        return self.role == "superadmin"

    @property
    def is_admin(self) -> bool:
        return self.role in ("superadmin", "admin")


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received, recorded before faults and handlers ran.

    ``body`` holds at most the first MiB (``body_size`` is the full length); ``access_key``
    is set only from a verified signature; ``auth_ok`` is None on unauthenticated routes.
    ``status`` is the answer's status once sent (None while pending or if the connection was
    cut); ``fault`` is the fault applied, if any. Records are replaced, not mutated, as the
    request progresses: re-read ``server.requests`` to see the latest.
    """

    method: str
    path: str
    raw_path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    body_size: int
    json: Any
    access_key: str | None = None
    auth_ok: bool | None = None
    status: int | None = None
    fault: Fault | None = None


@dataclass
class _RequestContext:
    """Per-request bookkeeping of the middlewares."""

    record: RecordedRequest
    keypair: Keypair | None = None
    cut: bool = False  # the connection was closed by a fault
    faulted: bool = False  # a fault wrote the answer


def _request_key(name: str) -> Any:
    """A ``web.RequestKey`` where aiohttp has them (3.13+; plain keys warn there), else a str."""
    factory = getattr(web, "RequestKey", None)
    return name if factory is None else factory(name, _RequestContext)


_CTX = _request_key("backendai_testing.ctx")


def _ctx(request: web.BaseRequest) -> _RequestContext | None:
    ctx: _RequestContext | None = request.get(_CTX)
    return ctx


def _selects(record: RecordedRequest, method: str | None, path: str | None) -> bool:
    return (method is None or record.method == method.upper()) and (
        path is None or record.path == path
    )


def _parse_json(content_type: str, body: bytes) -> Any:
    if not body or not (content_type == "application/json" or content_type.endswith("+json")):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class ServerState:
    """All mutable state of one fake manager, shared by its middlewares and route modules.

    Route modules reach it from a handler with ``request.app[STATE_KEY]``.
    """

    def __init__(
        self,
        api_version: str,
        manager_version: str,
        keypairs: Iterable[Keypair],
    ) -> None:
        self.api_version = api_version
        self.manager_version = manager_version
        self.keypairs: dict[str, Keypair] = {kp.access_key: kp for kp in keypairs}
        if not self.keypairs:
            raise ValueError("at least one keypair is required")
        self.clock_offset = 0.0
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.closing = asyncio.Event()
        self.groups: set[str] = {DEFAULT_GROUP_ID}
        self.public_handlers: set[Handler] = set()
        self.streaming_handlers: set[Handler] = set()
        self.graphql_fields: dict[str, Any] = {}
        """Root field name -> ``GraphQLField`` (or an old-style ``GraphQLResolver``)."""
        self.extras: dict[str, Any] = {}
        """Free space for route modules' own state."""
        self.companions: list[Companion] = []
        """Servers of their own that start and close with this one (the storage proxy)."""
        self._arrival = asyncio.Event()
        self._incomplete: list[RecordedRequest] = []  # recorded, body still being read

    def begin_record(self, record: RecordedRequest) -> None:
        """Add a record as soon as a request arrives (its body may follow)."""
        self.requests.append(record)
        self._incomplete.append(record)

    def end_record(self, record: RecordedRequest) -> None:
        """The record (as first added) is complete: wake :meth:`wait_for_request` callers."""
        self._incomplete = [r for r in self._incomplete if r is not record]
        self._arrival.set()
        self._arrival = asyncio.Event()

    async def wait_for_request(
        self, method: str | None, path: str | None, count: int
    ) -> RecordedRequest:
        """The ``count``-th recorded request matching method/path, once it has arrived."""
        while True:
            arrival = self._arrival
            found = [
                r
                for r in self.requests
                if _selects(r, method, path) and not any(r is i for i in self._incomplete)
            ]
            if len(found) >= count:
                return found[count - 1]
            await arrival.wait()

    def now(self) -> datetime:
        """The server's clock, skewed by ``clock_offset`` seconds."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)

    def public(self, handler: Handler) -> Handler:
        """Mark a route handler as not needing a signature; returns it (decorator-friendly)."""
        self.public_handlers.add(handler)
        return handler

    def streaming(self, handler: Handler) -> Handler:
        """Mark a handler that reads the body itself; it should call :meth:`record_chunk`.

        Under a v3 version header the body is hashed into the signature, so (as on the real
        manager) it is read before the handler runs: use ``await request.read()`` then.
        """
        self.streaming_handlers.add(handler)
        return handler

    def keypair_of(self, request: web.Request) -> Keypair | None:
        """The keypair whose signature the request carried (None if unauthenticated)."""
        ctx = _ctx(request)
        return ctx.keypair if ctx else None

    def update_record(self, request: web.Request, **changes: Any) -> None:
        """Replace the request's record with a copy carrying ``changes``."""
        ctx = _ctx(request)
        if ctx is None:
            return
        old = ctx.record
        new = ctx.record = replace(old, **changes)
        for i in range(len(self.requests) - 1, -1, -1):
            if self.requests[i] is old:
                self.requests[i] = new
                break

    def record_chunk(self, request: web.Request, chunk: bytes) -> None:
        """Account for body bytes a streaming handler read (keeps the first MiB)."""
        ctx = _ctx(request)
        if ctx is None:
            return
        old = ctx.record
        room = max(RECORD_BODY_LIMIT - len(old.body), 0)
        self.update_record(
            request, body=old.body + chunk[:room], body_size=old.body_size + len(chunk)
        )


STATE_KEY = web.AppKey("backendai_testing.state", ServerState)


def problem_response(
    status: int,
    kind: str,
    title: str,
    msg: str | None = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An RFC 7807 answer shaped like the manager's (``kind`` is the suffix after /probs/)."""
    body: dict[str, Any] = {"type": kind if "://" in kind else PROBLEM_BASE + kind, "title": title}
    if msg is not None:
        body["msg"] = msg
    if data is not None:
        body["data"] = data
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/problem+json",
        charset="utf-8",
        headers=headers,
    )


def _invalid_params(data: Any, msg: str = "Input validation error") -> web.Response:
    return problem_response(
        400, "invalid-api-params", "Missing or invalid API parameters.", msg, data
    )


# --- middlewares, outermost first -------------------------------------------------------


@web.middleware
async def _record_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record the request (body up to 1 MiB) before anything can reject or break it."""
    state = request.app[STATE_KEY]
    record = RecordedRequest(
        method=request.method,
        path=request.path,
        raw_path=request.raw_path,
        query=MultiDictProxy(MultiDict(request.query)),
        headers=request.headers,
        body=b"",
        body_size=0,
        json=None,
    )
    ctx = request[_CTX] = _RequestContext(record)
    state.begin_record(record)  # first, so a request whose upload breaks is still seen
    try:
        if request.body_exists and request.match_info.handler not in state.streaming_handlers:
            body = await request.read()
            state.update_record(
                request,
                body=body[:RECORD_BODY_LIMIT],
                body_size=len(body),
                json=_parse_json(request.content_type, body),
            )
    finally:
        state.end_record(record)
    try:
        resp = await handler(request)
    except web.HTTPException as e:
        state.update_record(request, status=e.status)
        raise
    state.update_record(request, status=None if ctx.cut else resp.status)
    return resp


async def _run_fault(
    request: web.Request, handler: Handler, before_auth: bool
) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    fault = pick_fault(state.faults, request.method, request.path, before_auth=before_auth)
    if fault is None:
        return await handler(request)
    state.update_record(request, fault=fault)
    ctx = _ctx(request)
    assert ctx is not None
    ctx.faulted = fault.replaces_response
    resp = await apply_fault(fault, request, state.closing)
    transport = request.transport
    ctx.cut = transport is None or transport.is_closing()
    if resp is None:
        resp = await handler(request)
        if fault.headers and not resp.prepared:
            resp.headers.update(fault.headers)
    return resp


@web.middleware
async def _fault_before_auth_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Faults that apply to any route, even unknown ones, before any check."""
    return await _run_fault(request, handler, True)


@web.middleware
async def _fault_after_auth_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Faults with ``before_auth=False``: only requests that passed all checks see them."""
    return await _run_fault(request, handler, False)


@web.middleware
async def _version_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """URL matching first, then the version header on every request that carries one."""
    state = request.app[STATE_KEY]
    http_exc = request.match_info.http_exception
    if isinstance(http_exc, web.HTTPMethodNotAllowed):
        allow = ",".join(sorted(http_exc.allowed_methods))
        return problem_response(
            405, "method-not-allowed", "HTTP Method Not Allowed.", headers={"Allow": allow}
        )
    if http_exc is not None:
        return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
    version = request.headers.get("X-BackendAI-Version") or request.headers.get("X-Sorna-Version")
    if version is not None and version not in accepted_versions(state.api_version):
        return problem_response(
            400, "generic-bad-request", "Bad request.", "Unsupported API version."
        )
    return await handler(request)


@web.middleware
async def _auth_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Signature check for every route not marked public."""
    state = request.app[STATE_KEY]
    if request.match_info.handler in state.public_handlers:
        return await handler(request)
    version = request.headers.get("X-BackendAI-Version") or request.headers.get("X-Sorna-Version")
    body = b""
    if (
        version is not None
        and version < FIRST_BODYLESS_VERSION
        and request.body_exists
        and request.content_type != "multipart/form-data"
    ):
        body = await request.read()  # v3 hashes the body, even on streaming routes
    result = verify_signature(
        request.method,
        request.raw_path,
        request.headers,
        body,
        request.host,
        request.content_type,
        {ak: kp.secret_key for ak, kp in state.keypairs.items()},
        state.now(),
    )
    if not result.ok:
        state.update_record(request, auth_ok=False)
        return problem_response(
            result.status, result.problem_type or "", result.title or "", result.msg
        )
    assert result.access_key is not None
    ctx = _ctx(request)
    assert ctx is not None
    ctx.keypair = state.keypairs[result.access_key]
    state.update_record(request, auth_ok=True, access_key=result.access_key)
    return await handler(request)


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Like the manager, except on answers a fault made up (a proxy's page is not ours)."""
    ctx = _ctx(request)
    if ctx is None or not ctx.faulted:
        response.headers["Server"] = "BackendAI"


# --- routes -----------------------------------------------------------------------------


async def _params(request: web.Request) -> Any:
    """Request parameters the way the manager reads them: JSON body if any, else the query."""
    if not request.body_exists:
        return dict(request.query)
    return json.loads(await request.read())


def _unknown_keys(params: dict[str, Any], allowed: set[str]) -> dict[str, str]:
    """Errors for keys the manager's validator does not allow, worded like it."""
    return {k: f"{k} is not allowed key" for k in params if k not in allowed}


async def _hello(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    return web.json_response({"version": state.api_version, "manager": state.manager_version})


async def _auth_test(request: web.Request) -> web.StreamResponse:
    try:
        params = await _params(request)
    except ValueError:
        return _invalid_params(None, "Malformed body")
    if not isinstance(params, dict):
        return _invalid_params("value is not a dict")
    errors: dict[str, Any] = {}
    if "echo" not in params:
        errors["echo"] = "is required"
    elif not isinstance(params["echo"], str):
        errors["echo"] = "value is not a string"
    errors.update(_unknown_keys(params, {"echo"}))
    if errors:
        return _invalid_params(errors)
    return web.json_response({"authorized": "yes", "echo": params["echo"]})


async def _auth_role(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    kp = state.keypair_of(request)
    assert kp is not None
    group = request.query.get("group")
    group_role = None
    if group is not None:
        try:
            group_id = str(uuid.UUID(group))
        except ValueError:
            errors = {"0": "value should be None", "1": "cannot convert value to UUID"}
            return _invalid_params({"group": errors})
        if group_id not in state.groups:
            return problem_response(
                404,
                "object-not-found",
                "No such project (user group).",
                "No such project or you are not the member of it.",
            )
        group_role = "user"
    return web.json_response(
        {
            "global_role": "superadmin" if kp.is_superadmin else "user",
            "domain_role": "admin" if kp.is_admin else "user",
            "group_role": group_role,
        }
    )


async def _test_echo(request: web.Request) -> web.StreamResponse:
    """Reflects what the server saw, for signing tests with odd paths and queries."""
    state = request.app[STATE_KEY]
    kp = state.keypair_of(request)
    ctx = _ctx(request)
    assert ctx is not None
    record = ctx.record
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path,
            "query": [[k, v] for k, v in request.query.items()],
            "json": record.json,
            "content_type": request.content_type,
            "host": request.host,
            "access_key": kp.access_key if kp else None,
            "body_size": record.body_size,
        }
    )


def _install_core_routes(app: web.Application, state: ServerState) -> None:
    router = app.router
    router.add_route("GET", "/", state.public(_hello))
    for path in ("/auth", "/auth/test"):
        router.add_route("GET", path, _auth_test)
        router.add_route("POST", path, _auth_test)
    router.add_route("GET", "/auth/role", _auth_role)
    router.add_route("*", "/_test/echo/{tail:.*}", _test_echo)


def build_app(state: ServerState, extra_routes: Sequence[RouteInstaller] = ()) -> web.Application:
    """The fake manager's application; ``extra_routes`` add route modules before start.

    The compute-session routes are always installed, as on a real manager.
    """
    # these import this module: import lazily
    from ._accounts import register_account_routes
    from ._admin_domains import register_domain_fields
    from ._admin_groups import register_group_fields
    from ._admin_images import register_image_fields
    from ._admin_keypairs import register_keypair_fields
    from ._admin_policies import register_policy_fields
    from ._admin_presets import register_preset_routes
    from ._admin_scaling_groups import register_scaling_group_routes
    from ._admin_storage import register_storage_routes
    from ._admin_usage import register_usage_routes
    from ._agents import register_agent_fields
    from ._announcements import register_announcement_routes
    from ._etcd import register_etcd_routes
    from ._events import register_event_routes
    from ._gql_sessions import register_session_fields
    from ._graphql import register_graphql_routes
    from ._maintenance import register_maintenance_routes
    from ._plugins import register_plugin_routes
    from ._services import register_service_routes
    from ._session_commit import register_commit_routes
    from ._sessions import register_session_routes
    from ._ssh_keypairs import register_ssh_keypair_routes
    from ._streams import register_stream_routes
    from ._templates import register_template_routes
    from ._user_config import register_user_config_routes
    from ._users import register_user_fields
    from ._vfolders import register_vfolder_routes

    app = web.Application(
        middlewares=[
            _record_mw,
            _fault_before_auth_mw,
            _version_mw,
            _auth_mw,
            _fault_after_auth_mw,
        ],
        client_max_size=256 * 1024 * 1024,
    )
    app[STATE_KEY] = state
    app.on_response_prepare.append(_on_prepare)
    _install_core_routes(app, state)
    builtin: tuple[RouteInstaller, ...] = (
        register_graphql_routes,
        register_agent_fields,
        register_user_fields,
        register_session_routes,
        register_session_fields,  # after the session routes: it reads their store
        register_commit_routes,
        # administration objects (docs/administration.md)
        register_keypair_fields,
        register_group_fields,
        register_domain_fields,
        register_policy_fields,
        register_preset_routes,
        register_scaling_group_routes,
        register_storage_routes,
        register_image_fields,
        register_etcd_routes,
        register_usage_routes,
        # REST-side administration (docs/administration.md, from "Account calls")
        register_announcement_routes,
        register_user_config_routes,
        register_template_routes,
        register_ssh_keypair_routes,
        register_maintenance_routes,
        register_service_routes,
        register_plugin_routes,
        register_account_routes,
        register_vfolder_routes,
        register_event_routes,
        register_stream_routes,
    )
    for install in builtin:
        install(app, state)
    for install in extra_routes:
        if install not in builtin:
            install(app, state)
    return app


# --- the server -------------------------------------------------------------------------


async def serve(
    app: web.Application, host: str, port: int = 0, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, yarl.URL]:
    """Serve ``app`` on ``host:port`` (0: an ephemeral port); its runner and its URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, logger=server_logger())
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    scheme = "https" if ssl_context is not None else "http"
    return runner, yarl.URL.build(scheme=scheme, host=host, port=runner.addresses[0][1])


def _keypairs(
    given: Mapping[str, str] | Mapping[str, tuple[str, str]] | None,
) -> list[Keypair]:
    items: list[tuple[str, str | tuple[str, str]]] = list(
        (given if given is not None else EXAMPLE_KEYPAIRS).items()
    )
    result = []
    for i, (access_key, value) in enumerate(items):
        if isinstance(value, tuple):
            secret, role = value
            if role not in ("superadmin", "admin", "user"):
                raise ValueError(f"unknown role {role!r}")
            result.append(Keypair(access_key, secret, cast(Role, role)))
        else:
            result.append(Keypair(access_key, value, "superadmin" if i == 0 else "user"))
    return result


class BackendAITestServer:
    """A fake Backend.AI manager on an ephemeral loopback port.

    Use ``async with BackendAITestServer() as server:`` (or ``await start()`` /
    ``await close()``). Keypairs given as access -> secret get the role superadmin for the
    first and user for the rest; access -> (secret, role) sets roles explicitly. Closing
    ends stalls at once, so teardown takes well under a second.
    """

    def __init__(
        self,
        api_version: str = "v6.20230315",
        manager_version: str = "23.09.10",
        keypairs: Mapping[str, str] | Mapping[str, tuple[str, str]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_routes: Sequence[RouteInstaller] = (),
    ) -> None:
        self.state = ServerState(api_version, manager_version, _keypairs(keypairs))
        self.app = build_app(self.state, extra_routes)
        self._ssl_context = ssl_context
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._endpoint: yarl.URL | None = None

    # lifecycle

    async def start(self) -> BackendAITestServer:
        """Bind and serve; returns self."""
        if self._runner is not None or self.state.closing.is_set():
            raise RuntimeError("a server starts once; make a new one to serve again")
        self._runner, self._endpoint = await serve(
            self.app, self._host, self._port, self._ssl_context
        )
        try:
            for companion in self.state.companions:
                await companion.start(self._host, self._ssl_context)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Stop serving; stalled handlers are released first. Safe to call twice."""
        self.state.closing.set()
        runner, self._runner = self._runner, None
        for companion in self.state.companions:
            await companion.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BackendAITestServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # views on the state

    @property
    def endpoint(self) -> yarl.URL:
        """``http(s)://host:port`` of the running server."""
        if self._endpoint is None:
            raise RuntimeError("server not started")
        return self._endpoint

    def url(self, path_and_query: str) -> yarl.URL:
        """Absolute URL for a path (with optional query), kept encoded as given."""
        return self.endpoint.join(yarl.URL(path_and_query, encoded=True))

    @property
    def access_key(self) -> str:
        return next(iter(self.state.keypairs.values())).access_key

    @property
    def secret_key(self) -> str:
        return next(iter(self.state.keypairs.values())).secret_key

    @property
    def api_version(self) -> str:
        return self.state.api_version

    @api_version.setter
    def api_version(self, value: str) -> None:
        self.state.api_version = value

    @property
    def manager_version(self) -> str:
        return self.state.manager_version

    @manager_version.setter
    def manager_version(self, value: str) -> None:
        self.state.manager_version = value

    @property
    def clock_offset(self) -> float:
        return self.state.clock_offset

    @clock_offset.setter
    def clock_offset(self, value: float) -> None:
        self.state.clock_offset = value

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    @property
    def faults(self) -> list[Fault]:
        return self.state.faults

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Recorded requests matching method (any if None) and URL path (any if None)."""
        return sum(1 for r in self.state.requests if _selects(r, method, path))

    async def wait_for_request(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """Wait until the ``count``-th matching request has arrived and return its record.

        Arrival means recorded: faults and handlers run right after, so a test can use this
        to know that a request reached a stall without sleeping.
        """
        return await asyncio.wait_for(self.state.wait_for_request(method, path, count), timeout)

    def clear(self) -> None:
        """Forget recorded requests and faults."""
        self.state.requests.clear()
        self.state.faults.clear()

    def add_fault(self, fault: Fault) -> Fault:
        """Install a fault (applied in insertion order); returns it for later inspection."""
        self.state.faults.append(fault)
        return fault

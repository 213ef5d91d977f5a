"""A fake Backend.AI webserver on loopback, in front of the fake manager.

It behaves like the real one (``ai.backend.web``, 23.09): users log in with an e-mail and a
password at ``/server/login`` and get a cookie session (``AIOHTTP_SESSION``; the header
``X-BackendAI-SessionID`` works instead), ``/func/*`` is forwarded to the manager signed with
the logged-in user's keypair, failed logins are counted per user and blocked with 429.
Tests can expire logins, move the clock, stall routes and read every recorded request.
It shares no code with the SDK: the forwarding signer below is its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Literal

import aiohttp
import yarl
from aiohttp import web
from multidict import CIMultiDictProxy

from ._logging import server_logger
from ._manager import EXAMPLE_KEYPAIRS, BackendAITestServer

__all__ = [
    "EXAMPLE_WEB_USERS",
    "BackendAITestWebserver",
    "WebRecordedRequest",
    "WebUser",
]

PROBS = "https://api.backend.ai/probs/"
COOKIE_NAME = "AIOHTTP_SESSION"
SESSION_HEADER = "X-BackendAI-SessionID"
WEB_UI_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="UTF-8"><title>Backend.AI</title>'
    '</head><body><div id="react-root">Backend.AI Web UI</div></body></html>'
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "upgrade"}
)
_FIRST_BODYLESS_VERSION = "v4.20181215"


@dataclass(frozen=True)
class WebUser:
    """A webserver account: credentials, the keypair its login maps to, role and 2FA.

    ``two_factor`` makes logins fail until the step is done: ``"authentication"`` needs
    ``otp`` in the login body; ``"registration"`` always answers "register first" with a
    registration token. ``token`` is accepted by ``/server/token-login``.
    """

    email: str
    password: str = field(repr=False)
    access_key: str
    secret_key: str = field(repr=False)
    role: str = "user"
    status: str = "active"
    two_factor: Literal["authentication", "registration"] | None = None
    otp: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


_ADMIN_AK, _USER_AK = list(EXAMPLE_KEYPAIRS)[:2]
_ADMIN_SK, _USER_SK = EXAMPLE_KEYPAIRS[_ADMIN_AK], EXAMPLE_KEYPAIRS[_USER_AK]

EXAMPLE_WEB_USERS: tuple[WebUser, ...] = (
    WebUser("admin@lablup.com", _ADMIN_SK, _ADMIN_AK, _ADMIN_SK, "superadmin"),
    WebUser("user@lablup.com", _USER_SK, _USER_AK, _USER_SK, "user", token="user-example-stoken"),
    WebUser("monitor@lablup.com", "monitor-example-pw", _USER_AK, _USER_SK, "monitor"),
    WebUser(
        "otp@lablup.com",
        "otp-example-pw",
        _USER_AK,
        _USER_SK,
        two_factor="authentication",
        otp="123456",
    ),
    WebUser(
        "totp-new@lablup.com", "totp-example-pw", _USER_AK, _USER_SK, two_factor="registration"
    ),
)
"""The harness's two accounts (password = secret key) plus a monitor and two 2FA users."""


@dataclass(frozen=True)
class WebRecordedRequest:
    """What the webserver received; ``session_id`` is the session key the request named
    (header first, then cookie), ``status`` the answer's status once sent."""

    method: str
    path: str
    raw_path: str
    headers: CIMultiDictProxy[str]
    cookies: Mapping[str, str]
    body: bytes
    json: Any
    session_id: str | None
    status: int | None = None


@dataclass
class _Session:
    data: dict[str, Any]
    created: float


@dataclass
class _RequestSession:
    """The session a request loaded: its key (None = new) and data; saved if changed."""

    key: str | None
    data: dict[str, Any]
    changed: bool = False


def _request_key(name: str) -> Any:
    """A ``web.RequestKey`` where aiohttp has them (plain str keys warn there), else a str."""
    factory = getattr(web, "RequestKey", None)
    return name if factory is None else factory(name, _RequestSession)


_SESSION = _request_key("backendai_testing.web_session")


def _session(request: web.Request) -> _RequestSession:
    found: _RequestSession = request[_SESSION]
    return found


def _problem(
    status: int, kind: str, title: str, extra: Mapping[str, Any] | None = None
) -> web.Response:
    body = {"type": PROBS + kind, "title": title, **(extra or {})}
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json"
    )


def _sign(
    method: str,
    raw_path_qs: str,
    host: str,
    content_type: str,
    version: str,
    body: bytes,
    access_key: str,
    secret_key: str,
    now: datetime,
) -> tuple[str, str]:
    """(date header, Authorization header) for a manager request: the webserver's own signer."""
    date = now.isoformat()
    hashed = body if version < _FIRST_BODYLESS_VERSION else b""
    text = "\n".join(
        (
            method,
            raw_path_qs,
            date,
            f"host:{host}",
            f"content-type:{content_type}",
            f"x-backendai-version:{version}",
            hashlib.sha256(hashed).hexdigest(),
        )
    )
    day_key = hmac.new(secret_key.encode(), now.strftime("%Y%m%d").encode(), "sha256").digest()
    host_key = hmac.new(day_key, host.encode(), "sha256").digest()
    signature = hmac.new(host_key, text.encode(), "sha256").hexdigest()
    return date, f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{signature}"


class BackendAITestWebserver:
    """A fake webserver on an ephemeral loopback port, forwarding ``/func/*`` to a manager.

    ``async with BackendAITestWebserver(manager=server) as webserver:``; without ``manager``
    it starts (and later closes) its own ``BackendAITestServer``. ``users`` defaults to
    :data:`EXAMPLE_WEB_USERS`. Settings mirror the real webserver's config: ``max_age``
    (seconds a login lives), ``login_allowed_fail_count`` and ``login_block_time``.
    ``unauthenticated_status`` chooses how ``/func/*`` answers without a login: 401 (23.09)
    or 200 with the manager's 401 wrapped in GraphQL ``errors`` (newer servers).
    ``refused_login_status`` is the HTTP status of a login refused for its credentials (the
    body is ``{"authenticated": false, "data": {problem}}`` either way): 200 on 23.09, the
    manager's 401 on 26.x. ``logout_status`` is 201 (23.09) or 200 (26.x), with an empty body.
    """

    def __init__(
        self,
        manager: BackendAITestServer | None = None,
        users: Iterable[WebUser] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        max_age: float = 604800,
        login_allowed_fail_count: int = 10,
        login_block_time: float = 1200,
        unauthenticated_status: Literal[401, 200] = 401,
        refused_login_status: Literal[200, 401] = 200,
        logout_status: Literal[201, 200] = 201,
        auth_token_name: str = "sToken",
    ) -> None:
        if unauthenticated_status not in (401, 200):
            raise ValueError("unauthenticated_status must be 401 or 200")
        if refused_login_status not in (200, 401):
            raise ValueError("refused_login_status must be 200 or 401")
        if logout_status not in (201, 200):
            raise ValueError("logout_status must be 201 or 200")
        self.manager = manager if manager is not None else BackendAITestServer()
        self._owns_manager = manager is None
        self.users: dict[str, WebUser] = {
            u.email: u for u in (users if users is not None else EXAMPLE_WEB_USERS)
        }
        self.max_age = max_age
        self.login_allowed_fail_count = login_allowed_fail_count
        self.login_block_time = login_block_time
        self.unauthenticated_status = unauthenticated_status
        self.refused_login_status = refused_login_status
        self.logout_status = logout_status
        self.auth_token_name = auth_token_name
        self.clock_offset = 0.0
        """Seconds added to the clock (expire logins or end a login block without sleeping)."""
        self.sessions: dict[str, _Session] = {}
        self.login_history: dict[str, tuple[float, int]] = {}
        """e-mail -> (last attempt, consecutive failures), as the real one keeps in Redis."""
        self.requests: list[WebRecordedRequest] = []
        self._stalled: set[str] = set()
        self._release = asyncio.Event()
        self._arrival = asyncio.Event()
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._endpoint: yarl.URL | None = None
        self.app = self._build_app()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> BackendAITestWebserver:
        """Start the manager (if owned), then bind and serve; returns self."""
        if self._runner is not None:
            raise RuntimeError("webserver already started")
        if self._owns_manager:
            await self.manager.start()
        self._http = aiohttp.ClientSession(
            # The manager is a loopback test server, possibly with a self-signed certificate.
            connector=aiohttp.TCPConnector(ssl=False),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
        )
        runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=0.5, logger=server_logger()
        )
        try:
            await runner.setup()
            site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl_context)
            await site.start()
        except BaseException:
            await runner.cleanup()
            await self._close_backends()
            raise
        self._runner = runner
        scheme = "https" if self._ssl_context is not None else "http"
        port = runner.addresses[0][1]
        self._endpoint = yarl.URL.build(scheme=scheme, host=self._host, port=port)
        return self

    async def close(self) -> None:
        """Stop serving (stalled requests are released first). Safe to call twice."""
        self._release.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._close_backends()

    async def _close_backends(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()
        if self._owns_manager:
            await self.manager.close()

    async def __aenter__(self) -> BackendAITestWebserver:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- views and test controls -------------------------------------------------------

    @property
    def endpoint(self) -> yarl.URL:
        """``http(s)://127.0.0.1:port`` of the running webserver."""
        if self._endpoint is None:
            raise RuntimeError("webserver not started")
        return self._endpoint

    def now(self) -> float:
        """The webserver's clock (seconds since the epoch), moved by ``clock_offset``."""
        return time.time() + self.clock_offset

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Recorded requests matching method and path (None matches any)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        )

    def authenticated_sessions(self) -> list[str]:
        """Keys of the sessions that currently hold a live login."""
        return [
            key
            for key, s in self.sessions.items()
            if s.data.get("authenticated") and not self._expired(s)
        ]

    def expire_sessions(self) -> None:
        """Forget every login at once, as when the session store expires them."""
        self.sessions.clear()

    def expire_session(self, session_id: str) -> None:
        """Forget one login (unknown keys are ignored)."""
        self.sessions.pop(session_id, None)

    def reset_login_failures(self) -> None:
        """Forget failed-login counts (ends every 429 block)."""
        self.login_history.clear()

    def stall(self, path: str) -> None:
        """Hold requests to ``path`` (after recording them) until ``release()`` or close."""
        self._stalled.add(path)

    def release(self) -> None:
        """Let stalled requests continue, and stop stalling."""
        self._stalled.clear()
        self._release.set()
        self._release = asyncio.Event()

    async def wait_for_request(
        self, method: str | None = None, path: str | None = None, *, timeout: float = 5.0
    ) -> WebRecordedRequest:
        """The first matching request, once it has been recorded."""

        async def wait() -> WebRecordedRequest:
            while True:
                arrival = self._arrival
                for r in self.requests:
                    if (method is None or r.method == method.upper()) and (
                        path is None or r.path == path
                    ):
                        return r
                await arrival.wait()

        return await asyncio.wait_for(wait(), timeout)

    # -- the application ---------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_mw, self._session_mw])
        router = app.router
        router.add_route("POST", "/server/login", self._login)
        router.add_route("POST", "/server/token-login", self._token_login)
        router.add_route("POST", "/server/login-check", self._login_check)
        router.add_route("POST", "/server/logout", self._logout)
        router.add_route("GET", "/", self._web_ui)
        router.add_route("GET", "/func/", self._proxy_anonymous)
        router.add_route("*", "/func/{path:.*}", self._proxy)
        app.on_response_prepare.append(self._on_prepare)
        return app

    @staticmethod
    async def _web_ui(request: web.Request) -> web.StreamResponse:
        """The Web UI's page, as the real webserver serves it at ``/`` (an HTML document)."""
        return web.Response(text=WEB_UI_PAGE, content_type="text/html")

    @staticmethod
    async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.popall("Server", None)  # the real one hides it too

    def _expired(self, session: _Session) -> bool:
        return self.now() - session.created > self.max_age

    def _requested_key(self, request: web.Request) -> str | None:
        return request.headers.get(SESSION_HEADER) or request.cookies.get(COOKIE_NAME)

    @web.middleware
    async def _record_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read() if request.body_exists else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        record = WebRecordedRequest(
            method=request.method,
            path=request.path,
            raw_path=request.raw_path,
            headers=request.headers,
            cookies=dict(request.cookies),
            body=body,
            json=parsed,
            session_id=self._requested_key(request),
        )
        index = len(self.requests)
        self.requests.append(record)
        self._arrival.set()
        self._arrival = asyncio.Event()
        if request.path in self._stalled:
            await self._release.wait()
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            self._set_status(index, record, exc.status)
            raise
        self._set_status(index, record, resp.status)
        return resp

    def _set_status(self, index: int, record: WebRecordedRequest, status: int) -> None:
        if index < len(self.requests) and self.requests[index] is record:
            self.requests[index] = replace(record, status=status)

    @web.middleware
    async def _session_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Load the session (header, else cookie) and save it when a handler changed it."""
        key = self._requested_key(request)
        stored = self.sessions.get(key) if key else None
        if stored is not None and self._expired(stored):
            stored = None
        if stored is None or not stored.data:
            key, data = None, {}
        else:
            data = dict(stored.data)
        loaded = request[_SESSION] = _RequestSession(key, data)
        resp = await handler(request)
        if loaded.changed:
            self._save(resp, loaded.key, loaded.data)
        return resp

    def _save(self, resp: web.StreamResponse, key: str | None, data: dict[str, Any]) -> None:
        if key is None:
            key = uuid.uuid4().hex  # a new session announces its key, like the real one
            resp.headers[SESSION_HEADER] = key
            resp.set_cookie(COOKIE_NAME, key, max_age=int(self.max_age), httponly=True, path="/")
        elif not data:
            resp.del_cookie(COOKIE_NAME, path="/")
        else:
            resp.set_cookie(COOKIE_NAME, key, max_age=int(self.max_age), httponly=True, path="/")
        self.sessions[key] = _Session(dict(data), self.now())

    @staticmethod
    def _change(request: web.Request, **values: Any) -> None:
        loaded = _session(request)
        loaded.data.update(values)
        loaded.changed = True

    @staticmethod
    def _already_logged_in() -> web.Response:
        return _problem(400, "generic-bad-request", "You have already logged in.")

    @staticmethod
    def _public(user: WebUser) -> dict[str, Any]:
        return {"access_key": user.access_key, "role": user.role, "status": user.status}

    def _grant(self, request: web.Request, user: WebUser) -> web.Response:
        self._change(request, authenticated=True, email=user.email)
        return web.json_response({"authenticated": True, "data": self._public(user)})

    def _refuse(
        self, request: web.Request, problem: Mapping[str, Any], status: int = 200
    ) -> web.Response:
        self._change(request, authenticated=False)
        return web.json_response({"authenticated": False, "data": dict(problem)}, status=status)

    async def _login(self, request: web.Request) -> web.StreamResponse:
        if _session(request).data.get("authenticated"):
            return self._already_logged_in()
        try:
            creds = json.loads(await request.text())
        except ValueError:
            creds = {}
        if not isinstance(creds, dict):
            creds = {}
        for name in ("username", "password"):
            if not creds.get(name):
                return _problem(400, "invalid-api-params", f"You must provide the {name} field.")
        email = str(creds["username"])
        now = self.now()
        last, failures = self.login_history.get(email, (0.0, 0))
        if now - last > self.login_block_time:
            failures = 0
        if failures >= self.login_allowed_fail_count:
            self.login_history[email] = (now, failures)
            return _problem(429, "too-many-requests", "Too many failed login attempts")
        user = self.users.get(email)
        problem: dict[str, Any] | None = None
        if user is None or not hmac.compare_digest(user.password, str(creds["password"])):
            problem = {
                "type": PROBS + "auth-failed",
                "title": "Credential/signature mismatch.",
                "details": "User credential mismatch.",
            }
        elif user.two_factor == "registration":
            problem = {
                "type": PROBS + "require-totp-registration",
                "title": "TOTP registration required.",
                "details": "You must register a TOTP device before logging in.",
                "two_factor_registration_token": uuid.uuid4().hex,
            }
        elif user.two_factor == "authentication" and "otp" not in creds:
            problem = {
                "type": PROBS + "require-totp-authentication",
                "title": "TOTP authentication required.",
                "details": "You must authenticate using a one-time password.",
            }
        elif user.two_factor == "authentication" and str(creds["otp"]) != user.otp:
            problem = {
                "type": PROBS + "rejected-by-hook",
                "title": "Rejected by a hook.",
                "details": "Invalid TOTP code provided",
            }
        if problem is not None or user is None:
            self.login_history[email] = (now, failures + 1)
            # 26.x relays the manager's 401 for bad credentials; a 2FA request stays a 200.
            refused_by_manager = (problem or {}).get("type") in (
                PROBS + "auth-failed",
                PROBS + "rejected-by-hook",
            )
            status = self.refused_login_status if refused_by_manager else 200
            return self._refuse(request, problem or {}, status)
        self.login_history[email] = (now, 0)
        return self._grant(request, user)

    async def _token_login(self, request: web.Request) -> web.StreamResponse:
        if _session(request).data.get("authenticated"):
            return self._already_logged_in()
        try:
            params = json.loads(await request.text())
        except ValueError:
            return _problem(400, "invalid-api-params", "Malformed request body.")
        if not isinstance(params, dict):
            params = {}
        token = params.get(self.auth_token_name) or request.cookies.get(self.auth_token_name)
        if not token:
            return _problem(
                400, "invalid-api-params", "You must provide cookie-based authentication token"
            )
        for user in self.users.values():
            if user.token is not None and hmac.compare_digest(user.token, str(token)):
                return self._grant(request, user)
        return self._refuse(
            request,
            {
                "type": PROBS + "auth-failed",
                "title": "Credential/signature mismatch.",
                "details": "Invalid or expired token.",
            },
        )

    async def _login_check(self, request: web.Request) -> web.StreamResponse:
        loaded = _session(request)
        return web.json_response(
            {
                "authenticated": (user := self._user_of(loaded)) is not None,
                "data": self._public(user) if user is not None else None,
                "session_id": loaded.key,
            }
        )

    def _user_of(self, loaded: _RequestSession) -> WebUser | None:
        if not loaded.data.get("authenticated"):
            return None
        return self.users.get(loaded.data.get("email", ""))

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        loaded = _session(request)
        loaded.data.clear()
        loaded.changed = True
        # An empty application/octet-stream body, like the real ones (201 on 23.09, 200 on 26.x).
        return web.Response(status=self.logout_status)

    # -- forwarding to the manager ---------------------------------------------------

    def _unauthenticated(self) -> web.Response:
        if self.unauthenticated_status == 401:
            return _problem(401, "auth-failed", "Unauthorized access")
        inner = {
            "type": PROBS + "auth-failed",
            "title": "Credential/signature mismatch.",
            "error_code": "user_auth_unauthorized",
            "msg": "Unauthorized access",
        }
        return web.json_response(
            {
                "data": None,
                "errors": [
                    {
                        "message": "Unexpected empty result: " + json.dumps(inner),
                        "extensions": {"response": {"status": 401, "body": inner}},
                    }
                ],
            }
        )

    async def _proxy_anonymous(self, request: web.Request) -> web.StreamResponse:
        return await self._forward(request, None)

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        user = self._user_of(_session(request))
        if user is None:
            return self._unauthenticated()
        return await self._forward(request, user)

    async def _forward(self, request: web.Request, user: WebUser | None) -> web.StreamResponse:
        """Send the request on to the manager (signed as ``user`` unless anonymous); event
        streams are passed on as they come, WebSocket upgrades proxied both ways."""
        http = self._http
        assert http is not None
        url, headers, body = await self._upstream(request, user)
        if user is not None and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._forward_websocket(request, http, url, headers)
        try:
            async with http.request(
                request.method, url, headers=headers, data=body or None, allow_redirects=False
            ) as up:
                down_headers = {k: v for k, v in up.headers.items() if k.lower() not in _HOP_BY_HOP}
                if up.content_type == "text/event-stream":
                    resp = web.StreamResponse(status=up.status, headers=down_headers)
                    await resp.prepare(request)
                    async for chunk in up.content.iter_any():
                        await resp.write(chunk)
                    return resp
                payload = await up.read()
                return web.Response(
                    status=up.status, reason=up.reason, body=payload, headers=down_headers
                )
        except (aiohttp.ClientError, OSError):
            return _problem(502, "bad-gateway", "The proxy target server is inaccessible.")

    async def _upstream(
        self, request: web.Request, user: WebUser | None
    ) -> tuple[yarl.URL, dict[str, str], bytes]:
        """The manager's URL, the headers signed as ``user`` and the body of a request."""
        manager = self.manager.endpoint
        raw = request.raw_path[len("/func") :] or "/"
        host = str(manager.host_port_subcomponent)
        body = await request.read() if request.body_exists else b""
        content_type = request.headers.get("Content-Type", "application/json")
        version = request.headers.get("X-BackendAI-Version")
        headers = {"Host": host, "Content-Type": content_type}
        if "Accept-Language" in request.headers:
            headers["Accept-Language"] = request.headers["Accept-Language"]
        if user is None:
            if version is not None:
                headers["X-BackendAI-Version"] = version
        else:
            version = headers["X-BackendAI-Version"] = version or self.manager.api_version
            media_type = content_type.partition(";")[0].strip().lower()
            now = datetime.now(timezone.utc)  # the real clock: clock_offset is for logins
            date, authorization = _sign(
                request.method,
                raw,
                host,
                media_type,
                version,
                body,
                user.access_key,
                user.secret_key,
                now,
            )
            headers["X-BackendAI-Date"] = date
            headers["Authorization"] = authorization
        return yarl.URL(str(manager).rstrip("/") + raw, encoded=True), headers, body

    async def _forward_websocket(
        self,
        request: web.Request,
        http: aiohttp.ClientSession,
        url: yarl.URL,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        """Proxy a WebSocket (``/func/stream/...``) to the manager, message by message."""
        try:
            up = await http.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return _problem(exc.status, "generic-bad-request", f"upstream answered {exc.status}")
        except (aiohttp.ClientError, OSError):
            return _problem(502, "bad-gateway", "The proxy target server is inaccessible.")
        down = web.WebSocketResponse()
        await down.prepare(request)

        async def pump(source: Any, sink: Any) -> None:
            async for msg in source:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await sink.send_str(msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(msg.data)
            code = source.close_code
            await sink.close(code=code if code is not None and code != 1006 else 1000)

        tasks = {asyncio.ensure_future(pump(up, down)), asyncio.ensure_future(pump(down, up))}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await up.close()
            await down.close()
        return down

"""WebSocket streams of the fake manager: ``/stream/session/{name}/pty``, ``/execute``, the
app tunnels ``/tcpproxy`` and ``/httpproxy``, and ``/apps``.

Like the real manager (23.09 ``api/stream.py``): a missing session is a 404 problem before
the upgrade; a session that is not RUNNING gets its 101 and then nothing at all (both real
releases do that for a session that cannot stream). On a RUNNING session the terminal
echoes what is typed (``{"type": "out", "data": <base64>}``), execute runs the fake
interpreter of ``_sessions.py`` and streams its results, and a tunnel echoes bytes.
:class:`StreamSettings` (plain data) adds output floods and server-side close codes, and
records what arrived, for tests.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from ._events import release as _release
from ._manager import STATE_KEY, ServerState, problem_response
from ._sessions import SESSIONS_KEY, FakeSession, run_fake_code

__all__ = ["STREAMS_KEY", "StreamSettings", "register_stream_routes", "stream_settings"]

RUNNING_ONLY_SINCE = (26,)
"""Releases from this one refuse (404) the streams of a session that is not RUNNING; older
ones answer 101 and then send nothing (the exact release of the change is an assumption)."""
_FLOOD_CHUNK = 16 * 1024
_BLOCKED = 1  # bytes the kernel did not take: its buffers are full


@dataclass
class StreamSettings:
    """Behaviour of the fake WebSocket streams, and what they received.

    ``greeting`` is the terminal's first output (a prompt); ``flood`` bytes of output follow
    it at once (for back-pressure tests; ``flood_blocked`` turns True once the client stopped
    taking them); ``close_code`` makes every stream close with that code after
    ``close_after`` messages from the client (and, for the terminal, its echo), ``drop``
    instead cuts the connection there without a close frame; ``refuse_apps`` makes tunnels
    close with 1013 (the app refused the connection). :meth:`wait_until` waits for a
    condition on the recorded fields (``open_sockets == 0``, two messages typed …).
    """

    greeting: bytes = b"$ "
    flood: int = 0
    close_code: int | None = None
    close_after: int = 0
    drop: bool = False
    refuse_apps: bool = False
    typed: list[bytes] = field(default_factory=list)
    resizes: list[tuple[int, int]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    """First messages of execute streams."""
    inputs: list[str] = field(default_factory=list)
    restarts: int = 0
    open_sockets: int = 0
    """Sockets open right now (a test checks that the client closed them all)."""
    flood_sent: int = 0
    flood_blocked: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def touch(self) -> None:
        """Wake :meth:`wait_until` callers (the handlers call it when a field changed)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, condition: Callable[[StreamSettings], bool], timeout: float = 5.0
    ) -> None:
        """Return once ``condition(self)`` holds."""

        async def wait() -> None:
            while not condition(self):
                changed = self._changed
                await changed.wait()

        await asyncio.wait_for(wait(), timeout)


STREAMS_KEY = web.AppKey("backendai_testing.streams", StreamSettings)


def stream_settings(server: Any) -> StreamSettings:
    """The :class:`StreamSettings` of a server (or app)."""
    app = server if isinstance(server, web.Application) else server.app
    return app[STREAMS_KEY]


def _session(request: web.Request) -> FakeSession | web.Response:
    state: ServerState = request.app[STATE_KEY]
    kp = state.keypair_of(request)
    assert kp is not None
    ref = request.match_info["session_name"]
    session = request.app[SESSIONS_KEY].find(ref, kp.access_key)
    if session is None:
        return problem_response(
            404, "session-not-found", "No such session.", f"Session (id={ref}) does not exist."
        )
    if session.status != "RUNNING" and _release(state) >= RUNNING_ONLY_SINCE:
        return problem_response(  # 26.x: only a RUNNING session has streams
            404,
            "session-not-found",
            "No such session.",
            f"Running session {session.id} does not exist.",
        )
    return session


async def _open(
    request: web.Request, autoping: bool = True
) -> tuple[web.WebSocketResponse, StreamSettings]:
    settings = request.app[STREAMS_KEY]
    ws = web.WebSocketResponse(autoping=autoping)
    await ws.prepare(request)
    settings.open_sockets += 1
    settings.touch()
    return ws, settings


def _closed(settings: StreamSettings) -> None:
    settings.open_sockets -= 1
    settings.touch()


async def _silent(ws: web.WebSocketResponse, state: ServerState) -> None:
    """Accept and say nothing, until the client or the server's shutdown ends it."""
    receiving = asyncio.ensure_future(ws.receive())
    closing = asyncio.ensure_future(state.closing.wait())
    try:
        await asyncio.wait({receiving, closing}, return_when="FIRST_COMPLETED")
    finally:
        receiving.cancel()
        closing.cancel()


async def _close_if_due(
    request: web.Request, ws: web.WebSocketResponse, settings: StreamSettings, count: int
) -> bool:
    if settings.drop and count >= settings.close_after:
        if request.transport is not None:
            request.transport.abort()
        return True
    if settings.close_code is not None and count >= settings.close_after:
        await ws.close(code=settings.close_code, message=b"closed by the test server")
        return True
    return False


async def _accept(
    request: web.Request,
) -> web.StreamResponse | tuple[FakeSession, web.WebSocketResponse, StreamSettings]:
    """The answer when there is nothing to stream (a 404, or a socket that stayed silent
    because the session is not RUNNING), else the session and its open socket."""
    session = _session(request)
    if isinstance(session, web.Response):
        return session
    ws, settings = await _open(request)
    if session.status != "RUNNING":
        try:
            await _silent(ws, request.app[STATE_KEY])
        finally:
            _closed(settings)
        return ws
    return session, ws, settings


async def _pty(request: web.Request) -> web.StreamResponse:
    accepted = await _accept(request)
    if isinstance(accepted, web.StreamResponse):
        return accepted
    _, ws, settings = accepted
    try:

        async def out(data: bytes) -> None:
            await ws.send_str(json.dumps({"type": "out", "data": base64.b64encode(data).decode()}))

        if settings.greeting:
            await out(settings.greeting)
        for start in range(0, settings.flood, _FLOOD_CHUNK):
            transport = request.transport
            if transport is not None and transport.get_write_buffer_size() >= _BLOCKED:
                settings.flood_blocked = True  # the kernel's buffers are full: nobody reads
                settings.touch()
            await out(b"x" * min(_FLOOD_CHUNK, settings.flood - start))
            settings.flood_sent += min(_FLOOD_CHUNK, settings.flood - start)
        if await _close_if_due(request, ws, settings, 0):
            return ws
        count = 0
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            count += 1
            if frame.get("type") == "stdin":
                data = base64.b64decode(frame["chars"])
                settings.typed.append(data)
                settings.touch()
                await out(data)
            elif frame.get("type") == "resize":
                settings.resizes.append((int(frame["rows"]), int(frame["cols"])))
            elif frame.get("type") == "restart":
                settings.restarts += 1
            if await _close_if_due(request, ws, settings, count):
                break
        return ws
    finally:
        _closed(settings)


async def _execute(request: web.Request) -> web.StreamResponse:
    accepted = await _accept(request)
    if isinstance(accepted, web.StreamResponse):
        return accepted
    session, ws, settings = accepted
    try:
        try:
            params = await ws.receive_json()
            mode = params.get("mode")
            assert mode in ("query", "batch"), "mode has an invalid value."
        except (ValueError, TypeError, AssertionError, AttributeError) as exc:
            await ws.send_json({"status": "error", "msg": f"Invalid API parameters: {exc!r}"})
            return ws
        settings.requests.append(params)
        if await _close_if_due(request, ws, settings, 1):
            return ws
        pending = str(params.get("code") or "").splitlines()
        while True:
            console, status, exit_code, pending = run_fake_code(pending)
            await ws.send_json(
                {
                    "status": status,
                    "console": console,
                    "exitCode": exit_code,
                    "options": {"is_password": False} if status == "waiting-input" else {},
                    "files": [],
                }
            )
            if status == "finished":
                break
            if status == "waiting-input":
                text = await ws.receive_str()
                settings.inputs.append(text)
                pending.insert(0, f"print({text!r})")
        session.num_queries += 1
        await ws.close()
        return ws
    finally:
        _closed(settings)


async def _proxy(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if isinstance(session, web.Response):
        return session
    app = request.query.get("app")
    if not app:
        return problem_response(
            400,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            data={"app": "is required"},
        )
    if not any(port["name"] == app for port in session.service_ports):
        return problem_response(
            404, "app-not-found", "No such app service provided by the session."
        )
    ws, settings = await _open(request, autoping=False)
    try:
        if settings.refuse_apps:
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
            return ws
        count = 0
        async for msg in ws:
            if msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.BINARY:
                count += 1
                if msg.data == b"":
                    break  # the fake app closes its connection
                await ws.send_bytes(msg.data)
                if await _close_if_due(request, ws, settings, count):
                    return ws
        await ws.close(code=WSCloseCode.GOING_AWAY)
        return ws
    finally:
        _closed(settings)


async def _apps(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if isinstance(session, web.Response):
        return session
    return web.json_response(
        [
            {"name": p["name"], "protocol": p["protocol"], "ports": p["container_ports"]}
            for p in session.service_ports
        ]
    )


def register_stream_routes(app: web.Application, state: ServerState) -> None:
    """Install the WebSocket routes (both layouts) and their settings; a ``RouteInstaller``."""
    app[STREAMS_KEY] = StreamSettings()
    for prefix in ("/stream/session", "/stream/kernel"):
        app.router.add_route("GET", prefix + "/{session_name}/pty", _pty)
        app.router.add_route("GET", prefix + "/{session_name}/execute", _execute)
        app.router.add_route("GET", prefix + "/{session_name}/tcpproxy", _proxy)
        app.router.add_route("GET", prefix + "/{session_name}/httpproxy", _proxy)
        app.router.add_route("GET", prefix + "/{session_name}/apps", _apps)

"""Server-sent events of the fake manager: ``/events/session`` and ``/events/background-task``.

The streams look like the real ones (``aiohttp_sse``: CRLF line ends, ``event:`` and
``data:`` lines, a ``: ping`` comment every 15 s, no ``id:``, ``retry:`` only on
background-task events) and follow the fake session lifecycle of ``_sessions.py``: every
status change of a session is published, named the way the announced release names it
(23.09: ``kernel_*`` events only; 24.x and later: ``session_*``). Query parameters are
checked like each release does (23.09 refuses unknown keys with 400; 26.x answers 404 for a
``sessionName`` it does not know, and ignores ``name`` and ``sessionId``).

:class:`StreamFaults` (plain data on the :class:`EventHub`) makes the streams misbehave:
drop a connection mid-stream, stall, send malformed lines, announce ``retry:``, number the
events with ``id:`` and replay what follows ``Last-Event-ID``. Background tasks
(:func:`start_background_task`) report progress, then end done, failed or cancelled.

Nothing here imports the SDK.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import web

from ._manager import STATE_KEY, BackendAITestServer, Keypair, ServerState, problem_response
from ._sessions import SESSIONS_KEY, FakeSession, SessionStore

__all__ = [
    "EVENTS_KEY",
    "EventHub",
    "FakeBackgroundTask",
    "StreamFaults",
    "event_hub",
    "register_event_routes",
    "start_background_task",
]

SESSION_EVENTS_SINCE: Final = (24, 3)
"""Releases from this one stream ``session_*`` events (23.09 streams ``kernel_*`` only; the
exact release of the change is an assumption: clients should accept both)."""
PING_INTERVAL: Final = 15.0
_LIVENESS: Final = 0.01
"""How often a stream checks its connection while :meth:`EventHub.wait_for_departures` runs
(the fake otherwise notices a client that left only at its next write)."""
_SEP = "\r\n"
_BLOCKED = 1  # bytes the kernel did not take: its buffers are full
_WRITE_SIZE = 64 * 1024
_PAUSE_AT = 4 * _WRITE_SIZE
"""Bytes a stream's transport holds before a write waits for the client (asyncio's default,
64 KiB, could pause inside the one write that found the kernel full, and ``write_blocked``,
checked before each write, would never be set)."""
_TERMINAL_TASK = ("done", "failed", "cancelled")
TaskStatus = Literal["started", "done", "failed", "cancelled"]

# Event names per status change, per naming style.
_RUNNING_26 = (
    "session_scheduled",
    "session_preparing",
    "session_prepared",
    "session_creating",
    "session_started",
)
_RUNNING_23 = ("kernel_preparing", "kernel_creating", "kernel_started")


@dataclass
class StreamFaults:
    """How the event streams misbehave (edit the fields in a test; all off by default).

    ``drop_after`` events into a connection, that connection is cut (``reset`` True: a TCP
    reset, else a clean end of the stream), for the next ``drops`` connections (None: all).
    ``stall_after`` events into a connection, nothing more is sent on it, not even pings.
    ``malformed`` puts junk lines (unknown fields, a line without a colon, a comment with
    bad UTF-8) before every event; ``bad_json`` sends one event whose data is not JSON.
    ``retry_ms`` opens every connection with a ``retry:`` line; ``ids`` numbers every event
    and replays the ones after a ``Last-Event-ID``. ``on_subscribe`` runs after the 200
    headers and before the subscriber is registered (26.9 has such a window: events in it
    are lost). ``ping_interval`` is the keep-alive period.
    """

    drop_after: int | None = None
    drops: int | None = 1
    reset: bool = False
    stall_after: int | None = None
    malformed: bool = False
    bad_json: bool = False
    retry_ms: int | None = None
    ids: bool = False
    on_subscribe: Callable[[], None] | None = None
    ping_interval: float = PING_INTERVAL


@dataclass
class FakeBackgroundTask:
    """A background task of the fake manager (as a vfolder clone or an image rescan makes)."""

    id: str
    access_key: str
    total: float
    current: float = 0.0
    status: TaskStatus = "started"
    message: str = ""


@dataclass(frozen=True)
class _Published:
    seq: int
    kind: Literal["session", "bgtask"]
    key: str  # session id, or task id
    name: str
    text: str  # the data line(s), already encoded the way the release encodes them
    access_key: str
    session_name: str = ""
    retry: int | None = None
    final: bool = False
    wire: bytes = field(default=b"", repr=False)
    """The event as written (without an ``id:`` line), encoded once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "wire", _frame(self, False))


@dataclass(eq=False)
class _Subscriber:
    accepts: Callable[[_Published], bool]
    queue: asyncio.Queue[_Published | None] = field(default_factory=asyncio.Queue)
    """Events to send; None wakes the stream to check its connection."""


class EventHub:
    """The event bus of one fake manager: subscribers, history, faults, background tasks."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self.faults = StreamFaults()
        self.tasks: dict[str, FakeBackgroundTask] = {}
        self.history: list[_Published] = []
        """Everything published, in order (the replay source of ``ids``)."""
        self.connections = 0
        """Event-stream connections served so far (reconnections included)."""
        self.sent = 0
        """Events written to streams so far."""
        self.write_blocked = asyncio.Event()
        """Set when a stream's socket stopped taking data (its client is not reading)."""
        self._subscribers: list[_Subscriber] = []
        self._changed = asyncio.Event()
        self._drops_done = 0
        self._watchers = 0

    @property
    def subscribers(self) -> int:
        """Streams registered right now."""
        return len(self._subscribers)

    @property
    def watching(self) -> bool:
        """Whether streams check their connections now (a departure is being waited for)."""
        return self._watchers > 0

    async def wait_for_subscribers(self, count: int = 1, timeout: float = 5.0) -> None:
        """Return once at least ``count`` (>= 1) streams are registered."""
        if count < 1:
            raise ValueError(
                f"wait_for_subscribers({count}) is always true: wait_for_departures() waits "
                "for streams to end"
            )
        await self._wait_until(lambda: len(self._subscribers) >= count, timeout)

    async def wait_for_departures(self, remaining: int = 0, timeout: float = 5.0) -> None:
        """Return once at most ``remaining`` streams are registered.

        While this waits, every stream checks its connection, so a client that closed its
        socket is noticed at once (not at the next ping, 15 s later). A stream whose client
        keeps the connection open stays: this is how a test proves the SDK closed it.
        """
        self._watchers += 1
        try:
            for subscriber in self._subscribers:
                subscriber.queue.put_nowait(None)
            await self._wait_until(lambda: len(self._subscribers) <= remaining, timeout)
        finally:
            self._watchers -= 1

    async def _wait_until(self, done: Callable[[], bool], timeout: float) -> None:
        async def wait() -> None:
            while not done():
                changed = self._changed
                await changed.wait()

        await asyncio.wait_for(wait(), timeout)

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def add(self, subscriber: _Subscriber) -> None:
        self._subscribers.append(subscriber)
        self._touch()

    def remove(self, subscriber: _Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
            self._touch()

    def publish(self, item: _Published) -> None:
        self.history.append(item)
        for subscriber in list(self._subscribers):
            if subscriber.accepts(item):
                subscriber.queue.put_nowait(item)

    def next_seq(self) -> int:
        return len(self.history) + 1

    def take_drop(self) -> bool:
        """Whether the connection now opening is one ``drop_after`` cuts."""
        faults = self.faults
        if faults.drop_after is None:
            return False
        if faults.drops is not None and self._drops_done >= faults.drops:
            return False
        self._drops_done += 1
        return True

    def session_event(self, session: FakeSession, name: str, reason: str = "") -> None:
        """Publish one event about ``session`` (the lifecycle does; tests may add more)."""
        body: dict[str, Any] = {
            "reason": reason,
            "sessionName": session.name,
            "ownerAccessKey": session.access_key,
            "sessionId": session.id,
            "exitCode": None,
        }
        if name.startswith("kernel_") and release(self._state) < SESSION_EVENTS_SINCE:
            body.update(kernelId=session.kernel_id, clusterRole="main", clusterIdx=1)
            text = json.dumps(body)  # 23.09 writes JSON with spaces
        else:
            text = json.dumps(body, separators=(",", ":"))
        self.publish(
            _Published(
                self.next_seq(),
                "session",
                session.id,
                name,
                text,
                session.access_key,
                session.name,
            )
        )

    # -- background tasks ------------------------------------------------------------

    def task_event(self, task: FakeBackgroundTask, final: bool = False) -> None:
        new_style = release(self._state) >= SESSION_EVENTS_SINCE
        if task.status == "started":
            name = "bgtask_updated"
            body: dict[str, Any] = {
                "task_id": task.id,
                "message": task.message,
                "current_progress": task.current,
                "total_progress": task.total,
            }
        else:
            name = f"bgtask_{task.status}"
            body = {"task_id": task.id, "message": task.message}
        text = json.dumps(body, separators=(",", ":")) if new_style else json.dumps(body)
        self.publish(
            _Published(
                self.next_seq(),
                "bgtask",
                task.id,
                name,
                text,
                task.access_key,
                retry=5 if task.status == "started" or not new_style else None,
                final=final or task.status in _TERMINAL_TASK,
            )
        )

    def advance_task(self, task_id: str, step: float = 1.0, message: str = "") -> None:
        """Report progress of a started task (``bgtask_updated``)."""
        task = self.tasks[task_id]
        task.current = min(task.current + step, task.total)
        task.message = message
        self.task_event(task)

    def finish_task(self, task_id: str, status: TaskStatus = "done", message: str = "") -> None:
        """End a task: ``bgtask_done``, ``bgtask_failed`` or ``bgtask_cancelled``."""
        if status not in _TERMINAL_TASK:
            raise ValueError(f"a task ends done, failed or cancelled, not {status!r}")
        task = self.tasks[task_id]
        task.status = status
        task.message = message
        self.task_event(task)


EVENTS_KEY = web.AppKey("backendai_testing.events", EventHub)
HUB_EXTRA: Final = "event_hub"


def event_hub(server: BackendAITestServer | web.Application) -> EventHub:
    """The :class:`EventHub` of a server (or app)."""
    app = server if isinstance(server, web.Application) else server.app
    return app[EVENTS_KEY]


def start_background_task(
    server: BackendAITestServer | web.Application | ServerState,
    access_key: str | None = None,
    *,
    total: int = 3,
    step_delay: float | None = 0.01,
    outcome: TaskStatus = "done",
) -> str:
    """Start a fake background task of ``total`` steps and return its id.

    With ``step_delay`` (seconds) it reports one step per delay and then ends with
    ``outcome``; with None it waits for :meth:`EventHub.advance_task`/``finish_task``.
    """
    if isinstance(server, ServerState):
        state, hub = server, server.extras[HUB_EXTRA]
    else:
        app = server if isinstance(server, web.Application) else server.app
        state, hub = app[STATE_KEY], app[EVENTS_KEY]
    owner = access_key or next(iter(state.keypairs))
    task = FakeBackgroundTask(str(uuid.uuid4()), owner, float(total))
    hub.tasks[task.id] = task
    if step_delay is not None:
        loop = asyncio.get_running_loop()

        def step(done: int) -> None:
            if state.closing.is_set() or task.status != "started":
                return
            if done < total:
                hub.advance_task(task.id, 1.0, f"step {done + 1} of {total}")
                loop.call_later(step_delay, step, done + 1)
            else:
                hub.finish_task(task.id, outcome, "" if outcome == "done" else outcome)

        loop.call_later(step_delay, step, 0)
    return task.id


# -- the session lifecycle as events -------------------------------------------------------


def release(state: ServerState) -> tuple[int, ...]:
    """The announced manager release as numbers (``(23, 9, 10)``)."""
    parts = []
    for part in state.manager_version.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _names(old: str | None, new: str, new_style: bool) -> tuple[str, ...]:
    """The events a real manager of that style streams for one status change."""
    if new_style:
        if new == "RUNNING":
            return (("session_pending",) if old is None else ()) + _RUNNING_26
        table = {
            "PENDING": ("session_pending",),
            "CANCELLED": ("session_cancelled",),
            "TERMINATED": ("session_terminating", "session_terminated"),
            "ERROR": ("session_failure",),
        }
    else:
        if new == "RUNNING":
            return _RUNNING_23
        table = {
            "CANCELLED": ("kernel_cancelled",),
            "TERMINATED": ("kernel_terminating", "kernel_terminated"),
            "ERROR": ("kernel_terminated",),
        }
    return table.get(new, ())


def _session_listener(state: ServerState, hub: EventHub) -> Callable[..., None]:
    def on_change(session: FakeSession, old: str | None, new: str, reason: str) -> None:
        new_style = release(state) >= SESSION_EVENTS_SINCE
        for name in _names(old, new, new_style):
            hub.session_event(session, name, reason)

    return on_change


# -- the routes -------------------------------------------------------------------------------


def _invalid(data: Any) -> web.Response:
    return problem_response(
        400,
        "invalid-api-params",
        "Missing or invalid API parameters.",
        "Input validation error",
        data,
    )


def _keypair(request: web.Request) -> Keypair:
    kp = request.app[STATE_KEY].keypair_of(request)
    assert kp is not None, "event routes need an authenticated request"
    return kp


def _owner(request: web.Request, kp: Keypair) -> str | web.Response:
    owner = request.query.get("ownerAccessKey") or kp.access_key
    if owner != kp.access_key and not kp.is_admin:
        return problem_response(403, "generic-forbidden", "Forbidden operation.")
    return owner


_OLD_SESSION_KEYS = frozenset(
    {"name", "sessionName", "ownerAccessKey", "sessionId", "group", "groupName", "scope"}
)


def _session_filter(
    request: web.Request, state: ServerState, store: SessionStore, kp: Keypair
) -> Callable[[_Published], bool] | web.Response:
    """The subscriber's filter, from the query the way the announced release reads it."""
    query = request.query
    owner = _owner(request, kp)
    if isinstance(owner, web.Response):
        return owner
    new_style = release(state) >= SESSION_EVENTS_SINCE
    silent = False
    session_id: str | None = None
    if new_style:  # 26.x: name and sessionId are ignored, an unknown sessionName is a 404
        name = query.get("sessionName", "*")
        scopes = set(query.get("scope", "session,kernel").replace("*", "session,kernel").split(","))
        if not scopes <= {"session", "kernel"}:
            return _invalid({"scope": "Invalid scope"})
        if name != "*" and not any(
            s.name == name and s.access_key == owner for s in store.sessions.values()
        ):
            return problem_response(
                404, "entity-not-found", "Entity not found.", "No SessionRow matches the given key"
            )
        silent = "groupName" in query  # 26.9 delivers nothing on a project-filtered stream
    else:
        unknown = {k: f"{k} is not allowed key" for k in query if k not in _OLD_SESSION_KEYS}
        if unknown:
            return _invalid(unknown)
        name = query.get("name") or query.get("sessionName") or "*"
        scope = query.get("scope", "*")
        if scope not in ("*", "session", "kernel"):
            return _invalid({"scope": "value doesn't match any variant"})
        scopes = {"session", "kernel"} if scope == "*" else {scope}
        if "sessionId" in query:
            try:
                session_id = str(uuid.UUID(query["sessionId"]))
            except ValueError:
                return _invalid({"sessionId": "cannot convert value to UUID"})
        group = query.get("group") or query.get("groupName")
        if group not in (None, "*") and group not in store.groups:
            return problem_response(404, "group-not-found", "No such project (user group).")

    def accepts(item: _Published) -> bool:
        if silent or item.kind != "session" or item.name.split("_")[0] not in scopes:
            return False
        if not kp.is_admin and item.access_key != kp.access_key:
            return False
        if session_id is not None:
            return item.key == session_id
        return name == "*" or (item.session_name == name and item.access_key == owner)

    return accepts


def _frame(item: _Published, with_id: bool) -> bytes:
    if item.wire and not with_id:
        return item.wire
    lines = []
    if with_id:
        lines.append(f"id: {item.seq}")
    lines.append(f"event: {item.name}")
    lines.extend(f"data: {chunk}" for chunk in item.text.splitlines() or [""])
    if item.retry is not None:
        lines.append(f"retry: {item.retry}")
    return (_SEP.join(lines) + _SEP + _SEP).encode()


_JUNK = b"unknown-field: x\r\nline without a colon\r\n: \xff\xfe bad utf-8 comment\r\n"


async def _stream(
    request: web.Request,
    hub: EventHub,
    accepts: Callable[[_Published], bool],
    replay: list[_Published],
) -> web.StreamResponse:
    """Serve one subscriber until it leaves (or a fault ends the connection)."""
    state = request.app[STATE_KEY]
    faults = hub.faults
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            "X-Accel-Buffering": "no",
        }
    )
    await resp.prepare(request)
    if request.transport is not None:
        request.transport.set_write_buffer_limits(high=_PAUSE_AT)
    hub.connections += 1
    drop = hub.take_drop()
    if faults.on_subscribe is not None:
        faults.on_subscribe()
    subscriber = _Subscriber(accepts)
    hub.add(subscriber)
    for earlier in replay:
        subscriber.queue.put_nowait(earlier)
    sent = 0
    loop = asyncio.get_running_loop()
    ping_at = loop.time() + faults.ping_interval
    closing = asyncio.ensure_future(state.closing.wait())
    try:
        if faults.retry_ms is not None:
            await resp.write(f"retry: {faults.retry_ms}{_SEP}{_SEP}".encode())
        while True:
            # A stalled stream sends nothing more, not even pings (it still drains its queue).
            stalled = faults.stall_after is not None and sent >= faults.stall_after
            if hub.watching:
                timeout: float | None = _LIVENESS
            else:
                timeout = None if stalled else max(ping_at - loop.time(), 0.0)
            getter = asyncio.ensure_future(subscriber.queue.get())
            done, _ = await asyncio.wait(
                {getter, closing}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            if closing in done or (hub.watching and _left(request)):
                getter.cancel()
                return resp
            if getter not in done:
                getter.cancel()
                if not stalled and loop.time() >= ping_at:
                    await resp.write(f": ping{_SEP}{_SEP}".encode())
                    ping_at = loop.time() + faults.ping_interval
                continue
            item = getter.result()
            if item is None or stalled:  # a connection check, or an event never to be sent
                continue
            out = bytearray()
            while item is not None:  # what is queued goes out in one write, up to 64 KiB
                if faults.malformed:
                    out += _JUNK
                if faults.bad_json:
                    faults.bad_json = False
                    out += f"event: {item.name}{_SEP}data: {{not json{_SEP}{_SEP}".encode()
                out += _frame(item, faults.ids)
                sent += 1
                hub.sent += 1
                if item.final:
                    out += f"event: server_close{_SEP}data: {{}}{_SEP}{_SEP}".encode()
                    await resp.write(bytes(out))
                    await resp.write_eof()
                    return resp
                if drop and faults.drop_after is not None and sent >= faults.drop_after:
                    await resp.write(bytes(out))
                    if faults.reset and request.transport is not None:
                        request.transport.abort()
                    else:
                        await resp.write_eof()
                    return resp
                stalled = faults.stall_after is not None and sent >= faults.stall_after
                if len(out) >= _WRITE_SIZE or stalled or subscriber.queue.empty():
                    break
                item = subscriber.queue.get_nowait()
            transport = request.transport
            if transport is not None and transport.get_write_buffer_size() >= _BLOCKED:
                hub.write_blocked.set()
            await resp.write(bytes(out))
    except (ConnectionError, RuntimeError):  # the client left
        return resp
    finally:
        closing.cancel()
        hub.remove(subscriber)


def _left(request: web.Request) -> bool:
    """Whether the client of ``request`` closed its connection (as far as the loop knows)."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _replay(
    request: web.Request, hub: EventHub, accepts: Callable[[_Published], bool]
) -> list[_Published]:
    last = request.headers.get("Last-Event-ID")
    if not hub.faults.ids or not last or not last.isdigit():
        return []
    return [item for item in hub.history if item.seq > int(last) and accepts(item)]


async def _session_events(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    hub = request.app[EVENTS_KEY]
    accepts = _session_filter(request, state, request.app[SESSIONS_KEY], _keypair(request))
    if isinstance(accepts, web.Response):
        return accepts
    return await _stream(request, hub, accepts, _replay(request, hub, accepts))


async def _background_task_events(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    hub = request.app[EVENTS_KEY]
    raw = request.query.get("taskId") or request.query.get("task_id")
    if raw is None:
        return _invalid({"task_id": "is required"})
    try:
        task_id = str(uuid.UUID(raw))
    except ValueError:
        return _invalid({"task_id": "cannot convert value to UUID"})
    task = hub.tasks.get(task_id)
    new_style = release(state) >= SESSION_EVENTS_SINCE
    if task is None and not new_style:
        return problem_response(500, "internal-server-error", "Internal server error.")

    def accepts(item: _Published) -> bool:
        return item.kind == "bgtask" and item.key == task_id

    replay = _replay(request, hub, accepts)
    if task is not None and task.status in _TERMINAL_TASK and not replay:
        # A finished task: its last state at once (23.09 sends progress as strings).
        replay = [_finished_event(hub, task, new_style)]
    return await _stream(request, hub, accepts, replay)


def _finished_event(hub: EventHub, task: FakeBackgroundTask, new_style: bool) -> _Published:
    body: dict[str, Any] = {"task_id": task.id, "message": task.message}
    if not new_style:
        body.update(
            status=task.status,
            current_progress=str(task.current),
            total_progress=str(task.total),
        )
    text = json.dumps(body, separators=(",", ":")) if new_style else json.dumps(body)
    return _Published(
        0, "bgtask", task.id, f"bgtask_{task.status}", text, task.access_key, final=True
    )


def register_event_routes(app: web.Application, state: ServerState) -> None:
    """Install the event routes and the hub; a ``RouteInstaller``."""
    hub = EventHub(state)
    app[EVENTS_KEY] = hub
    state.extras[HUB_EXTRA] = hub  # for route modules that see only the state
    store = app[SESSIONS_KEY]
    store.listeners.append(_session_listener(state, hub))
    app.router.add_route("GET", "/events/session", _session_events)
    app.router.add_route("GET", "/events/background-task", _background_task_events)

"""Server-sent events (issue 11): ``client.events`` and its typed events.

``session_events`` follows ``GET /events/session``; ``background_task_events`` follows
``GET /events/background-task``. Each returns an :class:`EventStream` (``async with`` it,
then ``async for``); the following, reconnecting and limits live in ``_event_stream.py``.

Filters are sent only in the spelling every release honours (``sessionName``,
``ownerAccessKey``, ``scope``; 26.9 ignores ``name`` and ``sessionId`` and would stream
everything) and applied again here, so a server that ignores one cannot widen the stream.
There is no project filter: 26.9 answers ``groupName`` with a stream that never delivers,
and events carry no project to filter on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from .._event_stream import (
    DEFAULT_BUFFER,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_RECONNECT,
    DEFAULT_RECONNECT_DELAY,
    EventStream,
    follow,
)
from .._sse import DEFAULT_MAX_EVENT_SIZE, SSEEvent
from ._base import Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = [
    "BACKGROUND_TASK_EVENT_TIMEOUT",
    "BackgroundTaskEvent",
    "Events",
    "SessionEvent",
]

BACKGROUND_TASK_EVENT_TIMEOUT: Final = 600.0
"""Default limit between two events of a background task: a task id the server does not
know gets a stream of keep-alives only on 26.9, which this ends."""
Scope = Literal["*", "session", "kernel"]
E = TypeVar("E", bound="_Event")

_SESSION_STATUS: Mapping[str, str] = {
    "session_enqueued": "PENDING",
    "session_pending": "PENDING",
    "session_scheduled": "SCHEDULED",
    "session_preparing": "PREPARING",
    "session_prepared": "PREPARED",
    "session_creating": "CREATING",
    "session_started": "RUNNING",
    "session_terminating": "TERMINATING",
    "session_terminated": "TERMINATED",
    "session_cancelled": "CANCELLED",
    "session_failure": "ERROR",
    "session_success": "TERMINATED",
    "kernel_preparing": "PREPARING",
    "kernel_pulling": "PREPARING",
    "kernel_creating": "CREATING",
    "kernel_started": "RUNNING",
    "kernel_terminating": "TERMINATING",
    "kernel_terminated": "TERMINATED",
    "kernel_cancelled": "CANCELLED",
}
_TASK_ENDS = frozenset({"bgtask_done", "bgtask_failed", "bgtask_cancelled", "server_close"})


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    """Progress as a number (23.09 sends a finished task's progress as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_loads = json.loads
_new_tuple = tuple.__new__


def _object(event: SSEEvent) -> dict[str, Any]:
    data = _loads(event.data)
    if not isinstance(data, dict):
        raise ValueError(f"its data is not a JSON object: {event.data[:80]!r}")
    return data


class _Event(tuple):  # type: ignore[type-arg]
    """An event: its ``name``, its decoded JSON ``data`` and the ``raw`` SSE event.

    The other attributes read ``data`` when asked, and the event itself is a small tuple
    made in C, so that following tens of thousands of events a second costs little.
    """

    __slots__ = ()
    _shown: tuple[str, ...] = ()

    def __new__(cls: type[E], name: str, data: Mapping[str, Any], raw: SSEEvent) -> E:
        return _new_tuple(cls, (name, data, raw))

    @property
    def name(self) -> str:
        value: str = self[0]
        return value

    @property
    def data(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self[1]
        return value

    @property
    def raw(self) -> SSEEvent:
        value: SSEEvent = self[2]
        return value

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._shown)
        return f"{type(self).__name__}(name={self.name!r}, {shown})"

    def __hash__(self) -> int:
        return hash(self.raw)


class SessionEvent(_Event):
    """A session's or kernel's state change, as ``/events/session`` streams it.

    ``name`` differs per release: 23.09 streams ``kernel_*`` events only (``kernel_started``,
    ``kernel_cancelled`` …), 24.x and later ``session_*`` ones (``session_started`` …).
    ``status`` is the session status the event announces (None if it names none); ``data``
    the decoded JSON and ``raw`` the event as received.
    """

    __slots__ = ()
    _shown = ("session_name", "session_id", "status", "reason")

    @property
    def session_name(self) -> str | None:
        return _str(self.data, "sessionName")

    @property
    def session_id(self) -> str | None:
        return _str(self.data, "sessionId")

    @property
    def owner_access_key(self) -> str | None:
        return _str(self.data, "ownerAccessKey")

    @property
    def reason(self) -> str | None:
        return _str(self.data, "reason")

    @property
    def exit_code(self) -> int | None:
        return _int(self.data.get("exitCode"))

    @property
    def kernel_id(self) -> str | None:
        return _str(self.data, "kernelId")

    @property
    def cluster_role(self) -> str | None:
        return _str(self.data, "clusterRole")

    @property
    def cluster_idx(self) -> int | None:
        return _int(self.data.get("clusterIdx"))

    @property
    def status(self) -> str | None:
        return _SESSION_STATUS.get(self.name)

    @classmethod
    def from_sse(cls, event: SSEEvent) -> SessionEvent:
        return _new_tuple(cls, (event.event, _object(event), event))


class BackgroundTaskEvent(_Event):
    """Progress or the end of a background task (a vfolder clone, an image rescan …).

    ``name`` is ``bgtask_updated`` (with progress), then one of ``bgtask_done``,
    ``bgtask_failed``, ``bgtask_cancelled``; progress is a number or None.
    """

    __slots__ = ()
    _shown = ("task_id", "current_progress", "total_progress", "message")

    @property
    def task_id(self) -> str | None:
        return _str(self.data, "task_id")

    @property
    def message(self) -> str | None:
        return _str(self.data, "message")

    @property
    def current_progress(self) -> float | None:
        return _number(self.data.get("current_progress"))

    @property
    def total_progress(self) -> float | None:
        return _number(self.data.get("total_progress"))

    @property
    def ended(self) -> bool:
        """The task is over (done, failed or cancelled): no event follows."""
        return self.name in _TASK_ENDS

    @property
    def succeeded(self) -> bool:
        return self.name == "bgtask_done"

    @classmethod
    def from_sse(cls, event: SSEEvent) -> BackgroundTaskEvent:
        return _new_tuple(cls, (event.event, _object(event), event))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


class _SessionFilter:
    """The client-side half of a session-event filter (the server may ignore its half)."""

    __slots__ = ("_id", "_name", "_owner", "_prefix")

    def __init__(
        self, name: str | None, session_id: str | None, owner: str | None, scope: Scope
    ) -> None:
        self._name, self._id, self._owner = name, session_id, owner
        self._prefix = None if scope == "*" else scope + "_"

    def __call__(self, event: SSEEvent) -> SessionEvent | None:
        name = event.event
        if name == "server_close" or (
            self._prefix is not None and not name.startswith(self._prefix)
        ):
            return None
        data = _loads(event.data)
        if type(data) is not dict:
            raise ValueError(f"its data is not a JSON object: {event.data[:80]!r}")
        if (
            (self._name is not None and data.get("sessionName") != self._name)
            or (self._id is not None and data.get("sessionId") != self._id)
            or (self._owner is not None and data.get("ownerAccessKey") != self._owner)
        ):
            return None
        return _new_tuple(SessionEvent, (name, data, event))


def _task_event(event: SSEEvent) -> BackgroundTaskEvent | None:
    return BackgroundTaskEvent.from_sse(event)


def _task_ended(event: BackgroundTaskEvent) -> bool:
    return event.ended


class Events(Resource):
    """``client.events``: follow session and background-task events (server-sent events)."""

    __slots__ = ()

    def session_events(
        self,
        session_name: str | None = None,
        session_id: str | None = None,
        *,
        owner_access_key: str | None = None,
        scope: Scope = "*",
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        event_timeout: float | None = None,
        reconnect: int = DEFAULT_RECONNECT,
        reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        buffer: int = DEFAULT_BUFFER,
        timeout: float | None = None,
        signal: AbortSignal | None = None,
    ) -> EventStream[SessionEvent]:
        """Follow ``GET /events/session``: ``async with client.session_events(...) as ev``.

        Filters: ``session_name``, ``session_id`` (applied here: servers differ), the owner
        (admins), and ``scope`` (``"session"`` or ``"kernel"`` events only). Unfiltered, a
        user sees the events of all their sessions. ``idle_timeout`` declares a connection
        dead after that long without a byte (keep-alives included) and reconnects;
        ``event_timeout`` ends the stream when no event came that long; ``timeout`` bounds
        the whole subscription. Neither server ends this stream on its own.
        """
        params: list[tuple[str, str]] = []
        if session_name is not None:
            params.append(("sessionName", _text(session_name, "session_name")))
        if session_id is not None:
            _text(session_id, "session_id")
        if owner_access_key is not None:
            params.append(("ownerAccessKey", _text(owner_access_key, "owner_access_key")))
        if scope not in ("*", "session", "kernel"):
            raise ValueError(f"scope must be '*', 'session' or 'kernel', got {scope!r}")
        if scope != "*":
            params.append(("scope", scope))
        return EventStream(
            self._api,
            "/events/session",
            params,
            _SessionFilter(session_name, session_id, owner_access_key, scope),
            idle_timeout=idle_timeout,
            event_timeout=event_timeout,
            reconnect=reconnect,
            reconnect_delay=reconnect_delay,
            max_event_size=max_event_size,
            buffer=buffer,
            timeout=timeout,
            signal=signal,
        )

    def background_task_events(
        self,
        task_id: str,
        *,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        event_timeout: float | None = BACKGROUND_TASK_EVENT_TIMEOUT,
        reconnect: int = DEFAULT_RECONNECT,
        reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        timeout: float | None = None,
        signal: AbortSignal | None = None,
    ) -> EventStream[BackgroundTaskEvent]:
        """Follow ``GET /events/background-task?taskId=``; iteration ends with the task.

        The last event is ``bgtask_done``, ``bgtask_failed`` or ``bgtask_cancelled`` (a
        task that already ended sends its final state at once). ``event_timeout`` (600 s)
        ends a stream that brings no event: 26.9 keeps one open with keep-alives only for a
        task id it does not know (23.09 answers 500).
        """
        params = [("taskId", _text(task_id, "task_id"))]
        return EventStream(
            self._api,
            "/events/background-task",
            params,
            _task_event,
            final=_task_ended,
            idle_timeout=idle_timeout,
            event_timeout=event_timeout,
            reconnect=reconnect,
            reconnect_delay=reconnect_delay,
            max_event_size=max_event_size,
            timeout=timeout,
            signal=signal,
        )

    def attach_background_task(
        self,
        task_id: str,
        *,
        event_timeout: float | None = BACKGROUND_TASK_EVENT_TIMEOUT,
        timeout: float | None = None,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[BackgroundTaskEvent]:
        """JS ``attach_background_task``: the task's events as a plain async iterator.

        For ``async for`` without ``async with``: the stream closes after the last event,
        on an error, and when the iterator is closed or collected (``break``).
        """
        return follow(
            self.background_task_events(
                task_id, event_timeout=event_timeout, timeout=timeout, signal=signal
            )
        )

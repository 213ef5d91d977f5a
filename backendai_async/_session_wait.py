"""Waiting until a compute session reaches a status: events first, polling as the fallback.

Events are hints, the session info is the truth: every decision is taken on a fresh
``get_info``, which runs first, again right after the event stream is connected (26.9
registers a subscriber a moment after its 200 headers: what happens in between is never
streamed) and again after each event or ``poll_interval`` without one. A stream that
cannot be opened or breaks leaves the wait polling. The whole wait is one call scope: its
deadline, ``signal``, ``client.abort()`` and ``close()`` cover every call and pause in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Protocol

from ._abort import AbortSignal
from .errors import (
    AbortError,
    ClientClosedError,
    ClientError,
    RequestTimeoutError,
    ServerError,
    SessionStateError,
)

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "SESSION_STATUSES",
    "TERMINAL_STATUSES",
    "WAIT_TIMEOUT",
    "check_statuses",
    "wait_for_status",
]

_log = logging.getLogger("backendai_async")
SESSION_STATUSES: Final = frozenset(
    {
        "PENDING",
        "SCHEDULED",
        "PREPARING",
        "PULLING",
        "PREPARED",
        "CREATING",
        "RUNNING",
        "RUNNING_DEGRADED",
        "RESTARTING",
        "TERMINATING",
        "TERMINATED",
        "ERROR",
        "CANCELLED",
    }
)
TERMINAL_STATUSES: Final = frozenset({"ERROR", "CANCELLED", "TERMINATED"})
DEFAULT_POLL_INTERVAL: Final = 5.0
WAIT_TIMEOUT: Final = 300.0


class _Stream(Protocol):
    async def __aenter__(self) -> Any: ...

    async def aclose(self) -> None: ...

    async def next(self, timeout: float | None) -> Any: ...


def check_statuses(statuses: str | Iterable[str]) -> tuple[str, ...]:
    """The statuses to wait for, upper-cased; ``ValueError`` for an unknown or empty one."""
    items = [statuses] if isinstance(statuses, str) else list(statuses)
    if not items:
        raise ValueError("status_or_statuses must name at least one status")
    wanted = []
    for item in items:
        if not isinstance(item, str) or item.upper() not in SESSION_STATUSES:
            known = ", ".join(sorted(SESSION_STATUSES))
            raise ValueError(f"unknown session status {item!r}; use one of {known}")
        wanted.append(item.upper())
    return tuple(dict.fromkeys(wanted))


async def wait_for_status(
    scoped: Callable[..., Awaitable[Any]],
    name: str,
    targets: tuple[str, ...],
    *,
    get_info: Callable[[], Awaitable[Any]],
    subscribe: Callable[[], _Stream],
    timeout: float | None,
    poll_interval: float,
    signal: AbortSignal | None,
) -> Any:
    """The session info once its status is one of ``targets``.

    Raises :class:`SessionStateError` when it ends (ERROR, CANCELLED, TERMINATED) in a
    status not waited for, and ``RequestTimeoutError`` when ``timeout`` passes first.
    """
    waiter = _Waiter(name, targets, get_info, subscribe, poll_interval)
    try:
        return await scoped(
            waiter.run, method="GET", path=f"/session/{name}", timeout=timeout, signal=signal
        )
    except RequestTimeoutError as err:
        if err.phase == "total":
            err.message = (
                f"session {name!r} did not reach {' or '.join(targets)} within {timeout:g} s "
                f"(last status: {waiter.status or 'unknown'})"
            )
        raise


class _Waiter:
    __slots__ = ("ended", "get_info", "info", "interval", "name", "status", "subscribe", "targets")

    def __init__(
        self,
        name: str,
        targets: tuple[str, ...],
        get_info: Callable[[], Awaitable[Any]],
        subscribe: Callable[[], _Stream],
        interval: float,
    ) -> None:
        self.name, self.targets, self.interval = name, targets, interval
        self.get_info, self.subscribe = get_info, subscribe
        self.info: Any = None
        self.status: str | None = None
        self.ended: str | None = None  # a terminal status an event announced

    async def run(self, _deadline: float | None) -> Any:
        found = await self._check()
        if found is not None:
            return found
        stream = await self._open()
        try:
            while True:
                found = await self._check()
                if found is not None:
                    return found
                if stream is None:
                    await asyncio.sleep(self.interval)
                    continue
                try:
                    event = await stream.next(self.interval)
                except (AbortError, ClientClosedError):
                    raise
                except (ClientError, StopAsyncIteration) as err:
                    _log.debug("wait(%r): events stopped (%r); polling", self.name, err)
                    await stream.aclose()
                    stream = None
                    continue
                status = getattr(event, "status", None)
                if status in TERMINAL_STATUSES:
                    self.ended = status
        finally:
            if stream is not None:
                await stream.aclose()

    async def _open(self) -> _Stream | None:
        stream = self.subscribe()
        try:
            await stream.__aenter__()
        except (AbortError, ClientClosedError):
            raise
        except ClientError as err:
            _log.debug("wait(%r): no events (%s); polling", self.name, err.message)
            return None
        return stream

    async def _check(self) -> Any:
        """Fresh info: return it when done, raise when the session ended elsewhere."""
        try:
            info = await self.get_info()
        except ServerError as err:
            if err.status != 404 or self.info is None:
                raise
            return self._gone()
        self.info = info
        status = info.get("status") if isinstance(info, dict) else None
        self.status = status if isinstance(status, str) else None
        if self.status in self.targets:
            return info
        if self.status in TERMINAL_STATUSES:
            raise self._error(self.status)
        return None

    def _gone(self) -> Any:
        """The session was seen and is now unknown (26.9 forgets terminated sessions)."""
        state = self.ended or "TERMINATED"
        if state in self.targets:
            last = self.info if isinstance(self.info, dict) else {}
            return {**last, "status": state}
        raise self._error(state, " and no longer exists")

    def _error(self, state: str, more: str = "") -> SessionStateError:
        err = SessionStateError(
            f"session {self.name!r} ended in {state}{more} while waiting for "
            f"{' or '.join(self.targets)}",
            title="Session ended",
            description=f"the session is {state}",
            request_method="GET",
            request_url=f"/session/{self.name}",
        )
        err.state = state
        err.expected = self.targets
        err.info = self.info
        return err

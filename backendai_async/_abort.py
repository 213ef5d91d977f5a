"""Aborting calls: the JS ``AbortController`` shape, built on task cancellation.

An abort cancels the tasks running the affected calls; the request path recognises its own
cancellation (and only its own: a cancel from anyone else still propagates) and raises
``AbortError`` instead. No extra task or callback is created per call.
"""

from __future__ import annotations

import asyncio
import sys

__all__ = ["AbortController", "AbortSignal", "InFlight"]

_ABORT_MSG = "backendai_async: aborted"


class InFlight:
    """The set of tasks currently inside a call, which an abort cancels."""

    __slots__ = ("_aborted", "_empty", "_reason", "_tasks")

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[object], int] = {}
        self._aborted: set[asyncio.Task[object]] = set()
        self._reason: str | None = None
        self._empty: asyncio.Event | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    def enter(self, task: asyncio.Task[object]) -> None:
        """Track ``task`` (re-entrant: nested calls in one task count)."""
        self._tasks[task] = self._tasks.get(task, 0) + 1

    def leave(self, task: asyncio.Task[object]) -> None:
        """Stop tracking one level of ``task``."""
        tasks = self._tasks
        depth = tasks.pop(task, 0)
        if depth > 1:
            tasks[task] = depth - 1
        elif not tasks and self._empty is not None:
            self._empty.set()

    async def wait_empty(self) -> None:
        """Return once no task is inside a call (``close()`` waits for aborted calls)."""
        if self._tasks:
            if self._empty is None or self._empty.is_set():
                self._empty = asyncio.Event()
            await self._empty.wait()

    def abort_all(self, reason: str | None = None) -> int:
        """Cancel every tracked task; return how many were cancelled."""
        count = 0
        for task in list(self._tasks):
            if task not in self._aborted and not task.done():
                self._aborted.add(task)
                self._reason = reason
                task.cancel(_ABORT_MSG)
                count += 1
        return count

    def claim(self, task: asyncio.Task[object]) -> str | None:
        """If ``task``'s cancellation came from ``abort_all``, absorb it and return the reason.

        Returns None when the cancellation was not ours. On Python 3.11+ the task is
        uncancelled once; the caller checks ``task.cancelling()`` to see whether someone
        else cancelled it too (then ``CancelledError`` must propagate).
        """
        if task not in self._aborted:
            return None
        self._aborted.discard(task)
        if sys.version_info >= (3, 11):
            task.uncancel()
        return self._reason or "aborted"

    def lost_race(self, task: asyncio.Task[object]) -> bool:
        """True when an abort hit ``task`` after its call had already finished.

        The cancellation is then still pending on the task; the caller must absorb it
        (one ``await asyncio.sleep(0)`` inside ``claim``) so that it cannot escape later.
        """
        return task in self._aborted


class AbortSignal:
    """Passed as ``signal=`` to calls; fires once, when its controller aborts."""

    __slots__ = ("_in_flight", "aborted", "reason")

    def __init__(self) -> None:
        self.aborted = False
        self.reason: str | None = None
        self._in_flight = InFlight()

    def __repr__(self) -> str:
        return f"AbortSignal(aborted={self.aborted})"


class AbortController:
    """Creates a signal and aborts every call that was given it, at once.

    >>> ctl = AbortController()
    >>> task = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
    >>> ctl.abort()          # the call raises AbortError (ERR_ABORT)
    """

    __slots__ = ("signal",)

    def __init__(self) -> None:
        self.signal = AbortSignal()

    def abort(self, reason: str | None = None) -> None:
        """Abort every pending and future call that uses this controller's signal."""
        signal = self.signal
        if not signal.aborted:
            signal.aborted = True
            signal.reason = reason or "aborted by the caller"
        signal._in_flight.abort_all(signal.reason)

    def __repr__(self) -> str:
        return f"AbortController(aborted={self.signal.aborted})"

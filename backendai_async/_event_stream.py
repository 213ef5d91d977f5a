"""Following a server-sent event stream: one reader task, reconnection, limits, clean ends.

An :class:`EventStream` runs one task for its whole life, as one call scope of the
transport: ``client.close()``, ``client.abort()`` and the ``signal`` end it at once, also
between two connections. Each connection is one ordinary call whose reader parses the
stream and hands decoded events over in batches through a bounded buffer, so a slow
consumer stops the reading (and TCP stops the server) instead of filling memory.

A connection that breaks, falls silent for ``idle_timeout`` (keep-alive comments count as
traffic) or ends is replaced, with ``Last-Event-ID`` when the stream set ids and after the
server's ``retry:`` delay (doubled per failure), at most ``reconnect`` times in a row
without an event. ``event_timeout`` bounds the wait for the next *event* (keep-alives do
not count): events may be hours apart, so it is off unless asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from ._retry import reconnect_delay
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEEvent, SSEOverflowError, SSEParser
from .errors import ClientError, RequestTimeoutError, ResponseError

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from ._abort import AbortSignal
    from ._http import PathSpec
    from .resources._base import Api

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_RECONNECT",
    "DEFAULT_RECONNECT_DELAY",
    "EventStream",
    "follow",
]

_log = logging.getLogger("backendai_async")
T = TypeVar("T")
DEFAULT_IDLE_TIMEOUT: Final = 60.0
"""Seconds of silence (not even a keep-alive) after which a connection counts as dead;
both real managers send ``: ping`` every 15 s."""
DEFAULT_RECONNECT: Final = 5
DEFAULT_RECONNECT_DELAY: Final = 1.0
DEFAULT_BUFFER: Final = 256
"""Decoded events held for a consumer that is behind, before the reading stops."""
_EXPIRED: Final = object()
_READ_SIZE: Final = 64 * 1024  # bytes parsed at a time: a few hundred events, not thousands


class _Channel(Generic[T]):
    """Decoded events on their way from the reader task to the consumer, bounded."""

    __slots__ = ("_end", "_getter", "_items", "_limit", "_putter")

    def __init__(self, limit: int) -> None:
        self._items: deque[T] = deque()
        self._limit = limit
        self._getter: asyncio.Future[Any] | None = None
        self._putter: asyncio.Future[None] | None = None
        self._end: BaseException | None = None  # StopAsyncIteration, or the error to raise

    @property
    def full(self) -> bool:
        return len(self._items) >= self._limit

    def put(self, items: Sequence[T]) -> None:
        self._items.extend(items)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def room(self) -> None:
        """Wait until the consumer has taken events (or the stream ended)."""
        while len(self._items) >= self._limit and self._end is None:
            self._putter = asyncio.get_running_loop().create_future()
            try:
                await self._putter
            finally:
                self._putter = None

    def end(self, error: BaseException | None) -> None:
        """No more events; the consumer gets ``error`` after the ones already here."""
        if self._end is None:
            self._end = error if error is not None else StopAsyncIteration()
        for waiter in (self._getter, self._putter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def get(self, timeout: float | None) -> Any:
        """The next event; ``_EXPIRED`` when none came within ``timeout``; raises at the end."""
        while not self._items:
            if self._end is not None:
                end, self._end = self._end, StopAsyncIteration()
                raise end
            loop = asyncio.get_running_loop()
            getter = self._getter = loop.create_future()
            timer = None if timeout is None else loop.call_later(timeout, _expire, getter)
            try:
                if await getter is _EXPIRED:
                    return _EXPIRED
            finally:
                self._getter = None
                if timer is not None:
                    timer.cancel()
        item = self._items.popleft()
        putter = self._putter
        if putter is not None and not putter.done() and len(self._items) < self._limit:
            putter.set_result(None)
        return item


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(_EXPIRED)


class EventStream(Generic[T]):
    """A followed event stream: ``async with`` it, then ``async for`` its events.

    Entering waits for the first connection (its errors are raised there: a 404, a refused
    login …). Iteration ends when ``final`` says an event is the last one, and raises a
    :class:`ClientError` when the stream cannot go on. Leaving the ``async with`` (also by
    ``break``, an exception or a cancellation) closes the connection and stops the task.
    """

    __slots__ = (
        "_api",
        "_channel",
        "_decode",
        "_event_timeout",
        "_fatal",
        "_final",
        "_idle",
        "_max_event_size",
        "_params",
        "_path",
        "_ready",
        "_reconnect",
        "_reconnect_delay",
        "_retry_hint",
        "_seen",
        "_signal",
        "_task",
        "_timeout",
        "connections",
        "last_event_id",
    )

    def __init__(
        self,
        api: Api,
        path: PathSpec,
        params: Sequence[tuple[str, str]],
        decode: Callable[[SSEEvent], T | None],
        *,
        final: Callable[[T], bool] | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        event_timeout: float | None = None,
        reconnect: int = DEFAULT_RECONNECT,
        reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        buffer: int = DEFAULT_BUFFER,
        timeout: float | None = None,
        signal: AbortSignal | None = None,
    ) -> None:
        _positive("idle_timeout", idle_timeout)
        _positive("event_timeout", event_timeout)
        _positive("timeout", timeout)
        if not isinstance(reconnect, int) or isinstance(reconnect, bool) or reconnect < 0:
            raise ValueError(f"reconnect must be a non-negative int, got {reconnect!r}")
        if isinstance(reconnect_delay, bool) or not (
            isinstance(reconnect_delay, (int, float)) and reconnect_delay >= 0
        ):
            raise ValueError(f"reconnect_delay must be >= 0 seconds, got {reconnect_delay!r}")
        if not isinstance(buffer, int) or isinstance(buffer, bool) or buffer < 1:
            raise ValueError(f"buffer must be a positive int, got {buffer!r}")
        SSEParser(max_event_size)  # checks it
        self._api = api
        self._path = path
        self._params = list(params)
        self._decode = decode
        self._final = final
        self._idle = idle_timeout
        self._event_timeout = event_timeout
        self._reconnect = reconnect
        self._reconnect_delay = float(reconnect_delay)
        self._max_event_size = max_event_size
        self._timeout = timeout
        self._signal = signal
        self._channel: _Channel[T] = _Channel(buffer)
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._fatal: ClientError | None = None
        self._retry_hint: int | None = None
        self._seen = 0
        self.connections = 0
        """How many connections delivered the stream so far (reconnections included)."""
        self.last_event_id = ""
        """The id of the last event (sent back as ``Last-Event-ID``); empty if none."""

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("open" if self._task is not None else "new")
        return f"<EventStream {state}, {self.connections} connection(s)>"

    @property
    def closed(self) -> bool:
        return self._task is not None and self._task.done()

    # -- the consumer's side ---------------------------------------------------------

    async def __aenter__(self) -> EventStream[T]:
        if self._task is not None:
            raise RuntimeError("an EventStream is entered once; make a new one to follow again")
        loop = asyncio.get_running_loop()
        self._ready = ready = loop.create_future()
        self._task = loop.create_task(self._main())
        try:
            await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await self.aclose()
            raise
        if ready.done() and not ready.cancelled():
            ready.result()  # raises the first connection's error
            return self
        await self.aclose()
        raise RuntimeError("the event stream ended before it connected")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream[T]:
        if self._task is None:
            raise RuntimeError(
                "use 'async with' around an EventStream before iterating it, so that it is "
                "closed however the loop ends"
            )
        return self

    async def __anext__(self) -> T:
        channel = self._channel
        items = channel._items
        if items:  # the fast path: an event is already here
            result: T = items.popleft()
            putter = channel._putter
            if putter is not None and len(items) < channel._limit and not putter.done():
                putter.set_result(None)
            return result
        item = await channel.get(self._event_timeout)
        if item is _EXPIRED:
            await self.aclose()
            raise self._event_timeout_error()
        result = item
        return result

    async def next(self, timeout: float | None) -> T | None:
        """The next event, or None when none arrives within ``timeout`` seconds.

        Raises ``StopAsyncIteration`` once the stream has ended (and its error, if any).
        """
        item = await self._channel.get(timeout)
        return None if item is _EXPIRED else item

    async def aclose(self) -> None:
        """Close the connection and stop the reader task (idempotent)."""
        task = self._task
        self._channel.end(None)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})  # the caller's own cancellation still propagates

    # -- the reader task -------------------------------------------------------------

    async def _main(self) -> None:
        ready = self._ready
        assert ready is not None
        error: BaseException | None = None
        try:
            await self._api.scoped(
                self._follow,
                method="GET",
                path=self._path,
                timeout=self._timeout,
                signal=self._signal,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # kept for the consumer: the task itself never fails
            error = exc
        finally:
            if not ready.done():
                if error is None:
                    ready.cancel()
                else:
                    ready.set_exception(error)
                    error = None
            self._channel.end(error)

    async def _follow(self, deadline: float | None) -> None:
        failures = 0
        while True:
            seen = self._seen
            headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else None
            failure: ClientError | None = None
            try:
                if await self._api.send(
                    "GET",
                    self._path,
                    params=self._params,
                    headers=headers,
                    timeout=None,
                    idle_timeout=self._idle,
                    reader=self._consume,
                    signal=self._signal,
                ):
                    return  # the final event arrived
            except ClientError as err:
                if err is self._fatal or self.connections == 0:
                    raise
                failure = err
            failures = 1 if self._seen > seen else failures + 1
            delay = reconnect_delay(failure, failures, self._retry_hint, self._reconnect_delay)
            if delay is None:
                assert failure is not None
                raise failure
            if failures > self._reconnect:
                raise failure or ResponseError(
                    f"the event stream ended {failures} times in a row without an event "
                    f"(reconnect={self._reconnect})",
                    title="Event stream ended",
                )
            _log.debug(
                "event stream %s ended (%s); reconnecting in %.2f s",
                self._path if isinstance(self._path, str) else "",
                failure.message if failure is not None else "closed by the server",
                delay,
            )
            await asyncio.sleep(delay)

    async def _consume(self, resp: ClientResponse, _limit: int | None) -> bool:
        """One connection's reader: parse, decode, hand over; True at the final event."""
        if resp.content_type != "text/event-stream":
            raise self._fail(f"the answer is {resp.content_type}, not text/event-stream")
        parser = SSEParser(self._max_event_size, self.last_event_id)
        self.connections += 1
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_result(None)
        channel, decode, final = self._channel, self._decode, self._final
        content = resp.content
        while True:
            chunk = await content.read(_READ_SIZE)
            if not chunk:
                parser.close()
                return False
            try:
                events = parser.feed(chunk)
            except SSEOverflowError as exc:
                raise self._fail(str(exc)) from None
            if parser.retry is not None:
                self._retry_hint = parser.retry
            if not events:
                continue
            self._seen += len(events)
            self.last_event_id = parser.last_event_id
            try:
                batch = [item for item in map(decode, events) if item is not None]
            except (ValueError, TypeError):
                raise self._unusable(events) from None
            if not batch:
                continue
            if final is not None:
                for i, item in enumerate(batch):
                    if final(item):
                        channel.put(batch[: i + 1])
                        return True
            channel.put(batch)
            if channel.full:
                await channel.room()

    def _unusable(self, events: list[SSEEvent]) -> ClientError:
        """The error for the first event of ``events`` that does not decode (a cold path)."""
        for event in events:
            try:
                self._decode(event)
            except (ValueError, TypeError) as exc:
                return self._fail(f"unusable {event.event!r} event: {exc}")
        return self._fail("an event does not decode")  # pragma: no cover

    def _fail(self, message: str) -> ClientError:
        """An error no reconnection can mend (the same answer would come again)."""
        self._fatal = ResponseError(
            f"reading the event stream has failed: {message}", title="Event stream unusable"
        )
        return self._fatal

    def _event_timeout_error(self) -> RequestTimeoutError:
        return RequestTimeoutError.expired(
            f"no event arrived within event_timeout ({self._event_timeout:g} s); keep-alive "
            "comments do not count",
            "event",
            self._event_timeout,
            request_method="GET",
            request_url=self._path if isinstance(self._path, str) else None,
        )


def _positive(name: str, value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
    ):
        raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")


async def follow(stream: EventStream[T]) -> AsyncIterator[T]:
    """Iterate ``stream`` inside its own ``async with`` (for ``async for`` without one).

    Breaking out of the loop closes the stream when the generator is collected (at once in
    CPython); wrap it in ``contextlib.aclosing`` to close it at a known point.
    """
    async with stream:
        async for item in stream:
            yield item

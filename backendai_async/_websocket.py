"""A WebSocket the transport opened: limits, close codes as ClientErrors, one way to close.

Every ``receive`` and ``send`` runs as a call scope of the client, so ``client.abort()``,
``close()`` and the ``signal`` interrupt it (``AbortError``); after ``client.close()`` the
client's own session is closed, which closes the socket too. Limits: ``first_frame_timeout``
for the first message (a real manager answers 101 for a session that cannot stream and then
sends nothing at all), ``idle_timeout`` between messages, the heartbeat (aiohttp pings;
a peer that stops answering closes the socket). Back-pressure is aiohttp's: unread
messages beyond 64 KiB pause the reading, and TCP stops the sender.

How a socket ended becomes a value or an error: a close with 1000 (normal) or 1001 (going
away) is the end (``receive`` returns None); a dropped connection (1006) is a
``RequestError``; 1009 (too big) a ``ResponseError``; any other code a
:class:`~backendai_async.WebSocketClosedError` carrying the code and reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
from aiohttp import WSCloseCode, WSMsgType
from yarl import URL

from ._abort import AbortSignal
from ._http import PathSpec, Transport, safe_url
from ._secrets import redact
from .errors import (
    ClientError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    UnderlyingError,
    WebSocketClosedError,
)

__all__ = [
    "DEFAULT_FIRST_FRAME_TIMEOUT",
    "DEFAULT_HEARTBEAT",
    "WebSocket",
    "close_error",
    "open_websocket",
]

DEFAULT_FIRST_FRAME_TIMEOUT: Final = 30.0
DEFAULT_HEARTBEAT: Final = 30.0
_CLEAN = frozenset({WSCloseCode.OK, WSCloseCode.GOING_AWAY})
Scoped = Callable[..., Awaitable[Any]]


def close_error(code: int | None, reason: str | None, url: str) -> ClientError | None:
    """The error for a socket the server closed with ``code`` (None: a clean end)."""
    fields: dict[str, Any] = {"request_method": "GET", "request_url": url}
    if code in _CLEAN:
        return None
    if code is None or code == WSCloseCode.ABNORMAL_CLOSURE:
        return RequestError(
            "the WebSocket connection broke (no close frame arrived)",
            title="Request failed",
            **fields,
        )
    if code == WSCloseCode.MESSAGE_TOO_BIG:
        return ResponseError(
            "a WebSocket message was larger than the limit (close code 1009)",
            title="Response unreadable",
            **fields,
        )
    err = WebSocketClosedError(
        f"the server closed the WebSocket with code {code}" + (f": {reason}" if reason else ""),
        title=f"WebSocket closed ({code})",
        **fields,
    )
    err.close_code = code
    err.close_reason = reason or None
    return err


class WebSocket:
    """An open WebSocket: ``receive()`` (``str``, ``bytes``, or None at the end), ``send_*``."""

    __slots__ = (
        "_error",
        "_first",
        "_idle",
        "_scoped",
        "_seen",
        "_signal",
        "_where",
        "_ws",
        "url",
    )

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse[bool],
        scoped: Scoped,
        url: URL,
        *,
        first_frame_timeout: float | None,
        idle_timeout: float | None,
        signal: AbortSignal | None,
    ) -> None:
        self._ws = ws
        self._scoped = scoped
        self._where = url
        self.url = safe_url(url)
        self._first = first_frame_timeout
        self._idle = idle_timeout
        self._signal = signal
        self._seen = False
        self._error: ClientError | None = None  # how it ended, raised again on each use

    def __repr__(self) -> str:
        return f"<WebSocket {self.url} {'closed' if self.closed else 'open'}>"

    @property
    def closed(self) -> bool:
        return self._ws.closed

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    async def receive(self) -> str | bytes | None:
        """The next message; None once the server closed normally. Raises how it ended."""
        if self._error is not None:
            raise self._error
        if self._ws.closed:
            return None
        return await self._scoped(  # type: ignore[no-any-return]
            self._receive, method="GET", path=self._where, timeout=None, signal=self._signal
        )

    async def _receive(self, _deadline: float | None) -> str | bytes | None:
        limit = self._idle if self._seen else self._first
        try:
            msg = await self._ws.receive(limit)
        except asyncio.TimeoutError:
            phase = "idle" if self._seen else "first-frame"
            await self.close()
            raise self._ended(self._timeout(phase, limit)) from None
        if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
            self._seen = True
            data: str | bytes = msg.data
            return data
        exc = msg.data if msg.type is WSMsgType.ERROR else self._ws.exception()
        await self.close()
        if isinstance(exc, aiohttp.ServerTimeoutError):
            raise self._ended(self._timeout("heartbeat", None, exc))
        if isinstance(exc, aiohttp.WebSocketError) and exc.code == WSCloseCode.MESSAGE_TOO_BIG:
            raise self._ended(close_error(exc.code, None, self.url), exc)
        if msg.type is WSMsgType.CLOSE:
            error = close_error(msg.data, msg.extra, self.url)
        elif msg.type is WSMsgType.CLOSING:
            error = close_error(self._ws.close_code, None, self.url)
        else:  # CLOSED or ERROR: the connection ended without a close frame
            error = close_error(None, None, self.url)
        if error is None:
            return None
        raise self._ended(error, exc if isinstance(exc, BaseException) else None)

    def _ended(self, error: ClientError | None, cause: BaseException | None = None) -> ClientError:
        assert error is not None
        if cause is not None:
            error.__cause__ = UnderlyingError(type(cause), redact(str(cause)))
        self._error = error
        return error

    def _timeout(
        self, phase: str, limit: float | None, cause: BaseException | None = None
    ) -> RequestTimeoutError:
        what = {
            "first-frame": f"no message arrived within {limit:g} s of opening the WebSocket",
            "idle": f"no message arrived for {limit:g} s (idle limit)",
            "heartbeat": "the server stopped answering the WebSocket heartbeat",
        }[phase]
        err = RequestTimeoutError.expired(
            what, phase, limit, request_method="GET", request_url=self.url
        )
        if cause is not None:
            err.__cause__ = UnderlyingError(type(cause), redact(str(cause)))
        return err

    async def send_str(self, data: str) -> None:
        await self._send(self._ws.send_str, data)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(self._ws.send_bytes, data)

    async def send_json(self, data: Any) -> None:
        await self._send(self._ws.send_str, json.dumps(data, separators=(",", ":")))

    async def _send(self, send: Callable[[Any], Awaitable[None]], data: Any) -> None:
        if self._error is not None:
            raise self._error
        if self._ws.closed:
            raise RequestError(
                "the WebSocket is closed", title="Request failed", request_url=self.url
            )

        async def work(_deadline: float | None) -> None:
            try:
                await send(data)
            except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                await self.close()
                error = RequestError(
                    f"sending on the WebSocket has failed: {type(exc).__name__}",
                    title="Request failed",
                    request_method="GET",
                    request_url=self.url,
                )
                raise self._ended(error, exc) from None

        await self._scoped(work, method="GET", path=self._where, signal=self._signal)

    async def close(self, code: int = WSCloseCode.OK) -> None:
        """Send a close frame (bounded wait for the answer) and release the connection."""
        if not self._ws.closed:
            await self._ws.close(code=code)


async def open_websocket(
    transport: Transport,
    path: PathSpec,
    *,
    params: Any = None,
    timeout: Any = None,
    signal: AbortSignal | None = None,
    heartbeat: float | None = DEFAULT_HEARTBEAT,
    max_msg_size: int = 4 * 1024 * 1024,
    first_frame_timeout: float | None = DEFAULT_FIRST_FRAME_TIMEOUT,
    idle_timeout: float | None = None,
) -> WebSocket:
    """Open (signed handshake within ``timeout``) and wrap a WebSocket."""
    ws, url = await transport.websocket(
        path,
        params=params,
        timeout=timeout,
        signal=signal,
        heartbeat=heartbeat,
        max_msg_size=max_msg_size,
    )
    return WebSocket(
        ws,
        transport.scoped,
        url,
        first_frame_timeout=first_frame_timeout,
        idle_timeout=idle_timeout,
        signal=signal,
    )

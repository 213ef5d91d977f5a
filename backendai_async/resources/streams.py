"""Interactive streams over WebSockets (issue 11): ``client.streams`` and the aliases.

``stream_pty`` (a terminal), ``stream_execute`` (code execution with its results as they
come) and ``stream_proxy`` (a tunnel to an app of the session, as the manager's
``/stream/session/{name}/tcpproxy`` and ``httpproxy`` offer on every release). Each returns
an async context manager; the socket is opened on entering and closed on leaving, however
the block ends. The framing (JSON, base64) is described here; the socket, its limits and
its close codes are ``_websocket.py``'s.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

from .._websocket import DEFAULT_FIRST_FRAME_TIMEOUT, DEFAULT_HEARTBEAT
from ..errors import ResponseError, ServerError
from ..timeouts import USE_DEFAULT, UseDefault
from ..types import ExecutionResult
from ._base import Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat
    from .._websocket import WebSocket

__all__ = [
    "ExecuteStream",
    "ProxyStream",
    "PtyStream",
    "Streams",
]

Timeout = float | UseDefault | None
S = TypeVar("S", bound="_Stream")
_EXECUTE_MODES = ("query", "batch")


def _segment(session: object) -> str:
    if not isinstance(session, str) or not session or session in (".", "..") or "/" in session:
        raise ValueError(f"session must be a session name or id, got {session!r}")
    return quote(session, safe="")


def _unusable(ws: WebSocket, what: str) -> ResponseError:
    return ResponseError(
        f"reading the WebSocket has failed: {what}",
        title="Response unreadable",
        request_method="GET",
        request_url=ws.url,
    )


class _Stream:
    """The common part: open on ``__aenter__``, close on ``__aexit__``, iterate until None."""

    __slots__ = ("_open", "_ws")

    def __init__(self, open_socket: Callable[[], Awaitable[WebSocket]]) -> None:
        self._open = open_socket
        self._ws: WebSocket | None = None

    @property
    def socket(self) -> WebSocket:
        if self._ws is None:
            raise RuntimeError("use 'async with' to open the stream first")
        return self._ws

    async def __aenter__(self: S) -> S:
        if self._ws is not None:
            raise RuntimeError("a stream is entered once; make a new one to connect again")
        self._ws = await self._open()
        try:
            await self._start()
        except BaseException:
            await self._ws.close()
            raise
        return self

    async def _start(self) -> None:
        """What the protocol sends first (nothing by default)."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    @property
    def closed(self) -> bool:
        return self._ws is not None and self._ws.closed


class _Chunks(_Stream):
    """Iteration over ``receive()`` until it returns None (the socket closed normally)."""

    __slots__ = ()

    async def receive(self) -> bytes | None:
        raise NotImplementedError

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        data = await self.receive()
        if data is None:
            raise StopAsyncIteration
        return data


class PtyStream(_Chunks):
    """A terminal in the session: ``send`` keystrokes, ``receive`` output, ``resize``.

    ``receive()`` returns the next output bytes, or None once the server closed the socket.
    Iterating gives the same until the end.
    """

    __slots__ = ()

    async def send(self, data: bytes | str) -> None:
        """Type ``data`` into the terminal (a ``str`` is sent UTF-8 encoded)."""
        raw = data.encode() if isinstance(data, str) else data
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes or str, got {type(data).__name__}")
        chars = base64.b64encode(bytes(raw)).decode("ascii")
        await self.socket.send_json({"type": "stdin", "chars": chars})

    async def resize(self, rows: int, cols: int) -> None:
        """Tell the terminal its new size."""
        for what, value in (("rows", rows), ("cols", cols)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
                raise ValueError(f"{what} must be an int in 1-65535, got {value!r}")
        await self.socket.send_json({"type": "resize", "rows": rows, "cols": cols})

    async def restart(self) -> None:
        """Restart the session's kernel (the terminal reconnects to the new one)."""
        await self.socket.send_json({"type": "restart"})

    async def receive(self) -> bytes | None:
        ws = self.socket
        while True:
            message = await ws.receive()
            if message is None:
                return None
            try:
                frame = json.loads(message)
                if not isinstance(frame, dict):
                    raise ValueError("not a JSON object")
                if frame.get("type") != "out":
                    continue  # other frame types carry nothing to show
                data = frame.get("data")
                if not isinstance(data, str):
                    raise ValueError("an 'out' frame without data")
                return base64.b64decode(data, validate=True)
            except (ValueError, binascii.Error) as exc:
                raise _unusable(ws, f"not a terminal frame: {exc}") from None


class ExecuteStream(_Stream):
    """One run of code, its results as they come: ``async for result in ex``.

    Each result is an :class:`ExecutionResult`; the last has status ``finished``. When one
    says ``waiting-input``, answer with :meth:`send_input`. A run the server reports as
    failed (``error``, ``server-restarting``) raises ``ServerError``; a socket that ends
    before ``finished`` raises ``ResponseError``.
    """

    __slots__ = ("_finished", "_request")

    def __init__(
        self, open_socket: Callable[[], Awaitable[WebSocket]], request: dict[str, Any]
    ) -> None:
        super().__init__(open_socket)
        self._request = request
        self._finished = False

    async def _start(self) -> None:
        await self.socket.send_json(self._request)

    async def send_input(self, text: str) -> None:
        """The answer to a ``waiting-input`` result (what the code's ``input()`` reads)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        await self.socket.send_str(text)

    def __aiter__(self) -> ExecuteStream:
        return self

    async def __anext__(self) -> ExecutionResult:
        if self._finished:
            raise StopAsyncIteration
        ws = self.socket
        message = await ws.receive()
        if message is None:
            raise _unusable(ws, "the socket closed before the run finished")
        try:
            result = json.loads(message)
        except ValueError as exc:
            raise _unusable(ws, f"a result that is not JSON: {exc}") from None
        if not isinstance(result, dict) or not isinstance(result.get("status"), str):
            raise _unusable(ws, "a result without a status")
        status = result["status"]
        if status in ("error", "server-restarting"):
            self._finished = True
            raise ServerError(
                f"the run failed: {status}: {result.get('msg') or 'no message'}",
                title=f"Execution {status}",
                request_method="GET",
                request_url=ws.url,
                body=result,
            )
        if status == "finished":
            self._finished = True
        typed: ExecutionResult = result  # type: ignore[assignment]
        return typed


class ProxyStream(_Chunks):
    """A byte tunnel to an app of the session (``sshd``, ``jupyter`` …).

    ``send`` bytes to the app, ``receive`` what it answers (None once the tunnel closed:
    the app ended the connection, close code 1001). An app that refuses the connection
    closes the tunnel with 1013, raised as ``WebSocketClosedError``.
    """

    __slots__ = ()

    async def send(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        await self.socket.send_bytes(bytes(data))

    async def receive(self) -> bytes | None:
        ws = self.socket
        message = await ws.receive()
        if message is None:
            return None
        return message.encode() if isinstance(message, str) else message


class Streams(Resource):
    """``client.streams``: terminals, streamed execution and app tunnels (WebSockets).

    Common keywords: ``timeout`` bounds the handshake (the client's default deadline);
    ``first_frame_timeout`` (30 s) the wait for the first message, ``idle_timeout``
    (None) the silence between messages; ``heartbeat`` (30 s) pings the server and
    closes a socket whose peer stopped answering; ``signal`` aborts like any call.
    """

    __slots__ = ()

    def _opener(
        self,
        path: Callable[[Compat], str],
        params: list[tuple[str, str]] | None,
        timeout: Timeout,
        signal: AbortSignal | None,
        heartbeat: float | None,
        first_frame_timeout: float | None,
        idle_timeout: float | None,
    ) -> Callable[[], Awaitable[WebSocket]]:
        for name, value in (
            ("heartbeat", heartbeat),
            ("first_frame_timeout", first_frame_timeout),
            ("idle_timeout", idle_timeout),
        ):
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"{name} must be positive seconds or None, got {value!r}")

        def open_socket() -> Awaitable[WebSocket]:
            return self._api.websocket(
                path,
                params=params,
                timeout=timeout,
                signal=signal,
                heartbeat=heartbeat,
                first_frame_timeout=first_frame_timeout,
                idle_timeout=idle_timeout,
            )

        return open_socket

    def stream_pty(
        self,
        session: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        first_frame_timeout: float | None = DEFAULT_FIRST_FRAME_TIMEOUT,
        idle_timeout: float | None = None,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        signal: AbortSignal | None = None,
    ) -> PtyStream:
        """A terminal: ``async with client.stream_pty("s1") as pty`` (``/stream/.../pty``)."""
        ref = _segment(session)
        return PtyStream(
            self._opener(
                lambda c: f"{c.stream_prefix}/{ref}/pty",
                None,
                timeout,
                signal,
                heartbeat,
                first_frame_timeout,
                idle_timeout,
            )
        )

    def stream_execute(
        self,
        session: str,
        mode: Literal["query", "batch"] = "query",
        code: str = "",
        opts: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        first_frame_timeout: float | None = DEFAULT_FIRST_FRAME_TIMEOUT,
        idle_timeout: float | None = None,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        signal: AbortSignal | None = None,
    ) -> ExecuteStream:
        """Run ``code`` and stream its results (``/stream/.../execute``).

        ``mode`` is ``query`` (code) or ``batch`` (``opts`` with ``build``/``exec``
        commands), the two the manager streams.
        """
        ref = _segment(session)
        if mode not in _EXECUTE_MODES:
            raise ValueError(f"mode must be 'query' or 'batch' for a stream, got {mode!r}")
        if not isinstance(code, str):
            raise ValueError(f"code must be a string, got {type(code).__name__}")
        if opts is not None and not isinstance(opts, Mapping):
            raise ValueError(f"opts must be a mapping, got {type(opts).__name__}")
        request = {"mode": mode, "code": code, "options": dict(opts or {})}
        return ExecuteStream(
            self._opener(
                lambda c: f"{c.stream_prefix}/{ref}/execute",
                None,
                timeout,
                signal,
                heartbeat,
                first_frame_timeout,
                idle_timeout,
            ),
            request,
        )

    def stream_proxy(
        self,
        session: str,
        app: str,
        protocol: Literal["tcp", "http"] = "tcp",
        port: int | None = None,
        *,
        envs: Mapping[str, str] | None = None,
        args: Mapping[str, Any] | None = None,
        timeout: Timeout = USE_DEFAULT,
        first_frame_timeout: float | None = None,
        idle_timeout: float | None = None,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        signal: AbortSignal | None = None,
    ) -> ProxyStream:
        """A tunnel to ``app`` of the session (``/stream/.../tcpproxy`` or ``httpproxy``).

        The manager starts the app if needed (``envs``/``args`` as for ``start_service``).
        An app that talks first is rare, so there is no first-frame limit by default.
        """
        ref = _segment(session)
        if not isinstance(app, str) or not app:
            raise ValueError(f"app must be a non-empty string, got {app!r}")
        if protocol not in ("tcp", "http"):
            raise ValueError(f"protocol must be 'tcp' or 'http', got {protocol!r}")
        params = [("app", app)]
        if port is not None:
            if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
                raise ValueError(f"port must be an int in 1024-65535, got {port!r}")
            params.append(("port", str(port)))
        for name, value in (("envs", envs), ("arguments", args)):
            if value is not None:
                if not isinstance(value, Mapping):
                    raise ValueError(f"{name} must be a mapping, got {type(value).__name__}")
                params.append((name, json.dumps(dict(value))))
        return ProxyStream(
            self._opener(
                lambda c: f"{c.stream_prefix}/{ref}/{protocol}proxy",
                params,
                timeout,
                signal,
                heartbeat,
                first_frame_timeout,
                idle_timeout,
            )
        )

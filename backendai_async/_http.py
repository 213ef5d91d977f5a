"""The one place that sends requests: deadline, aborts, negotiation, retries, error mapping.

Everything above this module (the client, the resources) describes *what* to send; this
module decides how it is sent and how an aiohttp outcome becomes a value or a
:class:`ClientError`. Each exception is classified by the phase it happened in (see
``docs/errors.md``), and translated here only, where secrets are masked once.

One call is one scope: its deadline, its ``signal`` and ``client.abort()`` cover every wait
it makes, in this order: the version negotiation (shared, under a lock), the admission gate
at the pool limit, connection set-up, each attempt, the waits between attempts, and the
reader (which may stream a body to a file). The deadline is a timer that cancels the task;
the cancellation is recognised here and raised as ``RequestTimeoutError``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias, TypeVar, cast

import aiohttp
from aiohttp import ClientResponse
from yarl import URL

from ._abort import AbortSignal, InFlight
from ._body import decode_body, read_error_body
from ._retry import MAX_RETRY_AFTER, NO_RETRY, RetryPolicy, parse_retry_after, retry_delay
from ._secrets import mask_secrets, redact, safe_url, url_secrets
from .errors import (
    AbortError,
    AuthenticationError,
    ClientClosedError,
    ClientError,
    GraphQLError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    UnderlyingError,
    UnknownError,
    graphql_message,
)
from .timeouts import USE_DEFAULT, Timeouts, UseDefault

if TYPE_CHECKING:
    from ._compat import Compat

__all__ = [
    "PathSpec",
    "ResponseReader",
    "Transport",
    "safe_url",
]

_log = logging.getLogger("backendai_async")
T = TypeVar("T")
ResponseReader = Callable[[ClientResponse, "int | None"], Awaitable[Any]]
PathSpec: TypeAlias = "str | Callable[[Compat], str]"
"""An API path, or a function of the negotiated version's :class:`Compat` that gives it."""
Negotiator = Callable[[RetryPolicy, "AbortSignal | None"], Awaitable["Compat"]]
_DEADLINE = "backendai_async: deadline"


def _request_fields(method: str, url: URL | str, parameters: Any) -> dict[str, Any]:
    """What every error records about its request (the URL and parameters masked)."""
    return {
        "request_method": method,
        "request_url": safe_url(url) if isinstance(url, URL) else url,
        "request_parameters": parameters,
    }


_ENCODER = json.JSONEncoder(separators=(",", ":"))
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)


def _encode_json(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))``: what ``JSONEncoder.encode`` does for a
    dict or list, without its Python frames (the C encoder, built as ``iterencode`` builds
    it, with fresh circular-reference markers each time)."""
    if _c_make_encoder is None or not isinstance(value, (dict, list)):
        return _ENCODER.encode(value)
    return "".join(
        _c_make_encoder({}, _ENCODER.default, _encode_ascii, None, ":", ",", False, False, True)(
            value, 0
        )
    )


_encode_ascii = json.encoder.encode_basestring_ascii


class _Expiry:
    """A call's deadline: when it fires, it cancels the call's task (and says so)."""

    __slots__ = ("deadline", "fired", "handle", "limit", "task")

    def __init__(self, task: asyncio.Task[Any], limit: float, deadline: float) -> None:
        self.task = task
        self.limit = limit
        self.deadline = deadline
        self.fired = False
        self.handle: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel(_DEADLINE)


class _Gate:
    """The admission gate: ``free`` slots, and the calls waiting for one, first come first
    served. Taking a free slot is two attribute operations (no await, no frame): the call
    site does ``if gate.free > 0 and not gate.waiters: gate.free -= 1`` and awaits
    :meth:`wait` only otherwise. :meth:`release` hands the slot straight to the next waiter.
    """

    __slots__ = ("free", "waiters")

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def wait(self) -> None:
        """Wait for a slot (it is this call's once this returns)."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as we were cancelled: pass it on
            # else the cancelled waiter stays queued; release() skips it
            raise

    def release(self) -> None:
        """Give the slot back: to the first live waiter, else to the free count."""
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class Transport:
    """Sends every call of one client through an ``aiohttp.ClientSession``.

    The client sets ``compat`` and the header dicts (``plain_headers``, ``json_headers``)
    when the version is negotiated or the login changes, ``known_secrets`` (masked in every
    error text) and ``closed``.
    """

    __slots__ = (
        "_base",
        "_client_timeout",
        "_client_timeouts",
        "_default_reader",
        "_gate",
        "_in_flight",
        "_loop",
        "_max_size",
        "_middlewares",
        "_negotiate",
        "_prefix",
        "_proxy",
        "_session",
        "_timeouts",
        "_urls",
        "closed",
        "compat",
        "json_headers",
        "known_secrets",
        "plain_headers",
        "probe_headers",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: URL,
        timeouts: Timeouts,
        *,
        in_flight: InFlight,
        negotiate: Negotiator,
        middlewares: Sequence[aiohttp.ClientMiddlewareType] | None = None,
        proxy: URL | None = None,
        max_response_size: int | None = None,
        limit: int = 0,
        path_prefix: str = "",
        default_reader: ResponseReader = decode_body,
    ) -> None:
        # Admission gate mirroring the connector's limit: a call waiting for a connection
        # then holds only its own frames, not an aiohttp ClientRequest, timer and middleware
        # chain (10,000 queued calls: 155 -> 71 MiB peak RSS in `python -m bench --only scale`).
        self._gate = _Gate(limit) if limit else None
        self._loop = asyncio.get_running_loop()
        self._client_timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._session = session
        self._base = str(base_url).rstrip("/")
        self._prefix = path_prefix
        self._timeouts = timeouts
        self._client_timeout = self._aiohttp_timeout(timeouts, None)
        self._urls: dict[str, URL] = {}
        self._in_flight = in_flight
        self._negotiate = negotiate
        self._middlewares = tuple(middlewares) if middlewares is not None else None
        self._proxy = proxy
        self._max_size = max_response_size
        self._default_reader = default_reader
        self.closed = False
        self.compat: Compat | None = None
        self.plain_headers: Mapping[str, str] = {}
        self.json_headers: Mapping[str, str] = {}
        self.probe_headers: Mapping[str, str] = {}
        self.known_secrets: tuple[str, ...] = ()

    def url(self, path: str) -> URL:
        """Endpoint + path (SESSION mode adds ``/func`` except to ``/server/*``)."""
        if not path.startswith("/"):
            raise ValueError(f"request path must start with '/': {path!r}")
        if self._prefix and not path.startswith("/server/"):
            path = self._prefix + path
        return URL(self._base + path)

    def _cached_url(self, path: str) -> URL:
        """:meth:`url`, remembered per path (a client calls a few paths many times)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= 256:
                self._urls.clear()
            url = self._urls[path] = self.url(path)
        return url

    def _aiohttp_timeout(self, timeouts: Timeouts, total: float | None) -> aiohttp.ClientTimeout:
        """aiohttp's limits for one attempt: connect and idle read (the deadline is ours)."""
        key = (timeouts.read, total)
        found = self._client_timeouts.get(key)
        if found is None:
            if len(self._client_timeouts) >= 32:
                self._client_timeouts.clear()
            found = self._client_timeouts[key] = timeouts.to_aiohttp(total)
        return found

    async def call(
        self,
        method: str,
        path: PathSpec | URL,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        retry: int | RetryPolicy = 0,
        reader: ResponseReader | None = None,
        idle_timeout: float | UseDefault | None = USE_DEFAULT,
        parameters: Any = None,
        versioned: bool = True,
        explain: Mapping[int, str] | None = None,
        unknown_outcome: str | None = None,
    ) -> Any:
        """Send one call and return what ``reader`` read (decoded body by default).

        ``path`` is an API path, a function of the negotiated :class:`Compat` giving one, or
        an absolute ``URL`` (a storage proxy: sent with no SDK header but the user agent,
        hence unsigned). ``json`` may also be a function of the ``Compat``. ``versioned``
        False sends without negotiating and without the version header (``GET /``).
        ``timeout`` is the deadline of the whole call; ``idle_timeout`` the idle-read limit.
        ``explain`` maps a status to what it means for this call, added to the message of
        the ``ServerError`` (e.g. 404 → "the session is unknown or was destroyed").
        ``unknown_outcome`` says what to do when the call failed in a way that may still
        have let the server carry it out (a timeout after sending, an abort, a connection
        lost after sending, an unreadable answer, a proxy's 502/504): it is added to that
        error's message, whose type stays the same.
        """
        if (
            retry != 0
            or isinstance(path, URL)
            or (not versioned and (json is not None or not isinstance(path, str)))
        ):
            return await self._general_call(
                method,
                path,
                params,
                json,
                data,
                headers,
                timeout,
                signal,
                RetryPolicy.of(retry),
                reader,
                idle_timeout,
                parameters,
                versioned,
                explain,
                unknown_outcome,
            )
        # The common call, inlined: one attempt to an API path (or the unversioned version
        # probe). The same steps as scoped() + _run() + _attempts() + _once(), in the same
        # order, without their frames.
        try:
            task, expiry = self._enter(method, path, timeout, signal, parameters)
            in_flight = self._in_flight
            try:
                try:
                    if versioned:
                        compat = self.compat
                        if compat is None:
                            compat = await self._negotiate(NO_RETRY, signal)
                        url = self._cached_url(path if isinstance(path, str) else path(compat))
                        if json is None:
                            base = self.plain_headers
                        else:
                            if callable(json):
                                json = json(compat)
                            data = _encode_json(json).encode()
                            base = self.json_headers
                            if parameters is None:
                                parameters = json
                    else:  # the version probe: a plain path, no JSON (see above)
                        url = self._cached_url(cast(str, path))
                        base = self.probe_headers
                    if headers:
                        base = {**base, **headers}
                    timeouts = self._timeouts
                    if idle_timeout is USE_DEFAULT:
                        client_timeout = self._client_timeout
                    else:
                        timeouts = timeouts.with_read(idle_timeout)
                        client_timeout = self._aiohttp_timeout(timeouts, None)
                    gate = self._gate
                    if gate is not None:
                        if gate.free > 0 and not gate.waiters:
                            gate.free -= 1
                        else:
                            await gate.wait()  # inside the deadline
                    try:
                        started = time.perf_counter()
                        failure: ClientError | None = None
                        try:
                            resp = await self._session.request(
                                method,
                                url,
                                params=params,
                                data=data,
                                headers=base,
                                timeout=client_timeout,
                                allow_redirects=False,
                                raise_for_status=False,
                                proxy=self._proxy,
                                middlewares=self._middlewares,
                                auto_decompress=False,  # _body inflates, within the size limits
                            )
                        except asyncio.CancelledError:
                            raise
                        except Exception as exc:
                            failure = self._send_failed(
                                exc, timeouts, NO_RETRY, method, url, parameters
                            )
                        if failure is not None:
                            _raise_alone(failure)  # outside the except block; no __context__
                        result = await self._read(
                            resp, reader, started, timeouts, NO_RETRY, method, url, parameters
                        )
                    finally:
                        if gate is not None:
                            if gate.waiters:
                                gate.release()
                            else:
                                gate.free += 1
                    if in_flight.lost_race(task) or (
                        signal is not None and signal._in_flight.lost_race(task)
                    ):
                        await asyncio.sleep(0)  # let the pending abort land here, where claimed
                    return result
                except asyncio.CancelledError:
                    error = self._cancelled(task, signal, expiry, method, path, parameters)
                    if error is None:
                        raise
                    raise error from None
            finally:
                if expiry is not None and expiry.handle is not None:
                    expiry.handle.cancel()
                in_flight.leave(task)
                if signal is not None:
                    signal._in_flight.leave(task)
        except ClientError as err:
            if explain is not None or unknown_outcome is not None:
                _annotate(err, explain, unknown_outcome)
            raise

    async def _general_call(
        self,
        method: str,
        path: PathSpec | URL,
        params: Any,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        timeout: float | UseDefault | None,
        signal: AbortSignal | None,
        policy: RetryPolicy,
        reader: ResponseReader | None,
        idle_timeout: float | UseDefault | None,
        parameters: Any,
        versioned: bool,
        explain: Mapping[int, str] | None,
        unknown_outcome: str | None,
    ) -> Any:
        """:meth:`call` for retries, unversioned calls and absolute URLs."""
        call = self.scoped(
            lambda deadline: self._run(
                method,
                path,
                params,
                json,
                data,
                headers,
                signal,
                policy,
                reader,
                idle_timeout,
                parameters,
                versioned,
                deadline,
            ),
            method=method,
            path=path,
            timeout=timeout,
            signal=signal,
            parameters=parameters,
        )
        if explain is None and unknown_outcome is None:
            return await call
        try:
            return await call
        except ClientError as err:
            _annotate(err, explain, unknown_outcome)
            raise

    def _enter(
        self,
        method: str,
        path: PathSpec | URL,
        timeout: float | UseDefault | None,
        signal: AbortSignal | None,
        parameters: Any,
    ) -> tuple[asyncio.Task[Any], _Expiry | None]:
        """Open a call's scope: check it may start, track its task, arm its deadline."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("backendai_async calls must run inside an asyncio task")
        loop = self._loop
        if task.get_loop() is not loop:
            raise RuntimeError(
                "this Client was opened on another event loop: a Client (and its aiohttp "
                "session) belongs to the loop it was first used on; create one per loop"
            )
        if self.closed:
            raise ClientClosedError(
                "this Client is closed; create a new Client to make calls",
                title="Client closed",
                **_request_fields(method, self._shown(path), parameters),
            )
        if timeout is USE_DEFAULT:
            total = self._timeouts.total  # checked by Timeouts
        elif timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(
                f"timeout must be a positive number of seconds or None, got {timeout!r}"
            )
        else:
            total = timeout
        if signal is not None and signal.aborted:
            raise self._abort_error(signal.reason, method, self._shown(path), parameters)
        self._in_flight.enter(task)
        if signal is not None:
            signal._in_flight.enter(task)
        if total is None:
            return task, None
        deadline = loop.time() + total
        expiry = _Expiry(task, total, deadline)
        expiry.handle = loop.call_at(deadline, expiry)
        return task, expiry

    def _cancelled(
        self,
        task: asyncio.Task[Any],
        signal: AbortSignal | None,
        expiry: _Expiry | None,
        method: str,
        path: PathSpec | URL,
        parameters: Any,
    ) -> ClientError | None:
        """What a cancelled call raises: its abort or deadline, or None (re-raise the
        ``CancelledError``: it came from elsewhere, or the caller cancelled too)."""
        reason = self._in_flight.claim(task)
        if signal is not None:
            reason = signal._in_flight.claim(task) or reason
        expired = expiry is not None and expiry.fired
        if sys.version_info >= (3, 11):
            if expired:
                task.uncancel()
            if task.cancelling():
                return None  # the caller cancelled too: their cancellation wins
        if reason is not None:
            return self._abort_error(reason, method, self._shown(path), parameters)
        if expiry is not None and expired:
            return self._timeout_error("total", expiry.limit, method, self._shown(path), parameters)
        return None

    async def scoped(
        self,
        work: Callable[[float | None], Awaitable[T]],
        *,
        method: str,
        path: PathSpec | URL,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        parameters: Any = None,
    ) -> T:
        """Run ``work(deadline)`` as one call: inside its deadline, abortable, tracked.

        ``deadline`` is the loop time at which the call's timer fires (None: no deadline).
        ``method``/``path`` name the call in the errors raised here.
        """
        task, expiry = self._enter(method, path, timeout, signal, parameters)
        in_flight = self._in_flight
        try:
            try:
                result = await work(None if expiry is None else expiry.deadline)
                if in_flight.lost_race(task) or (
                    signal is not None and signal._in_flight.lost_race(task)
                ):
                    await asyncio.sleep(0)  # let the pending abort land here, where it is claimed
                return result
            except asyncio.CancelledError:
                error = self._cancelled(task, signal, expiry, method, path, parameters)
                if error is None:
                    raise
                raise error from None
        finally:
            if expiry is not None and expiry.handle is not None:
                expiry.handle.cancel()
            in_flight.leave(task)
            if signal is not None:
                signal._in_flight.leave(task)

    async def websocket(
        self,
        path: PathSpec,
        *,
        params: Any = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        heartbeat: float | None = None,
        max_msg_size: int = 4 * 1024 * 1024,
    ) -> tuple[aiohttp.ClientWebSocketResponse[bool], URL]:
        """Open a WebSocket (and say where): the upgrade is signed like any call, in one scope
        (``timeout`` covers negotiation and the handshake). No admission gate: the socket
        holds its connection until it is closed. A refused upgrade is a ``ServerError`` with
        the status only (aiohttp drops the body of a refused upgrade)."""

        async def handshake(
            _deadline: float | None,
        ) -> tuple[aiohttp.ClientWebSocketResponse[bool], URL]:
            compat = self.compat or await self._negotiate(NO_RETRY, signal)
            url = self.url(path if isinstance(path, str) else path(compat))
            own = tuple(getattr(self._session, "_middlewares", ()) or ())
            if self._middlewares is not None and len(self._middlewares) > len(own):
                raise RuntimeError(
                    "WebSockets need the Client's own aiohttp session: aiohttp's ws_connect() "
                    "takes no per-request middlewares, so the upgrade would go out unsigned"
                )
            failure: ClientError
            try:
                ws = await self._session.ws_connect(
                    url,
                    params=params,
                    headers=self.json_headers,
                    heartbeat=heartbeat,
                    max_msg_size=max_msg_size,
                    proxy=self._proxy,
                )
                return ws, url
            except asyncio.CancelledError:
                raise
            except aiohttp.WSServerHandshakeError as exc:
                fields = _request_fields("GET", url, params)
                if exc.status >= 300:
                    reason = _reason(exc.status)
                    kind = AuthenticationError if exc.status == 401 else ServerError
                    failure = kind(
                        f"server responded failure: {exc.status} {reason} - the WebSocket "
                        "upgrade was refused",
                        title=f"{exc.status} {reason}",
                        status=exc.status,
                        status_text=reason,
                        **fields,
                    )
                else:
                    failure = ResponseError(
                        f"the server did not accept the WebSocket upgrade: {exc.message}",
                        title="Response unreadable",
                        status=exc.status,
                        **fields,
                    )
                failure = self._translated(failure, exc, url)
            except Exception as exc:
                failure = self._translated(
                    self._map_send_error(exc, self._timeouts, NO_RETRY, "GET", url, params),
                    exc,
                    url,
                )
            _raise_alone(failure)

        return await self.scoped(
            handshake, method="GET", path=path, timeout=timeout, signal=signal, parameters=params
        )

    def _shown(self, path: PathSpec | URL) -> URL | str:
        """The URL an error names before the path is resolved."""
        if isinstance(path, URL):
            return path
        if isinstance(path, str) and path.startswith("/"):
            return self.url(path)
        return f"{self._base}/<path of the negotiated version>"

    async def _run(
        self,
        method: str,
        path: PathSpec | URL,
        params: Any,
        json_body: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        signal: AbortSignal | None,
        policy: RetryPolicy,
        reader: ResponseReader | None,
        idle_timeout: float | UseDefault | None,
        parameters: Any,
        versioned: bool,
        deadline: float | None,
    ) -> Any:
        """Inside the call's scope: negotiate, resolve, describe, wait for the gate, attempt."""
        if isinstance(path, URL):
            url = path
            base = self.probe_headers
        else:
            if versioned:
                compat = self.compat
                if compat is None:
                    compat = await self._negotiate(policy, signal)
                if not isinstance(path, str):
                    path = path(compat)
                if callable(json_body):
                    json_body = json_body(compat)
                base = self.plain_headers
            elif isinstance(path, str):
                base = self.probe_headers
            else:
                raise ValueError("an unversioned call needs a plain path")
            url = self.url(path)
        if json_body is not None:
            data = _encode_json(json_body).encode()
            if base is self.plain_headers:
                base = self.json_headers
            else:
                base = {**base, "Content-Type": "application/json"}
            if parameters is None:
                parameters = json_body
        if headers:
            base = {**base, **headers}
        timeouts = self._timeouts
        if idle_timeout is not USE_DEFAULT:
            timeouts = timeouts.with_read(idle_timeout)
        gate = self._gate  # None when the session is the caller's or unlimited
        if gate is not None:
            await gate.wait()  # inside the deadline; held during retry backoff sleeps too
        try:
            return await self._attempts(
                method,
                url,
                base,
                params,
                data,
                policy,
                timeouts,
                reader or self._default_reader,
                parameters,
                deadline,
            )
        finally:
            if gate is not None:
                gate.release()

    def _abort_error(
        self, reason: str | None, method: str, url: URL | str, parameters: Any
    ) -> AbortError:
        return AbortError(
            f"request aborted: {reason or 'aborted by the caller'}",
            title="Request aborted",
            status=408,
            status_text="Request aborted by user",
            **_request_fields(method, url, parameters),
        )

    async def _attempts(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        params: Any,
        data: Any,
        policy: RetryPolicy,
        timeouts: Timeouts,
        reader: ResponseReader,
        parameters: Any,
        deadline: float | None,
    ) -> Any:
        client_timeout = self._aiohttp_timeout(timeouts, policy.attempt_timeout)
        if policy.retries == 0:
            return await self._once(
                method,
                url,
                headers,
                params,
                data,
                client_timeout,
                timeouts,
                policy,
                reader,
                parameters,
            )
        loop = self._loop
        attempt = 0
        maybe_acted = False
        while True:
            try:
                return await self._once(
                    method,
                    url,
                    headers,
                    params,
                    data,
                    client_timeout,
                    timeouts,
                    policy,
                    reader,
                    parameters,
                )
            except ClientError as err:
                err.attempts = attempt + 1
                if maybe_acted and isinstance(err, ServerError) and err.status == 404:
                    if policy.gone_is_done:
                        _log.debug("%s %s: gone at attempt %d", method, safe_url(url), attempt + 1)
                        return None
                    err.message += " (an earlier attempt may have carried the request out already)"
                    raise
                delay = (
                    retry_delay(method, err, attempt, policy) if attempt < policy.retries else None
                )
                asked = err.retry_after if isinstance(err, ServerError) else None
                if delay is None:
                    if asked is not None and asked > MAX_RETRY_AFTER and attempt < policy.retries:
                        err.message += (
                            f" (the server asked to retry after {asked:g} s, longer than the "
                            f"{MAX_RETRY_AFTER:g} s the SDK waits; gave up after {attempt + 1}"
                            " attempts)"
                        )
                    raise
                if deadline is not None and loop.time() + delay >= deadline:
                    why = (
                        f"the server asked to retry after {asked:g} s"
                        if asked is not None
                        else "the next retry"
                    )
                    err.message += (
                        f" (gave up after {attempt + 1} attempts: {why}, which would pass the"
                        " call's deadline)"
                    )
                    raise
                maybe_acted = maybe_acted or _may_have_acted(err)
                _log.debug(
                    "retrying %s %s in %.2f s after: %s", method, safe_url(url), delay, err.message
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _once(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        params: Any,
        data: Any,
        client_timeout: aiohttp.ClientTimeout,
        timeouts: Timeouts,
        policy: RetryPolicy,
        reader: ResponseReader,
        parameters: Any,
    ) -> Any:
        started = time.perf_counter()
        failure: ClientError | None = None
        try:
            resp = await self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=client_timeout,
                allow_redirects=False,
                raise_for_status=False,
                proxy=self._proxy,
                middlewares=self._middlewares,
                auto_decompress=False,  # _body inflates, within the size limits
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failure = self._send_failed(exc, timeouts, policy, method, url, parameters)
        if failure is not None:
            _raise_alone(failure)  # outside the except block, and no __context__ on 3.10
        return await self._read(resp, reader, started, timeouts, policy, method, url, parameters)

    def _send_failed(
        self,
        exc: Exception,
        timeouts: Timeouts,
        policy: RetryPolicy,
        method: str,
        url: URL,
        parameters: Any,
    ) -> ClientError:
        """The error for an attempt that got no answer (masked, with a masked cause)."""
        return self._translated(
            self._map_send_error(exc, timeouts, policy, method, url, parameters), exc, url
        )

    async def _read(
        self,
        resp: ClientResponse,
        reader: ResponseReader | None,
        started: float,
        timeouts: Timeouts,
        policy: RetryPolicy,
        method: str,
        url: URL,
        parameters: Any,
    ) -> Any:
        """An attempt's answer: ``reader``'s value, or the error it means; always released."""
        failure: ClientError
        try:
            status = resp.status
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug(
                    "%s %s -> %d (%.1f ms)",
                    method,
                    safe_url(url),
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            if status >= 300:
                raise await self._server_error(resp, method, url, parameters)
            if status < 200:  # an interim or upgrade answer is not the call's answer
                raise ResponseError(
                    f"reading response has failed: the server answered {status} "
                    f"{resp.reason or ''}".rstrip()
                    + ", not a final answer",
                    title="Response unusable",
                    status=status,
                    status_text=resp.reason,
                )
            return await (reader or self._default_reader)(resp, self._max_size)
        except asyncio.CancelledError:
            resp.close()
            raise
        except ClientError as err:
            resp.close()
            if err.request_method is None:
                err.request_method, err.request_url = method, safe_url(url)
                err.request_parameters = mask_secrets(parameters)
            raise
        except Exception as exc:
            resp.close()
            failure = self._translated(
                self._map_read_error(exc, resp, timeouts, policy, method, url, parameters),
                exc,
                url,
            )
        finally:
            resp.release()
        _raise_alone(failure)  # outside the except blocks, and no __context__ on 3.10

    # -- error mapping -----------------------------------------------------------------

    def _translated(self, err: ClientError, exc: BaseException, url: URL) -> ClientError:
        """Mask secrets in ``err``'s texts and give it a masked stand-in for ``exc`` as cause."""
        known = (*self.known_secrets, *url_secrets(url))
        err.message = redact(err.message, known)
        err.title = redact(err.title, known)
        err.description = redact(err.description, known)
        cause = UnderlyingError(type(exc), redact(str(exc), known))
        err.__cause__ = cause.with_traceback(exc.__traceback__)
        err.__suppress_context__ = True
        return err

    def _timeout_error(
        self,
        phase: str,
        limit: float | None,
        method: str,
        url: URL | str,
        parameters: Any,
        attempts: int = 1,
    ) -> RequestTimeoutError:
        shown = f"{limit:g} s" if limit is not None else "the limit"
        what = {
            "connect": f"connecting took longer than {shown}",
            "read": f"no data arrived for {shown} (idle read limit)",
            "attempt": f"no complete answer within the attempt's limit of {shown}",
            "total": f"no complete answer within the call's deadline of {shown}",
        }[phase]
        err = RequestTimeoutError(
            f"request timed out: {what}",
            title="Request timeout",
            status=408,
            status_text="Timeout exceeded",
            **_request_fields(method, url, parameters),
            attempts=attempts,
        )
        err.phase = phase
        err.limit = limit
        return err

    def _map_timeout(
        self,
        exc: BaseException,
        timeouts: Timeouts,
        policy: RetryPolicy,
        method: str,
        url: URL,
        parameters: Any,
    ) -> RequestTimeoutError:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return self._timeout_error("connect", timeouts.connect, method, url, parameters)
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return self._timeout_error("read", timeouts.read, method, url, parameters)
        if policy.attempt_timeout is not None:
            return self._timeout_error("attempt", policy.attempt_timeout, method, url, parameters)
        return self._timeout_error("total", None, method, url, parameters)

    def _map_send_error(
        self,
        exc: Exception,
        timeouts: Timeouts,
        policy: RetryPolicy,
        method: str,
        url: URL,
        parameters: Any,
    ) -> ClientError:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return self._map_timeout(exc, timeouts, policy, method, url, parameters)
        sent = True
        retryable = True
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            message = f"TLS certificate verification failed for {url.host}: {exc.certificate_error}"
            sent, retryable = False, False
        elif isinstance(exc, aiohttp.ClientSSLError):
            message = f"TLS handshake with {url.host}:{url.port} failed: {exc}"
            sent, retryable = False, False
        elif isinstance(exc, aiohttp.ClientConnectorDNSError):
            message = f"cannot resolve host {url.host!r}: {exc.os_error}"
            sent = False
        elif isinstance(exc, aiohttp.ClientConnectorError):
            message = f"cannot connect to {url.host}:{url.port}: {exc.os_error}"
            sent = False
        elif isinstance(exc, aiohttp.ServerDisconnectedError):
            message = "the server closed the connection before answering"
        elif isinstance(exc, aiohttp.InvalidURL):
            message = f"invalid URL: {exc}"
            sent, retryable = False, False
        elif isinstance(exc, (aiohttp.ClientOSError, OSError)):
            message = f"the connection broke while sending the request: {exc}"
        elif isinstance(exc, aiohttp.ClientResponseError):
            # A status line arrived but what followed was not HTTP (a bad header line).
            return ResponseError(  # its status is aiohttp's parser code, not the server's
                f"reading response has failed: the answer is not valid HTTP: {exc.message}",
                title="Response unreadable",
                **_request_fields(method, url, parameters),
            )
        elif isinstance(exc, aiohttp.ClientError):
            message = f"{type(exc).__name__}: {exc}"
        else:
            return UnknownError(
                f"unexpected error while sending: {type(exc).__name__}: {exc}",
                **_request_fields(method, url, parameters),
            )
        err = RequestError(
            f"sending request has failed: {message}",
            title="Request failed",
            description=message,
            **_request_fields(method, url, parameters),
        )
        err.sent = sent
        err.retryable = retryable
        return err

    def _map_read_error(
        self,
        exc: Exception,
        resp: ClientResponse,
        timeouts: Timeouts,
        policy: RetryPolicy,
        method: str,
        url: URL,
        parameters: Any,
    ) -> ClientError:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return self._map_timeout(exc, timeouts, policy, method, url, parameters)
        if isinstance(exc, (ValueError, RecursionError)) or (
            isinstance(exc, LookupError) and not isinstance(exc, (KeyError, IndexError))
        ):  # bad JSON or text, JSON too deep, an unknown charset
            message = f"reading response has failed: unusable {resp.content_type} body: {exc}"
        elif isinstance(exc, (aiohttp.ClientError, OSError)):
            message = f"reading response has failed: {type(exc).__name__}: {exc}"
        else:
            return UnknownError(
                f"unexpected error while reading the response: {type(exc).__name__}: {exc}",
                status=resp.status,
                status_text=resp.reason,
                **_request_fields(method, url, parameters),
            )
        return ResponseError(
            message,
            title="Response unreadable",
            status=resp.status,
            status_text=resp.reason,
            **_request_fields(method, url, parameters),
        )

    async def _server_error(
        self, resp: ClientResponse, method: str, url: URL, parameters: Any
    ) -> ClientError:
        """A status >= 300 as ``ServerError``; the body is parsed if it can be, never required."""
        status = resp.status
        reason = resp.reason or ""
        body = await read_error_body(resp)
        problem = body if isinstance(body, dict) else {}
        title = _str_field(problem, "title")
        detail = _problem_detail(problem) or title
        if detail is None and isinstance(body, str) and not body.lstrip().startswith("<"):
            detail = body.strip().splitlines()[0][:200] if body.strip() else None
        if 300 <= status < 400:
            detail = f"redirect to {resp.headers.get('Location', '?')} not followed"
        message = f"server responded failure: {status} {reason}" + (
            f" - {detail}" if detail else ""
        )
        if detail and "Date/time sync" in detail:
            message += _clock_skew_note(resp.headers.get("Date"))
        known = (*self.known_secrets, *url_secrets(url))
        problem_type = _str_field(problem, "type")
        fields: dict[str, Any] = {
            "title": redact(f"{status} {reason}" + (f" - {title}" if title else ""), known),
            "description": redact(detail or f"{status} {reason}", known),
            "problem_type": problem_type,
            "status": status,
            "status_text": reason,
            **_request_fields(method, url, parameters),
            "body": body,
            "error_code": _str_field(problem, "error_code"),
        }
        err: ServerError
        gql_errors = _graphql_errors(problem)
        if gql_errors is not None:
            err = GraphQLError(
                redact(graphql_message(gql_errors), known), errors=gql_errors, **fields
            )
        elif status == 401:
            err = AuthenticationError(redact(message, known), **fields)
        else:
            err = ServerError(redact(message, known), **fields)
        err.retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return err


def _raise_alone(err: ClientError) -> NoReturn:
    """Raise a translated error without a ``__context__``. Outside an except block that is
    Python's own behaviour from 3.11; 3.10 still attaches the raw aiohttp exception the
    coroutine handled before, whose text holds the unmasked URL (storage-proxy tokens)."""
    try:
        raise err
    finally:
        err.__context__ = None


def _annotate(
    err: ClientError, explain: Mapping[int, str] | None, unknown_outcome: str | None
) -> None:
    """Add what a failure means for this call (``explain``, ``unknown_outcome``) to it."""
    status = err.status if isinstance(err, ServerError) else None
    meaning = explain.get(status) if explain and status is not None else None
    if meaning:
        err.message += f" ({meaning})"
    if unknown_outcome and _may_have_acted(err):
        err.message += f" - {unknown_outcome}"


def _may_have_acted(err: ClientError) -> bool:
    """Whether the server may have carried out a request that failed this way."""
    if isinstance(err, RequestError):
        return err.sent
    if isinstance(err, ServerError):
        return err.status in (502, 504)  # a proxy's answer; the server behind may have acted
    if isinstance(err, RequestTimeoutError):
        return err.phase != "connect"  # no connection: nothing was sent
    return isinstance(err, (AbortError, ResponseError))  # cut short, or answered unreadably


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _str_field(problem: Mapping[str, Any], key: str) -> str | None:
    value = problem.get(key)
    return value if isinstance(value, str) else None


def _graphql_errors(problem: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The GraphQL error list of a 400 ``graphql-error`` problem (it sits under ``data``)."""
    kind = _str_field(problem, "type") or ""
    if not kind.endswith("/graphql-error"):
        return None
    data = problem.get("data")
    if isinstance(data, list):
        return [e if isinstance(e, dict) else {"message": str(e)} for e in data]
    return [{"message": _str_field(problem, "msg") or _str_field(problem, "title") or "?"}]


def _problem_detail(problem: Mapping[str, Any]) -> str | None:
    """The server's reason: ``msg`` (``error_msg`` in some manager answers), plus what a
    validation or GraphQL error says in ``data``."""
    msg = _str_field(problem, "msg") or _str_field(problem, "error_msg")
    gql = _graphql_errors(problem)
    if gql:
        first = gql[0].get("message")
        return first if isinstance(first, str) and first else msg
    data = problem.get("data")
    if (_str_field(problem, "type") or "").endswith("/invalid-api-params") and data:
        if isinstance(data, Mapping):
            reasons = "; ".join(f"{k}: {_short(v)}" for k, v in data.items())
        else:
            reasons = _short(data)
        return f"{msg or 'invalid parameters'}: {reasons}"[:500]
    return msg


def _short(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_short(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v) for v in value)
    return json.dumps(value, default=str)


def _clock_skew_note(server_date: str | None) -> str:
    """Explain a date rejection with the offset measured from the server's ``Date``."""
    if not server_date:
        return " (the local clock differs from the server's by more than 15 minutes)"
    try:
        offset = time.time() - parsedate_to_datetime(server_date).timestamp()
    except (TypeError, ValueError, IndexError):
        return " (the local clock differs from the server's by more than 15 minutes)"
    direction = "ahead of" if offset > 0 else "behind"
    return (
        f" (clock skew: the local clock is {abs(offset):.0f} s {direction} the server's Date "
        f"header; the server accepts 15 minutes)"
    )

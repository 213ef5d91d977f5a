"""The one place that sends requests: deadline, retries, aborts, decoding, error mapping.

Everything above this module (the client, the resources) describes *what* to send; this
module decides how an aiohttp outcome becomes a value or a :class:`ClientError`. Each
exception is classified by the phase it happened in (see ``docs/errors.md``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp
from aiohttp import ClientResponse
from yarl import URL

from ._abort import AbortSignal, InFlight
from ._retry import parse_retry_after, retry_delay
from .errors import (
    AbortError,
    AuthenticationError,
    ClientError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    UnknownError,
    _is_secret_key,
    mask_secrets,
)
from .timeouts import USE_DEFAULT, Timeouts, UseDefault

__all__ = [
    "ResponseReader",
    "Transport",
    "decode_body",
    "decode_object",
    "discard_body",
    "read_limited",
]

_log = logging.getLogger("backendai_async")
T = TypeVar("T")
ResponseReader = Callable[[ClientResponse, "int | None"], Awaitable[Any]]
_ERROR_BODY_LIMIT = 256 * 1024


async def read_limited(resp: ClientResponse, limit: int | None) -> bytes:
    """The whole body, refusing (ResponseError) to hold more than ``limit`` bytes."""
    length = resp.content_length
    if limit is None or (length is not None and length <= limit):
        return await resp.read()
    if length is not None:
        raise ResponseError(
            f"response body of {length} bytes exceeds max_response_size ({limit} bytes)",
            status=resp.status,
            status_text=resp.reason,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ResponseError(
                f"response body exceeds max_response_size ({limit} bytes)",
                status=resp.status,
                status_text=resp.reason,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


async def decode_body(resp: ClientResponse, limit: int | None) -> Any:
    """JSON (``application/json``, ``*+json``) → object; ``text/*`` → str; else bytes.

    An empty body (a 204, or the webserver's empty 201 on logout) is ``None``.
    """
    data = await read_limited(resp, limit)
    if not data:
        return None
    media_type = resp.content_type
    if _is_json(media_type):
        return json.loads(data)
    if media_type.startswith("text/"):
        return data.decode(resp.charset or "utf-8", "replace")
    return data


async def decode_object(resp: ClientResponse, limit: int | None) -> Any:
    """Like :func:`decode_body`, for calls whose answer must be a JSON object.

    A ``null``, a list or text where an object is due is a broken answer (ERR_RESPONSE),
    not a value to hand on and fail later with a ``TypeError`` in the caller's code.
    """
    value = await decode_body(resp, limit)
    if not isinstance(value, dict):
        shown = "null" if value is None else type(value).__name__
        raise ValueError(f"expected a JSON object, got {shown}")
    return value


async def discard_body(resp: ClientResponse, limit: int | None) -> None:
    """Read and drop the body: for calls whose outcome is the status alone (uploads)."""
    async for _ in resp.content.iter_chunked(64 * 1024):
        pass


def _request_fields(method: str, url: URL, parameters: Any) -> dict[str, Any]:
    """What every error records about its request (the URL and parameters masked)."""
    return {
        "request_method": method,
        "request_url": safe_url(url),
        "request_parameters": parameters,
    }


def safe_url(url: URL) -> str:
    """The URL as text, with secret-looking query values masked and no user info."""
    if url.user or url.password:
        url = url.with_user(None)
    if url.raw_query_string and any(_is_secret_key(k) for k in url.query):
        url = url.with_query(
            [(k, "********" if _is_secret_key(k) else v) for k, v in url.query.items()]
        )
    return str(url)


class Transport:
    """Sends one call through an ``aiohttp.ClientSession`` it does not own."""

    __slots__ = (
        "_base",
        "_client_timeouts",
        "_gate",
        "_in_flight",
        "_max_size",
        "_middlewares",
        "_proxy",
        "_session",
        "_timeouts",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: URL,
        timeouts: Timeouts,
        *,
        in_flight: InFlight,
        middlewares: Sequence[aiohttp.ClientMiddlewareType] | None = None,
        proxy: URL | None = None,
        max_response_size: int | None = None,
        limit: int = 0,
    ) -> None:
        # Admission gate mirroring the connector's limit: a call waiting for a connection
        # then holds only its own frames, not an aiohttp ClientRequest, timer and middleware
        # chain (10,000 queued calls: 155 -> 71 MiB peak RSS in `python -m bench --only scale`).
        self._gate = asyncio.Semaphore(limit) if limit else None
        self._client_timeouts: dict[tuple[float | None, Timeouts], aiohttp.ClientTimeout] = {}
        self._session = session
        self._base = str(base_url).rstrip("/")
        self._timeouts = timeouts
        self._in_flight = in_flight
        self._middlewares = tuple(middlewares) if middlewares is not None else None
        self._proxy = proxy
        self._max_size = max_response_size

    def url(self, path: str) -> URL:
        """Endpoint + path (a path prefix of the endpoint is kept); the query may be inline."""
        if not path.startswith("/"):
            raise ValueError(f"request path must start with '/': {path!r}")
        return URL(self._base + path)

    async def call(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str],
        params: Any = None,
        data: Any = None,
        timeout: float | UseDefault | None = USE_DEFAULT,
        signal: AbortSignal | None = None,
        retry: int = 0,
        reader: ResponseReader = decode_body,
        parameters: Any = None,
        idle_timeout: float | UseDefault | None = USE_DEFAULT,
    ) -> Any:
        """Send, retrying as policy allows within one deadline, and return what ``reader`` read.

        ``reader`` consumes the response inside the deadline (``decode_body`` by default; a
        streaming download passes its own). ``idle_timeout`` overrides the idle-read limit
        for this call (transfers use it with ``timeout=None``).
        """
        task: asyncio.Task[Any] | None = asyncio.current_task()
        assert task is not None, "backendai_async calls must run inside an asyncio task"
        if signal is not None and signal.aborted:
            raise self._abort_error(signal.reason, method, url, parameters)
        in_flight = self._in_flight
        in_flight.enter(task)
        if signal is not None:
            signal._in_flight.enter(task)
        try:
            try:
                timeouts = self._timeouts
                if idle_timeout is not USE_DEFAULT:
                    timeouts = replace(timeouts, read=idle_timeout)
                gate = self._gate  # None when the session is the caller's or unlimited
                if gate is not None:
                    await gate.acquire()  # NB: held during retry backoff sleeps too
                try:
                    result = await self._attempts(
                        method,
                        url,
                        headers,
                        params,
                        data,
                        timeout,
                        timeouts,
                        retry,
                        reader,
                        parameters,
                    )
                finally:
                    if gate is not None:
                        gate.release()
                if in_flight.lost_race(task) or (
                    signal is not None and signal._in_flight.lost_race(task)
                ):
                    await asyncio.sleep(0)  # let the pending abort land here, where it is claimed
                return result
            except asyncio.CancelledError:
                reason = in_flight.claim(task)
                if reason is None and signal is not None:
                    reason = signal._in_flight.claim(task)
                if reason is None:
                    raise
                raise self._abort_error(reason, method, url, parameters) from None
        finally:
            in_flight.leave(task)
            if signal is not None:
                signal._in_flight.leave(task)

    def _abort_error(
        self, reason: str | None, method: str, url: URL, parameters: Any
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
        timeout: float | UseDefault | None,
        timeouts: Timeouts,
        retry: int,
        reader: ResponseReader,
        parameters: Any,
    ) -> Any:
        total = timeouts.total if timeout is USE_DEFAULT else timeout
        if total is not None and not total > 0:
            raise ValueError(f"timeout must be a positive number of seconds or None, got {total!r}")
        if retry == 0:
            # One attempt: no deadline loop, and the ClientTimeout (an attrs object that is
            # validated on creation) built once per distinct total, not once per call.
            key = (total, timeouts)
            client_timeout = self._client_timeouts.get(key)
            if client_timeout is None:
                if len(self._client_timeouts) >= 32:
                    self._client_timeouts.clear()
                client_timeout = self._client_timeouts[key] = timeouts.to_aiohttp(total)
            return await self._once(
                method,
                url,
                headers,
                params,
                data,
                client_timeout,
                timeouts,
                total,
                reader,
                parameters,
            )
        loop = asyncio.get_running_loop()
        deadline = None if total is None else loop.time() + total
        attempt = 0
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise self._timeout_error("total", total, method, url, parameters, attempt)
            try:
                return await self._once(
                    method,
                    url,
                    headers,
                    params,
                    data,
                    timeouts.to_aiohttp(remaining),
                    timeouts,
                    total,
                    reader,
                    parameters,
                )
            except ClientError as err:
                err.attempts = attempt + 1
                delay = retry_delay(method, err, attempt) if attempt < retry else None
                if delay is None:
                    raise
                if deadline is not None and loop.time() + delay >= deadline:
                    err.message += (
                        f" (gave up after {attempt + 1} attempts: the next retry would pass"
                        " the deadline)"
                    )
                    raise
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
        total: float | None,
        reader: ResponseReader,
        parameters: Any,
    ) -> Any:
        started = time.perf_counter()
        try:
            resp = await self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=client_timeout,
                allow_redirects=False,
                proxy=self._proxy,
                middlewares=self._middlewares,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._map_send_error(exc, timeouts, total, method, url, parameters) from exc
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
            return await reader(resp, self._max_size)
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
            raise self._map_read_error(exc, resp, timeouts, total, method, url, parameters) from exc
        finally:
            resp.release()

    # -- error mapping -----------------------------------------------------------------

    def _timeout_error(
        self,
        phase: str,
        limit: float | None,
        method: str,
        url: URL,
        parameters: Any,
        attempts: int = 1,
    ) -> RequestTimeoutError:
        shown = f"{limit:g} s" if limit is not None else "the limit"
        what = {
            "connect": f"connecting took longer than {shown}",
            "read": f"no data arrived for {shown} (idle read limit)",
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
        total: float | None,
        method: str,
        url: URL,
        parameters: Any,
    ) -> RequestTimeoutError:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return self._timeout_error("connect", timeouts.connect, method, url, parameters)
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return self._timeout_error("read", timeouts.read, method, url, parameters)
        return self._timeout_error("total", total, method, url, parameters)

    def _map_send_error(
        self,
        exc: Exception,
        timeouts: Timeouts,
        total: float | None,
        method: str,
        url: URL,
        parameters: Any,
    ) -> ClientError:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return self._map_timeout(exc, timeouts, total, method, url, parameters)
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
        elif isinstance(exc, aiohttp.ClientError):
            message = f"{type(exc).__name__}: {exc}"
        else:
            return UnknownError(
                f"unexpected error while sending: {exc!r}",
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
        total: float | None,
        method: str,
        url: URL,
        parameters: Any,
    ) -> ClientError:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return self._map_timeout(exc, timeouts, total, method, url, parameters)
        if isinstance(exc, (ValueError, UnicodeDecodeError)):
            message = f"reading response has failed: unusable {resp.content_type} body: {exc}"
        elif isinstance(exc, (aiohttp.ClientError, OSError)):
            message = f"reading response has failed: {exc!r}"
        else:
            return UnknownError(
                f"unexpected error while reading the response: {exc!r}",
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
        body: Any = None
        try:
            raw = await read_limited(resp, _ERROR_BODY_LIMIT)
            media_type = resp.content_type
            if raw and _is_json(media_type):
                body = json.loads(raw)
            elif raw:
                body = raw.decode(resp.charset or "utf-8", "replace")
        except (ValueError, UnicodeDecodeError, ClientError, aiohttp.ClientError, OSError):
            body = None
        problem = body if isinstance(body, dict) else {}
        title = problem.get("title") if isinstance(problem.get("title"), str) else None
        msg = problem.get("msg") if isinstance(problem.get("msg"), str) else None
        detail = msg or title
        if detail is None and isinstance(body, str) and not body.lstrip().startswith("<"):
            detail = body.strip().splitlines()[0][:200] if body.strip() else None
        if 300 <= status < 400:
            detail = f"redirect to {resp.headers.get('Location', '?')} not followed"
        message = f"server responded failure: {status} {reason}" + (
            f" - {detail}" if detail else ""
        )
        if detail and "Date/time sync" in detail:
            message += _clock_skew_note(resp.headers.get("Date"))
        cls = AuthenticationError if status == 401 else ServerError
        problem_type = problem.get("type") if isinstance(problem.get("type"), str) else None
        err = cls(
            message,
            title=f"{status} {reason}" + (f" - {title}" if title else ""),
            description=detail or f"{status} {reason}",
            problem_type=problem_type,
            status=status,
            status_text=reason,
            **_request_fields(method, url, parameters),
            body=body,
            error_code=problem.get("error_code")
            if isinstance(problem.get("error_code"), str)
            else None,
        )
        err.retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return err


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

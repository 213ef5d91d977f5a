"""Resumable uploads with the tus protocol, as Backend.AI's storage proxies speak it.

The manager creates the upload (``request-upload``, with the size: the proxies have no tus
creation ``POST``); the client then sends the bytes in ``PATCH`` requests, each starting at
the ``Upload-Offset`` the server holds. When a ``PATCH`` is cut off, ``HEAD`` asks for the
server's offset and the upload goes on from there, so only the missing bytes are sent
again. Servers differ (see ``docs/vfolders.md``): 23.09 appends whatever arrives, keeps the
bytes of a cut ``PATCH`` and ignores a wrong ``Upload-Offset``; 26.9 refuses a wrong offset
with 409 and drops the bytes of a ``PATCH`` that did not finish. Both answer ``HEAD`` with
404 once the upload is complete.

The sources here are read at any offset (a file, bytes, a seekable file object, or an async
iterable spooled to a temporary file first), one chunk at a time, in worker threads.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import IO, Any, Final
from urllib.parse import quote, urlencode

from aiohttp import ClientResponse, payload
from yarl import URL

from ._body import decode_object
from ._retry import RetryPolicy
from ._threads import in_thread
from ._transfer import CHUNK_SIZE, ProgressGuard, UploadSource, _remaining
from .errors import ClientError, RequestError, RequestTimeoutError, ResponseError, ServerError

__all__ = [
    "DEFAULT_PATCH_SIZE",
    "TUS_HEADERS",
    "TusSource",
    "open_tus_source",
    "read_token",
    "token_target",
    "tus_upload",
]

DEFAULT_PATCH_SIZE: Final = 64 * 1024 * 1024
"""Bytes per ``PATCH``: what a 26.9 proxy loses (and the client sends again) when one is cut."""
TUS_HEADERS: Final = {
    "Tus-Resumable": "1.0.0",
    "Content-Type": "application/offset+octet-stream",
}
_RESUME_STATUSES = frozenset({409, 500, 502, 503, 504})
_HEAD_RETRY = RetryPolicy(2)
Send = Callable[..., Awaitable[Any]]
Target = str | URL
"""An absolute storage-proxy URL (sent unsigned) or a manager path (signed)."""


# -- sources read at any offset ------------------------------------------------------------


class TusSource:
    """The bytes of an upload, readable from any offset (unless ``resumable`` is False)."""

    size: int
    resumable: bool = True

    def chunks(self, start: int, end: int) -> AsyncIterator[bytes | memoryview]:
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the source opened (a caller's file object stays open)."""


class _BytesSource(TusSource):
    def __init__(self, data: memoryview) -> None:
        self._data = data
        self.size = len(data)

    async def chunks(self, start: int, end: int) -> AsyncIterator[bytes | memoryview]:
        for pos in range(start, end, CHUNK_SIZE):
            yield self._data[pos : min(pos + CHUNK_SIZE, end)]


def _read_at(file: IO[bytes], fd: int | None, pos: int, count: int) -> bytes:
    if fd is not None:
        return os.pread(fd, count, pos)
    file.seek(pos)
    return file.read(count)


class _FileSource(TusSource):
    """A file: one we opened (read with ``pread``), or a caller's seekable file object."""

    def __init__(self, file: IO[bytes], size: int, *, base: int = 0, owned: bool) -> None:
        self._file: IO[bytes] | None = file
        self._fd = file.fileno() if owned else None
        self._base = base
        self._owned = owned
        self._lock = asyncio.Lock()  # close() waits for a read in progress
        self.size = size

    async def chunks(self, start: int, end: int) -> AsyncIterator[bytes | memoryview]:
        pos = start
        while pos < end:
            async with self._lock:
                file = self._file
                if file is None:
                    raise ValueError("the upload source was closed")
                chunk = await in_thread(
                    _read_at, file, self._fd, self._base + pos, min(CHUNK_SIZE, end - pos)
                )
            if not isinstance(chunk, (bytes, bytearray)):
                raise TypeError("the upload file object must be opened in binary mode")
            if not chunk:
                return  # shorter than announced: the payload reports it
            pos += len(chunk)
            yield chunk

    async def close(self) -> None:
        async with self._lock:
            file, self._file = self._file, None
            if file is not None and self._owned:
                await in_thread(file.close)


class _StreamSource(TusSource):
    """An async iterable of known size, read once: an interrupted upload cannot resume."""

    resumable = False

    def __init__(self, iterable: AsyncIterable[bytes], size: int) -> None:
        self._iter = iterable.__aiter__()
        self._pos = 0
        self._left = memoryview(b"")
        self.size = size

    async def chunks(self, start: int, end: int) -> AsyncIterator[bytes | memoryview]:
        if start != self._pos:
            raise ValueError("an async iterable cannot be read again from another offset")
        while self._pos < end:
            if not self._left:
                try:
                    chunk = await anext(self._iter)
                except StopAsyncIteration:
                    return
                self._left = memoryview(_checked(chunk)).cast("B")
                if not self._left:
                    continue
            piece = self._left[: end - self._pos]
            self._left = self._left[len(piece) :]
            self._pos += len(piece)
            yield piece


def _checked(chunk: object) -> bytes | bytearray | memoryview:
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(f"an upload iterable must yield bytes, got {type(chunk).__name__}")
    return chunk


def _temporary_file() -> IO[bytes]:
    return tempfile.TemporaryFile("w+b", prefix="backendai-upload-")


async def _spool(iterable: AsyncIterable[bytes]) -> _FileSource:
    """Copy an iterable of unknown length into an anonymous temporary file (then resumable)."""
    file: IO[bytes] = await in_thread(_temporary_file)
    size = 0
    try:
        async for chunk in iterable:
            data = _checked(chunk)
            await in_thread(file.write, data)
            size += len(data)
        await in_thread(file.flush)
    except BaseException:
        file.close()  # quick; must run during cancellation too
        raise
    return _FileSource(file, size, owned=True)


def _open_path(path: str) -> tuple[IO[bytes], int]:
    file = open(path, "rb")  # noqa: SIM115 - closed by _FileSource.close()
    try:
        return file, os.fstat(file.fileno()).st_size
    except BaseException:
        file.close()
        raise


async def open_tus_source(source: UploadSource, size: int | None = None) -> TusSource:
    """Open ``source`` for a tus upload; an async iterable without ``size`` is spooled first.

    ``size`` is required knowledge for the storage proxy; for anything but an iterable it
    is measured, and a ``size`` that disagrees is a ``ValueError``.
    """
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ValueError(f"size must be a non-negative int, got {size!r}")
    opened: TusSource
    if isinstance(source, (str, os.PathLike)):
        file, measured = await in_thread(_open_path, os.fspath(source))
        opened = _FileSource(file, measured, owned=True)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        opened = _BytesSource(memoryview(source).cast("B"))
    elif isinstance(source, AsyncIterable):
        return _StreamSource(source, size) if size is not None else await _spool(source)
    elif hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("the upload file object must be opened in binary mode ('rb')")
        remaining = await in_thread(_remaining, source)
        if remaining is None:
            raise TypeError(
                "the upload file object must be seekable; pass an async iterable for a stream"
            )
        base = await in_thread(source.tell)
        opened = _FileSource(source, remaining, base=base, owned=False)
    else:
        raise TypeError(
            "upload source must be a file path, bytes, a binary file object or an async "
            f"iterable of bytes, got {type(source).__name__}"
        )
    if size is not None and size != opened.size:
        await opened.close()
        raise ValueError(f"size={size} disagrees with the source's {opened.size} bytes")
    return opened


# -- the PATCH body ----------------------------------------------------------------------------


class _Patch(payload.Payload):
    """Bytes ``start..end`` of the source as one ``PATCH`` body, with a Content-Length."""

    def __init__(self, source: TusSource, start: int, end: int, progress: ProgressGuard) -> None:
        super().__init__(None, content_type=TUS_HEADERS["Content-Type"])
        self._source = source
        self._start = start
        self._end = end
        self._progress = progress
        self._size = end - start

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return f"<tus PATCH of bytes {self._start}-{self._end}>"

    async def write(self, writer: Any) -> None:
        if self._consumed:
            raise RuntimeError("a PATCH body can be sent only once")
        self._consumed = True
        pos = self._start
        chunks = self._source.chunks(self._start, self._end).__aiter__()
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except (OSError, ValueError, TypeError) as exc:
                self._progress.keep(exc)  # the source failed: that error, not aiohttp's
                raise
            await writer.write(chunk)
            pos += len(chunk)
            self._progress(pos, self._source.size)
        if pos != self._end:
            changed = OSError(
                f"the upload source changed size while sending ({pos} of {self._source.size})"
            )
            self._progress.keep(changed)
            raise changed

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        await self.write(writer)


# -- the protocol ------------------------------------------------------------------------------


async def _offset_of(resp: ClientResponse, _limit: int | None) -> int | None:
    """The ``Upload-Offset`` of an answer (the body, if any, is read and dropped)."""
    async for _ in resp.content.iter_chunked(64 * 1024):
        pass
    value = resp.headers.get("Upload-Offset")
    if value is None:
        return None
    if not value.isdigit():
        raise ValueError(f"the server sent an unusable Upload-Offset {value!r}")
    return int(value)


def _resumable(err: ClientError) -> bool:
    """A failure after which the server's offset is worth asking for."""
    if isinstance(err, RequestError):
        return err.retryable
    if isinstance(err, RequestTimeoutError):
        return err.phase in ("connect", "read")
    if isinstance(err, ServerError):
        return err.status in _RESUME_STATUSES
    return isinstance(err, ResponseError)


async def tus_upload(
    send: Send,
    target: Target,
    source: TusSource,
    progress: ProgressGuard,
    *,
    patch_size: int = DEFAULT_PATCH_SIZE,
    resumes: int = 3,
    idle_timeout: float | None,
    signal: Any = None,
    offset: int = 0,
    confirm: Callable[[], Awaitable[bool]] | None = None,
) -> None:
    """Send ``source`` to an upload created with its size, ``PATCH`` by ``PATCH``.

    ``send`` is the client's one sender; each request runs inside the caller's scope (its
    deadline and aborts). After an interrupted ``PATCH`` the server's offset is fetched with
    ``HEAD`` and the upload resumes from there, up to ``resumes`` times in a row without
    progress. ``offset`` is where the server stands (0 for a new upload). When the last
    ``PATCH`` fails and ``HEAD`` finds no upload any more, ``confirm()`` tells whether the
    file arrived complete (its answer was lost) or the upload is gone.
    """
    size = source.size
    failures = 0
    last_failure_at = -1
    while True:
        end = min(offset + patch_size, size)
        try:
            answered = await send(
                "PATCH",
                target,
                data=_Patch(source, offset, end, progress),
                headers={**TUS_HEADERS, "Upload-Offset": str(offset)},
                timeout=None,
                idle_timeout=idle_timeout,
                signal=signal,
                reader=_offset_of,
                parameters={"offset": offset, "length": end - offset},
            )
        except ClientError as err:
            if progress.error is not None:
                raise progress.error from err
            if not _resumable(err) or not source.resumable:
                raise
            failures = failures + 1 if offset <= last_failure_at else 1
            if failures > resumes:
                raise
            last_failure_at = offset
            server_offset = await _server_offset(
                send, target, idle_timeout, signal, err, confirm if end >= size else None
            )
            if server_offset is None:
                return  # the upload completed; only its answer was lost
            if server_offset > size:
                raise ResponseError(
                    f"the server reports {server_offset} bytes received of a {size}-byte upload"
                ) from err
            offset = server_offset
            continue
        if answered is not None and answered <= offset < end:
            raise ResponseError(
                f"the server accepted a PATCH at offset {offset} but reports no progress"
            )
        offset = end if answered is None else answered
        if offset >= size:
            if offset > size:
                raise ResponseError(
                    f"the server reports {offset} bytes received of a {size}-byte upload"
                )
            return


async def _server_offset(
    send: Send,
    target: Target,
    idle_timeout: float | None,
    signal: Any,
    failed: ClientError,
    confirm: Callable[[], Awaitable[bool]] | None,
) -> int | None:
    """Where the server stands after ``failed``: its offset, or None when it is complete.

    ``HEAD`` answers 404 once the upload is complete (the storage proxy then forgets it),
    and also when the session is gone. It is success only when the failed ``PATCH``
    carried the last bytes and ``confirm()`` finds the file; otherwise the original failure
    is raised.
    """
    try:
        found = await send(
            "HEAD",
            target,
            timeout=None,
            idle_timeout=idle_timeout,
            signal=signal,
            retry=_HEAD_RETRY,
            reader=_offset_of,
        )
    except ServerError as err:
        if err.status == 404 and confirm is not None and await confirm():
            return None
        raise failed from err
    if found is None:
        raise ResponseError("the server's HEAD answer has no Upload-Offset") from failed
    return int(found)


# -- the token answers of request-upload / request-download -----------------------------------


async def read_token(resp: ClientResponse, limit: int | None) -> dict[str, Any]:
    """A token answer: ``{"token"}`` and, from API v6, the storage proxy's absolute ``url``.

    Anything else is a broken answer (ERR_RESPONSE), found before a request goes to a URL
    the SDK would have to guess.
    """
    answer = await decode_object(resp, limit)
    if not isinstance(answer.get("token"), str) or not answer["token"]:
        raise ValueError("the answer carries no token")
    url = answer.get("url")
    if url is not None:
        parsed = URL(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("the answer's storage-proxy url is not an absolute http(s) URL")
    return dict(answer)


def token_target(answer: Mapping[str, Any], legacy_path: str) -> Target:
    """Where to send a transfer: the proxy's ``url?token=``, else the manager's own route.

    ``legacy_path`` names the manager route of API versions before v6 (``{token}`` is
    replaced by the quoted token there; otherwise the token goes into the query).
    """
    token: str = answer["token"]
    url = answer.get("url")
    if isinstance(url, str):
        return URL(url).update_query(token=token)
    if "{token}" in legacy_path:
        return legacy_path.replace("{token}", quote(token, safe=""))
    return f"{legacy_path}?{urlencode({'token': token})}"

"""Streamed file transfers: a multipart upload body, and readers for download answers.

Memory stays flat whatever the file size: uploads are read and sent one chunk at a time,
downloads are written to disk one chunk at a time. Disk I/O runs in worker threads
(``asyncio.to_thread``) so that the event loop never waits on the file system. A download
to a path goes to a temporary file next to the destination and is renamed into place only
when complete, so a failed or cancelled download never leaves a half-written file under the
destination name.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any, Final, TypeAlias, TypeVar
from urllib.parse import quote

from aiohttp import ClientResponse, payload

from ._body import Body
from ._http import ResponseReader
from ._threads import in_thread, outcome, start_thread, until_done

T = TypeVar("T")

__all__ = [
    "CHUNK_SIZE",
    "ByteStream",
    "MultipartUpload",
    "ProgressCallback",
    "ProgressGuard",
    "UploadSource",
    "check_upload_path",
    "file_writer",
    "open_byte_stream",
    "open_upload",
]

CHUNK_SIZE: Final = 256 * 1024
ProgressCallback: TypeAlias = Callable[[int, "int | None"], object]
"""``progress(done, total)``: bytes moved so far, and the total when known (else None)."""
UploadSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]"
)


class ProgressGuard:
    """Calls the user's progress callback and remembers an exception it (or local I/O, or
    the upload source) raised.

    Such an exception is raised inside aiohttp's machinery, which wraps it, or inside the
    transport, which would classify it as a network failure. It is the caller's own, so
    :meth:`run` raises the original one instead.
    """

    __slots__ = ("_callback", "error")

    def __init__(self, callback: ProgressCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("progress must be a callable progress(done, total)")
        self._callback = callback
        self.error: BaseException | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._callback is None:
            return
        try:
            self._callback(done, total)
        except Exception as exc:
            self.keep(exc)
            raise

    def keep(self, exc: BaseException) -> None:
        """Remember a failure of the caller's side (source, callback, local disk)."""
        if self.error is None:
            self.error = exc

    async def local(self, func: Callable[..., T], *args: Any) -> T:
        """Run a local file operation in a worker thread; its ``OSError`` is kept, to be
        raised as itself (a full disk is not a network failure)."""
        try:
            return await in_thread(func, *args)
        except OSError as exc:
            self.keep(exc)
            raise

    async def run(self, transfer: Awaitable[T]) -> T:
        """Await ``transfer``; if the caller's own code broke it, raise that exception."""
        try:
            result = await transfer
        except Exception:
            if self.error is None:
                raise
        else:
            if self.error is None:
                return result
        raise self.error  # outside the except block: the caller's exception keeps its chain


# -- upload -------------------------------------------------------------------------------


def check_upload_path(path: object) -> str:
    """The target path of an upload, refused when the server could not store it as given.

    Paths are relative to the session's working directory (``/home/work``): the manager's
    multipart parser strips a leading ``/`` and the agent refuses paths that leave it.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"upload path must be a non-empty string, got {path!r}")
    if path.startswith(("/", "\\")):
        raise ValueError(
            f"upload path {path!r} must be relative to the session's working directory"
        )
    if any(c in path for c in "\x00\r\n"):
        raise ValueError(f"upload path {path!r} contains a NUL or line-break character")
    if ".." in PurePosixPath(path).parts:
        raise ValueError(f"upload path {path!r} must not contain '..' segments")
    return path


def _content_disposition(filename: str) -> str:
    """``form-data; name="src"; filename="…"; filename*=UTF-8''…`` with the name kept as is.

    aiohttp's server parser returns ``filename*`` when present, percent-decoded, exactly
    (any character, ``;`` included). The plain ``filename`` fallback is the raw UTF-8 name,
    for parsers without RFC 5987 support; characters it cannot carry become ``_``.
    """
    fallback = "".join("_" if c in '";\\' or ord(c) < 32 else c for c in filename)
    return (
        f'form-data; name="src"; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


class _Source:
    """Chunks of the upload source: a file we opened, a user's file, bytes or an iterable."""

    __slots__ = ("_data", "_file", "_iterable", "_owned", "_reading", "size")

    def __init__(
        self,
        *,
        data: memoryview | None = None,
        file: IO[bytes] | None = None,
        owned: bool = False,
        iterable: AsyncIterable[bytes] | None = None,
        size: int | None = None,
    ) -> None:
        self._data = data
        self._file = file
        self._owned = owned
        self._iterable = iterable
        self._reading: asyncio.Future[bytes] | None = None  # a read running in a thread
        self.size = size

    async def chunks(self) -> AsyncGenerator[bytes | memoryview, None]:
        if self._data is not None:
            for start in range(0, len(self._data), CHUNK_SIZE):
                yield self._data[start : start + CHUNK_SIZE]
        elif self._file is not None:
            while True:
                file = self._file
                if file is None:
                    raise ValueError("the upload source was closed")
                self._reading = start_thread(file.read, CHUNK_SIZE)
                chunk = await outcome(self._reading)
                if not chunk:
                    return
                if not isinstance(chunk, (bytes, bytearray)):
                    raise TypeError("the upload file object must be opened in binary mode")
                yield chunk
        else:
            assert self._iterable is not None
            async for chunk in self._iterable:
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError(
                        f"an upload iterable must yield bytes, got {type(chunk).__name__}"
                    )
                yield chunk

    async def close(self) -> None:
        """Close a file this module opened (a caller's file object is left open), once no
        thread reads it any more; a cancellation waits for that too."""
        file, self._file = self._file, None
        if file is None:
            return
        try:
            if self._reading is not None:
                await until_done(self._reading)
        finally:
            if self._owned:
                file.close()  # a file opened for reading: closing it is quick


async def _open_source(source: UploadSource) -> _Source:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)

        def _open() -> tuple[IO[bytes], int]:
            f = open(path, "rb")  # noqa: SIM115 - closed by _Source.close()
            try:
                return f, os.fstat(f.fileno()).st_size
            except BaseException:
                f.close()
                raise

        file, size = await in_thread(_open)
        return _Source(file=file, owned=True, size=size)
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")
        return _Source(data=view, size=len(view))
    if isinstance(source, AsyncIterable):
        return _Source(iterable=source)
    if hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("the upload file object must be opened in binary mode ('rb')")
        return _Source(file=source, size=await in_thread(_remaining, source))
    raise TypeError(
        "upload source must be a file path, bytes, a binary file object or an async "
        f"iterable of bytes, got {type(source).__name__}"
    )


def _remaining(file: IO[bytes]) -> int | None:
    """Bytes left in a seekable file object (None when it cannot tell)."""
    try:
        if not file.seekable():
            return None
        here = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(here)
        return max(end - here, 0)
    except (OSError, ValueError, AttributeError):
        return None


class MultipartUpload(payload.Payload):
    """A ``multipart/form-data`` body with one part, ``src``, streamed from its source.

    Built by hand rather than with ``FormData`` so that the part's file name (the target
    path) reaches the server unchanged, and so that the length is known whenever the
    source's size is (a file, bytes): the request then carries a ``Content-Length``.
    """

    def __init__(self, filename: str, source: _Source, progress: ProgressGuard) -> None:
        boundary = "BackendAIBoundary" + secrets.token_hex(16)
        super().__init__(None, content_type=f"multipart/form-data; boundary={boundary}")
        self._head = (
            f"--{boundary}\r\n"
            f"Content-Disposition: {_content_disposition(filename)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._filename_shown = filename
        self._source = source
        self._progress = progress
        self._size = (
            None if source.size is None else len(self._head) + source.size + len(self._tail)
        )

    @property
    def total(self) -> int | None:
        """The size of the file part (what progress callbacks count), when known."""
        return self._source.size

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return f"<multipart upload of {self._filename_shown!r}>"

    async def write(self, writer: Any) -> None:
        if self._consumed:
            raise RuntimeError("an upload body can be sent only once")
        self._consumed = True
        await writer.write(self._head)
        sent = 0
        total = self._source.size
        chunks = self._source.chunks()  # an async generator (closed below)
        try:
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except Exception as exc:
                    self._progress.keep(exc)  # the source's own error, not aiohttp's, is raised
                    raise
                await writer.write(chunk)  # a network failure here is the transport's to classify
                sent += len(chunk)
                self._progress(sent, total)
        finally:
            await chunks.aclose()
        if total is not None and sent != total:
            changed = OSError(f"the upload source changed size while sending ({sent} of {total})")
            self._progress.keep(changed)
            raise changed
        await writer.write(self._tail)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        await self.write(writer)

    async def close(self) -> None:
        await self._source.close()


async def open_upload(
    filename: str, source: UploadSource, progress: ProgressGuard
) -> MultipartUpload:
    """Open ``source`` (a path is opened in a thread) and wrap it as the request body."""
    return MultipartUpload(filename, await _open_source(source), progress)


# -- download to a path ---------------------------------------------------------------------


def _discard(file: IO[bytes] | None, tmp: str) -> None:
    """Close and delete a temporary file. Synchronous on purpose: it must run even while
    the task is being cancelled, and both calls are quick."""
    if file is not None:
        with contextlib.suppress(OSError):
            file.close()
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _commit(file: IO[bytes], tmp: str, dest: Path) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()
    os.replace(tmp, dest)


def file_writer(dest: Path, progress: ProgressGuard) -> ResponseReader:
    """A response reader that streams the body into ``dest`` (temporary file + rename)."""

    async def read(resp: ClientResponse, _limit: int | None) -> Path:
        body = Body(resp)  # an encoding it cannot decode fails before any file exists
        total = body.size
        tmp = str(dest.parent / f".{dest.name}.{secrets.token_hex(6)}.part")
        file: IO[bytes] | None = None
        done = False
        try:
            out: IO[bytes] = await progress.local(open, tmp, "xb")  # honours the umask
            file = out
            received = 0
            progress(0, total)
            while chunk := await body.read_chunk(CHUNK_SIZE):
                await progress.local(out.write, chunk)
                received += len(chunk)
                progress(received, total)
            await progress.local(_commit, out, tmp, dest)
            done = True
        finally:
            if not done:
                _discard(file, tmp)
        return dest

    return read


# -- download as an async iterator ----------------------------------------------------------


class _Stopped(Exception):
    """Wakes a consumer waiting on the body when the call ended under it (its error, if
    any, is the call's)."""


class ByteStream:
    """The body of a download, chunk by chunk: ``async for chunk in stream``.

    The response stays open until the stream is exhausted or closed: use ``async with
    stream:`` or call :meth:`aclose` when stopping early (closing the client also ends it).
    ``size`` is the announced length (None if unknown). Failures of the transfer (idle
    timeout, abort, a cut connection) are raised from the iteration as the SDK's usual
    ``ClientError`` subclasses.

    The call (its deadline, abort and connection) runs in the stream's own task, which
    holds the response and waits; the consumer reads the body straight from the response,
    so a chunk costs what reading the response directly costs and nothing is buffered
    beyond aiohttp's own bounded read buffer. A read that fails is handed back to the call,
    which raises it inside its scope (where it is translated and the connection closed);
    the call ending first (deadline, abort, ``aclose``) wakes a waiting read.
    """

    def __init__(self, progress: ProgressGuard | None = None) -> None:
        self.size: int | None = None
        self.content_type: str | None = None
        self.received = 0
        self._progress = progress
        self._body: Body | None = None  # readable while the call holds the response
        self._handback: asyncio.Future[None] | None = None  # the end of the body, or a failure
        self._reading = False
        self._headers = asyncio.Event()
        self._closed = False
        self._error: Exception | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "open" if self._body is not None else "finished"
        return f"<ByteStream size={self.size} received={self.received} {state}>"

    # the call's side: runs in the stream's own task, inside the transport's call

    async def _read(self, resp: ClientResponse, _limit: int | None) -> None:
        body = Body(resp)
        self.size = body.size
        self.content_type = resp.headers.get("Content-Type")
        handback = self._handback = asyncio.get_running_loop().create_future()
        self._body = body
        self._headers.set()
        try:
            await handback  # the consumer reads; it hands back the end or a read's failure
        except BaseException:
            if self._body is not None:  # the call ended under the consumer: wake its read
                self._body = None
                resp.content.set_exception(_Stopped("the download's call ended"))
            raise

    async def _produce(self, send: Callable[[ResponseReader], Awaitable[Any]]) -> None:
        try:
            await send(self._read)
        except Exception as exc:  # delivered to the consumer by __anext__
            self._error = exc
        except asyncio.CancelledError:
            if not self._closed:  # by no one of ours: the body must not look complete
                ended = "the body ended" if self._headers.is_set() else "the server answered"
                self._error = RuntimeError(f"the download was cancelled before {ended}")
            raise
        finally:
            self._body = None

    # consumer side

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        body = self._body
        if body is not None:
            if self._reading:
                raise RuntimeError("another task is already reading this ByteStream")
            self._reading = True
            try:
                chunk = await body.read_chunk(CHUNK_SIZE)
            except Exception as exc:
                self._hand_back(exc)
            else:
                if chunk:
                    self.received += len(chunk)
                    if self._progress is not None:
                        self._progress(self.received, self.size)
                    return chunk
                self._hand_back(None)
            finally:
                self._reading = False
        await self._reap(cancel=False)
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        raise StopAsyncIteration

    def _hand_back(self, failure: Exception | None) -> None:
        """Give the call the end of the body (None) or the read's failure, to raise there."""
        self._body = None
        handback = self._handback
        if handback is not None and not handback.done():
            if failure is None:
                handback.set_result(None)
            else:
                handback.set_exception(failure)

    async def read(self) -> bytes:
        """The rest of the body in memory (for small files; iterate over large ones)."""
        return b"".join([chunk async for chunk in self])

    async def _reap(self, cancel: bool = True) -> None:
        """Wait for the call's task to end (the connection is released once this returns);
        ``cancel`` stops it first (a cancellation of this wait always does)."""
        task = self._task
        if task is not None:
            if cancel and not task.done():
                task.cancel()
            await until_done(task, task.cancel)

    async def aclose(self) -> None:
        """Stop the transfer and release the connection (idempotent)."""
        self._closed = True
        try:
            await self._reap()
        finally:
            self._body = None
            self._error = None

    async def __aenter__(self) -> ByteStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def open_byte_stream(
    send: Callable[[ResponseReader], Awaitable[Any]], progress: ProgressGuard | None = None
) -> ByteStream:
    """Start a download in its own task; return the stream once the answer's status is known.

    ``send(reader)`` performs the request with ``reader`` as the response reader, so the
    transport tracks that task for aborts and maps errors as usual. A failure status is
    raised here, before any chunk; later failures come out of the iteration.
    """
    stream = ByteStream(progress)
    task = stream._task = asyncio.create_task(stream._produce(send))
    headers = asyncio.ensure_future(stream._headers.wait())
    try:
        await asyncio.wait({headers, task}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await stream.aclose()
        raise
    finally:
        headers.cancel()
    if stream._headers.is_set():
        return stream
    await stream._reap()
    error = stream._error
    stream._error = None
    if error is None:  # the task was cancelled before any answer, by no one of ours
        raise RuntimeError("the download was cancelled before the server answered")
    raise error

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
import collections
import contextlib
import io
import os
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any, Final, TypeAlias, TypeVar
from urllib.parse import quote

from aiohttp import ClientResponse, MultipartReader, payload

from ._http import ResponseReader

T = TypeVar("T")

__all__ = [
    "CHUNK_SIZE",
    "ByteStream",
    "MultipartUpload",
    "ProgressCallback",
    "ProgressGuard",
    "UploadSource",
    "archive_extractor",
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
_STREAM_BUFFER = 4  # chunks a ByteStream reads ahead of its consumer


async def in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking file operation in a thread; a cancellation waits for it to end.

    ``asyncio.to_thread`` lets a cancelled caller go on while the thread still runs: a file
    opened meanwhile would never be closed, and a file closed by the caller's cleanup could
    still be written to. Each operation here is short, so cancellation waits for it, then
    propagates.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        if not future.cancelled() and future.exception() is None:
            _release(future.result())
        raise


def _release(result: Any) -> None:
    """Close what a cancelled ``in_thread`` call opened (a file, or a (file, size) pair)."""
    for item in result if isinstance(result, tuple) else (result,):
        if isinstance(item, io.IOBase):
            with contextlib.suppress(OSError):
                item.close()


class ProgressGuard:
    """Calls the user's progress callback and remembers an exception it (or local I/O) raised.

    Such an exception is raised inside aiohttp's machinery, which wraps it; the resource
    method re-raises the original one from here instead.
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
            self.error = exc
            raise

    def keep(self, exc: BaseException) -> None:
        """Remember a local failure (a read error of the source) to re-raise it later."""
        if self.error is None:
            self.error = exc


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

    __slots__ = ("_data", "_file", "_iterable", "_lock", "_owned", "size")

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
        self._lock = asyncio.Lock()
        self.size = size

    async def chunks(self) -> AsyncIterator[bytes | memoryview]:
        if self._data is not None:
            for start in range(0, len(self._data), CHUNK_SIZE):
                yield self._data[start : start + CHUNK_SIZE]
        elif self._file is not None:
            while True:
                async with self._lock:  # close() waits for a read in progress
                    if self._file is None:
                        raise ValueError("the upload source was closed")
                    chunk = await in_thread(self._file.read, CHUNK_SIZE)
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
        """Close a file this module opened (a caller's file object is left open)."""
        async with self._lock:
            file, self._file = self._file, None
            if file is not None and self._owned:
                await in_thread(file.close)


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
        chunks = self._source.chunks().__aiter__()
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except (OSError, ValueError, TypeError) as exc:
                self._progress.keep(exc)  # the source failed: that error, not aiohttp's, is raised
                raise
            await writer.write(chunk)  # a network failure here is the transport's to classify
            sent += len(chunk)
            self._progress(sent, total)
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
        total = resp.content_length
        tmp = str(dest.parent / f".{dest.name}.{secrets.token_hex(6)}.part")
        file: IO[bytes] | None = None
        done = False
        try:
            out: IO[bytes] = await in_thread(open, tmp, "xb")  # honours the umask, unlike mkstemp
            file = out
            received = 0
            progress(0, total)
            async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
                try:
                    await in_thread(out.write, chunk)
                except OSError as exc:
                    progress.keep(exc)
                    raise
                received += len(chunk)
                progress(received, total)
            await in_thread(_commit, out, tmp, dest)
            done = True
        finally:
            if not done:
                _discard(file, tmp)
        return dest

    return read


# -- download of several files: multipart/mixed of tar archives -----------------------------


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files and directories with relative paths inside the archive only."""
    members = []
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts
        if member.name.startswith(("/", "\\")) or ".." in parts:
            raise tarfile.TarError(f"unsafe path in the downloaded archive: {member.name!r}")
        if member.isfile() or member.isdir():
            members.append(member)
    return members


def _extract(tar_path: Path, into: Path) -> None:
    with tarfile.open(tar_path, "r:*") as archive:
        members = _safe_members(archive)
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, members=members, filter="data")
        else:  # pragma: no cover - Python releases before the extraction filters
            archive.extractall(into, members=members)


def _move_into(staging: Path, dest: Path) -> list[Path]:
    """Move every extracted file into ``dest`` (one ``os.replace`` each); return them."""
    moved: list[Path] = []
    if not staging.exists():
        return moved  # the answer held no parts
    for root, dirs, files in os.walk(staging):
        rel = Path(root).relative_to(staging)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        dirs.sort()
        for name in sorted(files):
            target = dest / rel / name
            os.replace(Path(root) / name, target)
            moved.append(target)
    return moved


def archive_extractor(dest: Path, progress: ProgressGuard) -> ResponseReader:
    """A reader for ``download``: each part of the answer is a tar archive, extracted into
    ``dest``. Parts are received into a staging directory inside ``dest`` first; files are
    moved into place only once the whole answer has arrived."""

    async def read(resp: ClientResponse, _limit: int | None) -> list[Path]:
        staging = Path(await in_thread(tempfile.mkdtemp, prefix=".bai-download-", dir=dest))
        try:
            extracted = staging / "files"
            received = 0
            reader = MultipartReader(resp.headers, resp.content)
            index = 0
            while True:
                part = await reader.next()
                if part is None:
                    break
                if isinstance(part, MultipartReader):
                    raise ValueError("unexpected nested multipart part in a download answer")
                tar_path = staging / f"part-{index}.tar"
                index += 1
                file = await in_thread(open, tar_path, "wb")
                try:
                    while chunk := await part.read_chunk(CHUNK_SIZE):
                        await in_thread(file.write, chunk)
                        received += len(chunk)
                        progress(received, None)
                finally:
                    file.close()  # quick; must run during cancellation too
                try:
                    await in_thread(_extract, tar_path, extracted)
                except (tarfile.TarError, OSError) as exc:
                    progress.keep(exc)
                    raise
                await in_thread(os.unlink, tar_path)
            return await in_thread(_move_into, extracted, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # synchronous: see _discard

    return read


# -- download as an async iterator ----------------------------------------------------------


class ByteStream:
    """The body of a download, chunk by chunk: ``async for chunk in stream``.

    The response stays open until the stream is exhausted or closed: use ``async with
    stream:`` or call :meth:`aclose` when stopping early (closing the client also ends it).
    ``size`` is the announced length (None if unknown). Failures of the transfer (idle
    timeout, abort, a cut connection) are raised from the iteration as the SDK's usual
    ``ClientError`` subclasses.
    """

    def __init__(self, progress: ProgressGuard | None = None) -> None:
        self.size: int | None = None
        self.content_type: str | None = None
        self.received = 0
        self._progress = progress
        self._buffer: collections.deque[bytes] = collections.deque()
        self._headers = asyncio.Event()
        self._data = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._finished = False
        self._error: Exception | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "finished" if self._finished else "open"
        return f"<ByteStream size={self.size} received={self.received} {state}>"

    # producer side: runs in the stream's own task, inside the transport's call

    async def _read(self, resp: ClientResponse, _limit: int | None) -> None:
        self.size = resp.content_length
        self.content_type = resp.headers.get("Content-Type")
        self._headers.set()
        async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
            while len(self._buffer) >= _STREAM_BUFFER:
                self._space.clear()
                await self._space.wait()
            self._buffer.append(chunk)
            self._data.set()

    async def _produce(self, send: Callable[[ResponseReader], Awaitable[Any]]) -> None:
        try:
            await send(self._read)
        except Exception as exc:  # delivered to the consumer by __anext__
            self._error = exc
        finally:
            self._finished = True
            self._data.set()

    # consumer side

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        while not self._buffer and not self._finished:
            self._data.clear()
            await self._data.wait()
        if self._buffer:
            chunk = self._buffer.popleft()
            self._space.set()
            self.received += len(chunk)
            if self._progress is not None:
                self._progress(self.received, self.size)
            return chunk
        await self._reap()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        raise StopAsyncIteration

    async def read(self) -> bytes:
        """The rest of the body in memory (for small files; iterate over large ones)."""
        return b"".join([chunk async for chunk in self])

    async def _reap(self) -> None:
        task = self._task
        if task is not None:
            if not task.done():
                task.cancel()
            await asyncio.wait({task})  # raises neither the task's error nor its cancellation

    async def aclose(self) -> None:
        """Stop the transfer and release the connection (idempotent)."""
        self._finished = True
        self._buffer.clear()
        self._error = None
        await self._reap()

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

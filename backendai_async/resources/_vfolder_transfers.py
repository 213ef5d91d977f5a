"""Transfers of ``client.vfolder``: tokens, resumable uploads, downloads by token.

From API v6.20200815 the manager hands out a token (``request-upload``,
``request-download``) and the bytes go to the storage proxy named with it, unsigned; older
managers serve the same flows themselves. Uploads speak tus and resume from the server's
offset (``_tus.py``); downloads are written atomically or streamed (``_transfer.py``).

Transfers have no overall deadline by default but an idle-read limit (the client's
``Timeouts.read``, else 60 s; ``idle_timeout=`` overrides it); ``timeout=`` is a deadline
over the whole transfer, every request of it included.
"""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final, cast, overload

from yarl import URL

from .._abort import AbortSignal
from .._transfer import (
    ByteStream,
    ProgressCallback,
    ProgressGuard,
    UploadSource,
    file_writer,
    open_byte_stream,
)
from .._tus import DEFAULT_PATCH_SIZE, open_tus_source, read_token, token_target, tus_upload
from ..errors import ClientError
from ..timeouts import USE_DEFAULT, UseDefault
from ._base import Resource
from ._vfolder_checks import at_least, byte_count, flag, folder_segment, inner_path, nonempty
from ._vfolder_types import DownloadToken
from .sessions import TRANSFER_IDLE_TIMEOUT, _single_target

if TYPE_CHECKING:
    from .._compat import Compat
    from .._http import ResponseReader
    from .._tus import Target

__all__ = ["DEFAULT_RESUMES", "VFolderTransfers"]

DEFAULT_RESUMES: Final = 3
_TUS_LEGACY = "/folders/_/tus/upload/{token}"
_DOWNLOAD_LEGACY = "/folders/_/download_with_token"
Timeout = float | UseDefault | None
StrPath = str | os.PathLike[str]


class VFolderTransfers(Resource):
    """The transfer half of ``client.vfolder`` (:class:`~.vfolders.VFolder` adds the rest)."""

    __slots__ = ()

    def _idle(self, idle_timeout: Timeout) -> float | None:
        if idle_timeout is not USE_DEFAULT:
            return idle_timeout
        read = self._api.config.timeouts.read
        return read if read is not None else TRANSFER_IDLE_TIMEOUT

    # -- transfers: tokens --------------------------------------------------------------

    def _token_call(
        self,
        ref: str,
        request: Callable[[Compat], str],
        body: Callable[[Compat], dict[str, Any]],
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._api.send(
            "POST",
            lambda c: f"/folders/{ref}/{request(c)}",
            json=body,
            reader=read_token,
            timeout=timeout,
            idle_timeout=idle,
            signal=signal,
        )

    def _upload_token(
        self,
        ref: str,
        path: str,
        size: int,
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._token_call(
            ref,
            lambda c: c.vfolder_upload_request,
            lambda c: {"path": path, "size": size},
            timeout,
            idle,
            signal,
        )

    def _download_token(
        self,
        ref: str,
        file: str,
        archive: bool,
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._token_call(
            ref,
            lambda c: c.vfolder_download_request,
            lambda c: {c.vfolder_download_field: file, "archive": archive},
            timeout,
            idle,
            signal,
        )

    async def create_upload_session(
        self,
        path: str,
        fs: UploadSource | int,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> str:
        """Create a tus upload of ``fs`` (a byte count, or a source to measure) at ``path``
        and return its URL, for a tus client of your own (``upload_file`` does it all)."""
        ref, target_path = folder_segment(name), inner_path(path, "path")
        size = byte_count(fs)
        if size is None:
            if isinstance(fs, AsyncIterable):
                raise TypeError("fs must be a size, a file path, bytes or a binary file object")
            measured = await open_tus_source(cast(UploadSource, fs))
            size = measured.size
            await measured.close()
        answer = await self._upload_token(ref, target_path, size, timeout, USE_DEFAULT, signal)
        return self._absolute(token_target(answer, _TUS_LEGACY))

    async def request_download_token(
        self,
        file: str,
        name: str,
        archive: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> DownloadToken:
        """A download token for ``file`` (``archive``: a directory as a zip): ``{"token",
        "url"}`` with the storage proxy's URL from API v6, ``{"token"}`` before."""
        ref = folder_segment(name)
        target, zipped = inner_path(file, "file"), flag(archive, "archive")
        answer = await self._download_token(ref, target, zipped, timeout, USE_DEFAULT, signal)
        return cast(DownloadToken, answer)

    def get_download_url_with_token(self, token: str | DownloadToken = "") -> str:
        """The URL that downloads with ``token``: the storage proxy's ``url?token=`` for a
        :class:`DownloadToken`, the manager's ``download_with_token`` for a bare token."""
        return self._absolute(token_target(_token_answer(token), _DOWNLOAD_LEGACY))

    def _absolute(self, target: Target) -> str:
        if isinstance(target, URL):
            return str(target)
        prefix = "/func" if self._api.session_mode else ""
        return str(self._api.config.endpoint).rstrip("/") + prefix + target

    # -- transfers: uploads ---------------------------------------------------------------

    async def upload_file(
        self,
        name: str,
        source: UploadSource,
        remote_path: str,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_PATCH_SIZE,
        size: int | None = None,
        resumes: int = DEFAULT_RESUMES,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Upload ``source`` to ``remote_path`` in folder ``name``, streamed and resumable.

        ``source``: a file path, bytes, a seekable binary file object, or an async iterable
        of bytes (with ``size=`` it is streamed as it comes and cannot resume; without, it
        is spooled to a temporary file first: the storage proxy needs the size up front).
        Each tus ``PATCH`` carries up to ``chunk_size`` bytes; after an interruption the
        upload goes on from the server's offset, up to ``resumes`` times in a row without
        progress. ``progress(sent, total)`` follows the bytes (it steps back on a resume).
        """
        ref, path = folder_segment(name), inner_path(remote_path, "remote_path")
        patch = at_least(chunk_size, "chunk_size", minimum=1)
        tries = at_least(resumes, "resumes", minimum=0)
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)

        async def work(_deadline: float | None) -> None:
            opened = await open_tus_source(source, size)
            try:
                answer = await self._upload_token(ref, path, opened.size, None, idle, signal)
                await tus_upload(
                    self._api.send,
                    token_target(answer, _TUS_LEGACY),
                    opened,
                    guard,
                    patch_size=patch,
                    resumes=tries,
                    idle_timeout=idle,
                    signal=signal,
                    confirm=lambda: self._arrived(name, path, opened.size, idle, signal),
                )
            finally:
                await opened.close()

        try:
            await self._api.scoped(
                work,
                method="PATCH",
                path=f"/folders/{ref}/request-upload",
                timeout=timeout,
                signal=signal,
            )
        except ClientError as err:
            if guard.error is not None:
                raise guard.error from err
            raise

    async def _arrived(
        self, name: str, path: str, size: int, idle: float | None, signal: AbortSignal | None
    ) -> bool:
        """Whether ``path`` is in the folder with ``size`` bytes (an upload whose last
        answer was lost and whose tus session is gone: complete, or not?)."""
        where = PurePosixPath(path)
        parent = "" if str(where.parent) == "." else str(where.parent)
        listing = await self._api.send(
            "GET",
            f"/folders/{folder_segment(name)}/files",
            params=[("path", parent)],
            timeout=None,
            idle_timeout=idle,
            signal=signal,
        )
        items = listing.get("items", []) if isinstance(listing, Mapping) else []
        return any(
            isinstance(i, Mapping) and i.get("name") == where.name and i.get("size") == size
            for i in items
        )

    async def upload(
        self,
        path: str,
        fs: UploadSource,
        name: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """The JS SDK's ``upload(path, fs, name)``: :meth:`upload_file` in the JS order."""
        await self.upload_file(
            name,
            fs,
            path,
            progress=progress,
            timeout=timeout,
            idle_timeout=idle_timeout,
            signal=signal,
        )

    async def upload_form_data(
        self,
        fss: Mapping[str, UploadSource] | Iterable[tuple[str, UploadSource]],
        name: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Upload several files: ``fss`` maps each target path to its source (the JS SDK
        takes a ``FormData`` of ``src`` parts). One resumable upload per file, in order."""
        items = list(fss.items() if isinstance(fss, Mapping) else fss)
        if not items:
            raise ValueError("fss must name at least one (path, source) pair")
        for path, _ in items:
            inner_path(path, "each path")
        for path, source in items:
            await self.upload_file(
                name,
                source,
                path,
                progress=progress,
                timeout=timeout,
                idle_timeout=idle_timeout,
                signal=signal,
            )

    async def upload_dir(
        self,
        name: str,
        local_dir: StrPath,
        remote_dir: str = "",
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_PATCH_SIZE,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> builtins.list[str]:
        """Upload every file under ``local_dir`` into ``remote_dir`` (created with its
        subdirectories); returns the remote paths, in upload order."""
        ref = folder_segment(name)
        base = inner_path(remote_dir, "remote_dir", root_ok=True).strip("/")
        files = await asyncio.to_thread(_local_tree, Path(local_dir))
        dirs = sorted({str(PurePosixPath(rel).parent) for rel, _ in files} - {"."})
        if base:
            dirs.insert(0, "")
        for rel in dirs:
            remote = f"{base}/{rel}".strip("/")
            await self._api.send(
                "POST",
                f"/folders/{ref}/mkdir",
                json={"path": remote, "parents": True, "exist_ok": True},
                signal=signal,
            )
        uploaded = []
        for rel, local in files:
            remote = f"{base}/{rel}".strip("/")
            await self.upload_file(
                name,
                local,
                remote,
                progress=progress,
                chunk_size=chunk_size,
                timeout=timeout,
                idle_timeout=idle_timeout,
                signal=signal,
            )
            uploaded.append(remote)
        return uploaded

    # -- transfers: downloads -------------------------------------------------------------

    def _fetch(
        self,
        answer: Mapping[str, Any],
        reader: ResponseReader,
        query: builtins.list[tuple[str, str]],
        idle: float | None,
        signal: AbortSignal | None,
    ) -> Awaitable[Any]:
        """GET what a download token names (the proxy takes ``archive``/``no_cache``)."""
        target = token_target(answer, _DOWNLOAD_LEGACY)
        if isinstance(target, URL) and query:
            target = target.update_query(query)
        return self._api.send(
            "GET", target, reader=reader, timeout=None, idle_timeout=idle, signal=signal
        )

    async def _download(
        self,
        fetch: Callable[[ResponseReader], Awaitable[Any]],
        dest: Path | None,
        guard: ProgressGuard,
        method_path: str,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> Path | ByteStream:
        """Run ``fetch(reader)`` as one call: into ``dest``, or as a :class:`ByteStream`."""

        def scoped(reader: ResponseReader) -> Awaitable[Any]:
            return self._api.scoped(
                lambda _deadline: fetch(reader),
                method="GET",
                path=method_path,
                timeout=timeout,
                signal=signal,
            )

        if dest is None:
            return await open_byte_stream(scoped, guard)
        try:
            return cast(Path, await scoped(file_writer(dest, guard)))
        except ClientError as err:
            if guard.error is not None:
                raise guard.error from err
            raise

    @overload
    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path: ...

    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: StrPath | None = None,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path | ByteStream:
        """Download ``remote_path`` of folder ``name``, streamed.

        With ``dest`` (a file path, or a directory to keep the file's name) the file is
        written there atomically and its path returned; without, a :class:`ByteStream` of
        its bytes is returned. ``archive`` downloads a directory as one zip file.
        """
        ref, path = folder_segment(name), inner_path(remote_path, "remote_path")
        zipped = flag(archive, "archive")
        guard = ProgressGuard(progress)
        target = None if dest is None else await asyncio.to_thread(_single_target, dest, path)
        idle = self._idle(idle_timeout)

        async def fetch(reader: ResponseReader) -> Any:
            answer = await self._download_token(ref, path, zipped, None, idle, signal)
            query = [("archive", "true")] if zipped else []
            return await self._fetch(answer, reader, query, idle, signal)

        return await self._download(
            fetch, target, guard, f"/folders/{ref}/request-download", timeout, signal
        )

    async def download(
        self,
        file: str,
        name: str,
        archive: bool = False,
        no_cache: bool = False,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream:
        """The JS SDK's ``download``: the file's bytes as a :class:`ByteStream` (``no_cache``
        asks the storage proxy for ``Cache-Control: no-store``)."""
        ref, path = folder_segment(name), inner_path(file, "file")
        flags = (flag(archive, "archive"), flag(no_cache, "no_cache"))
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)

        async def fetch(reader: ResponseReader) -> Any:
            answer = await self._download_token(ref, path, flags[0], None, idle, signal)
            names = ("archive", "no_cache")
            query = [(k, "true") for k, on in zip(names, flags, strict=True) if on]
            return await self._fetch(answer, reader, query, idle, signal)

        stream = await self._download(
            fetch, None, guard, f"/folders/{ref}/request-download", timeout, signal
        )
        return cast(ByteStream, stream)

    async def download_with_token(
        self,
        token: str | DownloadToken = "",
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream:
        """The bytes a token gives, as a :class:`ByteStream`: a :class:`DownloadToken` from
        :meth:`request_download_token` (the storage proxy's), or a bare manager token."""
        answer = _token_answer(token)
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)
        stream = await self._download(
            lambda reader: self._fetch(answer, reader, [], idle, signal),
            None,
            guard,
            _DOWNLOAD_LEGACY,
            timeout,
            signal,
        )
        return cast(ByteStream, stream)


def _token_answer(token: object) -> dict[str, Any]:
    if isinstance(token, Mapping):
        answer = dict(token)
        nonempty(answer.get("token"), "token['token']")
        if answer.get("url") is not None:
            parsed = URL(nonempty(answer["url"], "token['url']"))
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise ValueError(f"token['url'] must be an absolute http(s) URL, got {parsed}")
        return answer
    return {"token": nonempty(token, "token")}


def _local_tree(root: Path) -> builtins.list[tuple[str, Path]]:
    """Every regular file under ``root`` as (relative POSIX path, local path), sorted."""
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in sorted(files):
            local = Path(folder) / file
            if local.is_file():
                found.append((local.relative_to(root).as_posix(), local))
    return sorted(found)

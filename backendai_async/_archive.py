"""Downloads of several files: a ``multipart/mixed`` answer of tar archives, extracted into
a directory without ever writing outside it.

Parts are received into a staging directory inside the destination and extracted there,
member by member (regular files and directories only; no links, devices or absolute or
``..`` paths; the tarfile ``data`` filter vets each member where Python has it, real paths
are checked everywhere). Files are moved into the destination only once the whole answer
arrived and every target was checked to resolve inside it, also through symlinks that the
destination already holds. A broken or unsafe archive is a ``ResponseError``; a failure of
the local disk is raised as its own ``OSError``.
"""

from __future__ import annotations

import errno
import functools
import lzma
import os
import shutil
import tarfile
import tempfile
import threading
import zlib
from collections.abc import Callable
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import IO, Final, TypeVar

from aiohttp import ClientResponse

from ._body import Body
from ._http import ResponseReader
from ._threads import in_thread
from ._transfer import CHUNK_SIZE, ProgressGuard

__all__ = ["archive_extractor"]

T = TypeVar("T")
_DATA_FILTER = getattr(tarfile, "data_filter", None)  # Python 3.10.12+, 3.11.4+, 3.12+
_MAX_PART_HEADERS: Final = 16 * 1024
_UNREADABLE = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)
_CONFLICTS = (errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ELOOP, errno.ENAMETOOLONG)


class _Unusable(Exception):
    """The archive (or where it would go) cannot be extracted safely: a broken answer."""


class _Stopped(Exception):
    """The extraction was asked to stop (its call was cancelled)."""


# -- the multipart/mixed answer ------------------------------------------------------------


def _boundary(resp: ClientResponse) -> str | None:
    message = Message()
    message["Content-Type"] = resp.headers.get("Content-Type", "")
    boundary = message.get_param("boundary")
    if message.get_content_maintype() != "multipart" or not isinstance(boundary, str):
        return None
    return boundary if 0 < len(boundary) <= 200 else None


class _Parts:
    """The parts of a ``multipart/mixed`` body, read piece by piece (memory stays flat)."""

    __slots__ = ("_body", "_buf", "_delimiter", "_in_part", "_length", "_read")

    def __init__(self, body: Body, boundary: str) -> None:
        self._body = body
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._buf = bytearray(b"\r\n")  # so that a body opening with the delimiter matches
        self._in_part = False
        self._length: int | None = None
        self._read = 0

    async def _fill(self, what: str) -> None:
        piece = await self._body.read_chunk(CHUNK_SIZE)
        if not piece:
            raise self._body.error(f"the multipart answer ends {what}")
        self._buf += piece

    async def next_part(self) -> dict[str, str] | None:
        """Move to the next part and return its headers; None after the last one."""
        while self._in_part:
            await self.read()
        delimiter, buf = self._delimiter, self._buf
        while (at := buf.find(delimiter)) < 0:
            del buf[: max(0, len(buf) - len(delimiter) + 1)]  # preamble, or a part skipped
            await self._fill("before its closing delimiter")
        del buf[: at + len(delimiter)]
        while len(buf) < 2:
            await self._fill("inside a delimiter")
        if buf[:2] == b"--":  # the closing delimiter: the rest is an epilogue, read to check
            buf.clear()
            while await self._body.read_chunk(CHUNK_SIZE):
                pass
            return None
        while (eol := buf.find(b"\r\n")) < 0:
            if len(buf) > 1024:
                raise self._body.error("the multipart answer has a malformed delimiter line")
            await self._fill("inside a delimiter line")
        if buf[:eol].strip(b" \t"):
            raise self._body.error("the multipart answer has a malformed delimiter line")
        del buf[: eol + 2]
        while not buf.startswith(b"\r\n") and (end := buf.find(b"\r\n\r\n")) < 0:
            if len(buf) > _MAX_PART_HEADERS:
                raise self._body.error("a part of the multipart answer has oversized headers")
            await self._fill("inside a part's headers")
        if buf.startswith(b"\r\n"):
            headers: dict[str, str] = {}
            del buf[:2]
        else:
            headers = _part_headers(bytes(buf[:end]))
            del buf[: end + 4]
        if headers.get("content-type", "").lower().startswith("multipart/"):
            raise self._body.error("unexpected nested multipart part in a download answer")
        length = headers.get("content-length")
        self._length = int(length) if length is not None and length.isdigit() else None
        self._read = 0
        self._in_part = True
        return headers

    async def read(self) -> bytes:
        """The next piece of the current part; ``b""`` at its end."""
        if not self._in_part:
            return b""
        delimiter, buf = self._delimiter, self._buf
        while True:
            at = buf.find(delimiter)
            if at >= 0:
                cut = at
            elif len(buf) >= len(delimiter):
                cut = len(buf) - len(delimiter) + 1  # the rest may start a delimiter
            else:
                cut = 0
            if cut or at == 0:
                break
            await self._fill("inside a part")
        piece = bytes(buf[:cut])
        del buf[:cut]
        self._read += len(piece)
        if not piece:
            self._in_part = False
            if self._length is not None and self._read != self._length:
                raise self._body.error(
                    f"a part of the multipart answer has {self._read} bytes where its "
                    f"Content-Length announced {self._length}"
                )
        return piece


def _part_headers(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


# -- extraction (in a worker thread) -------------------------------------------------------


def _inside(root: str, path: Path) -> bool:
    """Whether ``path``, all symlinks resolved, lies in the real directory ``root``."""
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _vetted(member: tarfile.TarInfo, into: Path, root: str) -> tarfile.TarInfo | None:
    """The member if it is a regular file or directory that stays inside ``into``; None for
    what is skipped (links, devices); ``_Unusable`` for an unsafe path."""
    if not (member.isfile() or member.isdir()):
        return None
    name = member.name
    if "\x00" in name or name.startswith(("/", "\\")) or ".." in PurePosixPath(name).parts:
        raise _Unusable(f"unsafe path in the downloaded archive: {name!r}")
    if _DATA_FILTER is not None:
        try:
            member = _DATA_FILTER(member, str(into))
        except tarfile.FilterError as exc:
            raise _Unusable(f"unsafe member in the downloaded archive: {exc}") from None
    if not _inside(root, into / member.name):
        raise _Unusable(f"{name!r} in the downloaded archive would be written outside {into}")
    return member


def _copy(source: IO[bytes], target: Path, executable: bool, stop: threading.Event) -> None:
    mode = 0o777 if executable else 0o666  # the umask applies, as for any new file
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as out:
        while True:
            if stop.is_set():
                raise _Stopped
            try:
                block = source.read(CHUNK_SIZE)
            except _UNREADABLE as exc:
                raise _Unusable(f"the downloaded archive is broken: {exc}") from None
            if not block:
                return
            out.write(block)


def _extract(tar_path: Path, into: Path, stop: threading.Event) -> None:
    """Extract ``tar_path`` into ``into``, member by member, checking ``stop`` as it goes."""
    into.mkdir(exist_ok=True)
    root = os.path.realpath(into)
    try:
        archive = tarfile.open(tar_path, "r:*")  # noqa: SIM115 - closed by the with below
    except _UNREADABLE as exc:
        raise _Unusable(f"a part of the answer is not a tar archive: {exc}") from None
    with archive:
        while not stop.is_set():
            try:
                member = archive.next()
            except _UNREADABLE as exc:
                raise _Unusable(f"the downloaded archive is broken: {exc}") from None
            if member is None:
                return
            vetted = _vetted(member, into, root)
            if vetted is None:
                continue
            target = into / vetted.name
            try:
                if vetted.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    continue
                with source:
                    _copy(source, target, bool(vetted.mode & 0o100), stop)
            except OSError as exc:
                if exc.errno in _CONFLICTS:  # the archive contradicts itself (a file and a dir)
                    raise _Unusable(f"cannot extract {member.name!r}: {exc.strerror}") from None
                raise
        raise _Stopped


def _move_into(staging: Path, dest: Path, _stop: threading.Event) -> list[Path]:
    """Move every extracted file into ``dest``; every target is checked before any moves
    (renames are quick: ``_stop`` is not checked)."""
    if not staging.exists():
        return []  # the answer held no parts
    root = os.path.realpath(dest)
    dirs: list[Path] = []
    moves: list[tuple[Path, Path]] = []
    for here, subdirs, files in os.walk(staging):
        subdirs.sort()
        rel = Path(here).relative_to(staging)
        target_dir = dest / rel
        if not _inside(root, target_dir):
            raise _Unusable(f"{target_dir} resolves outside {dest} (a symlink): not written")
        if target_dir.exists() and not target_dir.is_dir():
            raise _Unusable(f"{target_dir} is a file; the downloaded archive has a directory")
        dirs.append(target_dir)
        for name in sorted(files):
            target = target_dir / name
            if target.is_dir() and not target.is_symlink():
                raise _Unusable(f"{target} is a directory; the downloaded archive has a file")
            moves.append((Path(here) / name, target))
    for directory in dirs:
        directory.mkdir(parents=True, exist_ok=True)
    for source, target in moves:
        os.replace(source, target)
    return [target for _, target in moves]


def _remove_tree(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)


def archive_extractor(dest: Path, progress: ProgressGuard) -> ResponseReader:
    """A reader for ``download``: each part of the answer is a tar archive, extracted into
    ``dest`` once the whole answer has arrived (see the module's docstring)."""

    async def read(resp: ClientResponse, _limit: int | None) -> list[Path]:
        body = Body(resp)
        boundary = _boundary(resp)
        if boundary is None:
            raise body.error("expected a multipart/mixed answer of tar archives")
        make_staging = functools.partial(tempfile.mkdtemp, prefix=".bai-download-", dir=dest)
        staging = Path(await in_thread(make_staging, release=_remove_tree))
        try:
            parts = _Parts(body, boundary)
            extracted = staging / "files"
            received = 0
            index = 0
            while await parts.next_part() is not None:
                tar_path = staging / f"part-{index}.tar"
                index += 1
                file: IO[bytes] = await progress.local(open, tar_path, "wb")
                try:
                    while chunk := await parts.read():
                        await progress.local(file.write, chunk)
                        received += len(chunk)
                        progress(received, None)
                finally:
                    file.close()  # quick; must run during cancellation too
                await _archive_step(body, progress, _extract, tar_path, extracted)
                await progress.local(os.unlink, tar_path)
            return await _archive_step(body, progress, _move_into, extracted, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # synchronous: it must run when cancelled

    return read


async def _archive_step(
    body: Body,
    progress: ProgressGuard,
    step: Callable[[Path, Path, threading.Event], T],
    source: Path,
    target: Path,
) -> T:
    """Run an extraction step in a thread that a cancellation stops between blocks; an
    unusable archive becomes the answer's ``ResponseError``, a local ``OSError`` is kept."""
    stop = threading.Event()
    try:
        return await in_thread(step, source, target, stop, on_cancel=stop.set)
    except _Unusable as exc:
        raise body.error(str(exc)) from None
    except OSError as exc:
        progress.keep(exc)
        raise

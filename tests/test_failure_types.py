"""Every failure gets the right type.

After a status line arrived, whatever breaks (decoding, charset, depth, framing, headers) is
``ERR_RESPONSE``; a status >= 400 stays ``ERR_SERVER`` with its status however broken its
body; and an exception raised by the caller's own code (upload source, progress callback)
propagates as itself from uploads, downloads and byte streams.
"""

from __future__ import annotations

import errno
import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from backendai_async import (
    Client,
    ClientError,
    ErrorType,
    ResponseError,
    ServerError,
    _archive,
    _transfer,
)
from backendai_async.testing import BackendAITestServer

from .conftest import acquired_connections
from .rawhttp import RawServer, answer, chunked, compress, names, sends

DEEP = b"[" * 100_000 + b"]" * 100_000


def after_status(kind: str, status: str = "200 OK") -> bytes:
    """An answer whose status line is fine and whose rest is broken in the way ``kind`` says."""
    json_ct = {"Content-Type": "application/json"}
    if kind == "JSON too deep":
        return answer(status, json_ct, DEEP)
    if kind == "malformed JSON":
        return answer(status, json_ct, b'{"a": [1, 2')
    if kind == "JSON not UTF-8":
        return answer(status, json_ct, b'{"a": "\xff\xfe\xfa"}')
    if kind == "unknown charset":
        return answer(status, {"Content-Type": "text/plain; charset=no-such-charset"}, b"hello")
    if kind == "corrupt gzip":
        return answer(status, {**json_ct, "Content-Encoding": "gzip"}, b"\x1f\x8b\x08junk" * 10)
    if kind == "truncated deflate":
        return answer(
            status,
            {**json_ct, "Content-Encoding": "deflate"},
            compress(b"{}" * 900, "deflate")[:10],
        )
    if kind == "unknown encoding":
        return answer(status, {**json_ct, "Content-Encoding": "zstd"}, b"{}")
    if kind == "cut before Content-Length":
        return answer(status, {**json_ct, "Content-Length": "5000"}, b'{"a": 1', False)
    if kind == "invalid chunk after 300 KiB":  # the status line and headers arrive first
        head = answer(status, {**json_ct, "Transfer-Encoding": "chunked"}, b"", False)
        return head + chunked(b" " * (300 * 1024), end=False) + b"not-hex\r\n"
    if kind == "truncated chunked":
        head = answer(status, {**json_ct, "Transfer-Encoding": "chunked"}, b"", False)
        return head + chunked(b'{"a": ', end=False)
    raise AssertionError(kind)


AFTER_STATUS = [
    "JSON too deep",
    "malformed JSON",
    "JSON not UTF-8",
    "unknown charset",
    "corrupt gzip",
    "truncated deflate",
    "unknown encoding",
    "cut before Content-Length",
    "invalid chunk after 300 KiB",
    "truncated chunked",
]


@pytest.mark.parametrize("kind", AFTER_STATUS)
async def test_anything_broken_after_the_status_line_is_err_response(kind: str) -> None:
    async with RawServer(sends(after_status(kind))) as srv, srv.client() as client:
        await client.get_manager_version()
        with pytest.raises(ClientError) as info:
            await client.request("GET", "/auth/role")
        assert acquired_connections(client) == 0
    assert isinstance(info.value, ResponseError), repr(info.value)
    assert info.value.type is ErrorType.ERR_RESPONSE
    assert info.value.status == 200


@pytest.mark.parametrize("status", ["400 Bad Request", "500 Oops"])
@pytest.mark.parametrize("kind", AFTER_STATUS)
async def test_a_failure_status_stays_a_server_error_however_broken_its_body(
    kind: str, status: str, tmp_path: Path
) -> None:
    async with RawServer(sends(after_status(kind, status))) as srv, srv.client() as client:
        await client.get_manager_version()
        with pytest.raises(ClientError) as info:
            await client.download_single("sess", "f.bin", tmp_path / "f.bin")
        assert acquired_connections(client) == 0
    assert isinstance(info.value, ServerError), repr(info.value)
    assert info.value.status == int(status[:3])
    assert info.value.status_text == status[4:]
    assert names(tmp_path) == []


async def test_a_header_broken_after_the_status_line_is_err_response_without_a_status() -> None:
    data = b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\nno colon here\r\n\r\n{}"
    async with RawServer(sends(data)) as srv, srv.client() as client:
        with pytest.raises(ResponseError) as info:
            await client.request("GET", "/auth/role")
    assert info.value.status is None  # the answer never became one: no status to report
    assert "not valid HTTP" in info.value.message


# -- the caller's own exceptions ----------------------------------------------------------


class Boom(Exception):
    """The caller's own bug."""


@pytest.fixture
async def session(client: Client) -> str:
    await client.create_if_not_exists("python", "own-errors")
    await client.upload("own-errors", "f.bin", b"f" * (600 * 1024))
    return "own-errors"


def _raises_after(n: int) -> Callable[[int, int | None], None]:
    calls = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal calls
        calls += 1
        if calls > n:
            raise Boom("from progress")

    return progress


class BrokenFile(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise Boom("from read")


async def _drain(stream: Any) -> None:
    async with stream:
        async for _ in stream:
            pass


async def _iterable() -> AsyncIterator[bytes]:
    yield b"a" * 1000
    raise Boom("from the iterable")


CALLER_BUGS: dict[str, Callable[[Client, str, Path], Any]] = {
    "upload: async iterable raises": lambda c, s, t: c.upload(s, "u.bin", _iterable()),
    "upload: file read raises": lambda c, s, t: c.upload(
        s, "u.bin", io.BufferedReader(BrokenFile())
    ),
    "upload: progress raises": lambda c, s, t: c.upload(
        s, "u.bin", b"u" * (600 * 1024), _raises_after(1)
    ),
    "upload: progress raises at once": lambda c, s, t: c.upload(
        s, "u.bin", b"u" * 10, _raises_after(0)
    ),
    "download_single: progress raises": lambda c, s, t: c.download_single(
        s, "f.bin", t / "f.bin", progress=_raises_after(1)
    ),
    "download: progress raises": lambda c, s, t: c.download(
        s, "f.bin", t, progress=_raises_after(1)
    ),
}


@pytest.mark.parametrize("case", list(CALLER_BUGS))
async def test_the_callers_own_exception_propagates_as_itself(
    case: str, client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match=r"^from ") as info:
        await CALLER_BUGS[case](client, session, tmp_path)
    assert type(info.value) is Boom, repr(info.value)
    assert not isinstance(info.value.__cause__, ClientError)  # no SDK error chained to it
    assert not isinstance(info.value.__context__, ClientError)
    assert acquired_connections(client) == 0
    assert names(tmp_path) == []


async def test_a_progress_callback_raising_in_a_byte_stream_propagates_as_itself(
    client: Client, session: str
) -> None:
    stream = await client.download_single(session, "f.bin", progress=_raises_after(1))
    with pytest.raises(Boom):
        await _drain(stream)
    assert acquired_connections(client) == 0


@pytest.mark.parametrize("step", ["file", "archive"])
async def test_a_local_disk_error_propagates_as_itself(
    step: str, client: Client, session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if step == "file":
        monkeypatch.setattr(_transfer, "_commit", full)
        call = client.download_single(session, "f.bin", tmp_path / "f.bin")
    else:
        monkeypatch.setattr(_archive, "_copy", full)
        call = client.download(session, "f.bin", tmp_path)
    with pytest.raises(OSError, match="No space left") as info:
        await call
    assert not isinstance(info.value, ClientError)
    assert info.value.errno == errno.ENOSPC
    assert names(tmp_path) == []
    assert acquired_connections(client) == 0

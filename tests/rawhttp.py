"""A raw HTTP/1.1 server on loopback, for answers no well-behaved server library would send:
bad framing, lying lengths, compression bombs, 101s, broken headers.

``GET /`` (the version probe) is answered properly and keeps the connection; every other
request is handed to the test's ``respond(request, writer)``, after which the connection is
closed. Requests are recorded so that tests can assert on what the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import struct
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from backendai_async import Client, ClientConfig

VERSION = b'{"version": "v7.20230615", "manager": "23.09.10"}'
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Responder = Callable[[RawRequest, asyncio.StreamWriter], Awaitable[None]]


def answer(
    status: str, headers: Mapping[str, str] | None = None, body: bytes = b"", length: bool = True
) -> bytes:
    """``HTTP/1.1 <status>`` with the headers, a Content-Length (unless told not) and body."""
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, end: bool = True) -> bytes:
    """A chunked body of ``pieces`` (without the last chunk when ``end`` is False)."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return out + (b"0\r\n\r\n" if end else b"")


def sends(data: bytes) -> Responder:
    """A responder that writes ``data`` and closes the connection."""

    async def respond(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return respond


@lru_cache(maxsize=4)
def zero_bomb(mib: int, coding: str = "gzip") -> bytes:
    """``mib`` MiB of zeros, compressed (about 1 KiB per MiB), built without holding them.

    ``coding`` is ``gzip``, ``deflate`` (zlib-wrapped, as RFC 9110 says) or ``raw-deflate``.
    Each MiB is one full-flushed deflate block, identical to the others, so the stream is a
    header, one block repeated, and the trailer (its checksum computed block by block).
    """
    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    unit = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = first + unit * (mib - 1) + deflate.flush()
    if coding == "raw-deflate":
        return stream
    if coding == "deflate":
        adler = 1
        for _ in range(mib):
            adler = zlib.adler32(block, adler)
        return b"\x78\xda" + stream + struct.pack(">I", adler)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + stream + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def names(directory: Path) -> list[str]:
    """The sorted names in ``directory`` (what a failed transfer must not have added to)."""
    return sorted(os.listdir(directory))


def compress(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush()


class RawServer:
    """``async with RawServer(respond) as srv:`` then ``srv.client()`` talks to it."""

    def __init__(self, respond: Responder) -> None:
        self._respond = respond
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests: list[RawRequest] = []
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **options: Any) -> Client:
        return Client(ClientConfig(ACCESS_KEY, SECRET_KEY, self.endpoint, **options))

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        try:
            while request := await _read_request(reader):
                self.requests.append(request)
                if request.method == "GET" and request.target == "/":
                    writer.write(answer("200 OK", {"Content-Type": "application/json"}, VERSION))
                    await writer.drain()
                    continue
                await self._respond(request, writer)
                break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    first, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = first.split(" ", 2)
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        body = b"".join(parts)
    else:
        body = b""
    return RawRequest(method, target, headers, body)

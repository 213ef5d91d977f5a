"""Reading response bodies: decoded, bounded, and complete, or an error.

aiohttp is asked not to decompress (``auto_decompress=False``): it would inflate a small
gzip body to any size before a limit could be checked. This module inflates gzip/deflate
itself, a bounded piece at a time (zlib's ``max_length``), so every limit applies to
*decoded* bytes and no reader ever holds more than its limit plus a constant. A body also
has to be whole: a compressed stream that is cut or corrupt, or fewer bytes than
``Content-Length`` announced, is a ``ResponseError``, never a short success.
"""

from __future__ import annotations

import asyncio
import json
import weakref
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import aiohttp
from aiohttp import ClientResponse

from .errors import ClientError, ResponseError

if TYPE_CHECKING:
    from ._http import ResponseReader

__all__ = [
    "ACCEPT_ENCODING",
    "ERROR_BODY_LIMIT",
    "Body",
    "decode_body",
    "decode_object",
    "discard_body",
    "read_error_body",
    "read_limited",
]

T = TypeVar("T")
ACCEPT_ENCODING: Final = "gzip, deflate"
"""What the SDK can decode, hence all it asks for (aiohttp would add ``br`` when Brotli is
installed, which this module does not decode)."""
ERROR_BODY_LIMIT: Final = 256 * 1024
"""Decoded bytes of a failure answer's body kept for the error (the status is the error)."""
_PIECE: Final = 64 * 1024  # decoded bytes per piece when the caller names no size
_RAW_PIECE: Final = 64 * 1024  # compressed bytes read at once
_CODINGS: Final = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


def _response_error(resp: ClientResponse, problem: str) -> ResponseError:
    """A ``ResponseError`` for an answer whose status arrived but whose body is unusable."""
    return ResponseError(
        f"reading response has failed: {problem}",
        title="Response unreadable",
        status=resp.status,
        status_text=resp.reason,
    )


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


_JSON_BODY, _TEXT_BODY, _OTHER_BODY = 0, 1, 2
_KINDS: dict[str | None, int] = {}
"""Content-Type header text -> how its body decodes (a client sees a handful of them)."""


def _kind(resp: ClientResponse) -> int:
    """JSON, text or other, from the answer's media type (remembered per header text)."""
    raw = resp.headers.get("Content-Type")
    kind = _KINDS.get(raw)
    if kind is None:
        media_type = resp.content_type
        kind = (
            _JSON_BODY
            if _is_json(media_type)
            else _TEXT_BODY
            if media_type.startswith("text/")
            else _OTHER_BODY
        )
        if len(_KINDS) >= 64:
            _KINDS.clear()
        _KINDS[raw] = kind
    return kind


_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(data: bytes) -> Any:
    """``json.loads(data)``; a UTF-8 object or array (what a server sends) skips its
    encoding sniffing and whitespace passes. Anything else, or any doubt, is json.loads."""
    if len(data) > 1 and data[1] and (data[0] == 123 or data[0] == 91):  # '{' or '['
        try:
            text = data.decode("utf-8", "surrogatepass")  # what json.loads decodes with
            value, end = _scan_json(text, 0)
        except (StopIteration, ValueError):
            pass  # json.loads raises its own error
        else:
            if end == len(text):
                return value
    return json.loads(data)


def _decoded(resp: ClientResponse, data: bytes) -> Any:
    if not data:
        return None
    kind = _kind(resp)
    if kind == _JSON_BODY:
        return _loads(data)
    if kind == _TEXT_BODY:
        return data.decode(resp.charset or "utf-8", "replace")
    return data


def _has_body(resp: ClientResponse) -> bool:
    return not (resp.method == "HEAD" or resp.status in (204, 304) or resp.status < 200)


def _check_length(resp: ClientResponse, received: int) -> None:
    """Refuse a body shorter or longer than its ``Content-Length`` (raw, still-encoded bytes)."""
    announced = resp.content_length
    if (
        announced is not None
        and received != announced
        and _has_body(resp)
        and "Transfer-Encoding" not in resp.headers
    ):
        raise _response_error(
            resp, f"the body has {received} bytes where Content-Length announced {announced}"
        )


def _coding_of(resp: ClientResponse) -> str | None:
    """The one content coding to undo (None: identity); anything else is refused."""
    codings = [
        c.strip().lower()
        for value in resp.headers.getall("Content-Encoding", ())
        for c in value.split(",")
    ]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in _CODINGS:
        return _CODINGS[codings[0]]
    raise _response_error(
        resp,
        f"the body is encoded as {', '.join(codings)!r}, which the SDK does not decode "
        f"(it asks for Accept-Encoding: {ACCEPT_ENCODING})",
    )


class _Inflater:
    """gzip/deflate inflated with a bound on each output, so that a small compressed body
    can never become a large buffer at once (a "zip bomb" costs CPU time, not memory)."""

    __slots__ = ("_coding", "_full", "_tail", "_z")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._z: Any = None  # created on the first bytes (deflate: zlib-wrapped or raw)
        self._tail = b""  # input not consumed yet
        self._full = False  # the last output reached its bound: more may be pending

    @property
    def full(self) -> bool:
        return self._full

    def _start(self, data: bytes) -> None:
        if self._coding == "gzip":
            wbits = 16 + zlib.MAX_WBITS
        elif (data[0] & 0x0F) == 8 and (data[0] >> 4) <= 7 and ((data[0] << 8) | data[1]) % 31 == 0:
            wbits = zlib.MAX_WBITS  # RFC 1950 zlib stream, as the RFC says "deflate" is
        else:
            wbits = -zlib.MAX_WBITS  # raw deflate, as some servers send it
        self._z = zlib.decompressobj(wbits)

    def feed(self, data: bytes, size: int) -> bytes:
        """Inflate what is pending plus ``data``; at most ``size`` bytes come out."""
        if self._tail:
            data, self._tail = self._tail + data, b""
        self._full = False
        z = self._z
        if z is not None and z.eof:
            # After a complete stream: gzip allows further members (and zero padding).
            data = data.lstrip(b"\0") if self._coding == "gzip" else data
            if not data:
                return b""
            if self._coding != "gzip":
                raise ValueError("data after the end of the deflate stream")
            z = None
        if z is None:
            if not data or (self._coding == "deflate" and len(data) < 2):
                self._tail = data
                return b""
            self._start(data)
            z = self._z
        out: bytes = z.decompress(data, size)
        self._tail = z.unconsumed_tail
        if z.eof and z.unused_data:
            self._tail = z.unused_data + self._tail
        self._full = len(out) >= size or bool(self._tail)
        return out

    def finish(self) -> None:
        """Refuse a stream that ended before its end marker."""
        if self._tail or (self._z is not None and not self._z.eof):
            raise ValueError(f"the {self._coding} body is truncated")


class _ConnectionWatch:
    """Fails the chunked body being read on a connection when that connection closes first.

    aiohttp's C parser, failing on a chunk of a body after its headers were delivered
    (invalid chunk framing), closes the connection but never completes the body: a read
    would wait until a deadline and report a timeout. One watch per connection, on the
    future aiohttp completes when the connection is lost, turns that into the read error
    it is. (It also retrieves that future's exception, which would otherwise be logged.)
    """

    __slots__ = ("_protocol", "content")

    def __init__(self, protocol: Any) -> None:
        self._protocol = weakref.ref(protocol)  # weak: the protocol is this watch's key
        self.content: Any = None  # the StreamReader of the body being read, if any

    def __call__(self, closed: asyncio.Future[None]) -> None:
        if not closed.cancelled():
            closed.exception()
        content, self.content = self.content, None
        if content is None or content.is_eof() or content.exception() is not None:
            return
        protocol = self._protocol()
        why = None if protocol is None else protocol.exception()
        detail = f": {getattr(why, 'message', why)}" if why is not None else ""
        content.set_exception(
            aiohttp.ClientPayloadError(f"the connection closed before the body ended{detail}")
        )


_WATCHES: weakref.WeakKeyDictionary[Any, _ConnectionWatch] = weakref.WeakKeyDictionary()


def _watch(resp: ClientResponse) -> tuple[Any, _ConnectionWatch | None]:
    """The protocol of a chunked body's connection, and its watch (None when lost)."""
    connection = resp.connection
    protocol = None if connection is None else connection.protocol
    if protocol is None:
        return None, None
    watch = _WATCHES.get(protocol)
    if watch is None:
        closed = getattr(protocol, "closed", None)
        if closed is None:  # already lost (a read raises at once), or an older aiohttp
            return protocol, None
        watch = _WATCHES[protocol] = _ConnectionWatch(protocol)
        closed.add_done_callback(watch)
    watch.content = resp.content
    return protocol, watch


class Body:
    """One response's body as the sender meant it: decoded, checked complete, in pieces.

    ``size`` is the decoded size when known (no content coding and a ``Content-Length``).
    An unsupported content coding raises here, before anything is read. ``decode=False``
    reads the raw bytes (still checked complete), for a body whose content cannot matter.
    """

    __slots__ = (
        "_coding",
        "_ended",
        "_inflater",
        "_protocol",
        "_received",
        "_resp",
        "_watch",
        "size",
    )

    def __init__(self, resp: ClientResponse, *, decode: bool = True) -> None:
        self._resp = resp
        headers = resp.headers
        coding = _coding_of(resp) if decode and "Content-Encoding" in headers else None
        self._coding = coding
        self._inflater = None if coding is None else _Inflater(coding)
        self.size = resp.content_length if coding is None and _has_body(resp) else None
        self._received = 0
        self._ended = False
        self._protocol: Any = None
        self._watch: _ConnectionWatch | None = None
        if "Transfer-Encoding" in headers:  # only a chunked body can be left unended
            self._protocol, self._watch = _watch(resp)

    def error(self, problem: str) -> ResponseError:
        """A ``ResponseError`` naming this answer (for readers that find its content broken)."""
        return _response_error(self._resp, problem)

    async def read_chunk(self, size: int = _PIECE) -> bytes:
        """Up to ``size`` decoded bytes; ``b""`` once the body ended, whole."""
        inflater = self._inflater
        content = self._resp.content
        while not self._ended:
            if inflater is not None and inflater.full:
                out = self._inflate(inflater, b"", size)
                if out:
                    return out
                continue
            try:
                raw = await content.read(size if inflater is None else _RAW_PIECE)
            except RuntimeError:  # aiohttp's "Connection closed." (a body it left unended)
                if self._protocol is None or self._protocol.connected:
                    raise
                raise self.error("the connection closed before the body ended") from None
            if not raw:
                self._end()
                break
            self._received += len(raw)
            if inflater is None:
                return raw
            out = self._inflate(inflater, raw, size)
            if out:
                return out
        return b""

    def _inflate(self, inflater: _Inflater, raw: bytes, size: int) -> bytes:
        try:
            return inflater.feed(raw, size)
        except (zlib.error, ValueError) as exc:
            raise self.error(f"the {self._coding} body is corrupt: {exc}") from None

    async def read_all(self, limit: int | None) -> bytes:
        """The whole decoded body, refusing to hold more than ``limit`` bytes of it."""
        if limit is not None and self.size is not None and self.size > limit:
            raise self.error(
                f"response body of {self.size} bytes exceeds max_response_size ({limit} bytes)"
            )
        step = _PIECE if limit is None else min(_PIECE, limit + 1)
        pieces: list[bytes] = []
        total = 0
        while piece := await self.read_chunk(step):
            total += len(piece)
            if limit is not None and total > limit:
                raise self.error(
                    f"response body exceeds max_response_size ({limit} bytes) once decoded"
                )
            pieces.append(piece)
        return b"".join(pieces)

    def _end(self) -> None:
        self._ended = True
        if self._watch is not None:
            self._watch.content = None
        _check_length(self._resp, self._received)
        if self._inflater is not None:
            try:
                self._inflater.finish()
            except ValueError as exc:
                raise self.error(str(exc)) from None


async def read_limited(resp: ClientResponse, limit: int | None) -> bytes:
    """The whole decoded body, refusing (ResponseError) to hold more than ``limit`` bytes."""
    headers = resp.headers
    length = resp.content_length
    if (
        length is not None
        and (limit is None or length <= limit)
        and "Content-Encoding" not in headers
        and "Transfer-Encoding" not in headers
    ):  # the common answer: plain, its length known and within the limit
        data = await resp.read()
        if len(data) != length:
            _check_length(resp, len(data))
        return data
    return await Body(resp).read_all(limit)


async def decode_body(resp: ClientResponse, limit: int | None) -> Any:
    """JSON (``application/json``, ``*+json``) → object; ``text/*`` → str; else bytes.

    An empty body (a 204, or the webserver's empty 201 on logout) is ``None``.
    """
    return _decoded(resp, await read_limited(resp, limit))


async def decode_object(resp: ClientResponse, limit: int | None) -> Any:
    """Like :func:`decode_body`, for calls whose answer must be a JSON object.

    A ``null``, a list or text where an object is due is a broken answer (ERR_RESPONSE),
    not a value to hand on and fail later with a ``TypeError`` in the caller's code.
    """
    return _object(_decoded(resp, await read_limited(resp, limit)))


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        shown = "null" if value is None else type(value).__name__
        raise ValueError(f"expected a JSON object, got {shown}")
    return value


def object_reader(shape: Callable[[dict[str, Any]], T]) -> ResponseReader:
    """A reader for a JSON object answer that ``shape`` normalises inside the call.

    ``shape`` is pure; a ``ValueError`` from it is a broken answer (ERR_RESPONSE).
    """

    async def read(resp: ClientResponse, limit: int | None) -> T:  # decode_object, inlined
        value = _decoded(resp, await read_limited(resp, limit))
        return shape(value if isinstance(value, dict) else _object(value))

    return read


async def discard_body(resp: ClientResponse, limit: int | None) -> None:
    """Read and drop the body, still checking it arrived whole: for calls whose outcome is
    the status alone (uploads). It is not decoded: its content cannot matter."""
    body = Body(resp, decode=False)
    while await body.read_chunk(_RAW_PIECE):
        pass


async def read_error_body(resp: ClientResponse) -> Any:
    """The parsed body of a failure answer, or None when it cannot be read or decoded:
    the status is the error, the body only detail (so a 500 stays a 500)."""
    try:
        raw = await read_limited(resp, ERROR_BODY_LIMIT)
        if raw and _kind(resp) == _JSON_BODY:
            return _loads(raw)
        if raw:
            return raw.decode(resp.charset or "utf-8", "replace")
    except (
        ValueError,
        LookupError,
        RecursionError,
        ClientError,
        aiohttp.ClientError,
        OSError,
        asyncio.TimeoutError,
    ):
        pass
    return None

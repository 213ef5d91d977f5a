"""Server-sent events: an incremental parser of ``text/event-stream``, pure (no I/O).

It follows the WHATWG rules: lines end with CRLF, LF or CR (a CRLF split across two
chunks counts once); ``event``, ``data``, ``id`` and ``retry`` fields; several ``data``
lines join with ``"\\n"``; a line starting with ``:`` is a comment (servers send ``: ping``
as a keep-alive); unknown fields and lines are ignored; a blank line dispatches the event,
and an event without data is not dispatched. One event may not grow beyond
``max_event_size`` bytes: a stream that never ends its line or event cannot fill memory.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEEvent", "SSEOverflowError", "SSEParser"]

DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_CR = 13


class SSEOverflowError(ValueError):
    """An event (or a line of it) grew beyond the parser's ``max_event_size``."""


class SSEEvent(NamedTuple):
    """One dispatched event, as the stream carried it.

    ``event`` is the type (``"message"`` when the stream named none); ``id`` the last event
    id the stream set (None if it never set one); ``retry`` the reconnection delay in
    milliseconds that this event announced, if it did.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed it chunks of bytes as they arrive; it returns the events they complete.

    ``last_event_id`` (the id of the last dispatched event, sent back as ``Last-Event-ID``
    on a reconnection) and ``retry`` (milliseconds) keep what the stream announced so far;
    ``comments`` counts comment lines (keep-alives).
    """

    __slots__ = (
        "_at_start",
        "_data",
        "_data_size",
        "_event",
        "_event_retry",
        "_id_buffer",
        "_max",
        "_pending",
        "_skip_lf",
        "comments",
        "last_event_id",
        "retry",
    )

    def __init__(
        self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, last_event_id: str = ""
    ) -> None:
        if not isinstance(max_event_size, int) or isinstance(max_event_size, bool):
            raise TypeError("max_event_size must be an int")
        if max_event_size < 1:
            raise ValueError("max_event_size must be at least 1 byte")
        self._max = max_event_size
        self._pending = b""  # an unfinished line
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._at_start = True
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = ""
        self._event_retry: int | None = None
        self._id_buffer = last_event_id
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse ``chunk``; the events it completes, in order (often none, often several)."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._at_start:  # a UTF-8 byte order mark may open the stream (and be split)
            chunk = self._pending + chunk
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._pending = chunk
                return []
            self._pending = b""
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        data = self._pending + chunk if self._pending else chunk
        lines = data.splitlines()  # bytes split on CRLF, LF and CR only
        last = data[-1:]
        pending = b""
        if last == b"\r":
            self._skip_lf = True  # a CRLF may be split across this chunk and the next
        elif last != b"\n" and lines:
            pending = lines.pop()
        events: list[SSEEvent] = []
        append = events.append
        # The fields live in locals during the loop (the hot path of every stream).
        buffer, size, kind, retry = self._data, self._data_size, self._event, self._event_retry
        limit = self._max
        for line in lines:
            if not line:  # dispatch
                self.last_event_id = self._id_buffer
                if buffer:
                    raw = buffer[0] if len(buffer) == 1 else b"\n".join(buffer)
                    append(
                        SSEEvent(
                            kind or "message",
                            raw.decode("utf-8", "replace"),
                            self.last_event_id or None,
                            retry,
                        )
                    )
                    buffer, size = [], 0
                kind, retry = "", None
            elif line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                buffer.append(value)
                size += len(value) + 1
                if size > limit:
                    self._overflow(size)
            elif line[:6] == b"event:":
                kind = (line[7:] if line[6:7] == b" " else line[6:]).decode("utf-8", "replace")
            elif line[0] == 0x3A:  # ":" starts a comment
                self.comments += 1
            else:
                name, colon, value = line.partition(b":")
                if colon and value[:1] == b" ":
                    value = value[1:]
                if name == b"data":  # "data" without a colon: an empty line of data
                    buffer.append(value)
                    size += 1
                elif name == b"event":
                    kind = ""
                elif name == b"id":
                    if b"\x00" not in value:
                        self._id_buffer = value.decode("utf-8", "replace")
                elif name == b"retry" and value.isdigit():
                    self.retry = retry = int(value)
        self._data, self._data_size, self._event, self._event_retry = buffer, size, kind, retry
        self._pending = pending
        if len(pending) + size > limit:
            self._overflow(len(pending) + size)
        return events

    def close(self) -> None:
        """End of the stream: an event without its blank line is discarded (as specified)."""
        self._pending = b""
        self._data = []
        self._data_size = 0
        self._event = ""
        self._event_retry = None

    def _overflow(self, size: int) -> None:
        self.close()
        raise SSEOverflowError(
            f"an event of the stream is larger than max_event_size ({self._max} bytes; "
            f"{size} bytes so far)"
        )

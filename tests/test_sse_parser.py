"""The SSE parser on its own: every field, line ends, chunk boundaries, limits (no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendai_async._sse import SSEEvent, SSEOverflowError, SSEParser

REAL_2309 = (
    b'event: kernel_cancelled\r\ndata: {"reason": "force-terminated", "sessionName": "s1"}\r\n'
    b"\r\n: ping\r\n\r\n"
    b'event: bgtask_done\r\ndata: {"task_id": "t"}\r\nretry: 5\r\n\r\n'
    b"event: server_close\r\ndata: {}\r\n\r\n"
)


def parse(*chunks: bytes) -> tuple[list[SSEEvent], SSEParser]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events, parser


def test_a_real_manager_stream_gives_its_events_comments_and_retry() -> None:
    events, parser = parse(REAL_2309)
    assert [e.event for e in events] == ["kernel_cancelled", "bgtask_done", "server_close"]
    assert events[0].data == '{"reason": "force-terminated", "sessionName": "s1"}'
    assert events[1].retry == 5
    assert events[0].retry is None
    assert events[2].retry is None
    assert parser.retry == 5
    assert parser.comments == 1
    assert all(e.id is None for e in events)


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"], ids=["CRLF", "LF", "CR"])
def test_every_line_end_works(newline: bytes) -> None:
    text = b"event: a\ndata: 1\ndata: 2\n\n: c\ndata: x\n\n".replace(b"\n", newline)
    events, _ = parse(text)
    assert events == [SSEEvent("a", "1\n2"), SSEEvent("message", "x")]


@given(st.lists(st.integers(0, len(REAL_2309)), max_size=8))
def test_split_chunks_give_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [REAL_2309[a:b] for a, b in zip([0, *points], [*points, len(REAL_2309)], strict=False)]
    assert parse(*chunks)[0] == parse(REAL_2309)[0]


def test_a_crlf_split_between_chunks_ends_one_line_only() -> None:
    events, _ = parse(b"data: x\r", b"\ndata: y\r", b"\n\r", b"\n")
    assert events == [SSEEvent("message", "x\ny")]


def test_fields_follow_the_spec() -> None:
    events, parser = parse(
        b"data\n\n"  # no colon: the whole line is the field name, value empty
        b"data:no-space\n\n"  # the space after the colon is optional
        b"data:  two spaces\n\n"  # only one space is removed
        b"id: 7\nevent: e\ndata: a\n\n"
        b"data: keeps id\n\n"  # the id persists
        b"id: bad\x00id\ndata: nul\n\n"  # an id with NUL is ignored
        b"id\ndata: cleared\n\n"  # an empty id clears it
        b"retry: 12x\nretry: 30\nfoo: bar\nunknown\ndata: r\n\n"
    )
    assert events == [
        SSEEvent("message", ""),
        SSEEvent("message", "no-space"),
        SSEEvent("message", " two spaces"),
        SSEEvent("e", "a", "7"),
        SSEEvent("message", "keeps id", "7"),
        SSEEvent("message", "nul", "7"),
        SSEEvent("message", "cleared", None),
        SSEEvent("message", "r", None, 30),
    ]
    assert parser.retry == 30


def test_an_event_without_data_is_not_dispatched_but_resets_its_type() -> None:
    events, _ = parse(b"event: only-type\n\ndata: x\n\n")
    assert events == [SSEEvent("message", "x")]


def test_the_id_becomes_the_last_event_id_at_the_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"id: 4\ndata: a") == []
    assert parser.last_event_id == ""  # not dispatched yet: a reconnection resends from before
    assert parser.feed(b"\n\n")[0].id == "4"
    assert parser.last_event_id == "4"


def test_a_byte_order_mark_is_skipped_even_when_split() -> None:
    events, _ = parse(b"\xef", b"\xbb", b"\xbfdata: a\n\n")
    assert events == [SSEEvent("message", "a")]
    assert parse(b"data: \xef\xbb\xbfb\n\n")[0] == [SSEEvent("message", "\ufeffb")]


def test_bad_utf8_is_replaced_not_fatal() -> None:
    events, _ = parse(b"data: \xff\xfe\n\n: \xff comment\n\n")
    assert events == [SSEEvent("message", "\ufffd\ufffd")]


def test_an_unfinished_event_at_the_end_is_dropped() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: half") == []
    parser.close()
    assert parser.feed(b"\n\n") == []


@pytest.mark.parametrize(
    "stream",
    [
        b"data: " + b"x" * 2000,  # one line that never ends
        b"".join(b"data: " + b"y" * 99 + b"\n" for _ in range(30)),  # many lines, no blank
    ],
    ids=["long-line", "many-lines"],
)
def test_a_huge_event_is_refused_at_the_limit(stream: bytes) -> None:
    chunks = [stream[start : start + 100] for start in range(0, len(stream), 100)]
    with pytest.raises(SSEOverflowError, match="max_event_size"):
        parse_with(SSEParser(max_event_size=1024), chunks)


def parse_with(parser: SSEParser, chunks: list[bytes]) -> None:
    for chunk in chunks:
        parser.feed(chunk)


def test_events_up_to_the_limit_pass() -> None:
    parser = SSEParser(max_event_size=1024)
    events = parser.feed(b"data: " + b"z" * 1000 + b"\n\n" + b"data: w\n\n")
    assert [len(e.data) for e in events] == [1000, 1]


@pytest.mark.parametrize("size", [0, -1, True, 1.5])
def test_a_bad_limit_is_refused(size: object) -> None:
    with pytest.raises((ValueError, TypeError), match="max_event_size"):
        SSEParser(max_event_size=size)  # type: ignore[arg-type]

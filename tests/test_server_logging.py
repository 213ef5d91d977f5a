"""The embedded servers log a client that hangs up at DEBUG, and real handler bugs as ERROR."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from backendai_async import Client, ClientConfig, ResponseError, ServerError
from backendai_async.testing import STATE_KEY, BackendAITestServer, ServerState
from backendai_async.testing._logging import is_disconnect, server_logger

HANDLER_ERROR = "Error handling request"


class Routes:
    """An endless body (the client must hang up) and a handler with a bug."""

    def __init__(self) -> None:
        self.stream_ended = asyncio.Event()
        self.stream_error: BaseException | None = None

    def install(self, app: web.Application, state: ServerState) -> None:
        app.router.add_get("/_test/endless", self.endless)
        app.router.add_get("/_test/bug", self.bug)

    async def endless(self, request: web.Request) -> web.StreamResponse:
        assert request.app[STATE_KEY] is not None
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        try:
            while True:
                await resp.write(b"x" * 65536)
        except BaseException as exc:
            self.stream_error = exc
            raise
        finally:
            self.stream_ended.set()

    async def bug(self, request: web.Request) -> web.StreamResponse:
        raise RuntimeError("a bug in a route")


@pytest.fixture
def routes() -> Routes:
    return Routes()


@pytest.fixture
async def server(routes: Routes) -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer(extra_routes=[routes.install]) as srv:
        yield srv


def handler_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aiohttp.server" and HANDLER_ERROR in r.msg]


async def test_a_client_hanging_up_mid_body_is_logged_at_debug(
    server: BackendAITestServer, routes: Routes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    cfg = ClientConfig(
        server.access_key, server.secret_key, str(server.endpoint), max_response_size=1 << 20
    )
    async with Client(cfg) as client:
        with pytest.raises(ResponseError, match="max_response_size"):
            await client.request("GET", "/_test/endless")
        await asyncio.wait_for(routes.stream_ended.wait(), 10)
    assert isinstance(routes.stream_error, ConnectionError)  # the client did hang up
    records = handler_records(caplog)
    assert records, "aiohttp logged nothing about the hang-up (the test proves nothing)"
    assert {r.levelno for r in records} == {logging.DEBUG}
    assert all(is_disconnect(r.exc_info) for r in records)


async def test_a_bug_in_a_handler_is_still_an_error(
    server: BackendAITestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    async with Client(cfg) as client:
        with pytest.raises(ServerError) as info:
            await client.request("GET", "/_test/bug")
    assert info.value.status == 500
    records = handler_records(caplog)
    assert [r.levelno for r in records] == [logging.ERROR]
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], RuntimeError)


@pytest.mark.parametrize(
    ("exc", "level"),
    [
        (ConnectionResetError("Cannot write to closing transport"), logging.DEBUG),
        (BrokenPipeError(), logging.DEBUG),
        (asyncio.CancelledError(), logging.DEBUG),
        (ValueError("a real problem"), logging.ERROR),
    ],
)
def test_only_disconnects_are_lowered(
    exc: BaseException, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="backendai_async.tests.server")
    logger = server_logger("backendai_async.tests.server")
    logger.exception("Error handling request from %s", "127.0.0.1", exc_info=exc)
    logger.warning("plain warning")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (level, "Error handling request from 127.0.0.1"),
        (logging.WARNING, "plain warning"),
    ]

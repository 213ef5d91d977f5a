"""One deadline covers every wait a call makes; aborts and close() reach every wait too.

Each test parks calls at one kind of wait (the admission gate at the pool limit, the shared
version negotiation, a retry back-off, connection set-up) and checks that the call's own
deadline, its signal, ``client.abort()`` and ``close()`` end it at once, while whatever it
waited for is still stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import pytest

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientClosedError,
    ClientConfig,
    ClientError,
    RequestTimeoutError,
    ServerError,
)
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import ClientFactory, acquired_connections

Stop = Callable[[Client, "asyncio.Task[Any]", AbortController], Coroutine[Any, Any, None]]


async def _by_deadline(client: Client, task: asyncio.Task[Any], ctl: AbortController) -> None:
    with pytest.raises(RequestTimeoutError) as info:
        await task
    assert info.value.phase == "total"
    assert info.value.limit == 0.3


async def _by_signal(client: Client, task: asyncio.Task[Any], ctl: AbortController) -> None:
    ctl.abort("stop waiting")
    with pytest.raises(AbortError, match="stop waiting"):
        await task


async def _by_client_abort(client: Client, task: asyncio.Task[Any], ctl: AbortController) -> None:
    client.abort("all of them")
    with pytest.raises(AbortError, match="all of them"):
        await task


async def _by_close(client: Client, task: asyncio.Task[Any], ctl: AbortController) -> None:
    await client.close()
    with pytest.raises(AbortError, match="closed"):
        await task
    assert client.session is not None
    assert client.session.closed


STOPS = {
    "deadline": _by_deadline,
    "signal": _by_signal,
    "client.abort": _by_client_abort,
    "close": _by_close,
}


def _timeout_for(stop: Stop) -> float | None:
    return 0.3 if stop is _by_deadline else None


@pytest.mark.parametrize("stop", list(STOPS.values()), ids=list(STOPS))
async def test_a_call_queued_at_the_pool_limit_ends_at_once(
    make_client: ClientFactory, server: BackendAITestServer, stop: Stop
) -> None:
    client = make_client(limit=1)
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    holder = asyncio.create_task(client.request("GET", "/auth/role", timeout=None))
    await server.wait_for_request("GET", "/auth/role")  # it holds the only connection
    ctl = AbortController()
    queued = asyncio.create_task(
        client.request(
            "GET", "/auth", params={"echo": "x"}, timeout=_timeout_for(stop), signal=ctl.signal
        )
    )
    await asyncio.sleep(0)
    assert not queued.done()
    await stop(client, queued, ctl)
    assert server.count("GET", "/auth") == 0  # it never got a connection
    holder.cancel()
    with contextlib.suppress(asyncio.CancelledError, AbortError):
        await holder
    assert acquired_connections(client) == 0


@pytest.mark.parametrize("stop", list(STOPS.values()), ids=list(STOPS))
async def test_a_call_waiting_behind_negotiation_ends_at_once(
    make_client: ClientFactory, server: BackendAITestServer, stop: Stop
) -> None:
    client = make_client()
    server.add_fault(Fault(method="GET", path="/", delay=30))
    first = asyncio.create_task(client.request("GET", "/auth/role", timeout=None))
    await server.wait_for_request("GET", "/")  # the first call negotiates (stalled)
    ctl = AbortController()
    waiting = asyncio.create_task(
        client.request("GET", "/auth/role", timeout=_timeout_for(stop), signal=ctl.signal)
    )
    await asyncio.sleep(0)
    await stop(client, waiting, ctl)
    assert server.count("GET", "/") == 1
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError, AbortError):
        await first


async def test_when_the_negotiating_call_is_aborted_the_next_one_negotiates(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(method="GET", path="/", delay=30))
    ctl = AbortController()
    first = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
    await server.wait_for_request("GET", "/")
    second = asyncio.create_task(client.request("GET", "/auth/role"))
    await asyncio.sleep(0)
    ctl.abort()
    with pytest.raises(AbortError):
        await first
    assert (await second)["global_role"] == "superadmin"
    assert server.count("GET", "/") == 2


async def _backing_off(task: asyncio.Task[Any]) -> None:
    """Return once the transport logged that it waits before a retry (or the call ended)."""
    logged = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("retrying "):
                logged.set()

    logger = logging.getLogger("backendai_async")
    handler, level = Watch(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        waiting = asyncio.create_task(logged.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert logged.is_set(), "the call ended before it backed off"


@pytest.mark.parametrize("stop", list(STOPS.values()), ids=list(STOPS))
async def test_a_retry_backoff_ends_at_once(
    client: Client, server: BackendAITestServer, stop: Stop
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "20"}))
    ctl = AbortController()
    task = asyncio.create_task(
        client.request("GET", "/auth/role", retry=1, timeout=_timeout_for(stop), signal=ctl.signal)
    )
    if stop is not _by_deadline:
        await _backing_off(task)  # the 503 arrived and the call sleeps before its retry
    if stop is _by_deadline:
        # a Retry-After past the deadline is not slept: the 503 comes back at once
        with pytest.raises(ServerError) as info:
            await task
        assert info.value.status == 503
        assert "asked to retry after 20 s" in info.value.message
    else:
        await stop(client, task, ctl)
    assert server.count("GET", "/auth/role") == 1


@contextlib.asynccontextmanager
async def _silent_tls_server() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """Accepts TCP connections and never answers: a TLS handshake waits for ever. Yields
    the port and an event set once a connection was accepted."""
    held: list[asyncio.StreamWriter] = []
    accepted = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        accepted.set()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("stop", list(STOPS.values()), ids=list(STOPS))
async def test_connection_set_up_ends_at_once(stop: Stop) -> None:
    async with _silent_tls_server() as (port, accepted):
        cfg = ClientConfig("AK", "SK", f"https://127.0.0.1:{port}", timeout=None)
        client = Client(cfg)
        try:
            ctl = AbortController()
            task = asyncio.create_task(
                client.get_server_version(timeout=_timeout_for(stop), signal=ctl.signal)
            )
            # the TCP connection is up and the TLS handshake waits (a deadline may already
            # have ended it on a loaded machine: that is the outcome being tested)
            waiting = asyncio.create_task(accepted.wait())
            await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if stop is not _by_deadline:
                assert not task.done()
            await stop(client, task, ctl)
        finally:
            await client.close()


async def test_two_concurrent_closes_return_once_closed(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30, times=None))
    calls = [asyncio.create_task(client.request("GET", "/auth/role")) for _ in range(5)]
    await server.wait_for_request("GET", "/auth/role", count=5)
    closes = [asyncio.create_task(client.close()) for _ in range(2)]
    done, _ = await asyncio.wait(closes)
    for close in done:
        assert close.result() is None
    assert client.session is not None
    assert client.session.closed
    for call in calls:
        with pytest.raises(AbortError):
            await call
    await client.close()  # and a third, later, is a no-op


async def test_a_closed_client_refuses_calls_with_a_client_error(client: Client) -> None:
    await client.get_manager_version()
    await client.close()
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = [
        lambda: client.request("GET", "/auth/role"),
        client.get_manager_version,
        client.get_server_version,
        lambda: client.query("{ user { email } }"),
    ]
    for call in calls:
        with pytest.raises(ClientClosedError) as info:
            await call()
        assert isinstance(info.value, ClientError)
        assert info.value.sent is False


async def test_get_manager_version_on_a_closed_unopened_client_raises(
    make_client: ClientFactory,
) -> None:
    client = make_client()
    await client.close()
    with pytest.raises(ClientClosedError):
        await client.get_manager_version()


async def test_retry_of_the_first_call_covers_the_negotiation(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(method="GET", path="/", status=503, headers={"Retry-After": "0"}))
    assert (await client.request("GET", "/auth/role", retry=1))["global_role"] == "superadmin"
    assert server.count("GET", "/") == 2


async def test_without_retry_a_failed_negotiation_is_the_calls_error(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(method="GET", path="/", status=503))
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role")
    assert info.value.status == 503
    assert server.count("GET", "/auth/role") == 0


async def test_the_deadline_covers_negotiation_and_the_call_together(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(method="GET", path="/", delay=0.2))
    server.add_fault(Fault(path="/auth/role", delay=0.2))
    with pytest.raises(RequestTimeoutError):
        await client.request("GET", "/auth/role", timeout=0.3)  # 0.2 + 0.2 > 0.3


async def test_a_client_used_from_another_event_loop_says_so(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    seen: list[BaseException] = []

    def elsewhere() -> None:
        async def call() -> None:
            await client.request("GET", "/auth/role")

        try:
            asyncio.run(call())
        except BaseException as exc:
            seen.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    await asyncio.to_thread(thread.join)
    assert len(seen) == 1
    assert isinstance(seen[0], RuntimeError)
    assert "another event loop" in str(seen[0])
    assert (await client.request("GET", "/auth/role"))["global_role"] == "superadmin"


async def test_a_callers_raise_for_status_session_changes_nothing(
    server: BackendAITestServer,
) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg, session=session) as client:
            with pytest.raises(ServerError) as info:
                await client.request("GET", "/session/nope", retry=2)
    assert info.value.status == 404
    assert server.count("GET", "/session/nope") == 1

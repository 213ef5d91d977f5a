"""sessions.wait: events confirmed by get_info, the re-check after subscribing, polling when
events are unavailable, terminal states, the deadline and aborts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientConfig,
    RequestTimeoutError,
    ServerError,
    SessionStateError,
)
from backendai_async.testing import BackendAITestServer, Fault, event_hub, session_store

from .conftest import acquired_connections


@pytest.fixture(params=["23.09.10", "26.9.6"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[BackendAITestServer]:
    api = "v9.20250722" if request.param.startswith("26") else "v6.20230315"
    async with BackendAITestServer(api_version=api, manager_version=request.param) as srv:
        session_store(srv).auto_start = False
        yield srv


def infos(server: BackendAITestServer) -> int:
    return sum(1 for r in server.requests if r.method == "GET" and r.path.startswith("/session/"))


async def pending(client: Client, server: BackendAITestServer, name: str) -> None:
    await client.create_if_not_exists("python", name)
    assert session_store(server).by_name(name) is not None


async def test_a_running_session_returns_at_once(
    client: Client, server: BackendAITestServer
) -> None:
    session_store(server).auto_start = True
    await client.create_if_not_exists("python", "sess-01")
    info = await client.sessions.wait("sess-01", "running")  # any case
    assert info["status"] == "RUNNING"
    assert not any(r.path == "/events/session" for r in server.requests)  # no stream needed


async def test_an_event_wakes_the_wait_long_before_the_poll(
    client: Client, server: BackendAITestServer
) -> None:
    await pending(client, server, "sess-02")
    store, hub = session_store(server), event_hub(server)

    async def start() -> None:
        # The second info (the re-check after subscribing) is answered before this resumes.
        await server.wait_for_request("GET", "/session/sess-02", count=2)
        store.set_status(store.by_name("sess-02"), "RUNNING")  # type: ignore[arg-type]

    starter = asyncio.create_task(start())
    info = await client.sessions.wait("sess-02", ["RUNNING"], timeout=30, poll_interval=3600)
    await starter
    assert info["status"] == "RUNNING"
    assert infos(server) == 3  # before, after subscribing, after the event
    assert hub.connections == 1
    assert acquired_connections(client) == 0
    await hub.wait_for_departures()


async def test_the_state_reached_while_subscribing_is_found_by_the_re_check(
    client: Client, server: BackendAITestServer
) -> None:
    """26.9 registers a subscriber after its 200 headers: events in between are lost."""
    await pending(client, server, "sess-03")
    store, hub = session_store(server), event_hub(server)
    fake = store.by_name("sess-03")
    assert fake is not None
    hub.faults.on_subscribe = lambda: store.set_status(fake, "RUNNING")
    info = await client.sessions.wait("sess-03", "RUNNING", timeout=30, poll_interval=3600)
    assert info["status"] == "RUNNING"


@pytest.mark.parametrize("ending", ["ERROR", "CANCELLED"])
async def test_ending_elsewhere_raises_naming_the_state(
    client: Client, server: BackendAITestServer, ending: str
) -> None:
    await pending(client, server, "sess-04")
    store = session_store(server)

    async def fail() -> None:
        await event_hub(server).wait_for_subscribers(1)
        store.set_status(store.by_name("sess-04"), ending)  # type: ignore[arg-type]

    failer = asyncio.create_task(fail())
    with pytest.raises(SessionStateError) as info:
        await client.sessions.wait("sess-04", "RUNNING", poll_interval=3600)
    await failer
    err = info.value
    assert err.state == ending
    assert err.expected == ("RUNNING",)
    assert ending in str(err)
    assert err.info["status"] == ending


async def test_a_destroyed_session_that_disappears_ends_as_its_last_event_said(
    client: Client, server: BackendAITestServer
) -> None:
    await pending(client, server, "sess-05")

    async def destroy() -> None:
        await server.wait_for_request("GET", "/session/sess-05", count=2)
        await client.destroy("sess-05", forced=True)

    destroyer = asyncio.create_task(destroy())
    with pytest.raises(SessionStateError, match="no longer exists") as info:
        await client.sessions.wait("sess-05", "RUNNING", poll_interval=3600)
    await destroyer
    assert info.value.state == "CANCELLED"  # a PENDING session is cancelled, then forgotten


async def test_waiting_for_the_end_of_a_session_that_disappears_succeeds(
    client: Client, server: BackendAITestServer
) -> None:
    session_store(server).auto_start = True
    await client.create_if_not_exists("python", "sess-06")

    async def destroy() -> None:
        await event_hub(server).wait_for_subscribers(1)
        await client.destroy("sess-06")

    destroyer = asyncio.create_task(destroy())
    info = await client.sessions.wait("sess-06", "TERMINATED", poll_interval=3600)
    await destroyer
    assert info["status"] == "TERMINATED"


async def test_without_events_the_wait_polls(client: Client, server: BackendAITestServer) -> None:
    server.add_fault(Fault("GET", "/events/session", times=None, status=404, body="no events"))
    await pending(client, server, "sess-07")
    store = session_store(server)

    async def start() -> None:
        await server.wait_for_request("GET", "/session/sess-07", count=2)
        store.set_status(store.by_name("sess-07"), "RUNNING")  # type: ignore[arg-type]

    starter = asyncio.create_task(start())
    info = await client.sessions.wait("sess-07", "RUNNING", poll_interval=0.01)
    await starter
    assert info["status"] == "RUNNING"


async def test_the_deadline_is_a_request_timeout_naming_the_last_status(
    client: Client, server: BackendAITestServer
) -> None:
    await pending(client, server, "sess-08")
    with pytest.raises(RequestTimeoutError, match=r"did not reach RUNNING within 0\.2 s") as info:
        await client.sessions.wait("sess-08", "RUNNING", timeout=0.2, poll_interval=0.05)
    assert "PENDING" in info.value.message
    assert info.value.phase == "total"
    assert acquired_connections(client) == 0


async def test_a_missing_session_fails_at_once(client: Client, server: BackendAITestServer) -> None:
    with pytest.raises(ServerError) as info:
        await client.sessions.wait("no-such-session", "RUNNING")
    assert info.value.status == 404


async def test_abort_and_close_end_the_wait(server: BackendAITestServer) -> None:
    config = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    async with Client(config) as client:
        await pending(client, server, "sess-09")
        ctl = AbortController()
        waiting = asyncio.create_task(
            client.sessions.wait("sess-09", "RUNNING", signal=ctl.signal, poll_interval=3600)
        )
        await event_hub(server).wait_for_subscribers(1)
        ctl.abort("stop")
        with pytest.raises(AbortError, match="stop"):
            await waiting
        waiting = asyncio.create_task(client.sessions.wait("sess-09", "RUNNING"))
        # its own stream (the aborted wait's may still count as a subscriber: the fake
        # notices a gone client only at its next write)
        await server.wait_for_request("GET", "/events/session", count=2)
        await client.close()
        with pytest.raises(AbortError):
            await waiting
    await event_hub(server).wait_for_departures()


async def test_bad_arguments_fail_before_sending(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ValueError, match="unknown session status"):
        await client.sessions.wait("sess-10", "STARTED")
    with pytest.raises(ValueError, match="at least one"):
        await client.sessions.wait("sess-10", [])
    with pytest.raises(ValueError, match="poll_interval"):
        await client.sessions.wait("sess-10", "RUNNING", poll_interval=0)
    with pytest.raises(ValueError, match="timeout"):
        await client.sessions.wait("sess-10", "RUNNING", timeout=-1)
    with pytest.raises(ValueError, match="session_id"):
        await client.sessions.wait("", "RUNNING")
    assert server.requests == []

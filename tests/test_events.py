"""Session and background-task events over real HTTP against the fake manager: what the
server saw, typed events per release, reconnection, limits, clean ends, both modes."""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    BackgroundTaskEvent,
    Client,
    ClientConfig,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    SessionEvent,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    Fault,
    event_hub,
    session_store,
    start_background_task,
)

from .conftest import ClientFactory, acquired_connections

NEW = {"api_version": "v9.20250722", "manager_version": "26.9.6"}


@pytest.fixture
async def server26() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer(**NEW) as srv:
        yield srv


def client_for(server: BackendAITestServer, **kwargs: Any) -> Client:
    return Client(
        ClientConfig(server.access_key, server.secret_key, str(server.endpoint), **kwargs)
    )


async def take(events: AsyncIterator[SessionEvent], count: int) -> list[SessionEvent]:
    got = []
    async for ev in events:
        got.append(ev)
        if len(got) == count:
            break
    return got


def stream_requests(server: BackendAITestServer, path: str = "/events/session") -> list[Any]:
    return [r for r in server.requests if r.path == path]


# -- session events: names, fields, filters ---------------------------------------------------


async def test_2309_streams_kernel_events_with_their_fields(
    client: Client, server: BackendAITestServer
) -> None:
    async with client.session_events(session_name="sess-01") as events:
        created = await client.create_if_not_exists("python", "sess-01")
        await client.destroy("sess-01")
        got = await take(events, 5)
    assert [e.name for e in got] == [
        "kernel_preparing",
        "kernel_creating",
        "kernel_started",
        "kernel_terminating",
        "kernel_terminated",
    ]
    assert [e.status for e in got] == [
        "PREPARING",
        "CREATING",
        "RUNNING",
        "TERMINATING",
        "TERMINATED",
    ]
    first = got[0]
    assert first.session_id == created["sessionId"]
    assert first.session_name == "sess-01"
    assert first.owner_access_key == server.access_key
    assert first.kernel_id is not None
    assert first.cluster_role == "main"
    assert first.cluster_idx == 1
    assert first.raw.event == "kernel_preparing"
    assert first.data["sessionName"] == "sess-01"
    record = stream_requests(server)[0]
    assert record.auth_ok is True  # signed like any call
    assert record.query.getall("sessionName") == ["sess-01"]
    assert "name" not in record.query
    assert "sessionId" not in record.query


async def test_26_streams_session_events_and_a_pending_session_is_cancelled(
    server26: BackendAITestServer,
) -> None:
    store = session_store(server26)
    store.auto_start = False
    async with client_for(server26) as client:
        await client.create_if_not_exists("python", "sess-02")
        async with client.session_events("sess-02") as events:
            store.set_status(store.by_name("sess-02"), "RUNNING")  # type: ignore[arg-type]
            await client.destroy("sess-02", forced=True)
            got = await take(events, 7)
    assert [e.name for e in got] == [
        "session_scheduled",
        "session_preparing",
        "session_prepared",
        "session_creating",
        "session_started",
        "session_terminating",
        "session_terminated",
    ]
    assert got[-1].reason == "force-terminated"
    assert got[0].kernel_id is None


async def test_a_filter_the_server_ignores_is_applied_on_the_client(
    server26: BackendAITestServer,
) -> None:
    """26.x ignores sessionId: the stream carries everything, the client keeps one session."""
    async with client_for(server26) as client:
        other = await client.create_if_not_exists("python", "sess-other")
        mine = await client.create_if_not_exists("python", "sess-mine", {"enqueueOnly": True})
        async with client.session_events(session_id=mine["sessionId"]) as events:
            await client.destroy("sess-other")
            await client.destroy("sess-mine")
            got = await take(events, 1)
    assert other["sessionId"] != mine["sessionId"]
    assert [(e.name, e.session_id) for e in got] == [("session_cancelled", mine["sessionId"])]
    record = stream_requests(server26)[0]
    assert dict(record.query) == {}  # nothing the server would ignore was sent


async def test_scope_is_sent_and_applied(client: Client, server: BackendAITestServer) -> None:
    session = await client.create_if_not_exists("python", "sess-03")
    async with client.session_events("sess-03", scope="session") as events:
        hub = event_hub(server)
        fake = session_store(server).by_name("sess-03")
        assert fake is not None
        hub.session_event(fake, "kernel_started")
        hub.session_event(fake, "session_started")
        got = await take(events, 1)
    assert [e.name for e in got] == ["session_started"]
    assert got[0].session_id == session["sessionId"]
    assert stream_requests(server)[0].query.getall("scope") == ["session"]


async def test_an_unknown_session_name_is_a_404_on_26_when_entering(
    server26: BackendAITestServer,
) -> None:
    async with client_for(server26) as client:
        with pytest.raises(ServerError) as info:
            async with client.session_events("no-such-session"):
                pass  # pragma: no cover
        assert acquired_connections(client) == 0
    assert info.value.status == 404
    assert info.value.problem_type.endswith("/entity-not-found")


def test_bad_arguments_fail_before_sending(client: Client, server: BackendAITestServer) -> None:
    with pytest.raises(ValueError, match="scope"):
        client.session_events(scope="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="session_name"):
        client.session_events(session_name="")
    with pytest.raises(ValueError, match="idle_timeout"):
        client.session_events(idle_timeout=0)
    with pytest.raises(ValueError, match="reconnect"):
        client.session_events(reconnect=-1)
    with pytest.raises(ValueError, match="task_id"):
        client.events.background_task_events("")
    assert server.requests == []


async def test_iterating_without_async_with_is_refused(client: Client) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        async for _ in client.session_events():
            pass  # pragma: no cover


# -- the wire: keep-alives, junk, broken events ----------------------------------------------


async def test_keep_alives_and_malformed_lines_do_not_disturb_events(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    hub.faults.malformed = True
    hub.faults.ping_interval = 0.001
    async with client.session_events() as events:
        await client.create_if_not_exists("python", "sess-04")
        got = await take(events, 3)
    assert [e.name for e in got] == ["kernel_preparing", "kernel_creating", "kernel_started"]


async def test_an_event_whose_data_is_not_json_ends_the_stream(
    client: Client, server: BackendAITestServer
) -> None:
    event_hub(server).faults.bad_json = True
    async with client.session_events() as events:
        await client.create_if_not_exists("python", "sess-05")
        with pytest.raises(ResponseError, match="unusable 'kernel_preparing' event"):
            await take(events, 3)
    assert event_hub(server).connections == 1  # no reconnection: the same data would return


async def test_a_huge_event_is_refused_without_holding_it(
    client: Client, server: BackendAITestServer
) -> None:
    await client.create_if_not_exists("python", "sess-06")
    fake = session_store(server).by_name("sess-06")
    assert fake is not None
    async with client.session_events(max_event_size=64 * 1024) as events:
        event_hub(server).session_event(fake, "kernel_started", reason="x" * 200_000)
        with pytest.raises(ResponseError, match="max_event_size"):
            await take(events, 1)
    assert acquired_connections(client) == 0


# -- reconnection ------------------------------------------------------------------------------


async def test_a_dropped_stream_reconnects_with_last_event_id_and_the_retry_hint(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    hub.faults.ids = True
    hub.faults.retry_ms = 1
    hub.faults.drop_after = 2
    await client.create_if_not_exists("python", "sess-07", {"enqueueOnly": True})
    async with client.session_events("sess-07", reconnect_delay=60) as events:
        fake = session_store(server).by_name("sess-07")
        assert fake is not None
        for i in range(5):
            hub.session_event(fake, "kernel_creating", reason=f"r{i}")
        got = await take(events, 5)
        assert events.connections == 2
    assert [e.reason for e in got] == ["r0", "r1", "r2", "r3", "r4"]  # none lost, none twice
    first, second = stream_requests(server)
    assert "Last-Event-ID" not in first.headers
    assert second.headers["Last-Event-ID"] == got[1].raw.id
    assert second.auth_ok is True


async def test_a_reset_connection_is_replaced(client: Client, server: BackendAITestServer) -> None:
    hub = event_hub(server)
    hub.faults.drop_after, hub.faults.reset, hub.faults.retry_ms = 1, True, 1
    await client.create_if_not_exists("python", "sess-08", {"enqueueOnly": True})
    fake = session_store(server).by_name("sess-08")
    assert fake is not None
    async with client.session_events("sess-08") as events:
        hub.session_event(fake, "kernel_creating", reason="before")
        assert (await take(events, 1))[0].reason == "before"
        await hub.wait_for_subscribers(1)  # the replacement is registered
        await server.wait_for_request("GET", "/events/session", count=2)
        hub.session_event(fake, "kernel_creating", reason="after")
        assert (await take(events, 1))[0].reason == "after"


async def test_reconnection_attempts_are_bounded(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    hub.faults.drop_after, hub.faults.drops = 1, None
    async with client.session_events(reconnect=2, reconnect_delay=0.001) as events:
        server.add_fault(Fault("GET", "/events/session", times=None, status=503, body="down"))
        await client.create_if_not_exists("python", "sess-09")
        with pytest.raises(ServerError) as info:
            await take(events, 10)
    assert info.value.status == 503
    assert len(stream_requests(server)) == 1 + 2  # the first connection, then two attempts


async def test_a_refusal_that_no_retry_can_fix_is_not_retried(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    hub.faults.drop_after = 1
    async with client.session_events(reconnect_delay=0.001) as events:
        server.add_fault(Fault("GET", "/events/session", problem=(401, "auth-failed", "no", None)))
        await client.create_if_not_exists("python", "sess-10")
        with pytest.raises(ServerError) as info:
            await take(events, 10)
    assert info.value.status == 401
    assert len(stream_requests(server)) == 2


# -- limits: idle, event_timeout, the call's deadline ----------------------------------------


async def test_a_silent_connection_is_idle_and_replaced(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    hub.faults.stall_after = 0  # nothing at all, not even keep-alives
    async with client.session_events(idle_timeout=0.05, reconnect=1, reconnect_delay=0) as events:
        with pytest.raises(RequestTimeoutError) as info:
            await take(events, 1)
    assert info.value.phase == "read"
    assert len(stream_requests(server)) == 2  # the stalled one, and one replacement


async def test_keep_alives_reset_the_idle_limit_but_not_the_event_timeout(
    client: Client, server: BackendAITestServer
) -> None:
    event_hub(server).faults.ping_interval = 0.01
    async with client.session_events(idle_timeout=0.5, event_timeout=0.2) as events:
        with pytest.raises(RequestTimeoutError) as info:
            await take(events, 1)
    assert info.value.phase == "event"
    assert len(stream_requests(server)) == 1


async def test_timeout_bounds_the_whole_subscription(
    client: Client, server: BackendAITestServer
) -> None:
    async with client.session_events(timeout=0.2) as events:
        with pytest.raises(RequestTimeoutError) as info:
            await take(events, 1)
    assert info.value.phase == "total"


# -- clean ends: break, cancellation, close(), abort ------------------------------------------


async def test_break_closes_the_connection(client: Client, server: BackendAITestServer) -> None:
    hub = event_hub(server)
    async with client.session_events() as events:
        await client.create_if_not_exists("python", "sess-11")
        await take(events, 1)
        assert hub.subscribers == 1
    assert acquired_connections(client) == 0
    assert events.closed
    await hub.wait_for_departures()


async def test_cancelling_the_consumer_mid_stream_leaves_nothing_open(
    client: Client, server: BackendAITestServer
) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async with client.session_events() as events:
            started.set()
            await take(events, 1)

    task = asyncio.create_task(consume())
    await started.wait()
    await event_hub(server).wait_for_subscribers(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired_connections(client) == 0
    assert not [t for t in asyncio.all_tasks() if "_main" in repr(t.get_coro())]
    await event_hub(server).wait_for_departures()  # the socket was closed, not pooled


async def test_client_close_ends_the_stream_with_abort_error(server: BackendAITestServer) -> None:
    client = client_for(server)
    async with client.session_events() as events:
        await event_hub(server).wait_for_subscribers(1)
        await client.close()
        with pytest.raises(AbortError, match="closed"):
            await take(events, 1)
    assert events.closed
    await event_hub(server).wait_for_departures()


async def test_a_signal_aborts_the_stream(client: Client, server: BackendAITestServer) -> None:
    ctl = AbortController()
    async with client.session_events(signal=ctl.signal) as events:
        await event_hub(server).wait_for_subscribers(1)  # else the departure below is no proof
        ctl.abort("enough")
        with pytest.raises(AbortError, match="enough"):
            await take(events, 1)
    assert acquired_connections(client) == 0
    await event_hub(server).wait_for_departures()


async def test_a_slow_consumer_keeps_memory_bounded_and_loses_nothing(
    client: Client, server: BackendAITestServer
) -> None:
    hub = event_hub(server)
    await client.create_if_not_exists("python", "sess-12", {"enqueueOnly": True})
    fake = session_store(server).by_name("sess-12")
    assert fake is not None
    # 50 MiB of events: more than loopback TCP can buffer (tcp_rmem may autotune to 32 MiB,
    # tcp_wmem to 4 MiB; 12.5 MiB fitted on an idle machine and the server never blocked)
    total, reason = 3200, "r" * 16000
    async with client.session_events("sess-12", buffer=16) as events:
        for i in range(total):  # published at once; read only from the first take() on
            hub.session_event(fake, "kernel_creating", reason=f"{i:05d}{reason}")
        tracemalloc.start(5)
        try:
            first = await take(events, 1)
            await asyncio.wait_for(hub.write_blocked.wait(), 30)  # the server cannot send more
            held = tracemalloc.take_snapshot().filter_traces(
                [
                    tracemalloc.Filter(True, "*backendai_async/_event_stream.py", all_frames=True),
                    tracemalloc.Filter(True, "*backendai_async/_sse.py", all_frames=True),
                    tracemalloc.Filter(
                        True, "*backendai_async/resources/events.py", all_frames=True
                    ),
                ]
            )
        finally:
            tracemalloc.stop()
        held_bytes = sum(stat.size for stat in held.statistics("filename"))
        assert hub.sent < total  # the rest waits at the server: TCP pushed back
        rest = await take(events, total - 1)
    assert held_bytes < 2 * 1024 * 1024, held_bytes
    assert [int(e.reason[:5]) for e in first + rest] == list(range(total))  # type: ignore[index]


# -- background tasks ----------------------------------------------------------------------------


async def test_a_background_task_reports_progress_and_ends(
    client: Client, server: BackendAITestServer
) -> None:
    task_id = start_background_task(server, total=3, step_delay=None)
    hub = event_hub(server)
    got: list[BackgroundTaskEvent] = []
    async with client.events.background_task_events(task_id) as events:
        for _ in range(3):
            hub.advance_task(task_id, 1, "copying")
        hub.finish_task(task_id)
        async for ev in events:
            got.append(ev)
    assert [(e.name, e.current_progress, e.total_progress) for e in got] == [
        ("bgtask_updated", 1.0, 3.0),
        ("bgtask_updated", 2.0, 3.0),
        ("bgtask_updated", 3.0, 3.0),
        ("bgtask_done", None, None),
    ]
    assert got[-1].ended
    assert got[-1].succeeded
    assert got[0].task_id == task_id
    assert got[0].raw.retry == 5
    assert stream_requests(server, "/events/background-task")[0].query["taskId"] == task_id


async def test_attach_background_task_iterates_without_async_with(
    client: Client, server: BackendAITestServer
) -> None:
    task_id = start_background_task(server, total=2, step_delay=None)
    hub = event_hub(server)

    async def run_task() -> None:
        await hub.wait_for_subscribers(1)
        hub.advance_task(task_id)
        hub.advance_task(task_id)
        hub.finish_task(task_id, "failed", "disk full")

    runner = asyncio.create_task(run_task())
    got = [ev async for ev in client.events.attach_background_task(task_id)]
    await runner
    assert [e.name for e in got] == ["bgtask_updated", "bgtask_updated", "bgtask_failed"]
    assert got[-1].ended
    assert not got[-1].succeeded
    assert got[-1].message == "disk full"
    assert acquired_connections(client) == 0


async def test_a_finished_task_gives_its_final_state_at_once_with_2309_strings(
    client: Client, server: BackendAITestServer
) -> None:
    task_id = start_background_task(server, total=2, step_delay=None)
    event_hub(server).finish_task(task_id, "cancelled", "stopped")
    async with contextlib.aclosing(client.events.attach_background_task(task_id)) as events:
        got = [ev async for ev in events]
    assert [(e.name, e.message) for e in got] == [("bgtask_cancelled", "stopped")]
    assert got[0].data["current_progress"] == "0.0"
    assert got[0].current_progress == 0.0


async def test_an_unknown_task_is_a_500_on_2309(client: Client) -> None:
    with pytest.raises(ServerError) as info:
        async for _ in client.events.attach_background_task("6b1b6f9e-0000-4000-8000-000000000000"):
            pass  # pragma: no cover
    assert info.value.status == 500


async def test_an_unknown_task_on_26_only_pings_and_event_timeout_ends_it(
    server26: BackendAITestServer,
) -> None:
    event_hub(server26).faults.ping_interval = 0.01
    async with client_for(server26) as client:
        with pytest.raises(RequestTimeoutError) as info:
            async for _ in client.events.attach_background_task(
                "6b1b6f9e-0000-4000-8000-000000000000", event_timeout=0.2
            ):
                pass  # pragma: no cover
        assert acquired_connections(client) == 0
    assert info.value.phase == "event"


async def test_breaking_out_of_attach_background_task_closes_it(
    client: Client, server: BackendAITestServer
) -> None:
    task_id = start_background_task(server, total=5, step_delay=None)
    hub = event_hub(server)

    async def progress() -> None:
        await hub.wait_for_subscribers(1)
        hub.advance_task(task_id)

    runner = asyncio.create_task(progress())
    async with contextlib.aclosing(client.events.attach_background_task(task_id)) as events:
        async for _ in events:
            break
    await runner
    await hub.wait_for_departures()
    assert acquired_connections(client) == 0


# -- SESSION mode --------------------------------------------------------------------------------


async def test_session_mode_streams_through_the_webserver(server: BackendAITestServer) -> None:
    async with BackendAITestWebserver(manager=server) as web:
        user = EXAMPLE_WEB_USERS[1]
        config = ClientConfig(user.email, user.password, str(web.endpoint), "SESSION")
        async with Client(config) as client:
            await client.login()
            async with client.session_events("sess-13") as events:
                await client.create_if_not_exists("python", "sess-13")
                got = await take(events, 3)
            assert acquired_connections(client) == 0
    assert [e.name for e in got][-1] == "kernel_started"
    forwarded = [r for r in web.requests if r.path == "/func/events/session"]
    assert len(forwarded) == 1
    assert forwarded[0].raw_path.endswith("?sessionName=sess-13")
    manager_side = stream_requests(server)[0]
    assert manager_side.access_key == "AKIANABBDUSEREXAMPLE"
    assert manager_side.auth_ok


async def test_many_subscriptions_share_one_client(make_client: ClientFactory) -> None:
    client = make_client(limit=0)
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(client.session_events()) for _ in range(50)]
        await client.create_if_not_exists("python", "sess-14")
        firsts = await asyncio.gather(*(take(s, 1) for s in streams))
    assert {f[0].name for f in firsts} == {"kernel_preparing"}
    assert acquired_connections(client) == 0


async def test_a_vfolder_clone_and_an_image_rescan_report_their_tasks(client: Client) -> None:
    source = await client.vfolder.create("clone-src", cloneable=True)
    copy = await client.vfolder.clone(
        {"target_name": "clone-dst", "target_host": source["host"]}, "clone-src"
    )
    rescan = await client.maintenance.rescan_images()
    for task_id in (copy["bgtask_id"], rescan["task_id"]):
        got = [ev async for ev in client.maintenance.attach_background_task(task_id)]
        assert got[-1].name == "bgtask_done"
        assert {e.task_id for e in got} == {task_id}
    assert acquired_connections(client) == 0

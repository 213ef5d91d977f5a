"""Streaming against the real servers: session events, sessions.wait, background tasks of a
vfolder clone, and the WebSocket upgrade of a session that cannot stream.

23.09 (no agent) emits ``kernel_cancelled`` when a PENDING session is force-destroyed and
background-task events for a vfolder clone through its storage proxy; 26.9 (dummy agent)
takes sessions to RUNNING, so ``wait(..., "RUNNING")`` and the session stream run end to
end. Every deadline here is generous (90 s): the 23.09 manager freezes for 15-31 s now and
then after long runs (its README), which is not a client bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest

from backendai_async import (
    Client,
    RequestTimeoutError,
    ServerError,
    SessionEvent,
    SessionStateError,
)
from backendai_async.resources.sessions import SessionResources

from ..conftest import acquired_connections
from .conftest import Real, SessionNames, skip_without_agent, web_config

PENDING = SessionResources(cpu=1, mem="512m", enqueue_only=True)
DEADLINE = 90.0
UNKNOWN_TASK = "6b1b6f9e-0000-4000-8000-000000000000"


async def drain(events: AsyncIterator[object]) -> None:
    async for event in events:
        raise AssertionError(f"an unknown task sent an event: {event!r}")


async def until_ended(events: AsyncIterator[SessionEvent]) -> list[SessionEvent]:
    seen = []
    async for ev in events:
        seen.append(ev)
        if ev.status in ("CANCELLED", "TERMINATED", "ERROR"):
            break
    return seen


async def test_a_destroyed_session_streams_its_end(
    real: Real, user: Client, session_names: SessionNames
) -> None:
    name = session_names.new("ev")
    await user.create_if_not_exists(real.target.image, name, PENDING)
    async with user.session_events(name, timeout=DEADLINE) as events:
        if real.facts.has_agent:  # 26.9 schedules at once: let it run before destroying
            await user.sessions.wait(name, "RUNNING", timeout=DEADLINE)
        await user.destroy(name, forced=True)
        seen = await until_ended(events)
    assert acquired_connections(user) == 0
    last = seen[-1]
    assert last.session_name == name
    assert last.owner_access_key == real.target.user[0]
    assert last.reason == "force-terminated"
    real.observe("events_end", f"{last.name} ({', '.join(e.name for e in seen)})")


async def test_wait_for_running_and_then_for_the_end(
    real: Real, user: Client, session_names: SessionNames
) -> None:
    skip_without_agent(real)
    name = session_names.new("wait")
    await user.create_if_not_exists(real.target.image, name, PENDING)
    info = await user.sessions.wait(name, "RUNNING", timeout=DEADLINE)
    assert info["status"] == "RUNNING"
    destroyer = asyncio.create_task(user.destroy(name))
    ended = await user.sessions.wait(name, "TERMINATED", timeout=DEADLINE, poll_interval=2)
    await destroyer
    assert ended["status"] == "TERMINATED"
    assert acquired_connections(user) == 0
    real.observe("wait_running", "RUNNING, then TERMINATED (the session then unknown: 404)")


async def test_wait_names_the_state_a_pending_session_ended_in(
    real: Real, user: Client, session_names: SessionNames
) -> None:
    if real.facts.has_agent:
        pytest.skip("sessions do not stay PENDING where an agent runs them")
    name = session_names.new("wait")
    await user.create_if_not_exists(real.target.image, name, PENDING)
    waiting = asyncio.create_task(user.sessions.wait(name, "RUNNING", timeout=DEADLINE))
    await asyncio.sleep(2)  # usually subscribed by now; the outcome is the same either way
    await user.destroy(name, forced=True)
    with pytest.raises(SessionStateError) as info:
        await waiting
    assert info.value.state in ("CANCELLED", "TERMINATED")
    # which of the two the manager reports first varies from run to run (seen: both)
    real.observe("wait_pending_destroyed", "SessionStateError CANCELLED or TERMINATED")


async def test_session_events_through_the_webserver(
    real: Real, user: Client, session_names: SessionNames
) -> None:
    name = session_names.new("web")
    await user.create_if_not_exists(real.target.image, name, PENDING)
    async with Client(web_config(real)) as web:
        assert await web.login()
        async with web.session_events(name, timeout=DEADLINE) as events:
            if real.facts.has_agent:
                await web.sessions.wait(name, "RUNNING", timeout=DEADLINE)
            await web.destroy(name, forced=True)
            seen = await until_ended(events)
        assert acquired_connections(web) == 0
    assert seen[-1].session_name == name


@contextlib.asynccontextmanager
async def cloneable_folder(user: Client) -> AsyncIterator[tuple[str, str]]:
    """A fresh cloneable vfolder: its name and host."""
    name = f"clone-src-{secrets.token_hex(4)}"
    created = await user.vfolder.create(name, cloneable=True)
    try:
        yield name, created["host"]
    finally:
        with contextlib.suppress(ServerError):
            await user.vfolder.delete(name)


async def test_a_vfolder_clone_reports_its_background_task(real: Real, user: Client) -> None:
    async with cloneable_folder(user) as (source, host):
        target = source.replace("src", "copy")
        try:
            task = await user.vfolder.clone(
                {"target_name": target, "target_host": host},
                source,  # 23.09 needs the host
            )
            events = [
                ev
                async for ev in user.maintenance.attach_background_task(
                    task["bgtask_id"], timeout=DEADLINE
                )
            ]
        finally:
            with contextlib.suppress(ServerError):
                await user.vfolder.delete(target)
    assert acquired_connections(user) == 0
    assert events[-1].ended
    assert {e.task_id for e in events} <= {task["bgtask_id"], None}
    real.observe("bgtask_clone", " → ".join(e.name for e in events))


async def test_an_unknown_background_task(real: Real, user: Client) -> None:
    with pytest.raises((ServerError, RequestTimeoutError)) as info:
        await drain(user.maintenance.attach_background_task(UNKNOWN_TASK, event_timeout=20))
    assert acquired_connections(user) == 0
    err = info.value
    if isinstance(err, ServerError):
        real.observe("bgtask_unknown", f"ServerError {err.status}")
    else:
        assert err.phase == "event"
        real.observe("bgtask_unknown", "keep-alives only (event_timeout ends it)")


async def test_a_session_that_cannot_stream_hits_the_first_frame_limit(
    real: Real, user: Client, session_names: SessionNames
) -> None:
    name = session_names.new("pty")
    await user.create_if_not_exists(real.target.image, name, PENDING)
    if real.facts.has_agent:  # 26.9 refuses (404) the upgrade until the session runs
        await user.sessions.wait(name, "RUNNING", timeout=DEADLINE)
    async with user.stream_pty(name, first_frame_timeout=5) as pty:
        with pytest.raises(RequestTimeoutError) as info:
            await pty.receive()
    assert info.value.phase == "first-frame"
    assert acquired_connections(user) == 0
    with pytest.raises(ServerError) as missing:
        async with user.stream_pty(session_names.new("nope")):
            pytest.fail("the upgrade of a missing session was accepted")
    assert missing.value.status == 404
    real.observe("pty_silent", "101, then no frame (first_frame_timeout ends it)")

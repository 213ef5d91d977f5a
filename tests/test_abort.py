"""Aborts raise ERR_ABORT at once; plain cancellation propagates unchanged; nothing leaks."""

from __future__ import annotations

import asyncio
import io
import os
import random
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientClosedError,
    ErrorType,
)
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import ClientFactory, acquired_connections


async def _in_flight(server: BackendAITestServer, path: str, count: int = 1) -> None:
    await asyncio.wait_for(server.state.wait_for_request("GET", path, count), 5)


async def test_abort_one_call(client: Client, server: BackendAITestServer) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    ctl = AbortController()
    task = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
    await _in_flight(server, "/auth/role")
    ctl.abort("user pressed stop")
    with pytest.raises(AbortError) as info:
        await asyncio.wait_for(task, 2)
    err = info.value
    assert err.type is ErrorType.ERR_ABORT
    assert "user pressed stop" in err.message
    assert err.problem_type.endswith("/request-abort-error")
    assert (err.status, err.status_text) == (408, "Request aborted by user")
    assert acquired_connections(client) == 0


async def test_an_already_aborted_signal_sends_nothing(
    client: Client, server: BackendAITestServer
) -> None:
    ctl = AbortController()
    ctl.abort()
    with pytest.raises(AbortError):
        await client.request("GET", "/auth/role", signal=ctl.signal)
    assert server.count() == 0


async def test_one_signal_aborts_several_calls_and_spares_others(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30, times=2))
    ctl = AbortController()
    doomed = [
        asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
        for _ in range(2)
    ]
    await _in_flight(server, "/auth/role", 2)
    spared = asyncio.create_task(client.request("GET", "/auth", params={"echo": "ok"}))
    ctl.abort()
    for task in doomed:
        with pytest.raises(AbortError):
            await task
    assert (await spared)["echo"] == "ok"


async def test_client_abort_aborts_every_call_in_flight(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30, times=None))
    tasks = [asyncio.create_task(client.request("GET", "/auth/role")) for _ in range(5)]
    await _in_flight(server, "/auth/role", 5)
    client.abort()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, AbortError) for r in results), results
    assert acquired_connections(client) == 0
    server.clear()
    assert (await client.request("GET", "/auth/role"))["global_role"] == "superadmin"


async def test_closing_the_client_aborts_calls_and_refuses_new_ones(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    task = asyncio.create_task(client.request("GET", "/auth/role"))
    await _in_flight(server, "/auth/role")
    await client.close()
    with pytest.raises(AbortError, match="closed"):
        await task
    with pytest.raises(ClientClosedError, match="closed"):
        await client.request("GET", "/auth/role")


async def test_cancellation_propagates_unchanged_and_releases_the_connection(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    task = asyncio.create_task(client.request("GET", "/auth/role"))
    await _in_flight(server, "/auth/role")
    task.cancel("caller gave up")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired_connections(client) == 0
    assert len(client._in_flight) == 0


async def test_wait_for_around_a_call_times_out_as_asyncio_expects(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.request("GET", "/auth/role"), 0.2)
    assert acquired_connections(client) == 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() needs Python 3.11")
async def test_a_caller_cancel_racing_an_abort_wins(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    ctl = AbortController()
    task = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
    await _in_flight(server, "/auth/role")
    ctl.abort()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_randomised_cancellation_leaves_nothing_acquired(
    make_client: ClientFactory, server: BackendAITestServer, tmp_path: Path
) -> None:
    """1,000 calls (JSON, streamed downloads and uploads) cancelled at random moments."""
    client = make_client(limit=10)
    await client.create_if_not_exists("python", "cancel-me")
    await client.upload("cancel-me", "blob.bin", io.BytesIO(b"x" * 300_000))
    await client.get_manager_version()
    rng = random.Random(1234)
    server.add_fault(Fault(path="/auth/role", delay=0.002, times=None))
    server.add_fault(Fault(path="/auth", body_size=200_000, times=None))

    def call(i: int) -> Coroutine[Any, Any, Any]:
        kind = i % 4
        if kind == 0:
            return client.request("GET", "/auth/role")
        if kind == 1:
            return client.request("GET", "/auth")
        if kind == 2:
            return client.download_single("cancel-me", "blob.bin", tmp_path / f"d{i}.bin")
        return client.upload("cancel-me", f"up/{i}.bin", io.BytesIO(b"y" * 100_000))

    tasks = []
    for i in range(1000):
        tasks.append(asyncio.create_task(call(i)))
        for _ in range(rng.randrange(0, 6)):
            await asyncio.sleep(0)  # a random number of loop turns: cancel at any phase
        rng.choice(tasks).cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    kinds = {type(r).__name__ for r in results}
    assert kinds <= {"CancelledError", "dict", "bytes", "PosixPath", "NoneType"}, kinds
    assert sum(isinstance(r, asyncio.CancelledError) for r in results) >= 20
    assert acquired_connections(client) == 0
    assert len(client._in_flight) == 0
    names = os.listdir(tmp_path)
    assert [n for n in names if not n.startswith("d")] == []  # no temp file stays behind
    sizes = {os.stat(f"{tmp_path}/{n}").st_size for n in names}
    assert sizes <= {300_000}  # and a download that finished is whole
    server.clear()
    assert (await client.request("GET", "/auth/role"))["global_role"] == "superadmin"

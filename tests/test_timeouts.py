"""Deadlines: a client default, per-call overrides, None disables; expiry is prompt."""

from __future__ import annotations

import time

import pytest

from backendai_async import Client, RequestTimeoutError, ServerError, Timeouts
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import ClientFactory


@pytest.mark.parametrize("limit", [0.2, 0.6])
async def test_the_deadline_fires_close_to_its_value(
    client: Client, server: BackendAITestServer, limit: float
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await client.request("GET", "/auth/role", timeout=limit)
    elapsed = time.monotonic() - started
    # Behaviour, not speed: never early, and not seconds late (the stall lasts 30 s).
    assert limit * 0.95 <= elapsed < limit + 1.0


async def test_the_client_default_applies_when_no_timeout_is_given(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(timeout=0.3)
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=30))
    with pytest.raises(RequestTimeoutError) as info:
        await client.request("GET", "/auth/role")
    assert info.value.limit == 0.3


async def test_a_per_call_timeout_overrides_the_default(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(timeout=0.2)
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=0.5))
    role = await client.request("GET", "/auth/role", timeout=5)
    assert role["global_role"] == "superadmin"


async def test_none_disables_the_deadline(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(timeouts=Timeouts(total=0.2))
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", delay=0.5))
    role = await client.request("GET", "/auth/role", timeout=None)
    assert role["global_role"] == "superadmin"


async def test_the_deadline_covers_retries_and_backoff(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(
        Fault(path="/auth/role", status=503, headers={"Retry-After": "0.3"}, times=None)
    )
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", retry=10, timeout=1.0)
    assert time.monotonic() - started < 2.0
    assert 2 <= info.value.attempts <= 4


def test_timeouts_validate_their_values() -> None:
    with pytest.raises(ValueError, match="connect"):
        Timeouts(connect=0)
    with pytest.raises(ValueError, match="read"):
        Timeouts(read=-1)
    assert Timeouts().with_total(None).total is None

"""Retries: only when safe, Retry-After honoured, everything inside one deadline."""

from __future__ import annotations

import time

import pytest

from backendai_async import Client, ClientConfig, RequestError, ServerError
from backendai_async._retry import backoff, parse_retry_after
from backendai_async.testing import BackendAITestServer, Fault


async def test_an_idempotent_call_is_retried_after_a_503(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "0"}, times=2))
    role = await client.request("GET", "/auth/role", retry=2)
    assert role["global_role"] == "superadmin"
    assert server.count("GET", "/auth/role") == 3


async def test_retries_stop_at_the_count(client: Client, server: BackendAITestServer) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=502, headers={"Retry-After": "0"}, times=None))
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", retry=1)
    assert info.value.attempts == 2
    assert server.count("GET", "/auth/role") == 2


async def test_no_retry_without_asking(client: Client, server: BackendAITestServer) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "0"}))
    with pytest.raises(ServerError):
        await client.request("GET", "/auth/role")
    assert server.count("GET", "/auth/role") == 1


async def test_a_post_that_reached_the_server_is_never_retried(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(method="POST", path="/auth", status=503, headers={"Retry-After": "0"}))
    with pytest.raises(ServerError):
        await client.request("POST", "/auth", json={"echo": 1}, retry=3)
    assert server.count("POST", "/auth") == 1


async def test_client_errors_are_not_retried(client: Client, server: BackendAITestServer) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", problem=(404, "object-not-found", "Nope", None)))
    with pytest.raises(ServerError):
        await client.request("GET", "/auth/role", retry=3)
    assert server.count("GET", "/auth/role") == 1


async def test_a_connection_never_made_may_be_retried_even_for_post(free_port: int) -> None:
    cfg = ClientConfig("AK", "SK", f"http://127.0.0.1:{free_port}")
    async with Client(cfg) as client:
        client._apply_server_version({"version": "v6.20230315", "manager": "23.09.10"})
        with pytest.raises(RequestError) as info:
            await client.request("POST", "/session", json={"x": 1}, retry=1)
    assert info.value.sent is False
    assert info.value.attempts == 2


async def test_a_retry_after_beyond_the_deadline_gives_up_at_once(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(
        Fault(path="/auth/role", status=429, headers={"Retry-After": "30"}, times=None)
    )
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", retry=5, timeout=2.0)
    assert time.monotonic() - started < 2.0  # did not sleep 30 s, nor until the deadline
    assert info.value.retry_after == 30.0
    assert "gave up after 1 attempts" in info.value.message
    assert server.count("GET", "/auth/role") == 1


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after("3600") == 3600.0  # the retry loop, not the parser, refuses it
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_backoff_grows_and_is_capped() -> None:
    assert 0.375 <= backoff(0) <= 0.5
    assert 0.75 <= backoff(1) <= 1.0
    assert 6.0 <= backoff(10) <= 8.0

"""Retries: only when safe, Retry-After honoured, everything inside one deadline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from backendai_async import Client, ClientConfig, RequestError, ServerError
from backendai_async import _http as http_module
from backendai_async import _retry as retry_module
from backendai_async._retry import (
    MAX_RETRIES,
    MAX_RETRY_AFTER,
    MIN_DELAY,
    RetryPolicy,
    backoff,
    parse_retry_after,
    retry_delay,
)
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


# -- the server's Retry-After is a floor; attempts are capped --------------------------------


def _server_error(retry_after: float | None, status: int = 503) -> ServerError:
    err = ServerError("x", status=status)
    err.retry_after = retry_after
    return err


def test_a_retry_after_is_never_undercut_and_never_below_the_minimum() -> None:
    for attempt in range(5):
        assert retry_delay("GET", _server_error(7.5), attempt) == 7.5
        assert retry_delay("GET", _server_error(0), attempt) == MIN_DELAY
        assert retry_delay("GET", _server_error(None), attempt) >= MIN_DELAY
    assert retry_delay("GET", _server_error(MAX_RETRY_AFTER + 1), 0) is None


def test_a_policy_decides_idempotency_for_posts() -> None:
    query = RetryPolicy(2, idempotent=True)
    mutation = RetryPolicy(0, idempotent=False)
    assert retry_delay("POST", _server_error(1.0), 0, query) == 1.0
    assert retry_delay("POST", _server_error(1.0), 0) is None
    never_sent = RequestError("x")
    never_sent.sent = False
    assert retry_delay("POST", never_sent, 0) is not None
    assert retry_delay("POST", never_sent, 0, mutation) is None


def test_the_number_of_attempts_is_capped() -> None:
    assert RetryPolicy.of(MAX_RETRIES).retries == MAX_RETRIES
    with pytest.raises(ValueError, match="more than 10 extra attempts"):
        RetryPolicy.of(MAX_RETRIES + 1)
    for bad in (-1, True, 1.5, "2"):
        with pytest.raises(ValueError, match="retry must be"):
            RetryPolicy.of(bad)  # type: ignore[arg-type]


async def test_the_retry_waits_at_least_what_the_server_asked(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "0.4"}))
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []

    async def watch() -> None:
        for count in (1, 2):
            await server.wait_for_request("GET", "/auth/role", count=count)
            arrivals.append(loop.time())

    watcher = asyncio.create_task(watch())
    assert await client.request("GET", "/auth/role", retry=1)
    await watcher
    assert arrivals[1] - arrivals[0] >= 0.4 - 0.02  # the loop's clock resolution


async def test_a_zero_retry_after_does_not_spin(
    client: Client, server: BackendAITestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=429, headers={"Retry-After": "0"}, times=None))
    waits: list[float] = []
    real = retry_module.retry_delay

    def recording(*args: Any) -> float | None:
        delay = real(*args)
        if delay is not None:
            waits.append(delay)
        return delay

    monkeypatch.setattr(http_module, "retry_delay", recording)
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", retry=3, timeout=None)
    assert waits == [MIN_DELAY] * 3
    assert info.value.attempts == 4
    assert server.count("GET", "/auth/role") == 4


async def test_a_retry_after_longer_than_the_sdk_waits_fails_with_the_servers_answer(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "3600"}))
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", retry=3, timeout=None)
    assert info.value.status == 503
    assert info.value.retry_after == 3600.0
    assert "asked to retry after 3600 s" in info.value.message
    assert server.count("GET", "/auth/role") == 1

"""Version negotiation: automatic, once per client, concurrency-safe, clear failures."""

from __future__ import annotations

import asyncio

import pytest

from backendai_async import Client, ResponseError
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import ClientFactory


async def test_first_call_negotiates_by_itself(client: Client, server: BackendAITestServer) -> None:
    assert client.api_version is None
    await client.request("GET", "/auth/role")
    assert [r.path for r in server.requests] == ["/", "/auth/role"]
    assert client.api_version == "v6.20230315"
    assert client.api_version_major == 6
    assert client.manager_version == "23.09.10"


async def test_get_server_version_is_the_raw_unsigned_answer(
    client: Client, server: BackendAITestServer
) -> None:
    info = await client.get_server_version()
    assert info == {"version": "v6.20230315", "manager": "23.09.10"}
    assert "Authorization" not in server.requests[-1].headers
    assert client.api_version is None  # asking is not negotiating


async def test_get_manager_version_negotiates_once(
    client: Client, server: BackendAITestServer
) -> None:
    assert await client.get_manager_version() == "23.09.10"
    assert await client.get_manager_version() == "23.09.10"
    await client.request("GET", "/auth/role")
    assert server.count("GET", "/") == 1


async def test_hundred_concurrent_first_calls_cause_one_probe(
    client: Client, server: BackendAITestServer
) -> None:
    results = await asyncio.gather(*(client.request("GET", "/auth/role") for _ in range(100)))
    assert len(results) == 100
    assert server.count("GET", "/") == 1
    assert server.count("GET", "/auth/role") == 100


@pytest.mark.parametrize(
    ("announced", "chosen"),
    [
        ("v9.20250722", "v6.20230315"),
        ("v7.20230615", "v6.20230315"),
        ("v4.20190615", "v4.20190615"),
    ],
)
async def test_newer_servers_get_the_newest_v6_and_older_their_own(
    make_client: ClientFactory, server: BackendAITestServer, announced: str, chosen: str
) -> None:
    server.api_version = announced
    client = make_client()
    await client.request("GET", "/auth/role")
    assert client.api_version == chosen
    assert server.requests[-1].headers["X-BackendAI-Version"] == chosen


@pytest.mark.parametrize("announced", ["v2.20170315", "banana"])
async def test_too_old_or_garbage_versions_fail_clearly_and_send_nothing_signed(
    make_client: ClientFactory, server: BackendAITestServer, announced: str
) -> None:
    server.api_version = announced
    client = make_client()
    with pytest.raises(ResponseError, match="version"):
        await client.request("GET", "/auth/role")
    assert server.count("GET", "/auth/role") == 0
    assert client.api_version is None


async def test_a_failed_probe_is_not_cached(client: Client, server: BackendAITestServer) -> None:
    server.add_fault(Fault(path="/", status=503, body="down", times=1))
    with pytest.raises(Exception, match="503"):
        await client.get_manager_version()
    assert await client.get_manager_version() == "23.09.10"


async def test_version_helpers(client: Client, server: BackendAITestServer) -> None:
    assert client.is_api_version_compatible_with("v4.20190601") is False  # not negotiated
    with pytest.raises(RuntimeError, match="get_manager_version"):
        client.supports("multi-container")
    await client.get_manager_version()
    assert client.is_api_version_compatible_with("v4.20190601")
    assert not client.is_api_version_compatible_with("v7.20230615")
    assert client.is_manager_version_compatible_with("20.09.16")
    assert not client.is_manager_version_compatible_with("23.09.11")
    assert client.is_manager_version_compatible_with(["25.1.0", "23.09.6", "22.03.1"])
    assert not client.is_manager_version_compatible_with(["25.1.0", "23.09.12"])
    assert client.supports("multi-container")
    assert client.supports("avoid-hol-blocking")
    assert not client.supports("no-such-feature")
    assert client.compat.session_prefix == "/session"

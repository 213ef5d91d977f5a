"""Client lifecycle: lazy open, explicit close, no leaks or warnings on any path."""

from __future__ import annotations

import gc
import warnings

import aiohttp
import pytest

from backendai_async import Client, ClientClosedError, ClientConfig, ClientState
from backendai_async.testing import BackendAITestServer


def _config(server: BackendAITestServer) -> ClientConfig:
    return ClientConfig(server.access_key, server.secret_key, str(server.endpoint))


async def test_states_from_unopened_to_closed(server: BackendAITestServer) -> None:
    client = Client(_config(server))
    assert client.state is ClientState.UNOPENED
    assert client.session is None
    async with client:
        assert client.state is ClientState.OPEN
        await client.request("GET", "/auth/role")
    assert client.state is ClientState.CLOSED
    assert client.closed
    assert client.session is not None
    assert client.session.closed
    await client.close()  # idempotent
    with pytest.raises(ClientClosedError):
        await client.request("GET", "/auth/role")
    with pytest.raises(ClientClosedError):
        await client.open()


async def test_first_call_opens_the_client(server: BackendAITestServer) -> None:
    client = Client(_config(server))
    try:
        await client.get_manager_version()
        assert client.state is ClientState.OPEN
    finally:
        await client.close()


async def test_closing_an_unopened_client_is_fine(server: BackendAITestServer) -> None:
    client = Client(_config(server))
    await client.close()
    assert client.closed


async def test_an_injected_session_is_never_closed(server: BackendAITestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with Client(_config(server), session=session) as client:
            await client.request("GET", "/auth/role")
        assert not session.closed
        assert client.closed


async def test_a_closed_injected_session_is_refused_clearly(server: BackendAITestServer) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = Client(_config(server), session=session)
    with pytest.raises(ClientClosedError, match="ClientSession"):
        await client.request("GET", "/auth/role")


async def test_an_unclosed_client_warns_but_does_no_async_work_in_del(
    server: BackendAITestServer,
) -> None:
    client = Client(_config(server))
    await client.request("GET", "/auth/role")
    session = client.session
    assert session is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.__del__()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
    await client.close()  # the test itself must not leak
    del client
    gc.collect()


def test_bad_constructor_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="ClientConfig"):
        Client("http://127.0.0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ClientSession"):
        Client(ClientConfig("a", "b"), session=object())  # type: ignore[arg-type]


async def test_bad_request_arguments_name_the_problem(client: Client) -> None:
    with pytest.raises(ValueError, match="method"):
        await client.request("FETCH", "/auth/role")
    with pytest.raises(ValueError, match="retry"):
        await client.request("GET", "/auth/role", retry=-1)
    with pytest.raises(ValueError, match="start with '/'"):
        await client.request("GET", "auth/role")
    with pytest.raises(ValueError, match="either json= or data="):
        await client.request("POST", "/auth", json={}, data=b"x")
    with pytest.raises(TypeError, match="AbortSignal"):
        await client.request("GET", "/auth/role", signal=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        await client.request("GET", "/auth/role", timeout=-1)


async def test_decoding_by_content_type(client: Client, server: BackendAITestServer) -> None:
    from backendai_async.testing import Fault

    await client.get_manager_version()
    server.add_fault(Fault(path="/auth/role", status=200, body="plain", content_type="text/plain"))
    assert await client.request("GET", "/auth/role") == "plain"
    server.add_fault(
        Fault(
            path="/auth/role", status=200, body=b"\x00\x01", content_type="application/octet-stream"
        )
    )
    assert await client.request("GET", "/auth/role") == b"\x00\x01"
    server.add_fault(Fault(path="/auth/role", status=204, body=b""))
    assert await client.request("GET", "/auth/role") is None
    server.add_fault(
        Fault(path="/auth/role", status=201, body=b"", content_type="application/octet-stream")
    )
    assert await client.request("GET", "/auth/role") is None

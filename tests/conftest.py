"""Shared fixtures: a running embedded manager, and clients that are checked for leaks."""

from __future__ import annotations

import gc
import socket
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backendai_async import Client, ClientConfig
from backendai_async.testing import BackendAITestServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def acquired_connections(client: Client) -> int:
    """Connections the client's connector still holds for a call (0 when all released)."""
    session = client.session
    if session is None or session.connector is None:
        return 0
    return len(session.connector._acquired)  # aiohttp exposes no public counter


@pytest.fixture
async def server() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer() as srv:
        yield srv


ClientFactory = Callable[..., Client]


@pytest.fixture
async def make_client(server: BackendAITestServer) -> AsyncIterator[ClientFactory]:
    """Build clients for ``server``; at teardown each is closed and checked for leaks."""
    made: list[Client] = []

    def factory(config: ClientConfig | None = None, **kwargs: Any) -> Client:
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in ("session", "middlewares")}
        if config is None:
            config = ClientConfig(
                server.access_key, server.secret_key, str(server.endpoint), **kwargs
            )
        client = Client(config, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        assert acquired_connections(client) == 0, "a call left a connection acquired"
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> Client:
    return make_client()


@pytest.fixture
def free_port() -> Iterator[int]:
    """A loopback port with nothing listening (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def _no_unclosed_warnings() -> Iterator[None]:
    """Fail a test that leaves an unclosed session, connector or transport behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    leaks = [
        w for w in caught if issubclass(w.category, ResourceWarning) or "Unclosed" in str(w.message)
    ]
    assert not leaks, [str(w.message) for w in leaks]

"""Compute sessions against the real manager 23.09.10. No agent exists there, so sessions stay
PENDING: creation, reuse, info and destruction are covered here; execute and files are
covered by the embedded server only."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest

from backendai_async import Client, ClientConfig, ErrorType, ServerError
from backendai_async.resources.sessions import SessionResources

from .conftest import ADMIN, IMAGE, MANAGER

pytestmark = pytest.mark.integration

Statuses = list[tuple[str, str, int]]


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[Client, Statuses]]:
    """An admin client whose middleware records the status of every answer."""
    statuses: Statuses = []

    async def record(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        statuses.append((request.method, request.url.path, response.status))
        return response

    async with Client(ClientConfig(*ADMIN, MANAGER), middlewares=[record]) as client:
        yield client, statuses


@pytest.fixture
async def name(recorded: tuple[Client, Statuses]) -> AsyncIterator[str]:
    """A session name unique to this run; the session is force-destroyed afterwards."""
    client, _ = recorded
    value = f"it-{secrets.token_hex(4)}.sess"
    yield value
    with contextlib.suppress(ServerError):
        await client.destroy(value, forced=True)


async def test_create_then_reuse_then_info_then_forced_destroy(
    recorded: tuple[Client, Statuses], name: str
) -> None:
    client, statuses = recorded
    resources = SessionResources(cpu=1, mem="512m", enqueue_only=True, group_name="default")

    created = await client.create_if_not_exists(IMAGE, name, resources)
    assert statuses[-1] == ("POST", "/session", 201)
    assert created["created"] is True
    assert created["sessionName"] == name
    assert created["status"] == "PENDING"

    reused = await client.create_if_not_exists("python", name, {"enqueueOnly": True})
    assert statuses[-1] == ("POST", "/session", 201)
    assert reused["created"] is False
    assert reused["sessionId"] == created["sessionId"]

    info = await client.get_info(name)
    assert statuses[-1] == ("GET", f"/session/{name}", 200)
    assert info["status"] == "PENDING"
    assert info["image"] == IMAGE
    assert "'cpu': Decimal('1')" in info["requestedSlots"]

    destroyed = await client.destroy(name, forced=True)
    assert statuses[-1] == ("DELETE", f"/session/{name}", 200)
    assert "stats" in destroyed
    with pytest.raises(ServerError) as info_after:
        await client.get_info(name)
    assert info_after.value.status == 404


async def test_reuse_refused_is_the_servers_400(
    recorded: tuple[Client, Statuses], name: str
) -> None:
    client, _ = recorded
    created = await client.create_if_not_exists(IMAGE, name, {"enqueueOnly": True})
    with pytest.raises(ServerError) as info:
        await client.create_if_not_exists(
            IMAGE, name, {"enqueueOnly": True, "reuseIfExists": False}
        )
    assert info.value.status == 400
    assert info.value.problem_type == "https://api.backend.ai/probs/session-already-exists"
    assert info.value.body["data"]["existingSessionId"] == created["sessionId"]


async def test_an_unknown_image_is_a_404_with_the_servers_problem(
    recorded: tuple[Client, Statuses], name: str
) -> None:
    client, statuses = recorded
    with pytest.raises(ServerError) as info:
        await client.create_if_not_exists("no-such-image:0.1", name, {"enqueueOnly": True})
    err = info.value
    assert statuses[-1] == ("POST", "/session", 404)
    assert err.type is ErrorType.ERR_SERVER
    assert err.status == 404
    assert err.problem_type == "https://api.backend.ai/probs/object-not-found"
    assert err.body["title"] == "No such environment image."


async def test_a_missing_session_is_err_server_404_with_the_problem_type(
    recorded: tuple[Client, Statuses],
) -> None:
    client, _ = recorded
    with pytest.raises(ServerError) as info:
        await client.get_info(f"no-such-{secrets.token_hex(4)}")
    assert info.value.status == 404
    assert info.value.problem_type == "https://api.backend.ai/probs/object-not-found"
    assert info.value.body["title"] == "No such session."

"""Core behaviour against the real manager: negotiation, signed calls, auth failures."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, ServerError

from .conftest import ADMIN, MANAGER, USER


async def test_negotiation_against_a_v7_server(admin: Client) -> None:
    info = await admin.get_server_version()
    assert info["version"].startswith("v7.")
    assert await admin.get_manager_version() == info["manager"]
    assert admin.api_version == "v6.20230315"  # the newest v6 for a v7 server
    assert admin.supports("multi-container")


async def test_signed_calls_as_admin_and_user(admin: Client, user: Client) -> None:
    assert (await admin.request("GET", "/auth/role"))["global_role"] == "superadmin"
    assert (await user.request("GET", "/auth/role"))["global_role"] == "user"
    echoed = await admin.request("GET", "/auth", params={"echo": "한글 and spaces/slash"})
    assert echoed == {"authorized": "yes", "echo": "한글 and spaces/slash"}
    slots = await admin.request("GET", "/config/resource-slots")
    assert "cpu" in slots
    assert isinstance(await user.request("GET", "/folders"), list)


async def test_graphql_through_request(admin: Client, user: Client) -> None:
    images = await admin.request("POST", "/admin/graphql", json={"query": "{ images { name } }"})
    assert images["images"]
    query = {"query": "{ agent_list { total_count } }"}
    with pytest.raises(ServerError) as info:
        await user.request("POST", "/admin/graphql", json=query)
    assert info.value.status == 400
    assert info.value.problem_type.endswith("/graphql-error")


async def test_a_wrong_secret_is_a_401_with_the_server_problem() -> None:
    async with Client(ClientConfig(ADMIN[0], "wrong-secret", MANAGER)) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/auth/role")
    err = info.value
    assert err.status == 401
    assert err.problem_type == "https://api.backend.ai/probs/auth-failed"
    assert "Signature mismatch" in err.message
    assert "wrong-secret" not in repr(err.to_dict())


async def test_an_unknown_access_key_is_a_401() -> None:
    async with Client(ClientConfig("AKIANOSUCHKEYEXAMPLE", USER[1], MANAGER)) as client:
        with pytest.raises(AuthenticationError, match="Access key not found"):
            await client.request("GET", "/auth/role")


async def test_a_missing_session_is_a_404_with_the_server_problem(admin: Client) -> None:
    with pytest.raises(ServerError) as info:
        await admin.request("GET", "/session/no-such-session-xyz")
    assert info.value.status == 404
    assert info.value.problem_type == "https://api.backend.ai/probs/object-not-found"

"""Errors that tell the user what to do: the server's reason in ``message`` for GraphQL and
validation failures, and the right mode or endpoint when a client is pointed at the wrong
server (API mode at a webserver, SESSION mode at a manager)."""

from __future__ import annotations

import re

import pytest

from backendai_async import (
    Client,
    ClientConfig,
    GraphQLError,
    ResponseError,
    ServerError,
)
from backendai_async.testing import (
    EXAMPLE_KEYPAIRS,
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    Fault,
)

USER_AK = list(EXAMPLE_KEYPAIRS)[1]
SUPERADMIN_ONLY = "Forbidden operation. (superadmin privilege required)"


async def user_client(server: BackendAITestServer) -> Client:
    return Client(ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint)))


# -- the server's reason is in the message -----------------------------------------------------


async def test_a_graphql_error_of_the_standard_endpoint_names_the_reason(
    server: BackendAITestServer,
) -> None:
    async with await user_client(server) as client:
        with pytest.raises(GraphQLError) as info:
            await client.query("{ agent_list(limit: 1, offset: 0) { total_count } }")
    err = info.value
    assert server.requests[-1].path == "/admin/gql"
    assert SUPERADMIN_ONLY in err.message
    assert err.errors[0]["message"] == SUPERADMIN_ONLY


async def test_a_legacy_graphql_400_names_the_reason_not_just_graphql_generated_error(
    server: BackendAITestServer,
) -> None:
    async with await user_client(server) as client:
        with pytest.raises(GraphQLError) as info:
            await client.request(
                "POST",
                "/admin/graphql",
                json={"query": "{ agent_list(limit: 1, offset: 0) { total_count } }"},
            )
    err = info.value
    assert err.status == 400
    assert err.problem_type.endswith("/graphql-error")
    assert SUPERADMIN_ONLY in err.message
    assert SUPERADMIN_ONLY in err.description


async def test_an_unknown_graphql_field_says_which(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(GraphQLError) as info:
        await client.query("{ echo }")
    assert re.search(r"Cannot query field ['\"]echo['\"]", info.value.message)


async def test_a_validation_error_names_the_parameter_and_the_reason(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role", params={"group": "default"})
    err = info.value
    assert err.status == 400
    assert err.problem_type.endswith("/invalid-api-params")
    assert "group" in err.message
    assert "cannot convert value to UUID" in err.message
    assert err.message.startswith("server responded failure: 400 Bad Request - ")


async def test_a_missing_parameter_is_named_too(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.request("POST", "/auth", json={})
    assert "echo: is required" in info.value.message


# -- the wrong server for the mode ------------------------------------------------------------


async def test_api_mode_at_a_webserver_says_to_use_session_mode() -> None:
    async with BackendAITestWebserver() as webserver:
        cfg = ClientConfig(*next(iter(EXAMPLE_KEYPAIRS.items())), str(webserver.endpoint))
        async with Client(cfg) as client:
            with pytest.raises(ResponseError) as info:
                await client.get_manager_version()
            with pytest.raises(ResponseError) as again:
                await client.get_server_version()
    for err in (info.value, again.value):
        assert "looks like a Backend.AI webserver" in err.message
        assert "'SESSION'" in err.message
        assert err.request_method == "GET"
    assert webserver.count("GET", "/") == 2
    assert webserver.manager.count() == 0  # nothing reached the manager


async def test_session_mode_at_a_manager_says_to_use_api_mode(server: BackendAITestServer) -> None:
    user = EXAMPLE_WEB_USERS[1]
    cfg = ClientConfig(user.email, user.password, str(server.endpoint), "SESSION")
    async with Client(cfg) as client:
        with pytest.raises(ServerError) as info:
            await client.get_manager_version()
    err = info.value
    assert err.status == 404
    assert "SESSION mode needs a Backend.AI webserver" in err.message
    assert "API mode" in err.message
    assert server.requests[-1].path == "/func/"


async def test_get_server_version_is_the_typed_version_answer(
    client: Client, server: BackendAITestServer
) -> None:
    answer = await client.get_server_version()
    assert answer == {"version": server.api_version, "manager": server.manager_version}
    server.add_fault(Fault("GET", "/", status=200, body="[1, 2]", content_type="application/json"))
    with pytest.raises(ResponseError, match=r"not \{'version', 'manager'\}"):
        await client.get_server_version()

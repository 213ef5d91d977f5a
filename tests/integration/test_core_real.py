"""Core behaviour against each real manager: negotiation, signed calls, auth failures, GraphQL."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, GraphQLError, ServerError

from .conftest import Real, Wire, outcome, problem


async def test_negotiation_picks_the_newest_v6_the_server_accepts(
    real: Real, admin: Client
) -> None:
    info = await admin.get_server_version()
    assert info["version"] == real.facts.api_version
    assert await admin.get_manager_version() == info["manager"] == real.facts.manager
    assert admin.api_version == real.facts.negotiated
    real.observe("negotiated", admin.api_version)
    assert admin.supports("multi-container")


async def test_signed_calls_as_admin_and_user_are_accepted(
    real: Real, admin: Client, user: Client, wire: Wire
) -> None:
    assert (await admin.request("GET", "/auth/role"))["global_role"] == "superadmin"
    assert (await user.request("GET", "/auth/role"))["global_role"] == "user"
    slots = await admin.request("GET", "/config/resource-slots")
    assert "cpu" in slots
    assert isinstance(await user.request("GET", "/folders"), list)
    text = "한글 and spaces/slash?&="
    echoed = await admin.request("POST", "/auth", json={"echo": text})
    assert echoed == {"authorized": "yes", "echo": text}
    answer = await admin.request("GET", "/auth", params={"echo": text})  # a signed query string
    assert answer["authorized"] == "yes"
    shown = "echoed" if answer["echo"] == text else f'echo "{answer["echo"]}"'
    real.observe("auth_echo", f"200, {shown}")
    assert wire.last("GET", "/auth")[2] == 200


async def test_a_ceiling_below_the_newest_v6_is_sent_as_asked(real: Real) -> None:
    cfg = ClientConfig(*real.target.admin, real.target.manager, api_version="v6.20210815")
    async with Client(cfg) as client:
        answer = await outcome(client.request("GET", "/auth/role"))
        assert client.api_version == "v6.20210815"
    if isinstance(answer, ServerError):
        assert answer.status == 400
        real.observe("older_v6", f'400 "{answer.description}"')
    else:
        assert answer["global_role"] == "superadmin"
        real.observe("older_v6", "200 (accepted)")


async def test_graphql_through_request_as_admin_and_a_forbidden_field_as_user(
    real: Real, admin: Client, user: Client
) -> None:
    answer = await admin.request("POST", "/admin/graphql", json={"query": "{ images { name } }"})
    if real.facts.graphql_envelope:
        assert answer["errors"] is None
        real.observe("graphql", '`{"data": {<fields>}, "errors": null}`')
        answer = answer["data"]
    else:
        real.observe("graphql", "`{<fields>}` (bare data)")
    assert {"name": "stable/python"} in answer["images"]
    query = {"query": "{ agent_list(limit: 1, offset: 0) { total_count } }"}
    with pytest.raises(ServerError) as info:
        await user.request("POST", "/admin/graphql", json=query)
    assert info.value.status == 400
    real.observe("graphql_forbidden", f"400 `{problem(info.value)}`")
    assert "superadmin privilege required" in str(info.value.body)


async def test_graphql_query_returns_the_data_and_raises_graphql_errors_on_both(
    real: Real, admin: Client, user: Client, wire: Wire
) -> None:
    data = await admin.query(
        "query($n: Int!) { agent_list(limit: $n, offset: 0) { total_count } }", {"n": 10}
    )
    assert data == {"agent_list": {"total_count": real.facts.agents_alive}}
    assert (await user.query("{ user { email } }"))["user"]["email"] == real.target.user_email
    with pytest.raises(GraphQLError) as info:
        await user.query("{ agent_list(limit: 1, offset: 0) { total_count } }")
    err = info.value
    assert err.status == 200  # /admin/gql: a 200 with "errors"
    assert "superadmin privilege required" in err.message
    assert err.errors
    with pytest.raises(GraphQLError) as bad:
        await admin.query("{ no_such_field_xyz }")
    assert "no_such_field_xyz" in bad.value.message
    assert {path for method, path, _, _ in wire.seen if method == "POST"} == {"/admin/gql"}


async def test_a_wrong_secret_is_a_401_with_the_server_problem(real: Real) -> None:
    access_key = real.target.admin[0]
    async with Client(ClientConfig(access_key, "wrong-secret", real.target.manager)) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/auth/role")
    err = info.value
    assert err.status == 401
    assert err.problem_type == "https://api.backend.ai/probs/auth-failed"
    assert "signature mismatch" in err.message.lower()
    assert "wrong-secret" not in repr(err.to_dict())


async def test_an_unknown_access_key_is_a_401(real: Real) -> None:
    cfg = ClientConfig("AKIANOSUCHKEYEXAMPLE", real.target.user[1], real.target.manager)
    async with Client(cfg) as client:
        with pytest.raises(AuthenticationError, match="Access key not found"):
            await client.request("GET", "/auth/role")

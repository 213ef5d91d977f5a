"""client.query() and the namespace GraphQL helpers, over loopback against the fake manager."""

from __future__ import annotations

from typing import Any

import pytest

from backendai_async import Client, GraphQLError, ServerError
from backendai_async.resources._graphql import Var, check_fields, mutate, paginate, select
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer, Fault
from backendai_async.testing._graphql import (
    GraphQLContext,
    GraphQLField,
    GraphQLFieldError,
    register_graphql_field,
)

USER_AK = list(EXAMPLE_KEYPAIRS)[1]


def _things(ctx: GraphQLContext) -> dict[str, Any]:
    rows = [{"id": i} for i in range(250)]
    offset, limit = ctx.args["offset"], ctx.args["limit"]
    return {"items": rows[offset : offset + limit], "total_count": len(rows)}


def _boom(ctx: GraphQLContext) -> Any:
    raise GraphQLFieldError("no such thing", {"code": "not-found"})


@pytest.fixture
def fields(server: BackendAITestServer) -> None:
    register_graphql_field(server.state, GraphQLField("things", _things))
    register_graphql_field(server.state, GraphQLField("boom", _boom))
    register_graphql_field(
        server.state,
        GraphQLField("touch", lambda ctx: {"ok": ctx.args["name"] == "yes", "msg": "nope"}),
    )


async def test_query_returns_data_and_uses_admin_gql(
    client: Client, server: BackendAITestServer
) -> None:
    data = await client.query("query($e: String) { user(email: $e) { email } }", {"e": None})
    assert data["user"]["email"] == "admin@lablup.com"
    sent = [r for r in server.requests if r.method == "POST"]
    assert [r.path for r in sent] == ["/admin/gql"]
    assert sent[0].json == {"query": sent[0].json["query"], "variables": {"e": None}}


async def test_errors_in_a_200_answer_raise_graphql_error(
    client: Client, server: BackendAITestServer, fields: None
) -> None:
    with pytest.raises(GraphQLError) as info:
        await client.query("{ user { email } boom { x } }")
    err = info.value
    assert isinstance(err, ServerError)
    assert err.status == 200
    assert "no such thing" in err.message
    assert err.errors[0]["path"] == ["boom"]
    assert err.errors[0]["extensions"] == {"code": "not-found"}
    assert err.data["user"]["email"] == "admin@lablup.com"  # the partial data is kept


async def test_the_legacy_400_form_raises_the_same_error() -> None:
    # a server older than v6.20210815 has only /admin/graphql, which answers errors with 400
    async with BackendAITestServer(api_version="v6.20200815") as old:
        async with Client(_config(old, USER_AK)) as user:
            with pytest.raises(GraphQLError) as info:
                await user.query("{ agent_list(limit: 1, offset: 0) { total_count } }")
        assert [r.path for r in old.requests if r.method == "POST"] == ["/admin/graphql"]
    err = info.value
    assert err.status == 400
    assert err.problem_type.endswith("/graphql-error")
    assert err.message.endswith("superadmin privilege required)")
    assert err.errors[0]["path"] == ["agent_list"]


def _config(server: BackendAITestServer, access_key: str) -> Any:
    from backendai_async import ClientConfig

    return ClientConfig(access_key, EXAMPLE_KEYPAIRS[access_key], str(server.endpoint))


async def test_a_query_is_retried_only_when_asked_and_a_mutation_never(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/admin/gql", status=503, headers={"Retry-After": "0"}))
    assert await client.query("{ user { email } }", retry=1)
    assert server.count("POST", "/admin/gql") == 2
    server.add_fault(Fault(path="/admin/gql", status=503))
    with pytest.raises(ServerError):
        await client.query("{ user { email } }")
    assert server.count("POST", "/admin/gql") == 3
    with pytest.raises(ValueError, match="never retried"):
        await client.query("# a comment\n mutation { x }", retry=1)
    assert server.count("POST", "/admin/gql") == 3


async def test_select_builds_a_typed_document(client: Client, server: BackendAITestServer) -> None:
    row = await select(
        client._api, "user", {"email": Var("String", "user@lablup.com")}, ["email", "role"]
    )
    assert row["email"] == "user@lablup.com"
    sent = server.requests[-1].json
    assert sent == {
        "query": "query($email: String) { user(email: $email) { email role } }",
        "variables": {"email": "user@lablup.com"},
    }


async def test_paginate_reads_every_page_without_a_cap(
    client: Client, server: BackendAITestServer, fields: None
) -> None:
    ids = [row["id"] async for row in paginate(client._api, "things", {}, ["id"])]
    assert ids == list(range(250))
    assert server.count("POST", "/admin/gql") == 3


async def test_mutate_raises_on_ok_false(
    client: Client, server: BackendAITestServer, fields: None
) -> None:
    assert (await mutate(client._api, "touch", {"name": Var("String!", "yes")}))["ok"] is True
    with pytest.raises(GraphQLError, match="touch refused: nope"):
        await mutate(client._api, "touch", {"name": Var("String!", "no")})


def test_field_lists_are_validated() -> None:
    assert check_fields(["id", "groups { id name }"]) == ("id", "groups { id name }")
    assert check_fields("id name") == ("id name",)
    for bad in ([], [""], ["id) { x"], ["a { b"], ["}{"], [1]):
        with pytest.raises(ValueError, match="fields"):
            check_fields(bad)  # type: ignore[arg-type]

"""client.query() as the issue states it, against the fake in the 23.09 and the 26.x answer
styles: the endpoint per version, GraphQLError alike in its 200 and 400 forms, retries only
when asked, and bad input refused before anything is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from backendai_async import Client, ClientConfig, GraphQLError, RequestTimeoutError, ServerError
from backendai_async._graphql import is_mutation
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer, Fault

USER_AK = list(EXAMPLE_KEYPAIRS)[1]
FORBIDDEN = "Forbidden operation. (superadmin privilege required)"
AGENTS = "query { user { email } agent_list(limit: 1, offset: 0) { total_count } }"

# (API version, manager release): the endpoint and the answer style they give.
STYLES = {
    "23.09 /admin/gql": ("v6.20230315", "23.09.10"),
    "23.09 /admin/graphql": ("v6.20200815", "23.09.10"),
    "26.9 /admin/gql": ("v6.20230315", "26.9.6"),
    "26.9 /admin/graphql": ("v6.20200815", "26.9.6"),
}


@pytest.fixture(params=list(STYLES))
async def styled(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, BackendAITestServer]]:
    api_version, release = STYLES[request.param]
    async with BackendAITestServer(api_version=api_version, manager_version=release) as srv:
        yield request.param, srv


def _user(server: BackendAITestServer) -> ClientConfig:
    return ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint))


def _posts(server: BackendAITestServer) -> list[Any]:
    return [r for r in server.requests if r.method == "POST"]


async def test_each_style_returns_the_data_from_its_endpoint(
    styled: tuple[str, BackendAITestServer],
) -> None:
    style, server = styled
    async with Client(_user(server)) as client:
        data = await client.query("query($e: String) { user(email: $e) { email } }", {"e": None})
    assert list(data) == ["user"]
    assert data["user"]["email"] == "user@lablup.com"
    (sent,) = _posts(server)
    assert sent.path == style.split()[1]
    assert sent.json == {
        "query": "query($e: String) { user(email: $e) { email } }",
        "variables": {"e": None},
    }


async def test_graphql_error_is_the_same_in_the_200_and_the_400_form(
    styled: tuple[str, BackendAITestServer],
) -> None:
    style, server = styled
    async with Client(_user(server)) as client:
        with pytest.raises(GraphQLError) as info:
            await client.query(AGENTS)
    err = info.value
    legacy = style.endswith("/admin/graphql")
    newer = style.startswith("26.9")
    assert isinstance(err, ServerError)
    assert err.status == (400 if legacy else 200)
    assert err.message == f"GraphQL error: {FORBIDDEN}"
    assert err.description == FORBIDDEN
    assert err.problem_type == "https://api.backend.ai/probs/graphql-error"
    (entry,) = err.errors
    assert entry["message"] == FORBIDDEN
    assert entry["path"] == ["agent_list"]
    assert entry["locations"] == [{"line": 1, "column": 24}]
    # 26.x adds a machine-readable code to each error (and one to the 400 problem)
    assert err.code == ("backendai_generic_forbidden" if newer else None)
    assert err.error_code == ("api_generic_internal-error" if newer and legacy else None)
    # the 200 form keeps the partial data; the 400 form has none
    if legacy:
        assert err.data is None
    else:
        assert err.data["user"]["email"] == "user@lablup.com"
        assert err.data["agent_list"] is None
    assert (err.request_method, err.request_url) == (
        "POST",
        str(server.endpoint) + style.split()[1],
    )


RAW_SUCCESS = {  # the keys of a good answer (and of its data) on the real servers, per style
    "23.09 /admin/gql": ({"data"}, {"user"}),
    "23.09 /admin/graphql": ({"user"}, None),
    "26.9 /admin/gql": ({"data", "errors"}, {"user"}),
    "26.9 /admin/graphql": ({"data", "errors"}, {"user"}),
}


async def test_every_success_shape_gives_the_data(styled: tuple[str, BackendAITestServer]) -> None:
    style, server = styled
    async with Client(_user(server)) as client:
        raw = await client.request(
            "POST", style.split()[1], json={"query": "{ user { email } }", "variables": None}
        )
        data = await client.query("{ user { email } }")
    keys, data_keys = RAW_SUCCESS[style]
    assert set(raw) == keys
    if data_keys is not None:
        assert set(raw["data"]) == data_keys
        assert raw.get("errors", "absent") == ("absent" if len(keys) == 1 else None)
    assert list(data) == ["user"]
    assert data["user"]["email"] == "user@lablup.com"


async def test_several_errors_are_counted_in_the_message(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(GraphQLError) as info:
        await client.query(
            "query($id: UUID!) { compute_session(id: $id) { session_name lang } }",
            {"id": str(uuid.uuid4())},
        )
    err = info.value
    assert err.message == (
        "GraphQL error: Cannot query field 'session_name' on type 'ComputeSession'. (and 1 more)"
    )
    assert [e["message"] for e in err.errors][1] == (
        "Cannot query field 'lang' on type 'ComputeSession'."
    )
    assert err.data is None  # a validation error: nothing ran


async def test_a_syntax_error_is_a_graphql_error(client: Client) -> None:
    with pytest.raises(GraphQLError, match="Syntax Error") as info:
        await client.query("query { compute_session_list(limit: 1")
    assert info.value.errors[0]["locations"]


async def test_a_query_is_retried_only_with_retry(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/admin/gql", status=502, times=1))
    with pytest.raises(ServerError) as info:
        await client.query("{ user { email } }")
    assert info.value.status == 502
    assert server.count("POST", "/admin/gql") == 1
    server.add_fault(Fault(path="/admin/gql", status=502, times=1))
    assert await client.query("{ user { email } }", retry=2)
    assert server.count("POST", "/admin/gql") == 3


@pytest.mark.parametrize(
    "document",
    [
        "mutation { x }",
        "  # comment\n mutation M($a: Int) { x(a: $a) }",
        "fragment F on Q { a }\nmutation { x { ...F } }",
        'query Q { a(s: "mutation") }\nmutation { x }',
    ],
)
async def test_a_mutation_is_never_retried(
    client: Client, server: BackendAITestServer, document: str
) -> None:
    with pytest.raises(ValueError, match="never retried"):
        await client.query(document, retry=1)
    assert server.requests == []


def test_mutations_are_told_from_queries() -> None:
    assert not is_mutation("{ a }")
    assert not is_mutation('query { a(s: "mutation { x }") }')
    assert not is_mutation("query($mutation: Int) { a(b: $mutation) { mutation } }")
    assert not is_mutation('# mutation\nquery { a }\n"""mutation"""')
    assert is_mutation("fragment F on Q { a }\nmutation { x { ...F } }")


async def test_a_document_given_as_a_function_counts_as_a_mutation_unless_told(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ValueError, match="mutation=False"):
        await client.query(lambda compat: "{ user { email } }", retry=1)
    await client.get_manager_version()
    server.add_fault(Fault(path="/admin/gql", status=502, times=1))
    data = await client.query(lambda compat: "{ user { email } }", retry=1, mutation=False)
    assert data["user"]["email"] == "admin@lablup.com"
    assert server.count("POST", "/admin/gql") == 2


@pytest.mark.parametrize(
    ("q", "variables", "error", "match"),
    [
        ("", None, ValueError, "non-empty"),
        ("   ", None, ValueError, "non-empty"),
        (42, None, TypeError, "q must be"),
        ("{ a }", ["x"], TypeError, "variables must be a mapping"),
        ("{ a }", {"id": uuid.uuid4()}, TypeError, "variables must be JSON values.*UUID"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, q: Any, variables: Any, error: Any, match: Any
) -> None:
    with pytest.raises(error, match=match):
        await client.query(q, variables)
    assert server.requests == []


async def test_the_deadline_covers_a_stalled_answer(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/admin/gql", delay=30))
    with pytest.raises(RequestTimeoutError):
        await client.query("{ user { email } }", timeout=0.3)
    assert server.count("POST", "/admin/gql") == 1


async def test_an_answer_that_is_not_graphql_is_a_response_error(
    client: Client, server: BackendAITestServer
) -> None:
    from backendai_async import ResponseError

    await client.get_manager_version()
    server.add_fault(
        Fault(
            path="/admin/gql", status=200, body=json.dumps([1, 2]), content_type="application/json"
        )
    )
    with pytest.raises(ResponseError, match="not a JSON object"):
        await client.query("{ user { email } }")
    server.add_fault(
        Fault(path="/admin/gql", status=200, body='{"data": null}', content_type="application/json")
    )
    with pytest.raises(ResponseError, match="neither data nor errors"):
        await client.query("{ user { email } }")

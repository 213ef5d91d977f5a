"""client.query() and client.compute_session against every REAL manager of the tier (23.09
and 26.9 by default), as the example user and as the superadmin.

The servers are shared: other sessions of the same users come and go, so tests look only
at the sessions they enqueue (``enqueueOnly``; 23.09 has no agent and keeps them PENDING,
26.9's dummy agent schedules them) and destroy them in a ``finally``.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest

from backendai_async import Client, ClientConfig, GraphQLError, ServerError

from .conftest import Real

pytestmark = pytest.mark.integration

FORBIDDEN_SUPERADMIN = "Forbidden operation. (superadmin privilege required)"


@pytest.fixture
async def enqueued(real: Real, user: Client) -> AsyncIterator[dict[str, str]]:
    """Three sessions of the example user, name → id; force-destroyed (as that user) after."""
    names = [f"gql-{secrets.token_hex(3)}-{i}" for i in range(3)]
    made: dict[str, str] = {}
    try:
        for name in names:
            answer = await user.create_if_not_exists(
                real.target.image, name, {"enqueueOnly": True, "cpu": 1, "mem": "512m"}, timeout=90
            )
            made[name] = answer["sessionId"]
        yield made
    finally:
        for name in made:
            with contextlib.suppress(ServerError):
                await user.destroy(name, forced=True)


# -- query() ---------------------------------------------------------------------------


async def test_a_good_query_returns_data_for_user_and_superadmin(
    admin: Client, user: Client
) -> None:
    for client, email in ((admin, "admin@lablup.com"), (user, "user@lablup.com")):
        data = await client.query(
            "query($l: Int!) { user { email } compute_session_list(limit: $l, offset: 0) "
            "{ total_count } }",
            {"l": 1},
            timeout=90,
        )
        assert data["user"]["email"] == email
        assert isinstance(data["compute_session_list"]["total_count"], int)


async def test_a_forbidden_field_keeps_the_partial_data(user: Client) -> None:
    with pytest.raises(GraphQLError) as info:
        await user.query("{ user { email } agent_list(limit: 1, offset: 0) { total_count } }")
    err = info.value
    assert err.status == 200  # /admin/gql: errors beside the data
    assert err.message == f"GraphQL error: {FORBIDDEN_SUPERADMIN}"
    assert err.errors[0]["path"] == ["agent_list"]
    assert err.errors[0]["locations"] == [{"line": 1, "column": 18}]
    assert err.data == {"user": {"email": "user@lablup.com"}, "agent_list": None}
    assert err.code in (None, "backendai_generic_forbidden")  # 26.9 sends the code


async def test_the_legacy_endpoint_gives_the_same_error_as_a_400(real: Real) -> None:
    manager = real.target.manager
    config = ClientConfig(*real.target.user, manager, api_version="v6.20200815")  # no /admin/gql
    async with Client(config) as old:
        with pytest.raises(GraphQLError) as info:
            await old.query("{ user { email } agent_list(limit: 1, offset: 0) { total_count } }")
        assert (await old.query("{ user { email } }"))["user"]["email"] == "user@lablup.com"
    err = info.value
    assert err.status == 400
    assert err.problem_type == "https://api.backend.ai/probs/graphql-error"
    assert err.message == f"GraphQL error: {FORBIDDEN_SUPERADMIN}"
    assert err.errors[0]["path"] == ["agent_list"]
    assert err.data is None
    assert err.request_url == manager.rstrip("/") + "/admin/graphql"


@pytest.mark.parametrize(
    ("document", "text"),
    [
        ("query { compute_session_list(limit: 1", "Syntax Error: Expected Name, found <EOF>."),
        (
            "{ compute_session_list(offset: 0) { total_count } }",
            "Field 'compute_session_list' argument 'limit' of type 'Int!' is required, but it "
            "was not provided.",
        ),
        (
            "{ compute_session_list(limit: 1, offset: 0) { items { session_name } } }",
            "Cannot query field 'session_name' on type 'ComputeSession'. Did you mean "
            "'session_id' or 'domain_name'?",
        ),
    ],
    ids=["syntax", "required-limit", "unknown-field"],
)
async def test_bad_queries_are_graphql_errors_for_both_roles(
    admin: Client, user: Client, document: str, text: str
) -> None:
    for client in (admin, user):
        with pytest.raises(GraphQLError) as info:
            await client.query(document)
        assert info.value.message == f"GraphQL error: {text}"
        assert info.value.data is None  # refused before running
        assert "path" not in info.value.errors[0]


# -- compute_session -------------------------------------------------------------------


async def test_list_total_count_and_iter_see_the_enqueued_sessions(
    real: Real, user: Client, enqueued: dict[str, str]
) -> None:
    cs = user.compute_session
    mine = set(enqueued)
    rows = await cs.list_all(["id", "name", "status", "group_id", "access_key"], timeout=90)
    ours = {row["name"]: row for row in rows if row["name"] in mine}
    assert {name: row["id"] for name, row in ours.items()} == enqueued
    assert {row["access_key"] for row in ours.values()} == {real.target.user[0]}
    counted = await cs.total_count(None, timeout=90)
    assert counted["compute_session_list"]["total_count"] >= 3

    seen = [row async for row in cs.iter(fields=["name"], page_size=1, timeout=90)]
    assert mine <= {row["name"] for row in seen}
    assert len({row["id"] for row in seen}) == len(seen)  # never a row twice

    group = next(iter(ours.values()))["group_id"]
    in_group = await cs.list(["name"], None, None, 100, 0, group, 90)
    assert mine <= {row["name"] for row in in_group["compute_session_list"]["items"]}
    nowhere = await cs.list(["name"], None, None, 100, 0, str(uuid.uuid4()), 90)
    assert nowhere == {"compute_session_list": {"items": [], "total_count": 0}}

    row = (await cs.get(session_uuid=enqueued[min(mine)], timeout=90))["compute_session"]
    assert row is not None
    assert row["name"] == min(mine)
    assert row["scaling_group"] == "default"
    assert await cs.get(session_uuid=str(uuid.uuid4())) == {"compute_session": None}


async def test_the_superadmin_lists_another_users_sessions_and_the_user_may_not(
    real: Real, admin: Client, user: Client, enqueued: dict[str, str]
) -> None:
    theirs = await admin.compute_session.list_all(
        ["name"], access_key=real.target.user[0], timeout=90
    )
    assert set(enqueued) <= {row["name"] for row in theirs}
    with pytest.raises(GraphQLError) as info:
        await user.compute_session.list(access_key=real.target.admin[0])
    assert info.value.errors[0]["message"] == "Forbidden operation."
    assert info.value.errors[0]["path"] == ["compute_session_list"]


async def test_the_js_list_all_statuses_and_ours(real: Real, user: Client) -> None:
    js = (
        "RUNNING,RESTARTING,TERMINATING,PENDING,SCHEDULED,PREPARING,PREPARED,CREATING,PULLING,"
        "TERMINATED,CANCELLED,ERROR"
    )
    if real.facts.manager.startswith("23."):
        with pytest.raises(GraphQLError) as info:
            await user.compute_session.total_count(js)
        assert info.value.errors[0]["message"] == "'PREPARED'"
    else:
        answer = await user.compute_session.total_count(js)
        assert answer["compute_session_list"]["total_count"] >= 0
    assert isinstance(await user.compute_session.list_all(["id"], limit=100, timeout=90), list)


async def test_commit_status_commit_and_imagify_answer_as_the_server_says(
    user: Client, enqueued: dict[str, str]
) -> None:
    name = min(enqueued)
    status = await user.compute_session.get_commit_session_status(name)
    assert status["status"] == "ready"
    assert uuid.UUID(status["kernel"])
    with pytest.raises(ServerError) as imagify:  # 23.09: no route; 26.9: no registry
        await user.compute_session.convert_session_to_image(name, "my-image")
    assert imagify.value.status == 404
    with pytest.raises(ServerError) as service:  # no app proxy on either server
        await user.compute_session.start_service(None, name, "jupyter", timeout=90)
    assert service.value.status in (400, 404, 500, 503)

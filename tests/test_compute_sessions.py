"""client.compute_session over loopback: the GraphQL documents and variables the fake manager
saw, the rows it answered, the version-aware field lists (API v4 and v6), paging with no cap,
scoping, and bad input refused before anything is sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backendai_async import Client, ClientConfig, GraphQLError, ServerError, SessionRow
from backendai_async.resources.compute_sessions import GET_FIELDS, LIST_FIELDS
from backendai_async.testing import (
    DEFAULT_IMAGE,
    EXAMPLE_KEYPAIRS,
    BackendAITestServer,
    FakeSession,
    session_store,
)
from backendai_async.testing._manager import DEFAULT_GROUP_ID

ADMIN_AK, USER_AK = list(EXAMPLE_KEYPAIRS)
OTHER_GROUP = "2de2b969-1d04-48a6-af16-0bc8adb3c831"
LIST_TEXT = (
    "id name image created_at terminated_at status status_info occupied_slots "
    "containers { live_stat last_stat } starts_at"
)
LIST_DOC = (
    "query($status: String, $limit: Int!, $offset: Int!) { compute_session_list(status: "
    f"$status, limit: $limit, offset: $offset) {{ items {{ {LIST_TEXT} }} total_count }} }}"
)
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def seed(
    server: BackendAITestServer,
    count: int,
    *,
    status: str = "RUNNING",
    access_key: str = USER_AK,
    prefix: str = "s",
) -> list[FakeSession]:
    """``count`` sessions put straight into the fake's store (plain data), oldest first."""
    store = session_store(server)
    made = []
    for i in range(count):
        sid = str(uuid.uuid4())
        session = FakeSession(
            id=sid,
            kernel_id=str(uuid.uuid4()),
            name=f"{prefix}-{i:04d}",
            access_key=access_key,
            image=DEFAULT_IMAGE,
            architecture="x86_64",
            session_type="interactive",
            status=status,
            group="default",
            domain="default",
            config={"resources": {"cpu": 1, "mem": "1g"}},
            directory=store.root / sid,
            created_at=T0 + timedelta(seconds=len(store.sessions)),
        )
        store.sessions[sid] = session
        made.append(session)
    return made


async def count(client: Client, *args: Any, **kwargs: Any) -> int:
    """``total_count(...)``'s number, out of the JS-shaped answer."""
    answer = await client.compute_session.total_count(*args, **kwargs)
    assert list(answer) == ["compute_session_list"]
    total: int = answer["compute_session_list"]["total_count"]
    return total


def sent(server: BackendAITestServer) -> list[tuple[str, dict[str, Any]]]:
    """``(document, variables)`` of every GraphQL request the server received."""
    paths = ("/admin/gql", "/admin/graphql")
    return [(r.json["query"], r.json["variables"]) for r in server.requests if r.path in paths]


@dataclass(frozen=True)
class Version:
    api_version: str
    renamed: str  # how the listing's default fields read in the document


V6 = Version("v6.20230315", LIST_TEXT)
V4 = Version(
    "v4.20190615",
    "id name: sess_id image created_at terminated_at status status_info occupied_slots",
)


@pytest.fixture
def user(make_client: Any, server: BackendAITestServer) -> Client:
    client: Client = make_client(
        ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint))
    )
    return client


# -- total_count, list ------------------------------------------------------------------


async def test_total_count_sends_the_js_query_and_returns_the_count(
    user: Client, server: BackendAITestServer
) -> None:
    seed(server, 3)
    seed(server, 2, status="PENDING", prefix="p")
    assert (
        await count(
            user,
        )
        == 3
    )
    assert await count(user, "RUNNING,PENDING") == 5
    assert await count(user, None, group=DEFAULT_GROUP_ID) == 5
    assert await count(user, ["PENDING"], group=OTHER_GROUP) == 0
    assert sent(server)[0] == (
        "query($limit: Int!, $offset: Int!, $status: String) { compute_session_list(limit: "
        "$limit, offset: $offset, status: $status) { total_count } }",
        {"limit": 1, "offset": 0, "status": "RUNNING"},
    )
    assert sent(server)[2][1] == {"limit": 1, "offset": 0, "group_id": DEFAULT_GROUP_ID}
    assert sent(server)[3][1]["status"] == "PENDING"


async def test_list_sends_the_default_fields_and_returns_one_page(
    user: Client, server: BackendAITestServer
) -> None:
    sessions = seed(server, 5)
    answer = await user.compute_session.list(limit=2, offset=1)
    page = answer["compute_session_list"]
    assert sent(server) == [(LIST_DOC, {"status": "RUNNING", "limit": 2, "offset": 1})]
    assert page["total_count"] == 5
    newest_first = [s.name for s in reversed(sessions)]
    assert [row["name"] for row in page["items"]] == newest_first[1:3]
    row = page["items"][0]
    assert list(row) == [f.split()[0] for f in LIST_FIELDS]  # exactly what was asked for
    assert row["status"] == "RUNNING"
    assert row["occupied_slots"] == '{"cpu": "1", "mem": "1g"}'  # JSON text, as the server
    assert row["containers"] == [{"live_stat": None, "last_stat": None}]


async def test_list_takes_fields_statuses_and_filters_as_given(
    user: Client, server: BackendAITestServer
) -> None:
    seed(server, 2, status="PENDING")
    answer = await user.compute_session.list(
        ["id", "name", "group_id"], " pending , running", USER_AK, 10, 0, DEFAULT_GROUP_ID, 5.0
    )
    ((doc, variables),) = sent(server)
    assert doc == (
        "query($access_key: String, $group_id: String, $status: String, $limit: Int!, $offset: "
        "Int!) { compute_session_list(access_key: $access_key, group_id: $group_id, status: "
        "$status, limit: $limit, offset: $offset) { items { id name group_id } total_count } }"
    )
    assert variables == {
        "limit": 10,
        "offset": 0,
        "access_key": USER_AK,
        "group_id": DEFAULT_GROUP_ID,
        "status": "PENDING,RUNNING",
    }
    rows = answer["compute_session_list"]["items"]
    assert {row["group_id"] for row in rows} == {DEFAULT_GROUP_ID}


async def test_js_empty_strings_mean_no_filter(user: Client, server: BackendAITestServer) -> None:
    await user.compute_session.total_count("RUNNING", "", 1, 0, "")
    assert sent(server)[0][1] == {"limit": 1, "offset": 0, "status": "RUNNING"}


async def test_a_limit_of_zero_gives_only_the_count(
    user: Client, server: BackendAITestServer
) -> None:
    seed(server, 2)
    answer = await user.compute_session.list(limit=0)
    assert answer == {"compute_session_list": {"items": [], "total_count": 2}}


# -- version-aware fields ---------------------------------------------------------------


@pytest.mark.parametrize("version", [V4, V6], ids=["v4", "v6"])
async def test_fields_follow_the_servers_version(version: Version) -> None:
    async with BackendAITestServer(api_version=version.api_version) as server:
        seed(server, 1)
        async with Client(
            ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint))
        ) as c:
            page = (await c.compute_session.list())["compute_session_list"]
            sid = page["items"][0]["id"]
            row = (await c.compute_session.get(session_uuid=sid))["compute_session"]
            try:
                named: Any = (await c.compute_session.get(["session_name"], sid))["compute_session"]
            except GraphQLError as exc:  # no manager since v5 has it (the JS get default)
                named = exc.errors[0]["message"]
        docs = [doc for doc, _ in sent(server)]
    assert f"items {{ {version.renamed} }}" in docs[0]
    assert row is not None
    assert row["name"] == "s-0000"  # the same key on both: renamed fields are aliased
    get_text = " ".join(GET_FIELDS).replace("name", "name: sess_id" if version is V4 else "name")
    assert f"compute_session(id: $id) {{ {get_text} }}" in docs[1]
    if version is V4:
        assert "{ session_name: sess_id }" in docs[2]
        assert named == {"session_name": "s-0000"}
    else:
        assert "{ session_name }" in docs[2]
        assert named == "Cannot query field 'session_name' on type 'ComputeSession'."


async def test_get_by_uuid_returns_the_row_or_none(
    user: Client, server: BackendAITestServer
) -> None:
    (session,) = seed(server, 1)
    (theirs,) = seed(server, 1, access_key=ADMIN_AK, prefix="admin")
    answer = await user.compute_session.get(session_uuid=uuid.UUID(session.id))
    row = answer["compute_session"]
    assert row is not None
    assert (row["id"], row["name"], row["scaling_group"]) == (session.id, "s-0000", "default")
    assert list(row) == list(GET_FIELDS)
    assert await user.compute_session.get(session_uuid=str(uuid.uuid4())) == {
        "compute_session": None
    }
    hidden = await user.compute_session.get(session_uuid=theirs.id)  # not yours to see
    assert hidden == {"compute_session": None}
    assert sent(server)[0] == (
        f"query($id: UUID!) {{ compute_session(id: $id) {{ {' '.join(GET_FIELDS)} }} }}",
        {"id": session.id},
    )


async def test_the_js_get_defaults_are_refused_by_the_server(
    user: Client, server: BackendAITestServer
) -> None:
    (session,) = seed(server, 1)
    js_defaults = ["id", "session_name", "lang", "created_at", "cpu_used", "scaling_group"]
    with pytest.raises(GraphQLError) as info:
        await user.compute_session.get(js_defaults, session.id)
    assert [e["message"] for e in info.value.errors] == [
        f"Cannot query field '{name}' on type 'ComputeSession'."
        for name in ("session_name", "lang", "cpu_used")
    ]


# -- paging -----------------------------------------------------------------------------


async def test_list_all_pages_through_everything_without_the_js_cap(
    user: Client, server: BackendAITestServer
) -> None:
    seed(server, 1050)
    rows = await user.compute_session.list_all()
    assert len(rows) == 1050
    assert len({row["id"] for row in rows}) == 1050
    calls = sent(server)
    assert [v["offset"] for _, v in calls] == list(range(0, 1100, 100))
    assert all(v == {"limit": 100, "offset": v["offset"]} for _, v in calls)  # no status
    assert "starts_at" not in calls[0][0]  # the JS listAll fields


async def test_list_all_from_an_offset(user: Client, server: BackendAITestServer) -> None:
    seed(server, 7)
    rows = await user.compute_session.list_all(["name"], "RUNNING", limit=3, offset=2)
    assert [row["name"] for row in rows] == [f"s-{i:04d}" for i in (4, 3, 2, 1, 0)]
    assert [v["offset"] for _, v in sent(server)] == [2, 5]
    assert all(set(row) == {"id", "name"} for row in rows)


async def test_iter_yields_every_row_page_by_page(
    user: Client, server: BackendAITestServer
) -> None:
    seed(server, 5)
    seed(server, 1, status="PENDING", prefix="p")
    names = [row["name"] async for row in user.compute_session.iter("RUNNING", page_size=2)]
    assert names == [f"s-{i:04d}" for i in (4, 3, 2, 1, 0)]
    assert [v for _, v in sent(server)] == [
        {"limit": 2, "offset": offset, "status": "RUNNING"} for offset in (0, 2, 4)
    ]


async def test_iter_never_yields_a_row_twice_when_rows_move(
    user: Client, server: BackendAITestServer
) -> None:
    sessions = seed(server, 5)  # listed newest first: 4 3 2 1 0
    rows = user.compute_session.iter(fields=["name"], page_size=2)
    first = [await anext(rows), await anext(rows)]
    # s-0000 ends now: the manager lists it first, which shifts every later row by one
    sessions[0].terminated_at = T0 + timedelta(days=1)
    sessions[0].status = "TERMINATED"
    rest = [row async for row in rows]
    names = [row["name"] for row in first + rest]
    assert names == ["s-0004", "s-0003", "s-0002", "s-0001"]  # s-0003 came again: skipped
    assert "id name" in sent(server)[0][0]  # the id is fetched to tell rows apart


async def test_iter_checks_its_arguments_before_the_first_page(
    user: Client, server: BackendAITestServer
) -> None:
    for kwargs, match in (
        ({"status": "FOO"}, "status"),
        ({"page_size": 0}, "page_size"),
        ({"group": "default"}, "group"),
        ({"fields": []}, "fields"),
    ):
        with pytest.raises(ValueError, match=match):
            user.compute_session.iter(**kwargs)
    assert server.requests == []


# -- scoping and the server's own refusals ----------------------------------------------


async def test_a_user_sees_their_own_sessions_and_may_not_ask_for_others(
    user: Client, client: Client, server: BackendAITestServer
) -> None:
    seed(server, 2)
    seed(server, 3, access_key=ADMIN_AK, prefix="admin")
    assert (
        await count(
            user,
        )
        == 2
    )
    assert (
        await count(
            client,
        )
        == 5
    )  # the superadmin sees everyone's
    assert await count(client, access_key=USER_AK) == 2
    with pytest.raises(GraphQLError) as info:
        await user.compute_session.list(access_key=ADMIN_AK)
    err = info.value
    assert err.message == "GraphQL error: Forbidden operation."
    assert err.errors[0]["path"] == ["compute_session_list"]
    assert err.data == {"compute_session_list": None}


@pytest.mark.parametrize(("release", "accepted"), [("23.09.10", False), ("26.9.6", True)])
async def test_newer_statuses_are_refused_by_older_managers(release: str, accepted: bool) -> None:
    async with (
        BackendAITestServer(manager_version=release) as server,
        Client(ClientConfig(server.access_key, server.secret_key, str(server.endpoint))) as c,
    ):
        if accepted:
            assert await count(c, "RUNNING,PREPARED,CREATING") == 0
        else:
            with pytest.raises(GraphQLError) as info:
                await c.compute_session.total_count("RUNNING,PREPARED,CREATING")
            assert info.value.errors[0]["message"] == "'PREPARED'"  # the bare KeyError text
        assert await c.compute_session.list_all() == []  # the default works on both


async def test_destroyed_sessions_stay_listed_as_cancelled(
    user: Client, server: BackendAITestServer
) -> None:
    await user.create_if_not_exists("python", "gone-soon", {"enqueueOnly": True})
    await user.destroy("gone-soon", forced=True)
    rows = await user.compute_session.list_all(["name", "status", "terminated_at"])
    assert [(r["name"], r["status"]) for r in rows] == [("gone-soon", "CANCELLED")]
    assert rows[0]["terminated_at"] is not None


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda cs: cs.total_count("RUNING"), "unknown session status 'RUNING'"),
        (lambda cs: cs.total_count(""), "status must name"),
        (lambda cs: cs.total_count("RUNNING,"), "status must name"),
        (lambda cs: cs.total_count(["RUNNING", 3]), "status must name"),
        (lambda cs: cs.list(status=b"RUNNING"), "status must be"),
        (lambda cs: cs.list(group="default"), "group must be a UUID, got 'default'"),
        (lambda cs: cs.list(access_key=" "), "access_key"),
        (lambda cs: cs.list(["id) { x"]), "fields"),
        (lambda cs: cs.list([]), "fields"),
        (lambda cs: cs.list(limit=-1), "limit must be an int >= 0"),
        (lambda cs: cs.list(offset=True), "offset"),
        (lambda cs: cs.list_all(limit=0), "limit must be an int >= 1"),
        (lambda cs: cs.get(), "session_uuid must be a UUID, got ''"),
        (lambda cs: cs.get(None, "abc"), "session_uuid"),
        (lambda cs: cs.get(["name {"], str(uuid.uuid4())), "fields"),
        (lambda cs: cs.commit_session(), "session_name must be a non-empty string"),
        (lambda cs: cs.commit_session("a/b"), "session_name 'a/b' cannot name"),
        (lambda cs: cs.get_commit_session_status(""), "session_name"),
        (lambda cs: cs.convert_session_to_image("", "img"), "session_name"),
        (lambda cs: cs.convert_session_to_image("sess", " "), "new_image_name"),
        (lambda cs: cs.start_service(None, "", "jupyter"), "session must be"),
        (lambda cs: cs.start_service(None, "sess", ""), "app must be"),
        (lambda cs: cs.start_service(1, "sess", "jupyter"), "login_session_token"),
        (lambda cs: cs.start_service(None, "sess", "jupyter", 80), "port must be"),
        (lambda cs: cs.start_service(None, "sess", "jupyter", None, 3), "envs must be"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    user: Client, server: BackendAITestServer, call: Any, match: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        await call(user.compute_session)
    assert server.requests == []


# -- the REST calls of the JS class -----------------------------------------------------


@pytest.fixture
def running(server: BackendAITestServer) -> FakeSession:
    (session,) = seed(server, 1, prefix="my.sess")  # a dot: still one signed path segment
    return session


async def test_start_service_sends_the_js_body_to_session(
    user: Client, server: BackendAITestServer, running: FakeSession
) -> None:
    running.service_ports = [
        {"name": "jupyter", "protocol": "http", "container_ports": [8081], "host_ports": [30001]}
    ]
    answer = await user.compute_session.start_service(
        "login-token", running.name, "jupyter", 8081, {"A": "1"}, ["--debug"]
    )
    assert set(answer) == {"token", "wsproxy_addr"}
    (req,) = [r for r in server.requests if r.method == "POST"]
    assert req.raw_path == "/session/my.sess-0000/start-service"
    assert req.json == {
        "login_session_token": "login-token",
        "app": "jupyter",
        "port": 8081,
        "envs": '{"A": "1"}',
        "arguments": '["--debug"]',
    }
    await user.compute_session.start_service(None, running.name, "jupyter")
    assert server.requests[-1].json == {"app": "jupyter"}


async def test_commit_and_its_status(
    user: Client, server: BackendAITestServer, running: FakeSession
) -> None:
    assert await user.compute_session.get_commit_session_status(running.name) == {
        "status": "ready",
        "kernel": running.kernel_id,
    }
    answer = await user.compute_session.commit_session(running.name)
    assert answer["kernel"] == running.kernel_id
    assert set(answer) == {"bgtask_id", "kernel", "path"}
    status = await user.compute_session.get_commit_session_status(running.name)
    assert status["status"] == "ongoing"
    assert [(r.method, r.raw_path) for r in server.requests if r.path != "/"] == [
        ("GET", "/session/my.sess-0000/commit"),
        ("POST", "/session/my.sess-0000/commit"),
        ("GET", "/session/my.sess-0000/commit"),
    ]
    running.status = "PENDING"
    with pytest.raises(ServerError, match="currently not RUNNING") as info:
        await user.compute_session.commit_session(running.name)
    assert info.value.status == 400


@pytest.mark.parametrize(("release", "status"), [("23.09.10", 404), ("26.9.6", 200)])
async def test_convert_session_to_image(release: str, status: int) -> None:
    async with BackendAITestServer(manager_version=release) as server:
        (session,) = seed(server, 1, access_key=server.access_key)
        async with Client(
            ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        ) as c:
            if status == 404:  # 23.09 has no such route
                with pytest.raises(ServerError) as info:
                    await c.compute_session.convert_session_to_image(session.name, "my-image")
                assert info.value.status == 404
            else:
                answer = await c.compute_session.convert_session_to_image(session.name, "my-image")
                assert set(answer) == {"task_id"}
        req = server.requests[-1]
        assert (req.method, req.raw_path, req.json) == (
            "POST",
            "/session/s-0000/imagify",
            {"image_name": "my-image"},
        )


async def test_rows_are_typed_for_users(user: Client, server: BackendAITestServer) -> None:
    seed(server, 1)
    rows: list[SessionRow] = await user.compute_session.list_all(["id", "name", "status"])
    first: SessionRow = rows[0]
    assert first["status"] == "RUNNING"

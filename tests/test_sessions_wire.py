"""Each session call as the server saw it (method, raw path, query, JSON body), for an API v4
server (``/kernel`` layout) and an API v6 one (``/session``); plus destroy's retries and the
errors that carry the server's problem."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from backendai_async import Client, ClientConfig, ErrorType, RequestTimeoutError, ServerError
from backendai_async import _retry as retry_module
from backendai_async.resources import sessions as sessions_module
from backendai_async.testing import (
    DEFAULT_IMAGE,
    DEFAULT_TEMPLATE_ID,
    BackendAITestServer,
    Fault,
    RecordedRequest,
    register_session_routes,
    session_store,
)

from .conftest import acquired_connections


@dataclass(frozen=True)
class Layout:
    api_version: str
    manager_version: str
    prefix: str
    create_path: str
    image_field: str
    name_field: str


V4 = Layout("v4.20190615", "19.09.0", "/kernel", "/kernel/create", "lang", "clientSessionToken")
V6 = Layout("v6.20230315", "23.09.10", "/session", "/session", "image", "name")


@pytest.fixture(params=[V4, V6], ids=["v4", "v6"])
def layout(request: pytest.FixtureRequest) -> Layout:
    value: Layout = request.param
    return value


@pytest.fixture
async def server(layout: Layout) -> AsyncIterator[BackendAITestServer]:
    """Overrides the conftest server: one with the session routes, per layout."""
    async with BackendAITestServer(
        api_version=layout.api_version,
        manager_version=layout.manager_version,
        extra_routes=[register_session_routes],
    ) as srv:
        yield srv


def last(server: BackendAITestServer) -> RecordedRequest:
    """The latest request, which must have passed the independent signature check."""
    record = server.requests[-1]
    assert record.auth_ok is True, f"{record.method} {record.raw_path} was not verified"
    return record


def calls(server: BackendAITestServer) -> Iterator[RecordedRequest]:
    """Every signed request (the version probe ``GET /`` left out)."""
    return (r for r in server.requests if r.path != "/")


async def make_session(client: Client, name: str = "sess-01") -> dict[str, Any]:
    result: dict[str, Any] = await client.create_if_not_exists("python", name)
    return result


async def test_create_if_not_exists_posts_the_versioned_body(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    answer = await client.create_if_not_exists(
        "python",
        "sess-01",
        {
            "cpu": 2,
            "mem": "1g",
            "gpu": 1,
            "cluster_size": 1,
            "enqueueOnly": False,
            "env": {"A": "b"},
        },
    )
    record = last(server)
    assert (record.method, record.raw_path, record.status) == ("POST", layout.create_path, 201)
    assert record.headers["Content-Type"] == "application/json"
    config = {"resources": {"cpu": 2, "mem": "1g", "cuda.device": 1}, "environ": {"A": "b"}}
    expected: dict[str, Any] = {
        layout.image_field: "python",
        layout.name_field: "sess-01",
        "enqueueOnly": False,
    }
    if layout is V6:
        expected |= {"cluster_size": 1, "config": config}
    else:  # before v6 the manager reads cluster_size from config
        expected |= {"config": {**config, "cluster_size": 1}}
    assert record.json == expected
    assert answer["created"] is True
    assert answer["sessionName"] == "sess-01"
    assert answer["status"] == "RUNNING"


async def test_a_second_create_reuses_the_session(
    client: Client, server: BackendAITestServer
) -> None:
    first = await make_session(client)
    again = await client.create_if_not_exists("python", "sess-01")
    assert last(server).status == 201
    assert again["created"] is False
    assert again["sessionId"] == first["sessionId"]
    raw_names = [p["name"] for p in again["raw"]["service_ports"]]  # the manager's spelling
    assert raw_names == [p["name"] for p in again["servicePorts"]]
    assert "service_ports" not in again  # normalised (tests/test_session_answers.py)


async def test_reuse_if_exists_false_is_a_400_with_the_existing_id(
    client: Client, server: BackendAITestServer
) -> None:
    first = await make_session(client)
    with pytest.raises(ServerError) as info:
        await client.create_if_not_exists("python", "sess-01", {"reuseIfExists": False})
    err = info.value
    assert err.status == 400
    assert err.problem_type == "https://api.backend.ai/probs/session-already-exists"
    assert err.body["data"]["existingSessionId"] == first["sessionId"]


async def test_an_unknown_image_is_a_404_with_the_server_problem(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.create_if_not_exists("no-such/image:1", "sess-02")
    assert info.value.status == 404
    assert info.value.problem_type == "https://api.backend.ai/probs/object-not-found"
    assert info.value.title.endswith("No such environment image.")


async def test_a_missing_session_id_is_generated_with_the_python_suffix(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    answer = await client.create_if_not_exists(DEFAULT_IMAGE)
    name = last(server).json[layout.name_field]
    assert re.fullmatch(r"[A-Za-z0-9]{8}-pyASDK", name)
    assert answer["sessionName"] == name


async def test_create_from_template(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    answer = await client.create_session_from_template(
        DEFAULT_TEMPLATE_ID, session_name="from-tmpl1", resources={"cpu": 1}
    )
    record = last(server)
    assert (record.method, record.raw_path) == ("POST", f"{layout.prefix}/_/create-from-template")
    assert record.json == {
        "template_id": DEFAULT_TEMPLATE_ID,
        layout.name_field: "from-tmpl1",
        "config": {"resources": {"cpu": 1}},
    }
    assert answer["created"] is True


async def test_get_info_logs_restart_interrupt(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    p = layout.prefix
    info = await client.get_info("sess-01", "AKIAIOSFODNN7EXAMPLE")
    assert (last(server).method, last(server).raw_path) == (
        "GET",
        f"{p}/sess-01?owner_access_key=AKIAIOSFODNN7EXAMPLE",
    )
    assert info["status"] == "RUNNING"
    logs = await client.get_logs("sess-01")
    assert (last(server).method, last(server).raw_path) == ("GET", f"{p}/sess-01/logs")
    assert "started" in logs["result"]["logs"]
    assert await client.restart("sess-01") is None
    assert (last(server).method, last(server).raw_path, last(server).status) == (
        "PATCH",
        f"{p}/sess-01",
        204,
    )
    assert await client.interrupt("sess-01") is None
    assert (last(server).method, last(server).raw_path, last(server).status) == (
        "POST",
        f"{p}/sess-01/interrupt",
        204,
    )
    assert last(server).body_size == 0


async def test_get_task_logs_asks_by_uuid(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    created = await make_session(client)
    text = await client.get_task_logs(created["sessionId"])
    record = last(server)
    assert (record.method, record.path) == ("GET", f"{layout.prefix}/_/logs")
    assert dict(record.query) == {"session_name": created["sessionId"]}
    assert isinstance(text, str)
    assert "started" in text


async def test_execute_posts_mode_code_run_id_and_options(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    result = await client.execute("sess-01", "run-0001", "query", "print('hello')", {"x": 1})
    record = last(server)
    assert (record.method, record.raw_path) == ("POST", f"{layout.prefix}/sess-01")
    assert record.json == {
        "mode": "query",
        "code": "print('hello')",
        "runId": "run-0001",
        "options": {"x": 1},
    }
    assert result["result"]["console"] == [["stdout", "hello\n"]]
    assert result["result"]["status"] == "finished"


async def test_execute_input_and_continue_follow_the_run(
    client: Client, server: BackendAITestServer
) -> None:
    await make_session(client)
    waiting = await client.execute("sess-01", None, "query", "input('name? ')\nprint('bye')")
    run_id = waiting["result"]["runId"]
    assert waiting["result"]["status"] == "waiting-input"
    assert re.fullmatch(r"[0-9a-f]{16}", run_id)  # None picked a fresh run id
    done = await client.execute("sess-01", run_id, "input", "bob")
    assert done["result"]["console"] == [["stdout", "bob\n"], ["stdout", "bye\n"]]
    paused = await client.execute(
        "sess-01", "run-0002", "batch", "sleep(1)\nprint(2)", {"exec": "x"}
    )
    assert paused["result"]["status"] == "continued"
    assert last(server).json["options"] == {"exec": "x"}
    resumed = await client.execute("sess-01", "run-0002", "continue", "")
    assert resumed["result"]["console"] == [["stdout", "2\n"]]


async def test_destroy_sends_owner_and_forced_in_the_query(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    answer = await client.destroy("sess-01", "AKIAIOSFODNN7EXAMPLE", True)
    record = last(server)
    assert (record.method, record.raw_path, record.status) == (
        "DELETE",
        f"{layout.prefix}/sess-01?owner_access_key=AKIAIOSFODNN7EXAMPLE&forced=true",
        200,
    )
    assert answer == {"stats": {"status": "terminated"}}


async def test_service_rename_and_file_listing(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    p = layout.prefix
    started = await client.start_service(
        "sess-01", "jupyter", 8081, envs={"PASSWORD": "x"}, args={"--x": "1"}
    )
    record = last(server)
    assert (record.method, record.raw_path) == ("POST", f"{p}/sess-01/start-service")
    assert record.json == {
        "app": "jupyter",
        "port": 8081,
        "envs": json.dumps({"PASSWORD": "x"}),
        "arguments": json.dumps({"--x": "1"}),
    }
    assert set(started) == {"token", "wsproxy_addr"}
    await client.shutdown_service("sess-01", "jupyter")
    record = last(server)
    assert (record.method, record.raw_path, record.body_size) == (
        "POST",
        f"{p}/sess-01/shutdown-service?service_name=jupyter",
        0,
    )
    listing = await client.list_files("sess-01", "sub dir/ü")
    record = last(server)
    assert (record.method, record.path) == ("GET", f"{p}/sess-01/files")
    assert dict(record.query) == {"path": "sub dir/ü"}
    assert record.json == {"path": "sub dir/ü"}  # what the manager actually reads
    assert set(listing) == {"files", "errors", "abspath"}
    await client.rename_session("sess-01", "sess-renamed")
    record = last(server)
    assert (record.method, record.raw_path, record.json) == (
        "POST",
        f"{p}/sess-01/rename",
        {"name": "sess-renamed"},
    )
    assert (await client.get_info("sess-renamed"))["status"] == "RUNNING"


async def test_upload_and_downloads_on_the_wire(
    client: Client, server: BackendAITestServer, layout: Layout, tmp_path: Any
) -> None:
    await make_session(client)
    p = layout.prefix
    await client.upload("sess-01", "a b.txt", b"hello")
    record = last(server)
    assert (record.method, record.raw_path, record.status) == ("POST", f"{p}/sess-01/upload", 204)
    assert record.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert int(record.headers["Content-Length"]) > 5
    assert session_store(server).uploads[-1].filename == "a b.txt"
    path = await client.download_single("sess-01", "a b.txt", tmp_path)
    record = last(server)
    assert (record.method, record.raw_path) == ("GET", f"{p}/sess-01/download_single?file=a+b.txt")
    assert record.json == {"file": "a b.txt"}
    assert path.read_bytes() == b"hello"
    (tmp_path / "many").mkdir()
    written = await client.download("sess-01", ["a b.txt"], tmp_path / "many")
    record = last(server)
    assert (record.method, record.raw_path) == ("GET", f"{p}/sess-01/download?files=a+b.txt")
    assert record.json == {"files": ["a b.txt"]}
    assert written == [tmp_path / "many" / "a b.txt"]


@pytest.mark.parametrize(
    ("manager_version", "get_status"),
    [("24.03.0", 400), ("26.9.6", 405)],  # 26.x: no GET route; POST reads the query only
)
async def test_newer_managers_get_downloads_by_post_after_one_refused_get(
    tmp_path: Any, manager_version: str, get_status: int
) -> None:
    async with BackendAITestServer(
        manager_version=manager_version, extra_routes=[register_session_routes]
    ) as srv:
        config = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint))
        async with Client(config) as client:
            await make_session(client)
            await client.upload("sess-01", "f.txt", b"data")
            first = await client.download_single("sess-01", "f.txt", tmp_path / "one.txt")
            second = await client.download("sess-01", "f.txt", tmp_path)
            assert acquired_connections(client) == 0
        methods = [(r.method, r.path, r.status) for r in srv.requests if "download" in r.path]
        assert methods == [
            ("GET", "/session/sess-01/download_single", get_status),
            ("POST", "/session/sess-01/download_single", 200),
            ("POST", "/session/sess-01/download", 200),
        ]
        assert srv.requests[-1].raw_path == "/session/sess-01/download?files=f.txt"
        assert srv.requests[-1].json == {"files": ["f.txt"]}
        assert first.read_bytes() == b"data"
        assert second == [tmp_path / "f.txt"]


@pytest.mark.parametrize(
    "name",
    ["my.session.v2", "dots...in_a.row", "a-b.c_d"],
)
async def test_session_names_with_dots_stay_one_signed_segment(
    client: Client, server: BackendAITestServer, layout: Layout, name: str
) -> None:
    await client.create_if_not_exists("python", name)
    await client.get_info(name)
    record = last(server)
    assert record.raw_path == f"{layout.prefix}/{name}"
    assert record.status == 200


async def test_odd_references_are_quoted_and_still_signed(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    for ref in ("with space", "ünï", "a+b&c=d?e#f"):
        with pytest.raises(ServerError) as info:
            await client.get_info(ref)
        record = last(server)  # the signature matched although the path was quoted
        assert record.path == f"{layout.prefix}/{ref}"
        assert info.value.status == 404
    raw = last(server).raw_path  # "+", "?" and "#" must not keep their URL meaning
    assert raw.startswith(f"{layout.prefix}/a%2Bb")
    assert raw.endswith("d%3Fe%23f")


async def test_the_legacy_aliases_send_the_same_requests(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    created = await client.create_kernel("python", "sess-01", {"cpu": 1})
    assert created["created"] is True
    result = await client.run_code("print(7)", "sess-01", "run-0003", "query")
    assert last(server).json == {
        "mode": "query",
        "code": "print(7)",
        "runId": "run-0003",
        "options": {},
    }
    assert result["result"]["console"] == [["stdout", "7\n"]]
    await client.refresh_kernel("sess-01")
    assert last(server).method == "PATCH"
    await client.destroy_kernel("sess-01")
    assert (last(server).method, last(server).raw_path) == ("DELETE", f"{layout.prefix}/sess-01")
    assert client.create_if_not_exists == client.sessions.create_if_not_exists  # one implementation


async def test_get_info_of_a_missing_session_is_err_server_404(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.get_info("no-such-session")
    err = info.value
    assert err.type is ErrorType.ERR_SERVER
    assert err.status == 404
    assert err.problem_type == "https://api.backend.ai/probs/object-not-found"
    assert err.body["title"] == "No such session."
    assert err.to_dict()["problemType"] == err.problem_type


# -- destroy retries ----------------------------------------------------------------------


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "backoff", lambda attempt: 0.01)
    monkeypatch.setattr(retry_module, "MIN_DELAY", 0.01)


def deletes(server: BackendAITestServer) -> list[RecordedRequest]:
    return [r for r in calls(server) if r.method == "DELETE"]


@pytest.mark.usefixtures("fast_retries")
async def test_destroy_retries_twice_on_503_then_succeeds(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    path = f"{layout.prefix}/sess-01"
    server.add_fault(
        Fault("DELETE", path, times=2, problem=(503, "service-unavailable", "Busy", None))
    )
    answer = await client.destroy("sess-01")
    assert [r.status for r in deletes(server)] == [503, 503, 200]
    assert answer == {"stats": {"status": "terminated"}}


@pytest.mark.usefixtures("fast_retries")
async def test_destroy_gives_up_after_three_attempts(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    path = f"{layout.prefix}/sess-01"
    server.add_fault(Fault("DELETE", path, times=None, problem=(502, "bad-gateway", "Down", None)))
    with pytest.raises(ServerError) as info:
        await client.destroy("sess-01")
    assert info.value.status == 502
    assert info.value.attempts == 3
    assert len(deletes(server)) == 3


@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize("status", [400, 403, 404, 500])
async def test_destroy_does_not_repeat_answers_that_would_not_change(
    client: Client, server: BackendAITestServer, layout: Layout, status: int
) -> None:
    await make_session(client)
    server.add_fault(
        Fault("DELETE", f"{layout.prefix}/sess-01", problem=(status, "some-error", "No", None))
    )
    with pytest.raises(ServerError) as info:
        await client.destroy("sess-01")
    assert info.value.status == status
    assert len(deletes(server)) == 1


@pytest.mark.usefixtures("fast_retries")
async def test_destroy_repeats_a_dropped_connection(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    path = f"{layout.prefix}/sess-01"
    server.add_fault(Fault("DELETE", path, times=2, drop=True))
    answer = await client.destroy("sess-01")
    assert answer == {"stats": {"status": "terminated"}}
    assert [r.status for r in deletes(server)] == [None, None, 200]


@pytest.mark.usefixtures("fast_retries")
async def test_a_404_after_an_attempt_that_may_have_acted_means_the_session_is_gone(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    await make_session(client)
    path = f"{layout.prefix}/sess-01"
    # As if a proxy timed out while the manager destroyed the session.
    server.add_fault(Fault("DELETE", path, problem=(504, "gateway-timeout", "Timeout", None)))
    session_store(server).sessions.clear()
    assert await client.destroy("sess-01") is None  # done, but its stats were lost
    assert [r.status for r in deletes(server)] == [504, 404]


@pytest.mark.usefixtures("fast_retries")
async def test_a_404_after_an_attempt_that_never_reached_the_manager_is_raised(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    path = f"{layout.prefix}/no-such-sess"
    server.add_fault(Fault("DELETE", path, problem=(503, "service-unavailable", "Busy", None)))
    with pytest.raises(ServerError) as info:  # a 503 is the manager's own "not now"
        await client.destroy("no-such-sess")
    assert info.value.status == 404
    assert [r.status for r in deletes(server)] == [503, 404]


async def test_a_404_of_get_info_says_the_session_is_unknown_or_destroyed(
    client: Client, layout: Layout
) -> None:
    await make_session(client)
    await client.destroy("sess-01")
    with pytest.raises(ServerError) as info:
        await client.get_info("sess-01")
    assert info.value.status == 404
    assert "session 'sess-01' is unknown or was destroyed" in info.value.message
    assert info.value.problem_type == "https://api.backend.ai/probs/object-not-found"


async def test_restart_on_a_26x_manager_is_a_501_that_says_restart_is_gone() -> None:
    async with BackendAITestServer(
        manager_version="26.9.6", extra_routes=[register_session_routes]
    ) as srv:
        config = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint))
        async with Client(config) as client:
            await make_session(client)
            with pytest.raises(ServerError) as info:
                await client.restart("sess-01")
    err = info.value
    assert err.status == 501
    assert err.problem_type == "https://api.backend.ai/probs/not-implemented"
    assert "restart is no longer supported" in err.message
    assert "destroy the session and create a new one" in err.message
    assert srv.requests[-1].method == "PATCH"


@pytest.mark.usefixtures("fast_retries")
async def test_destroy_repeats_an_attempt_that_timed_out(
    client: Client, server: BackendAITestServer, layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sessions_module,
        "_DESTROY_RETRY",
        replace(sessions_module._DESTROY_RETRY, attempt_timeout=0.2),
    )
    await make_session(client)
    server.add_fault(Fault("DELETE", f"{layout.prefix}/sess-01", delay=30.0))
    answer = await client.destroy("sess-01")
    assert answer == {"stats": {"status": "terminated"}}
    assert len(deletes(server)) == 2


@pytest.mark.usefixtures("fast_retries")
async def test_destroy_stops_at_its_overall_deadline(
    client: Client, server: BackendAITestServer, layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sessions_module,
        "_DESTROY_RETRY",
        replace(sessions_module._DESTROY_RETRY, attempt_timeout=0.2),
    )
    await make_session(client)
    server.add_fault(Fault("DELETE", f"{layout.prefix}/sess-01", delay=30.0, times=None))
    with pytest.raises(RequestTimeoutError):
        await client.destroy("sess-01", timeout=0.3)
    assert 1 <= len(deletes(server)) < 3  # three 0.2 s attempts cannot fit in 0.3 s


async def test_the_other_layout_is_not_served(
    client: Client, server: BackendAITestServer, layout: Layout
) -> None:
    other = "/session/sess-01" if layout is V4 else "/kernel/sess-01"
    with pytest.raises(ServerError) as info:
        await client.request("GET", other)
    assert info.value.status == 404
    assert info.value.problem_type.endswith("/url-not-found")


async def test_a_pending_session_refuses_kernel_operations_like_the_manager(
    client: Client, server: BackendAITestServer
) -> None:
    created = await client.create_if_not_exists("python", "sess-01", {"enqueueOnly": True})
    assert created["status"] == "PENDING"
    assert created["servicePorts"] == []
    assert (await client.get_info("sess-01"))["status"] == "PENDING"
    with pytest.raises(ServerError) as info:
        await client.execute("sess-01", None, "query", "print(1)")
    assert info.value.status == 500
    with pytest.raises(ServerError) as info:
        await client.rename_session("sess-01", "other-name")
    assert info.value.status == 400
    assert info.value.description == "Can't change name of not running session"
    assert (await client.destroy("sess-01")) == {"stats": {"status": "terminated"}}


async def test_template_overrides_and_unknown_templates(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.create_session_from_template("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 404
    assert info.value.body["title"] == "No such task template."
    with pytest.raises(ServerError) as info:
        await client.create_session_from_template(DEFAULT_TEMPLATE_ID, image="nope:1")
    assert info.value.status == 404  # the image override was used
    answer = await client.create_session_from_template(DEFAULT_TEMPLATE_ID, "python")
    assert answer["created"] is True


async def test_another_users_owner_key_is_forbidden(
    make_client: Any, server: BackendAITestServer
) -> None:
    admin = make_client()
    await make_session(admin)
    user_kp = list(server.state.keypairs.values())[1]
    user = make_client(ClientConfig(user_kp.access_key, user_kp.secret_key, str(server.endpoint)))
    with pytest.raises(ServerError) as info:
        await user.destroy("sess-01", server.access_key)
    assert info.value.status == 403
    # an admin may act for the user: the user's session is found through owner_key
    await user.create_if_not_exists("python", "user-sess")
    answer = await admin.destroy("user-sess", user_kp.access_key, forced=True)
    assert answer == {"stats": {"status": "terminated"}}

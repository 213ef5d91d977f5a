"""What session calls give back and tell: one creation shape for new and reused sessions on
23.09- and 26.x-style managers, creation errors that say the session may exist, and
``get_logs(kernel_id=...)`` sent only to managers that take it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientConfig,
    ClientError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    SessionCreated,
)
from backendai_async.testing import (
    DEFAULT_TEMPLATE_ID,
    BackendAITestServer,
    Fault,
    session_store,
)

CREATE = ("POST", "/session")
HINT = "may exist on the server anyway"


# -- one shape for creation answers ----------------------------------------------------------


@pytest.mark.parametrize("manager", ["23.09.10", "26.9.6"])
async def test_a_reused_pending_session_has_the_same_shape_as_a_new_one(manager: str) -> None:
    async with BackendAITestServer(manager_version=manager) as server:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg) as client:
            new = await client.create_if_not_exists("python", "shape-01", {"enqueueOnly": True})
            again = await client.create_if_not_exists("python", "shape-01", {"enqueueOnly": True})
    assert (new["created"], again["created"]) == (True, False)
    assert new["servicePorts"] == again["servicePorts"] == []
    assert "service_ports" not in again
    assert set(new) == set(again) == SessionCreated.__required_keys__
    # the server's own bodies stay reachable, as they were sent
    assert new["raw"]["servicePorts"] == []
    assert again["raw"]["service_ports"] is None
    assert ("servicePorts" in again["raw"]) is manager.startswith("26")


async def test_a_reused_running_session_lists_its_ports_like_a_creation(
    client: Client, server: BackendAITestServer
) -> None:
    new = await client.create_if_not_exists("python", "shape-02")
    again = await client.create_if_not_exists("python", "shape-02")
    assert new["status"] == again["status"] == "RUNNING"
    assert [(p["name"], p["ports"]) for p in new["servicePorts"]] == [
        (p["name"], p["ports"]) for p in again["servicePorts"]
    ]
    assert [p["name"] for p in new["servicePorts"]] == ["jupyter", "ttyd", "sshd"]
    kernel_rows = again["raw"]["service_ports"]
    assert kernel_rows[0]["container_ports"] == again["servicePorts"][0]["ports"] == [8081]
    assert "host_ports" in again["servicePorts"][0]  # the kernel row's other keys are kept


async def test_a_template_creation_is_normalised_too(
    client: Client, server: BackendAITestServer
) -> None:
    first = await client.create_session_from_template(DEFAULT_TEMPLATE_ID, session_name="tmpl-01")
    again = await client.create_session_from_template(DEFAULT_TEMPLATE_ID, session_name="tmpl-01")
    assert first["created"]
    assert not again["created"]
    assert isinstance(again["servicePorts"], list)
    assert again["raw"]["sessionId"] == first["sessionId"]


async def test_service_ports_that_are_not_a_list_are_a_broken_answer(
    client: Client, server: BackendAITestServer
) -> None:
    body = '{"sessionId": "x", "sessionName": "shape-03", "servicePorts": "jupyter"}'
    server.add_fault(
        Fault(*CREATE, status=201, body=body, content_type="application/json", before_auth=False)
    )
    with pytest.raises(ResponseError) as info:
        await client.create_if_not_exists("python", "shape-03")
    assert "servicePorts is not a list" in info.value.message
    assert info.value.request_method == "POST"


# -- an unknown outcome says what to do -------------------------------------------------------


def assert_hint(err: ClientError, name: str) -> None:
    assert HINT in err.message
    assert f"get_info('{name}')" in err.message
    assert f"destroy('{name}', forced=True)" in err.message


@pytest.mark.parametrize("call", ["create_if_not_exists", "create_session_from_template"])
async def test_a_creation_that_times_out_names_the_session_and_the_way_out(
    client: Client, server: BackendAITestServer, call: str
) -> None:
    path = "/session" if call == "create_if_not_exists" else "/session/_/create-from-template"
    server.add_fault(Fault("POST", path, delay=30))
    if call == "create_if_not_exists":
        creation = client.create_if_not_exists("python", "slow-001", timeout=0.3)
    else:
        creation = client.create_session_from_template(
            DEFAULT_TEMPLATE_ID, session_name="slow-001", timeout=0.3
        )
    with pytest.raises(RequestTimeoutError) as info:
        await creation
    err = info.value
    assert err.phase == "total"
    assert err.message.startswith("request timed out")
    assert_hint(err, "slow-001")
    assert server.count("POST", path) == 1  # the request did reach the server


async def test_an_abort_during_creation_gives_the_same_hint(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(*CREATE, delay=30))
    ctl = AbortController()
    task = asyncio.ensure_future(
        client.create_if_not_exists("python", "abort-01", signal=ctl.signal)
    )
    await server.wait_for_request(*CREATE)
    ctl.abort("stop")
    with pytest.raises(AbortError) as info:
        await task
    assert_hint(info.value, "abort-01")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(*CREATE, drop=True), RequestError),
        (Fault(*CREATE, malformed_json=True, before_auth=False), ResponseError),
        (Fault(*CREATE, status=502, body="bad gateway"), ServerError),
    ],
    ids=["dropped-after-sending", "unreadable-answer", "proxy-502"],
)
async def test_every_failure_that_may_have_created_the_session_says_so(
    client: Client, server: BackendAITestServer, fault: Fault, kind: type[ClientError]
) -> None:
    server.add_fault(fault)
    with pytest.raises(kind) as info:
        await client.create_if_not_exists("python", "maybe-01")
    assert_hint(info.value, "maybe-01")


async def test_a_definite_refusal_has_no_hint(client: Client, server: BackendAITestServer) -> None:
    await client.create_if_not_exists("python", "taken-01")
    with pytest.raises(ServerError) as info:
        await client.create_if_not_exists("python", "taken-01", {"reuseIfExists": False})
    assert info.value.status == 400
    assert HINT not in info.value.message


async def test_nothing_sent_means_no_hint(free_port: int) -> None:
    cfg = ClientConfig("AKIAIOSFODNN7EXAMPLE", "secret", f"http://127.0.0.1:{free_port}")
    async with Client(cfg) as client:
        with pytest.raises(RequestError) as info:
            await client.create_if_not_exists("python", "never-01")
    assert not info.value.sent
    assert HINT not in info.value.message


# -- get_logs(kernel_id=...) only where the manager takes it ---------------------------------


@pytest.fixture
async def manager_2403() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer(api_version="v8.20240315", manager_version="24.03.7") as srv:
        yield srv


async def test_the_23_09_manager_refuses_kernel_id_itself(
    client: Client, server: BackendAITestServer
) -> None:
    """The fake mirrors the manager's validator, so the SDK's guard is tested for a reason."""
    await client.create_if_not_exists("python", "logs-001")
    fake = session_store(server).by_name("logs-001")
    assert fake is not None
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/session/logs-001/logs", params={"kernel_id": fake.kernel_id})
    assert info.value.status == 400
    assert "kernel_id is not allowed key" in info.value.message


async def test_kernel_id_on_a_manager_without_per_kernel_logs_is_a_value_error(
    client: Client, server: BackendAITestServer
) -> None:
    await client.create_if_not_exists("python", "logs-002")
    before = server.count("GET", "/session/logs-002/logs")
    with pytest.raises(ValueError, match=r"kernel_id: .*older than 24\.03\.7"):
        await client.get_logs("logs-002", kernel_id=str(uuid.uuid4()))
    assert server.count("GET", "/session/logs-002/logs") == before == 0
    assert not client.supports("per-kernel-logs")
    logs = await client.get_logs("logs-002")  # without kernel_id it works
    assert "started" in logs["result"]["logs"]


async def test_kernel_id_reaches_a_manager_that_takes_it(
    manager_2403: BackendAITestServer,
) -> None:
    server = manager_2403
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    async with Client(cfg) as client:
        await client.create_if_not_exists("python", "logs-003")
        fake = session_store(server).by_name("logs-003")
        assert fake is not None
        logs = await client.get_logs("logs-003", kernel_id=fake.kernel_id.upper())
        assert client.supports("per-kernel-logs")
    record = server.requests[-1]
    assert record.auth_ok is True
    assert record.raw_path == f"/session/logs-003/logs?kernel_id={fake.kernel_id}"
    assert "started" in logs["result"]["logs"]


async def test_a_kernel_id_that_is_not_a_uuid_fails_before_anything_is_sent(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ValueError, match="kernel_id must be a UUID"):
        await client.get_logs("logs-004", kernel_id="main1")
    assert server.requests == []

"""client.model_service over /services, and the clear error on managers without it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientConfig,
    RequestTimeoutError,
    ServerError,
    UnsupportedFeatureError,
)
from backendai_async.testing import BackendAITestServer, Fault

from ._admin_rest import last, refused_before_sending, user_config


async def test_service_life_cycle(client: Client, server: BackendAITestServer) -> None:
    assert await client.model_service.list_service() == []
    created = await client.model_service.create_service(
        "my-llm",
        "python",
        "example-model",
        2,
        resources={"cpu": 1, "mem": "1g"},
        open_to_public=True,
    )
    assert last(server, "POST", "/services").json == {
        "name": "my-llm",
        "image": "python",
        "desired_session_count": 2,
        "open_to_public": True,
        "config": {"model": "example-model", "resources": {"cpu": 1, "mem": "1g"}},
    }
    service_id = created["endpoint_id"]
    (summary,) = await client.model_service.list_service()
    assert (summary["id"], summary["active_route_count"], summary["is_public"]) == (
        service_id,
        2,
        True,
    )
    assert await client.model_service.list_service("other") == []
    info = await client.model_service.get_service_info(service_id)
    first = info["active_routes"][0]["route_id"]
    assert await client.model_service.update_route(service_id, first, 0.5) == {"success": True}
    assert last(server, "PUT", f"/services/{service_id}/routings/{first}").json == {
        "traffic_ratio": 0.5
    }
    assert await client.model_service.scale_routes(service_id, 3) == {
        "current_route_count": 2,
        "target_count": 3,
    }
    assert await client.model_service.delete_route(service_id, first) == {"success": True}
    assert len((await client.model_service.get_service_info(service_id))["active_routes"]) == 2
    assert await client.model_service.sync_routings(service_id) == {"success": True}
    token = await client.model_service.generate_service_token(service_id, "1h")
    assert token["token"]
    assert last(server, "POST", f"/services/{service_id}/token").json == {"duration": "1h"}
    row = server.state.extras["model_services"][service_id]
    row["errors"], row["retries"] = [{"session_id": None, "error": {"name": "boom"}}], 3
    assert await client.model_service.list_errors(service_id) == {
        "errors": [{"session_id": None, "error": {"name": "boom"}}],
        "retries": 3,
    }
    assert await client.model_service.clear_errors(service_id) is None
    assert (await client.model_service.list_errors(service_id))["retries"] == 0
    assert await client.model_service.terminate_service(service_id) == {"success": True}
    assert await client.model_service.list_service() == []


async def test_refusals_arrive_with_the_servers_reason(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as no_model:
        await client.model_service.create_service("svc-x", "python", "no-such-folder")
    assert (no_model.value.status, no_model.value.description) == (404, "Cannot find model folder")
    created = await client.model_service.create_service("svc-y", "python", "example-model")
    with pytest.raises(ServerError) as too_many:
        await client.model_service.scale_routes(created["endpoint_id"], 11)
    assert too_many.value.status == 400
    async with Client(user_config(server)) as user:
        assert await user.model_service.list_service() == []  # only the caller's own
        with pytest.raises(ServerError) as foreign:
            await user.model_service.get_service_info(created["endpoint_id"])
    assert foreign.value.status == 403
    with pytest.raises(ServerError) as missing:
        await client.model_service.get_service_info(str(uuid.uuid4()))
    assert missing.value.status == 404


async def test_an_old_manager_gets_a_clear_error_and_no_request() -> None:
    async with BackendAITestServer(manager_version="22.09.10") as old:
        cfg = ClientConfig(old.access_key, old.secret_key, str(old.endpoint))
        async with Client(cfg) as client:
            with pytest.raises(UnsupportedFeatureError) as info:
                await client.model_service.list_service()
            with pytest.raises(UnsupportedFeatureError):
                await client.model_service.terminate_service(str(uuid.uuid4()))
        assert [r.path for r in old.requests] == ["/"]  # the version probe only
    err = info.value
    assert "23.03.11" in err.message
    assert err.request_method == "GET"
    assert err.to_dict()["problemType"].endswith("/client-unsupported-feature")


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda s: s.create_service("ab", "python", "m"), "name"),
        (lambda s: s.create_service("good-name", "", "m"), "image"),
        (lambda s: s.create_service("good-name", "python", "m", -1), "desired_session_count"),
        (lambda s: s.create_service("good-name", "python", "m", cluster_mode="x"), "cluster_mode"),
        (lambda s: s.create_service("good-name", "python", "m", resources=[1]), "resources"),
        (lambda s: s.get_service_info("svc-1"), "service_id"),
        (lambda s: s.update_route(str(uuid.uuid4()), "r", 1.0), "route_id"),
        (lambda s: s.update_route(str(uuid.uuid4()), str(uuid.uuid4()), -1), "traffic_ratio"),
        (lambda s: s.scale_routes(str(uuid.uuid4()), True), "to"),
        (lambda s: s.generate_service_token(str(uuid.uuid4())), "duration"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, call: object, words: str
) -> None:
    await refused_before_sending(server, call(client.model_service), words, "/services")  # type: ignore[operator]


def test_the_js_spelling_is_kept() -> None:
    from backendai_async.resources.model_service import ModelService

    assert ModelService.termiate_service is ModelService.terminate_service


async def test_deadlines_and_aborts_cover_namespace_calls(
    client: Client, server: BackendAITestServer
) -> None:
    await client.get_manager_version()
    server.add_fault(Fault(path="/services", delay=30, times=2))
    with pytest.raises(RequestTimeoutError):
        await client.model_service.list_service(timeout=0.3)
    controller = AbortController()
    call = asyncio.ensure_future(client.model_service.list_service(signal=controller.signal))
    await server.wait_for_request("GET", "/services", count=2)
    controller.abort("enough")
    with pytest.raises(AbortError, match="enough"):
        await call

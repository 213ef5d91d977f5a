"""client.maintenance: the rescan_images mutation and usage recalculation."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, GraphQLError
from backendai_async.resources.maintenance import RECALCULATE_TIMEOUT
from backendai_async.testing import BackendAITestServer

from ._admin_rest import last, user_config


async def test_rescan_images_is_a_mutation_returning_the_task(
    client: Client, server: BackendAITestServer
) -> None:
    everything = await client.maintenance.rescan_images()
    assert everything["ok"] is True
    assert everything["task_id"]
    assert last(server, "POST", "/admin/gql").json["query"] == (
        "mutation { rescan_images { ok msg task_id } }"
    )
    one = await client.maintenance.rescan_images("cr.backend.ai")
    assert last(server, "POST", "/admin/gql").json == {
        "query": "mutation($registry: String) { rescan_images(registry: $registry) "
        "{ ok msg task_id } }",
        "variables": {"registry": "cr.backend.ai"},
    }
    assert server.state.extras["image_rescans"] == [
        {"registry": None, "project": None, "task_id": everything["task_id"]},
        {"registry": "cr.backend.ai", "project": None, "task_id": one["task_id"]},
    ]


async def test_project_needs_a_registry_and_a_recent_manager(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ValueError, match="registry"):
        await client.maintenance.rescan_images(project="stable")
    with pytest.raises(GraphQLError, match="project"):  # 23.09 has no such argument
        await client.maintenance.rescan_images("cr.backend.ai", "stable")
    async with BackendAITestServer(manager_version="25.1.0") as newer:
        cfg = ClientConfig(newer.access_key, newer.secret_key, str(newer.endpoint))
        async with Client(cfg) as c:
            await c.maintenance.rescan_images("cr.backend.ai", "stable")
        assert newer.state.extras["image_rescans"][0]["project"] == "stable"


async def test_a_normal_user_is_refused(server: BackendAITestServer) -> None:
    async with Client(user_config(server)) as user:
        with pytest.raises(GraphQLError, match="refused: no permission to execute rescan_images"):
            await user.maintenance.rescan_images()
        with pytest.raises(AuthenticationError):
            await user.maintenance.recalculate_usage()
    assert server.state.extras["image_rescans"] == []
    assert server.state.extras["usage_recalculations"] == 0


async def test_recalculate_usage(client: Client, server: BackendAITestServer) -> None:
    assert await client.maintenance.recalculate_usage() == {}
    assert server.state.extras["usage_recalculations"] == 1
    assert RECALCULATE_TIMEOUT == 60.0  # the JS SDK's deadline for this slow call

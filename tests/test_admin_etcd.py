"""client.registry and client.setting over the manager's raw etcd access (/config/*)."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client
from backendai_async.testing import BackendAITestServer

from ._admin_rest import last, refused_before_sending, user_config


async def test_registry_list_set_and_delete(client: Client, server: BackendAITestServer) -> None:
    listed = await client.registry.list()
    assert listed["result"]["cr.backend.ai"][""] == "https://cr.backend.ai"
    assert last(server, "POST", "/config/get").json == {
        "key": "config/docker/registry",
        "prefix": True,
    }
    await client.registry.set("localhost:5000", {"": "http://localhost:5000", "type": "docker"})
    assert last(server, "POST", "/config/set").json == {
        "key": "config/docker/registry/localhost%3A5000",
        "value": {"": "http://localhost:5000", "type": "docker"},
    }
    after = (await client.registry.list())["result"]
    assert after["localhost:5000"] == {"": "http://localhost:5000", "type": "docker"}
    await client.registry.delete("localhost:5000")
    assert "localhost:5000" not in (await client.registry.list())["result"]


async def test_registry_delete_leaves_registries_that_share_the_name_prefix(
    client: Client, server: BackendAITestServer
) -> None:
    await client.registry.set("cr.io", "https://cr.io")
    await client.registry.set("cr.io.mirror", {"": "https://mirror", "type": "docker"})
    await client.registry.delete("cr.io")
    left = (await client.registry.list())["result"]
    assert "cr.io" not in left
    assert left["cr.io.mirror"] == {"": "https://mirror", "type": "docker"}
    deletes = [r.json for r in server.requests if r.path == "/config/delete"]
    assert deletes == [
        {"key": "config/docker/registry/cr.io/", "prefix": True},
        {"key": "config/docker/registry/cr.io", "prefix": False},
    ]


async def test_settings_round_trip(client: Client, server: BackendAITestServer) -> None:
    assert await client.setting.get("docker/image/auto_pull") == {"result": "digest"}
    await client.setting.set("testing/flag", "on")
    await client.setting.set("testing/tree", {"a": "1", "b": {"c": 2}})
    assert await client.setting.list("testing/") == {
        "result": {"flag": "on", "tree": {"a": "1", "b": {"c": "2"}}}
    }
    await client.setting.delete("testing/tree", True)
    assert await client.setting.get("testing/tree/a") == {"result": None}
    await client.setting.delete("testing/flag")
    assert await client.setting.list("testing/") == {"result": {}}
    assert "config/testing/flag" not in server.state.extras["etcd"]


async def test_a_normal_user_is_refused_by_the_server(server: BackendAITestServer) -> None:
    async with Client(user_config(server)) as user:
        for call in (
            user.registry.list(),
            user.setting.get("docker/image/auto_pull"),
            user.setting.set("x", "y"),
            user.registry.delete("cr.backend.ai"),
        ):
            with pytest.raises(AuthenticationError) as info:
                await call
            assert info.value.status == 401
            assert info.value.description == "Unauthorized access"
    assert "config/docker/registry/cr.backend.ai" in server.state.extras["etcd"]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.setting.get(""), "key"),
        (lambda c: c.setting.set("k", None), "value"),
        (lambda c: c.setting.delete("k", "yes"), "prefix"),
        (lambda c: c.registry.set("", "u"), "key"),
        (lambda c: c.registry.set("r", 5), "value"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, call: object, words: str
) -> None:
    await refused_before_sending(server, call(client), words, "/config")  # type: ignore[operator]

"""Create → modify → delete through the administration namespaces against the embedded
server: the mutations sent, the JS-shaped answers, refusals inside the data, and secrets."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, GraphQLError
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer

from .conftest import ClientFactory

USER_AK = list(EXAMPLE_KEYPAIRS)[1]
POLICY = {
    "default_for_unspecified": "UNLIMITED",
    "max_concurrent_sessions": 2,
    "max_containers_per_session": 1,
    "idle_timeout": 600,
}


@pytest.fixture
async def user(make_client: ClientFactory, server: BackendAITestServer) -> Client:
    return make_client(ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint)))


async def test_a_created_keypair_signs_requests_until_it_is_deleted(
    client: Client, server: BackendAITestServer
) -> None:
    created = await client.keypair.add("user@lablup.com", True, False, "default", 500)
    assert created["create_keypair"]["ok"] is True
    keys = created["create_keypair"]["keypair"]
    sent = server.requests[-1].json
    assert sent["variables"] == {
        "user_id": "user@lablup.com",
        "props": {
            "is_active": True,
            "is_admin": False,
            "resource_policy": "default",
            "rate_limit": 500,
        },
    }
    assert "mutation($user_id: String!, $props: KeyPairInput!)" in sent["query"]
    cfg = ClientConfig(keys["access_key"], keys["secret_key"], str(server.endpoint))
    async with Client(cfg) as fresh:
        assert (await fresh.keypair.info(keys["access_key"]))["keypair"]["rate_limit"] == 500
        await client.keypair.mutate(keys["access_key"], {"rate_limit": 800})
        assert (await fresh.keypair.info(keys["access_key"]))["keypair"]["rate_limit"] == 800
        assert await client.keypair.delete(keys["access_key"]) == {
            "delete_keypair": {"ok": True, "msg": "success"}
        }
        with pytest.raises(AuthenticationError, match="Access key not found"):
            await fresh.keypair.info(keys["access_key"])


async def test_a_refusal_inside_the_data_is_a_graphql_error_with_the_servers_msg(
    user: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(GraphQLError) as info:
        await user.keypair.delete("AKIAIOSFODNN7EXAMPLE")
    assert "no permission to execute delete_keypair" in info.value.message
    assert info.value.errors[0]["path"] == ["delete_keypair"]
    assert "AKIAIOSFODNN7EXAMPLE" in server.state.keypairs


async def test_user_round_trip_never_shows_the_password(
    client: Client, server: BackendAITestServer
) -> None:
    secret = "Not-A-Real-Pw-31337"
    props = {"username": "rt", "password": secret, "need_password_change": False}
    created = await client.user.create("rt@example.com", {**props, "domain_name": "default"})
    assert created["create_user"]["user"]["email"] == "rt@example.com"
    with pytest.raises(GraphQLError) as info:  # the same username again
        await client.user.create("rt2@example.com", {**props, "domain_name": "default"})
    err = info.value
    for text in (repr(err), str(err), repr(err.to_dict())):
        assert secret not in text
    await client.user.update("rt@example.com", {"full_name": "Round Trip", "group_ids": []})
    assert (await client.user.get("rt@example.com"))["user"]["full_name"] == "Round Trip"
    await client.user.delete("rt@example.com")
    assert (await client.user.get("rt@example.com", ["status"]))["user"] == {"status": "deleted"}
    await client.user.purge("rt@example.com")
    assert (await client.user.get("rt@example.com"))["user"] is None
    assert "password" not in server.state.extras["users"].get("rt2@example.com", {})


async def test_project_round_trip(client: Client, user: Client) -> None:
    created = await client.group.create("rt-project", {"domain_name": "default"})
    gid = created["create_group"]["group"]["id"]
    with pytest.raises(GraphQLError, match="no permission to execute modify_group"):
        await user.group.update(gid, {"description": "x"})
    await client.group.update(gid, {"description": "changed", "total_resource_slots": {"cpu": "4"}})
    found = {
        g["id"]: g for g in (await client.group.list(None, None, ["id", "description"]))["groups"]
    }
    assert found[gid] == {"id": gid, "description": "changed"}
    await client.group.delete(gid)
    assert gid not in {g["id"] for g in (await client.group.list(True))["groups"]}
    await client.group.purge(gid)
    assert gid not in {g["id"] for g in (await client.group.list(None))["groups"]}


async def test_preset_round_trip_takes_slots_as_json_text_or_mapping(
    client: Client, server: BackendAITestServer
) -> None:
    await client.resource_preset.add("rt-preset", {"resource_slots": {"cpu": "1", "mem": "1g"}})
    assert server.requests[-1].json["variables"]["props"] == {
        "resource_slots": '{"cpu": "1", "mem": "1g"}'
    }
    text = '{"cpu": "2", "mem": "2g"}'
    await client.resource_preset.mutate(
        "rt-preset", {"resource_slots": text, "shared_memory": "64m"}
    )
    listed = {p["name"]: p for p in (await client.resource_preset.list())["presets"]}
    assert listed["rt-preset"]["resource_slots"] == {"cpu": "2", "mem": str(2 * 2**30)}
    assert listed["rt-preset"]["shared_memory"] == 64 * 2**20
    await client.resource_preset.delete("rt-preset")
    assert "rt-preset" not in {p["name"] for p in (await client.resource_preset.list())["presets"]}


async def test_policy_round_trip_sends_what_23_09_needs(
    client: Client, server: BackendAITestServer
) -> None:
    caller_input = dict(POLICY)
    await client.resource_policy.add("rt-policy", caller_input)
    props = server.requests[-1].json["variables"]["props"]
    assert props["max_vfolder_count"] == 0
    assert props["allowed_vfolder_hosts"] == "{}"
    assert caller_input == POLICY  # the caller's mapping is not changed
    await client.resource_policy.mutate("rt-policy", {"max_concurrent_sessions": 4})
    got = (await client.resource_policy.get("rt-policy"))["keypair_resource_policy"]
    assert got["max_concurrent_sessions"] == 4
    await client.resource_policy.delete("rt-policy")
    assert (await client.resource_policy.get("rt-policy"))["keypair_resource_policy"] is None


async def test_a_policy_in_use_cannot_be_deleted(client: Client) -> None:
    with pytest.raises(GraphQLError, match="used by keypairs"):
        await client.resource_policy.delete("default")


async def test_scaling_group_domain_and_agent_changes(
    client: Client, server: BackendAITestServer
) -> None:
    await client.scaling_group.create("rt-sg", {"description": "round trip"})
    assert server.requests[-1].json["variables"]["props"] == {
        "driver": "static",
        "scheduler": "fifo",
        "description": "round trip",
    }
    await client.scaling_group.associate_domain("default", "rt-sg")
    domain = (await client.domain.get("default", ["scaling_groups"]))["domain"]
    assert domain == {"scaling_groups": ["default", "rt-sg"]}
    await client.scaling_group.update("rt-sg", {"is_public": False})
    await client.scaling_group.delete("rt-sg")
    assert (await client.domain.get("default", ["scaling_groups"]))["domain"] == {
        "scaling_groups": ["default"]
    }
    await client.domain.update("default", {"description": "changed"})
    assert (await client.domain.get(None, ["description"]))["domain"]["description"] == "changed"
    server.state.extras["agents"] = [{"id": "i-1", "status": "ALIVE", "schedulable": True}]
    await client.agent.update("i-1", {"schedulable": False})
    assert server.state.extras["agents"][0]["schedulable"] is False

"""The administration namespaces over loopback: what goes on the wire, the JS result shapes,
the server's refusals, and bad input refused before anything is sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, GraphQLError
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer
from backendai_async.testing._manager import DEFAULT_GROUP_ID

from .conftest import ClientFactory

ADMIN_AK, USER_AK = list(EXAMPLE_KEYPAIRS)


def _gql(server: BackendAITestServer) -> list[dict[str, Any]]:
    return [r.json for r in server.requests if r.path == "/admin/gql"]


@pytest.fixture
async def user(make_client: ClientFactory, server: BackendAITestServer) -> Client:
    return make_client(ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint)))


async def test_keypair_info_sends_a_typed_query_and_returns_the_js_shape(
    client: Client, server: BackendAITestServer
) -> None:
    answer = await client.keypair.info(USER_AK, ["access_key", "user_id"])
    assert answer == {"keypair": {"access_key": USER_AK, "user_id": "user@lablup.com"}}
    sent = _gql(server)[-1]
    assert sent["query"] == (
        "query($access_key: String) { keypair(access_key: $access_key) { access_key user_id } }"
    )
    assert sent["variables"] == {"access_key": USER_AK}


async def test_default_keypair_fields_leave_the_secret_out(client: Client) -> None:
    row = (await client.keypair.info(ADMIN_AK))["keypair"]
    assert row["access_key"] == ADMIN_AK
    assert row["is_admin"] is True
    assert "secret_key" not in row


async def test_keypair_list_pages_through_everything(
    client: Client, server: BackendAITestServer
) -> None:
    for _ in range(3):
        await client.keypair.add("user@lablup.com")
    assert len((await client.keypair.list())["keypairs"]) == 5
    rows = [r async for r in client.keypair.iter(fields=["access_key"], page_size=2)]
    assert len(rows) == 5
    pages = [r["variables"] for r in _gql(server) if "keypair_list" in r["query"]][-3:]
    assert [p["offset"] for p in pages] == [0, 2, 4]
    assert all(p["is_active"] is True and "email" not in p for p in pages)


async def test_a_normal_user_lists_only_their_keypairs_and_is_refused_others(
    user: Client,
) -> None:
    assert [k["access_key"] for k in (await user.keypair.list())["keypairs"]] == [USER_AK]
    with pytest.raises(GraphQLError, match="Forbidden operation"):
        await user.keypair.info(ADMIN_AK)
    with pytest.raises(GraphQLError, match="Forbidden operation"):
        await user.keypair.list("admin@lablup.com")


async def test_user_list_has_no_password_and_gates_main_access_key_by_version(
    client: Client, server: BackendAITestServer
) -> None:
    users = (await client.user.list())["users"]
    assert {u["email"] for u in users} == {"admin@lablup.com", "user@lablup.com"}
    assert users[0]["main_access_key"] == ADMIN_AK  # 23.09.10 has main-access-key
    query = _gql(server)[-1]["query"]
    assert " password " not in query
    assert "main_access_key" in query
    old = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    server.manager_version = "23.09.6"
    async with Client(old) as older:
        await older.user.list()
    assert "main_access_key" not in _gql(server)[-1]["query"]


async def test_listing_users_is_refused_to_a_normal_user_with_the_servers_reason(
    user: Client,
) -> None:
    with pytest.raises(GraphQLError) as info:
        await user.user.list()
    assert info.value.errors[0]["message"] == "Insufficient privilege."
    assert (await user.user.get("user@lablup.com"))["user"]["role"] == "user"


async def test_group_list_sends_no_type_to_a_23_09_server_and_type_to_24_03(
    client: Client, server: BackendAITestServer
) -> None:
    groups = (await client.group.list())["groups"]
    assert [g["id"] for g in groups] == [DEFAULT_GROUP_ID]
    sent = _gql(server)[-1]
    assert "type" not in sent["query"]
    assert sent["variables"] == {"is_active": True}
    with pytest.raises(GraphQLError, match="Unknown argument 'type'"):
        await client.group.list(type=["GENERAL"])  # 23.09 has no such argument
    server.manager_version = "24.03.0"
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    async with Client(cfg) as newer:
        with pytest.raises(GraphQLError, match="Cannot query field 'type' on type 'Group'"):
            await newer.group.list()  # the fake speaks 23.09's schema; a 24.03 has the field
    assert " type " in _gql(server)[-1]["query"]


async def test_domain_get_and_list(client: Client, user: Client) -> None:
    assert (await client.domain.get("default"))["domain"]["scaling_groups"] == ["default"]
    assert (await user.domain.get())["domain"]["name"] == "default"
    assert [d["name"] for d in (await client.domain.list(["name"]))["domains"]] == ["default"]
    with pytest.raises(GraphQLError, match="superadmin privilege required"):
        await user.domain.list()


async def test_resource_policy_get_one_or_all(client: Client) -> None:
    one = await client.resource_policy.get("default")
    assert one["keypair_resource_policy"]["max_session_lifetime"] == 0
    every = await client.resource_policy.get()
    assert [p["name"] for p in every["keypair_resource_policies"]] == ["default"]


async def test_presets_list_and_check_need_no_arguments(
    client: Client, server: BackendAITestServer
) -> None:
    presets = (await client.resource_preset.list())["presets"]
    assert [p["name"] for p in presets] == ["01-small", "02-medium"]
    checked = await client.resource_preset.check()
    assert [p["allocatable"] for p in checked["presets"]] == [False, False]  # no agents
    assert server.requests[-1].json == {"group": "default"}  # 26.x needs it
    server.state.extras["agents"] = [_agent("i-1", cpu=4, mem=8 * 2**30)]
    checked = await client.resource_preset.check({"scaling_group": "default"})
    assert [p["allocatable"] for p in checked["presets"]] == [True, True]
    assert server.requests[-1].json == {"group": "default", "scaling_group": "default"}


def _agent(agent_id: str, **slots: float) -> dict[str, Any]:
    return {
        "id": agent_id,
        "status": "ALIVE",
        "scaling_group": "default",
        "schedulable": True,
        "architecture": "x86_64",
        "region": "local",
        "available_slots": json.dumps({k: str(v) for k, v in slots.items()}),
        "occupied_slots": json.dumps(dict.fromkeys(slots, "1")),
        "cpu_cur_pct": 12.5,
        "mem_cur_bytes": 1024.0,
    }


async def test_agents_summaries_and_cluster_totals(
    client: Client, user: Client, server: BackendAITestServer
) -> None:
    server.state.extras["agents"] = [
        _agent("i-1", cpu=4, mem=8 * 2**30, **{"cuda.shares": 2.5}),
        _agent("i-2", cpu=2, mem=4 * 2**30, **{"npu.device": 8}),
    ]
    assert [a["id"] for a in (await client.agent.list())["agents"]] == ["i-1", "i-2"]
    assert [a["id"] async for a in client.agent.iter(page_size=1)] == ["i-1", "i-2"]
    page = (await user.agent_summary.list(limit=1, offset=1))["agent_summary_list"]
    assert page["total_count"] == 2
    assert [a["id"] for a in page["items"]] == ["i-2"]
    with pytest.raises(GraphQLError, match="superadmin privilege required"):
        await user.agent.list()
    totals = await client.resources.total_resource_information()
    assert totals["cpu"] == {"total": 6, "used": 2, "percent": 25}
    assert totals["mem"] == {"total": 12 * 2**30, "allocated": 2, "used": 2048}
    assert totals["npu.device"] == {"total": 8, "used": 1}  # a slot the JS SDK did not know
    assert totals["fgpu"] == {"total": 2.5, "used": 1} == totals["cuda.shares"]
    assert totals["agents"] == {"total": 2, "using": 2}
    with pytest.raises(ValueError, match="status must be one of"):
        await client.agent.list("LOST")


async def test_scaling_groups_rest_and_graphql(
    client: Client, user: Client, server: BackendAITestServer
) -> None:
    assert await user.scaling_group.list() == {"scaling_groups": [{"name": "default"}]}
    assert server.requests[-1].raw_path == "/scaling-groups?group=default"
    version = await user.scaling_group.get_wsproxy_version("default", DEFAULT_GROUP_ID)
    assert version == {"wsproxy_version": "v1"}
    assert server.requests[-1].raw_path == (
        f"/scaling-groups/default/wsproxy-version?group={DEFAULT_GROUP_ID}"
    )
    every = (await client.scaling_group.list_available())["scaling_groups"]
    assert every[0]["is_public"] is True
    assert "wsproxy_addr" in every[0]
    with pytest.raises(GraphQLError, match="superadmin privilege required"):
        await user.scaling_group.list_available()


async def test_storage_volumes_permissions_and_allowed_hosts(
    client: Client, user: Client, server: BackendAITestServer
) -> None:
    page = (await client.storageproxy.list())["storage_volume_list"]
    assert page["total_count"] == 1
    assert page["items"][0]["id"] == "local:volume1"
    detail = (await client.storageproxy.detail("local:volume1"))["storage_volume"]
    assert detail["backend"] == "vfs"
    assert [v["id"] async for v in client.storageproxy.iter()] == ["local:volume1"]
    acl = await user.storageproxy.get_all_permissions()
    assert "mount-in-session" in acl["vfolder_host_permission_list"]
    hosts = await user.storageproxy.get_allowed_vfolder_hosts_by_current_user_info(
        None, DEFAULT_GROUP_ID, None
    )
    assert set(hosts) == {"domain", "group", "keypair_resource_policy"}
    assert "local:volume1" in json.loads(hosts["group"]["allowed_vfolder_hosts"])
    with pytest.raises(GraphQLError, match="superadmin privilege required"):
        await user.storageproxy.detail("local:volume1")


async def test_images_list_and_etcd_settings(
    client: Client, user: Client, server: BackendAITestServer
) -> None:
    images = (await user.image.list())["images"]
    assert images[0]["registry"] == "cr.backend.ai"
    assert images[0]["labels"]
    assert (await client.image.list(installed_only=True))["images"] == []
    assert _gql(server)[-1]["variables"] == {"is_installed": True}
    limits = {"cpu": {"min": "2"}, "mem": {"min": "1g", "max": "4g"}}
    await client.image.modify_resource("cr.backend.ai:5000", "stable/python", "3.9", limits)
    sent = server.requests[-1].json
    assert sent["key"] == "images/cr.backend.ai%3A5000/stable%2Fpython/3.9/resource"
    await client.image.modify_label("cr.backend.ai:5000", "stable/python", "3.9", "x", "y")
    got = await client.image.get("cr.backend.ai:5000", "stable/python", "3.9")
    assert got == {"result": limits}
    assert (
        server.state.extras["etcd"]["images/cr.backend.ai%3A5000/stable%2Fpython/3.9/labels/x"]
        == "y"
    )
    with pytest.raises(AuthenticationError) as info:
        await user.image.get("cr.backend.ai", "stable/python", "3.9")
    assert info.value.status == 401
    assert "Unauthorized access" in info.value.message


async def test_image_install_queues_a_batch_session(
    client: Client, server: BackendAITestServer
) -> None:
    answer = await client.image.install(
        "stable/python:3.9-ubuntu20.04", "x86_64", None, "cr.backend.ai"
    )
    assert answer["created"] is True
    sent = next(r.json for r in server.requests if r.method == "POST" and r.path == "/session")
    assert sent["image"] == "cr.backend.ai/stable/python:3.9-ubuntu20.04"
    assert sent["type"] == "batch"
    assert sent["enqueueOnly"] is True
    assert sent["architecture"] == "x86_64"


async def test_user_stats(user: Client) -> None:
    stats = await user.resources.user_stats()
    assert stats[0]["num_sessions"] == {"value": 0, "unit_hint": "count"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.keypair.info(""), "access_key must be a non-empty string"),
        (lambda c: c.keypair.list(is_active="yes"), "is_active must be True or False"),
        (lambda c: c.keypair.add("u@x", rate_limit=-1), "rate_limit must be an int"),
        (lambda c: c.keypair.mutate("AK", {"bogus": 1}), "unknown key 'bogus'"),
        (lambda c: c.user.get(None), "email must be a non-empty string"),
        (lambda c: c.user.create("a@b", {"username": "a"}), "needs 'domain_name'"),
        (lambda c: c.group.update("not-a-uuid", {}), "id must be a UUID"),
        (lambda c: c.group.list(type="GENERAL"), "type must be a non-empty list"),
        (lambda c: c.domain.update("default", []), "input must be a mapping"),
        (lambda c: c.resource_policy.add("p", {"default_for_unspecified": "X"}), "needs"),
        (lambda c: c.resource_preset.check({"groups": "x"}), "unknown key 'groups'"),
        (lambda c: c.resource_preset.add("p", {"resource_slots": 1}), "JSON string"),
        (lambda c: c.scaling_group.get_wsproxy_version(""), "scaling_group must be"),
        (lambda c: c.agent.update("i-1", {"status": "x"}), "unknown key 'status'"),
        (lambda c: c.agent_summary.list(limit=0), "limit must be an int >= 1"),
        (lambda c: c.storageproxy.list(["id) { x"]), "fields"),
        (lambda c: c.image.modify_resource("r", "i", "t", {"cpu": {"mn": 1}}), "unknown keys"),
        (lambda c: c.image.modify_label("r", "i", "t/x", "k", "v"), "cannot contain '/'"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    client: Client, server: BackendAITestServer, call: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await call(client)
    assert server.count() == 0

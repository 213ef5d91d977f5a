"""The administration namespaces against the real manager(s): every namespace read as the
superadmin and as a normal user (refusals carry the server's reason), and create → modify →
delete round trips that leave the server as they found it (unique names, cleanup in
``finally``)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from backendai_async import Client, ClientError, GraphQLError, ServerError

POLICY = {
    "default_for_unspecified": "UNLIMITED",
    "max_concurrent_sessions": 1,
    "max_containers_per_session": 1,
    "idle_timeout": 600,
}


def _name(stem: str) -> str:
    return f"bai-it-{stem}-{secrets.token_hex(4)}"


@contextlib.asynccontextmanager
async def _cleanup(*undo: Callable[[], Awaitable[Any]]) -> AsyncIterator[None]:
    """Run every undo step after the block, whatever happened (each may already be done)."""
    try:
        yield
    finally:
        for step in undo:
            with contextlib.suppress(ClientError):
                await step()


async def _project_id(client: Client) -> str:
    groups = (await client.group.list(True, None, ["id", "name"]))["groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


async def test_every_namespace_reads_as_the_superadmin(admin: Client) -> None:
    me = (await admin.keypair.info("AKIAIOSFODNN7EXAMPLE"))["keypair"]
    assert me["is_admin"] is True
    assert "secret_key" not in me
    keypairs = (await admin.keypair.list())["keypairs"]
    assert {"AKIAIOSFODNN7EXAMPLE", "AKIANABBDUSEREXAMPLE"} <= {k["access_key"] for k in keypairs}
    emails = {u["email"] for u in (await admin.user.list(None))["users"]}
    assert {"admin@lablup.com", "user@lablup.com"} <= emails
    assert (await admin.user.get("user@lablup.com"))["user"]["role"] == "user"
    assert "default" in {g["name"] for g in (await admin.group.list())["groups"]}
    assert (await admin.domain.get("default"))["domain"]["name"] == "default"
    assert "default" in {d["name"] for d in (await admin.domain.list())["domains"]}
    assert (await admin.resource_policy.get("default"))["keypair_resource_policy"]["name"]
    assert (await admin.resource_policy.get())["keypair_resource_policies"]
    names = {p["name"] for p in (await admin.resource_preset.list())["presets"]}
    assert {"01-small", "02-medium"} <= names
    assert len((await admin.resource_preset.check())["presets"]) >= 2
    available = (await admin.scaling_group.list_available())["scaling_groups"]
    assert "default" in {sg["name"] for sg in available}
    assert {"name": "default"} in (await admin.scaling_group.list())["scaling_groups"]
    project = await _project_id(admin)
    version = await admin.scaling_group.get_wsproxy_version("default", project)
    assert version["wsproxy_version"] in ("v1", "v2")
    agents = (await admin.agent.list())["agents"]
    assert [a["id"] async for a in admin.agent.iter()] == [a["id"] for a in agents]
    summary = (await admin.agent_summary.list())["agent_summary_list"]
    assert summary["total_count"] == len(agents)
    volumes = (await admin.storageproxy.list())["storage_volume_list"]
    assert "local:volume1" in {v["id"] for v in volumes["items"]}
    assert (await admin.storageproxy.detail("local:volume1"))["storage_volume"]["backend"]
    assert (await admin.storageproxy.get_all_permissions())["vfolder_host_permission_list"]
    hosts = await admin.storageproxy.get_allowed_vfolder_hosts_by_current_user_info(
        "default", project, "default"
    )
    assert "local:volume1" in hosts["group"]["allowed_vfolder_hosts"]
    images = (await admin.image.list())["images"]
    assert ("cr.backend.ai", "stable/python") in {(i["registry"], i["name"]) for i in images}
    assert "result" in await admin.image.get("cr.backend.ai", "stable/python", "3.9-ubuntu20.04")
    totals = await admin.resources.total_resource_information()
    assert totals["agents"]["total"] == len(agents)
    assert isinstance(await admin.resources.user_stats(), list)


async def test_every_namespace_reads_as_a_normal_user_or_is_refused_with_a_reason(
    user: Client,
) -> None:
    own = (await user.keypair.info("AKIANABBDUSEREXAMPLE"))["keypair"]
    assert own["is_admin"] is False
    assert [k["access_key"] for k in (await user.keypair.list())["keypairs"]] == [
        "AKIANABBDUSEREXAMPLE"
    ]
    assert (await user.user.get("user@lablup.com"))["user"]["email"] == "user@lablup.com"
    assert [g["name"] for g in (await user.group.list())["groups"]] == ["default"]
    assert (await user.domain.get())["domain"]["name"] == "default"
    assert (await user.resource_policy.get())["keypair_resource_policies"]
    assert (await user.resource_preset.list())["presets"]
    assert (await user.resource_preset.check())["presets"]
    assert (await user.scaling_group.list())["scaling_groups"]
    assert "total_count" in (await user.agent_summary.list())["agent_summary_list"]
    assert (await user.storageproxy.get_all_permissions())["vfolder_host_permission_list"]
    assert (await user.image.list())["images"]
    assert isinstance(await user.resources.user_stats(), list)
    refusals: list[tuple[Awaitable[Any], str]] = [
        (user.keypair.info("AKIAIOSFODNN7EXAMPLE"), "Forbidden operation"),
        (user.keypair.list("admin@lablup.com"), "Forbidden operation"),
        (user.user.get("admin@lablup.com"), "Forbidden operation"),
        (user.user.list(), "Insufficient privilege"),
        (user.domain.list(), "superadmin privilege required"),
        (user.scaling_group.list_available(), "superadmin privilege required"),
        (user.agent.list(), "superadmin privilege required"),
        (user.storageproxy.list(), "superadmin privilege required"),
        (user.storageproxy.detail("local:volume1"), "superadmin privilege required"),
        (user.resources.total_resource_information(), "superadmin privilege required"),
        (user.group.create(_name("g"), {"domain_name": "default"}), "no permission"),
        (user.agent.update("no-such-agent", {"schedulable": True}), "no permission"),
    ]
    for call, reason in refusals:
        with pytest.raises(GraphQLError, match=reason):
            await call


async def test_etcd_image_settings_refuse_a_normal_user_401_on_23_09_403_on_26(
    user: Client,
) -> None:
    with pytest.raises(ServerError) as info:
        await user.image.get("cr.backend.ai", "stable/python", "3.9-ubuntu20.04")
    assert info.value.status in (401, 403)
    assert info.value.message  # the server's reason ("Unauthorized access" / "Insufficient ...")
    major = int((await user.get_manager_version()).split(".")[0])
    assert info.value.status == (401 if major < 24 else 403)


async def test_keypair_and_policy_round_trip(admin: Client) -> None:
    policy = _name("policy")
    access_key: list[str] = []
    async with _cleanup(
        lambda: admin.keypair.delete(access_key[0]) if access_key else _nothing(),
        lambda: admin.resource_policy.delete(policy),
    ):
        await admin.resource_policy.add(policy, {**POLICY, "total_resource_slots": {"cpu": "2"}})
        await admin.resource_policy.mutate(policy, {"max_concurrent_sessions": 3})
        row = (await admin.resource_policy.get(policy))["keypair_resource_policy"]
        assert row["max_concurrent_sessions"] == 3
        created = await admin.keypair.add("admin@lablup.com", True, False, policy, 500)
        keys = created["create_keypair"]["keypair"]
        access_key.append(keys["access_key"])
        assert keys["secret_key"]
        await admin.keypair.mutate(keys["access_key"], {"rate_limit": 700, "is_active": False})
        info = (await admin.keypair.info(keys["access_key"]))["keypair"]
        assert (info["rate_limit"], info["is_active"], info["resource_policy"]) == (
            700,
            False,
            policy,
        )
        await admin.keypair.delete(access_key.pop())
        await admin.resource_policy.delete(policy)
    remaining = (await admin.resource_policy.get())["keypair_resource_policies"]
    assert policy not in {p["name"] for p in remaining}


async def _nothing() -> None:
    return None


async def test_user_round_trip(admin: Client) -> None:
    email = f"{_name('user')}@example.com"
    props = {
        "username": email.split("@")[0],
        "password": secrets.token_urlsafe(12),
        "need_password_change": False,
        "domain_name": "default",
        "is_active": True,
    }
    async with _cleanup(lambda: admin.user.purge(email)):
        created = await admin.user.create(email, props)
        assert created["create_user"]["user"]["email"] == email
        await admin.user.update(email, {"full_name": "Round Trip"})
        assert (await admin.user.get(email))["user"]["full_name"] == "Round Trip"
        await admin.user.delete(email)
        await admin.user.purge(email)
    assert (await admin.user.get(email))["user"] is None


async def test_project_round_trip(admin: Client) -> None:
    name = _name("project")
    gid: list[str] = []
    async with _cleanup(
        lambda: admin.group.delete(gid[0]) if gid else _nothing(),
        lambda: admin.group.purge(gid[0]) if gid else _nothing(),
    ):
        created = await admin.group.create(name, {"domain_name": "default", "description": "it"})
        gid.append(created["create_group"]["group"]["id"])
        await admin.group.update(gid[0], {"description": "changed"})
        found = {g["id"]: g for g in (await admin.group.list(None))["groups"]}
        assert found[gid[0]]["description"] == "changed"
        await admin.group.delete(gid[0])
        await admin.group.purge(gid.pop())
    assert name not in {g["name"] for g in (await admin.group.list(None))["groups"]}


async def test_resource_preset_round_trip(admin: Client) -> None:
    name = _name("preset")
    query = "query($n: String) { resource_preset(name: $n) { name resource_slots shared_memory } }"
    async with _cleanup(lambda: admin.resource_preset.delete(name)):
        await admin.resource_preset.add(name, {"resource_slots": {"cpu": "1", "mem": "1073741824"}})
        slots = '{"cpu": "2", "mem": "1073741824"}'
        await admin.resource_preset.mutate(name, {"resource_slots": slots, "shared_memory": "64m"})
        row = (await admin.query(query, {"n": name}))["resource_preset"]  # no REST cache
        assert row["shared_memory"] == 64 * 2**20
        assert '"cpu": "2"' in row["resource_slots"]
        await admin.resource_preset.delete(name)
    with contextlib.suppress(GraphQLError):  # 26.x: "not found"; 23.09: null
        assert (await admin.query(query, {"n": name}))["resource_preset"] is None

"""The REST-side administration namespaces against each real server, as superadmin and as
a normal user, with round trips (dotfile, announcement, registry and setting) that leave
the server as they found it.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest

from backendai_async import AuthenticationError, Client, GraphQLError, ServerError

from .conftest import Real, outcome, problem

pytestmark = pytest.mark.integration


def _refusal(err: ServerError) -> str:
    return f'{err.status} `{problem(err)}` "{err.description}"'


# -- reading every namespace ---------------------------------------------------------------


async def test_client_level_calls_as_admin_and_user(
    real: Real, admin: Client, user: Client
) -> None:
    for client in (admin, user):
        slots = await client.get_resource_slots()
        assert slots["cpu"] == "count"
        assert slots["mem"] == "bytes"
        public = await client.fetch_ssh_keypair()
        assert set(public) == {"ssh_public_key"}
        assert await client.is_manager_supporting_totp() is False
        with pytest.raises(ServerError) as no_session:
            await client.get_direct_access_info(f"no-such-{secrets.token_hex(3)}")
        assert no_session.value.status == 404
    with pytest.raises(ServerError) as no_totp:
        await user.initialize_totp()
    assert no_totp.value.status == 404
    assert await admin.enterprise.get_license() is None
    assert await admin.cloud.ping() is False
    assert await user.edu_app.ping() is False
    real.observe("plugins", f"{no_totp.value.status} `{problem(no_totp.value)}`")


async def test_etcd_namespaces_are_superadmin_only(real: Real, admin: Client, user: Client) -> None:
    registries = (await admin.registry.list())["result"]
    assert "cr.backend.ai" in registries
    assert (await admin.setting.get("docker/image/auto_pull"))["result"]
    listed = (await admin.setting.list("docker/"))["result"]
    assert "registry" in listed
    for call in (user.registry.list(), user.setting.list(), user.setting.get("docker")):
        with pytest.raises(ServerError) as refused:
            await call
        assert refused.value.status in (401, 403)
        assert isinstance(refused.value, AuthenticationError) == (refused.value.status == 401)
    real.observe("admin_refused", _refusal(refused.value))


async def test_announcement_user_config_and_templates_read_by_both(
    real: Real, admin: Client, user: Client
) -> None:
    for client in (admin, user):
        announcement = await client.service.get_announcement()
        assert set(announcement) == {"enabled", "message"}
        assert isinstance(await client.user_config.get(), list)
        assert isinstance(await client.user_config.get_bootstrap_script(), str)
        assert isinstance(await client.session_template.list(), list)
        assert isinstance(await client.session_template.list(True), list)
    missing = await outcome(admin.session_template.get(str(uuid.uuid4())))
    if isinstance(missing, ServerError):
        assert missing.status == 404
        real.observe("template_missing", f"404 `{problem(missing)}`")
    else:
        assert missing == {}
        real.observe("template_missing", "200 `{}`")
    with pytest.raises(ServerError) as refused:
        await user.service.update_announcement(True, "not allowed")
    assert refused.value.status in (401, 403)


async def test_maintenance_as_admin_and_user(real: Real, admin: Client, user: Client) -> None:
    assert await admin.maintenance.recalculate_usage() == {}
    nowhere = f"bai-it-{secrets.token_hex(3)}.invalid"  # an unknown registry: the task fails
    scan = await admin.maintenance.rescan_images(nowhere)
    assert scan["ok"] is True
    assert uuid.UUID(scan["task_id"])
    as_user = await outcome(user.maintenance.rescan_images(nowhere))
    if isinstance(as_user, GraphQLError):  # refused inside the data: ok false with msg
        assert as_user.status == 200
        assert as_user.description == "no permission to execute rescan_images"
        real.observe("rescan_as_user", f'`ok: false` "{as_user.description}"')
    else:
        assert not isinstance(as_user, ServerError), as_user
        assert as_user["ok"] is True
        real.observe("rescan_as_user", "`ok: true` (started)")
    with pytest.raises(ServerError) as refused:
        await user.maintenance.recalculate_usage()
    assert refused.value.status in (401, 403)


async def test_model_service_routes_on_both(real: Real, admin: Client, user: Client) -> None:
    for client in (admin, user):
        services = await client.model_service.list_service()
        assert isinstance(services, list)
    assert admin.supports("model-serving")
    with pytest.raises(ServerError) as unknown:
        await admin.model_service.get_service_info(str(uuid.uuid4()))
    assert unknown.value.status == 404
    with pytest.raises(ServerError) as as_user:  # 26.9 checks permission before existence
        await user.model_service.get_service_info(str(uuid.uuid4()))
    assert as_user.value.status in (403, 404)
    name = f"bai-it-{secrets.token_hex(3)}"
    with pytest.raises(ServerError) as refused:  # no app proxy here: the server says why
        await admin.model_service.create_service(
            name, real.target.image, "no-such-model-folder", scaling_group="default"
        )
    assert refused.value.description
    real.observe("service_create", f"{refused.value.status} `{problem(refused.value)}`")
    assert not [s for s in await admin.model_service.list_service() if s["name"] == name]


# -- round trips ---------------------------------------------------------------------------


@pytest.fixture
async def dotfile_path(user: Client) -> AsyncIterator[str]:
    path = f".bai-it-{secrets.token_hex(4)}"
    yield path
    with contextlib.suppress(ServerError):  # 404: already deleted by the test
        await user.user_config.delete(path)


async def test_dotfile_round_trip(real: Real, user: Client, dotfile_path: str) -> None:
    before = await user.user_config.get()
    await user.user_config.create("export IT=1\n", dotfile_path)
    assert {"path": dotfile_path, "permission": "644", "data": "export IT=1\n"} in (
        await user.user_config.get()
    )
    await user.user_config.update("export IT=2\n", dotfile_path, permission="600")
    assert {"path": dotfile_path, "permission": "600", "data": "export IT=2\n"} in (
        await user.user_config.get()
    )
    # what the JS SDK sends (the path in a JSON body), to record how each release reads it
    raw = await outcome(
        user.request("DELETE", "/user-config/dotfiles", json={"path": dotfile_path})
    )
    if isinstance(raw, ServerError):
        assert raw.status == 400
        real.observe("dotfile_delete_body", f"400 `{problem(raw)}` (query string only)")
        assert await user.user_config.delete(dotfile_path) == {"success": True}
    else:
        real.observe("dotfile_delete_body", "200 (read from the body)")
    with pytest.raises(ServerError) as gone:
        await user.user_config.delete(dotfile_path)
    assert gone.value.status == 404
    assert await user.user_config.get() == before


@pytest.fixture
async def announcement(admin: Client) -> AsyncIterator[dict[str, object]]:
    """The announcement as found; put back afterwards (published, draft or none)."""
    found = dict(await admin.service.get_announcement())
    yield found
    if found["enabled"]:
        await admin.service.update_announcement(True, str(found["message"]))
    elif found["message"]:
        await admin.service.update_announcement(False, str(found["message"]))
    else:
        await admin.service.update_announcement(False)


async def test_announcement_round_trip(
    real: Real, admin: Client, user: Client, announcement: dict[str, object]
) -> None:
    text = f"backendai_async integration test {secrets.token_hex(3)}"
    await admin.service.update_announcement(True, text)
    assert await user.service.get_announcement() == {"enabled": True, "message": text}
    # the raw disable of each release, recorded: null keeps the text on 26.9
    await admin.request("POST", "/manager/announcement", json={"enabled": False, "message": None})
    after_null = await admin.service.get_announcement()
    assert after_null["enabled"] is False
    real.observe(
        "announcement_null", "cleared" if after_null["message"] == "" else "text kept (disabled)"
    )
    empty = await outcome(
        admin.request("POST", "/manager/announcement", json={"enabled": False, "message": ""})
    )
    real.observe(
        "announcement_empty",
        f"{empty.status} `{problem(empty)}`" if isinstance(empty, ServerError) else "204, cleared",
    )
    await admin.service.update_announcement(True, text)
    await admin.service.update_announcement(False)  # the SDK's clear: the same on both
    assert await admin.service.get_announcement() == {"enabled": False, "message": ""}


@pytest.fixture
async def registry_name(admin: Client) -> AsyncIterator[str]:
    name = f"bai-it-{secrets.token_hex(3)}.invalid:5000"
    yield name
    await admin.registry.delete(name)


async def test_registry_and_setting_round_trip(admin: Client, registry_name: str) -> None:
    before = (await admin.registry.list())["result"]
    options = {"": "http://127.0.0.1:9", "type": "docker", "project": "it"}
    assert (await admin.registry.set(registry_name, options))["result"] == "ok"
    assert (await admin.registry.list())["result"][registry_name] == options
    quoted = registry_name.replace(":", "%3A")
    single = await admin.setting.get(f"docker/registry/{quoted}/project")
    assert single == {"result": "it"}
    await admin.registry.set(registry_name, {"project": "it2"})
    assert (await admin.registry.list())["result"][registry_name]["project"] == "it2"
    await admin.registry.delete(registry_name)
    assert (await admin.registry.list())["result"] == before

    key = f"bai-it-{secrets.token_hex(3)}"
    try:
        await admin.setting.set(f"{key}/flag", "on")
        assert await admin.setting.list(f"{key}/") == {"result": {"flag": "on"}}
    finally:
        await admin.setting.delete(f"{key}/", True)
    assert await admin.setting.get(f"{key}/flag") == {"result": None}


async def test_session_template_round_trip(real: Real, admin: Client, user: Client) -> None:
    """Create, read, update and delete a template (the manager keeps deleted ones as
    inactive rows: they are gone from every answer). As superadmin: 26.9's RBAC does not
    let the normal user create templates in the project (403, its reason kept)."""
    name = f"bai-it-{secrets.token_hex(3)}"
    template = {
        "api_version": "v1",
        "kind": "taskTemplate",
        "metadata": {"name": name},
        "spec": {"kernel": {"image": real.target.image}, "resources": {"cpu": "1"}},
    }
    refused = await outcome(user.session_template.create({"template": template}))
    if isinstance(refused, ServerError):
        assert refused.status == 403
        assert "lacks permission" in refused.description
    else:
        for entry in refused:
            await user.session_template.delete(entry["id"])
    (created,) = await admin.session_template.create({"template": template})
    template_id = created["id"]
    try:
        assert [
            t["name"] for t in await admin.session_template.list() if t["id"] == template_id
        ] == [name]
        info = await admin.session_template.get(template_id)
        assert info["name"] == name
        assert info["template"]["spec"]["kernel"]["image"] == real.target.image
        renamed = {**template, "metadata": {"name": name + "-2"}}
        assert await admin.session_template.update(template_id, [{"template": renamed}]) == {
            "success": True
        }
        assert (await admin.session_template.get(template_id))["name"] == name + "-2"
    finally:
        assert await admin.session_template.delete(template_id) == {"success": True}
    assert not [t for t in await admin.session_template.list() if t["id"] == template_id]

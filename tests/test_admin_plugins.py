"""Plugin namespaces: client.enterprise (license), client.cloud, client.edu_app."""

from __future__ import annotations

import pytest

from backendai_async import Client, ServerError
from backendai_async.testing import BackendAITestServer

from ._admin_rest import last


async def test_license_is_none_on_an_open_source_manager(
    client: Client, server: BackendAITestServer
) -> None:
    assert await client.enterprise.get_license() is None
    assert last(server, "GET", "/license").status == 404


async def test_license_certificate_gets_valid_added(
    client: Client, server: BackendAITestServer
) -> None:
    certificate = {"licensee": "Lablup", "valid_until": "2099-01-01"}
    server.state.extras["plugin_answers"] = {
        "GET /license": {"status": "valid", "certificate": certificate}
    }
    assert await client.enterprise.get_license() == {**certificate, "valid": True}
    server.state.extras["plugin_answers"]["GET /license"] = (500, {"title": "broken"})
    with pytest.raises(ServerError):  # the JS SDK hides this as undefined
        await client.enterprise.get_license()


async def test_cloud_calls(client: Client, server: BackendAITestServer) -> None:
    assert await client.cloud.ping() is False
    server.state.extras["plugin_answers"] = {
        "GET /cloud/ping": {},
        "POST /cloud/verify-email": {},
        "POST /cloud/send-verification-email": {},
        "POST /cloud/send-password-change-email": {},
        "POST /cloud/change-password": {},
    }
    assert await client.cloud.ping() is True
    await client.cloud.verify_email("code-1234567890")
    await client.cloud.send_verification_email("a@b.c")
    await client.cloud.send_password_change_email("a@b.c")
    await client.cloud.change_password("a@b.c", "n3w-passw0rd", "reset-token-1234")
    bodies = [(r.path, r.json) for r in server.requests if r.method == "POST"]
    assert bodies == [
        ("/cloud/verify-email", {"verification_code": "code-1234567890"}),
        ("/cloud/send-verification-email", {"email": "a@b.c"}),
        ("/cloud/send-password-change-email", {"email": "a@b.c"}),
        (
            "/cloud/change-password",
            {"email": "a@b.c", "password": "n3w-passw0rd", "token": "reset-token-1234"},
        ),
    ]


async def test_a_failed_cloud_call_masks_its_secrets(client: Client) -> None:
    with pytest.raises(ServerError) as info:  # no cloud plugin: 404
        await client.cloud.change_password("a@b.c", "n3w-passw0rd", "reset-token-1234")
    shown = repr(info.value.to_dict())
    assert "n3w-passw0rd" not in shown
    assert "reset-token-1234" not in shown
    with pytest.raises(ServerError) as code:
        await client.cloud.verify_email("code-1234567890")
    assert "code-1234567890" not in repr(code.value.to_dict())


async def test_edu_app_calls(client: Client, server: BackendAITestServer) -> None:
    server.state.extras["plugin_answers"] = {
        "GET /eduapp/ping": {},
        "GET /eduapp/mounts": ["data"],
        "GET /eduapp/projects": [{"name": "default"}],
        "GET /eduapp/credential": {"access_key": "AK"},
    }
    assert await client.edu_app.ping() is True
    assert await client.edu_app.get_mount_folders() == ["data"]
    assert await client.edu_app.get_user_projects() == [{"name": "default"}]
    assert await client.edu_app.get_user_credential("s-token-123456") == {"access_key": "AK"}
    assert last(server, "GET", "/eduapp/credential").query["sToken"] == "s-token-123456"
    with pytest.raises(ValueError, match="stoken"):
        await client.edu_app.get_user_credential("")

"""client.service: the announcement, and how clearing it differs between 23.09 and 26.9."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, ServerError
from backendai_async.testing import BackendAITestServer

from ._admin_rest import last, user_config


async def test_publish_read_and_clear_on_23_09(client: Client, server: BackendAITestServer) -> None:
    assert await client.service.get_announcement() == {"enabled": False, "message": ""}
    await client.service.update_announcement(True, "Maintenance at 18:00")
    assert last(server, "POST", "/manager/announcement").json == {
        "enabled": True,
        "message": "Maintenance at 18:00",
    }
    assert await client.service.get_announcement() == {
        "enabled": True,
        "message": "Maintenance at 18:00",
    }
    await client.service.update_announcement(False)
    assert last(server, "POST", "/manager/announcement").json == {"enabled": False, "message": None}
    assert await client.service.get_announcement() == {"enabled": False, "message": ""}


async def test_clearing_on_26_9_sends_an_empty_message() -> None:
    async with BackendAITestServer(manager_version="26.9.6") as server:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg) as client:
            await client.service.update_announcement(message="Hello")
            await client.service.update_announcement(False, "Draft text")  # kept, hidden
            assert await client.service.get_announcement() == {
                "enabled": False,
                "message": "Draft text",
            }
            await client.service.update_announcement(False, "")
            assert last(server, "POST", "/manager/announcement").json == {
                "enabled": False,
                "message": "",
            }
            assert await client.service.get_announcement() == {"enabled": False, "message": ""}


async def test_23_09_refuses_an_empty_message_the_sdk_never_sends_it(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.request(
            "POST", "/manager/announcement", json={"enabled": False, "message": ""}
        )
    assert info.value.status == 400
    await client.service.update_announcement(False, "")
    assert last(server, "POST", "/manager/announcement").json["message"] is None


async def test_everyone_reads_only_a_superadmin_writes(server: BackendAITestServer) -> None:
    async with Client(user_config(server)) as user:
        assert (await user.service.get_announcement())["enabled"] is False
        with pytest.raises(AuthenticationError) as info:
            await user.service.update_announcement(True, "hi")
    assert info.value.status == 401


@pytest.mark.parametrize(
    ("enabled", "message", "words"),
    [
        (True, None, "message"),
        (True, "", "message"),
        ("yes", "m", "enabled"),
        (False, 3, "message"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, enabled: object, message: object, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        await client.service.update_announcement(enabled, message)  # type: ignore[arg-type]
    assert server.count("POST", "/manager/announcement") == 0

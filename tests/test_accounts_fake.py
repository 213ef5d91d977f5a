"""The fake manager's account routes answer like the 23.09 manager (checked against it), and
the SDK's errors carry those answers' reasons."""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, ServerError
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer

USER_AK, USER_SK = list(EXAMPLE_KEYPAIRS.items())[1]


def user_client(server: BackendAITestServer) -> Client:
    return Client(ClientConfig(USER_AK, USER_SK, str(server.endpoint)))


async def test_a_password_change_takes_effect(server: BackendAITestServer) -> None:
    async with user_client(server) as client:
        with pytest.raises(AuthenticationError, match="Old password mismatch"):
            await client.update_password("not-it", "n3w-pw-1", "n3w-pw-1")
        assert await client.update_password(USER_SK, "n3w-pw-1", "n3w-pw-1") == {}
        with pytest.raises(ServerError, match="Invalid email and/or password") as info:
            await client.signout("user@lablup.com", USER_SK)
        assert info.value.status == 400
        with pytest.raises(ServerError, match="Not the account owner") as other:
            await client.signout("admin@lablup.com", "n3w-pw-1")
        assert other.value.status == 403
        assert await client.signout("user@lablup.com", "n3w-pw-1") == {}
    assert [r.status for r in server.requests if r.path.startswith("/auth/")] == [
        401,
        200,
        400,
        403,
        200,
    ]


async def test_an_error_msg_answer_is_the_message(server: BackendAITestServer) -> None:
    """The manager answers a new-password mismatch with ``{"error_msg"}``, not a problem."""
    body = {"old_password": USER_SK, "new_password": "a-1", "new_password2": "b-2"}
    async with user_client(server) as client:
        with pytest.raises(ServerError) as info:
            await client.request("POST", "/auth/update-password", json=body)
    assert info.value.status == 400
    assert info.value.message == "server responded failure: 400 Bad Request - new password mismatch"
    assert "a-1" not in repr(info.value.to_dict())


@pytest.mark.parametrize(("manager", "refused"), [("23.09.10", True), ("26.9.6", False)])
async def test_a_blank_full_name_is_refused_by_23_09_only(manager: str, refused: bool) -> None:
    async with BackendAITestServer(manager_version=manager) as server:
        client = user_client(server)
        async with client:
            if refused:
                with pytest.raises(ServerError, match="full_name: blank value is not allowed"):
                    await client.update_full_name("user@lablup.com", "")
            else:
                assert await client.update_full_name("user@lablup.com", "") == {}
            data = await client.query("{ user { full_name } }")
    assert data["user"]["full_name"] == ("User Lablup" if refused else "")


async def test_missing_and_unknown_keys_are_named(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as info:
        await client.request("POST", "/auth/update-full-name", json={"email": "x", "nick": "y"})
    assert "full_name: is required" in info.value.message
    assert "nick: nick is not allowed key" in info.value.message

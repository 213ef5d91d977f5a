"""SESSION mode against the REAL webserver (23.09.10) of ../shared/real-backend.

Mind the account lock: 10 failed logins in 20 minutes block an account for 20 minutes, so
this module makes exactly one wrong-password attempt per run and then logs in correctly,
which resets the webserver's failure count.
"""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, LoginResult

from .conftest import USER, USER_EMAIL, WEBSERVER

pytestmark = pytest.mark.integration


def _config(password: str = USER[1]) -> ClientConfig:
    return ClientConfig(USER_EMAIL, password, WEBSERVER, "SESSION")


async def test_a_wrong_password_is_a_falsy_login_result() -> None:
    async with Client(_config("not-the-password-of-user")) as client:
        result = await client.login()  # the one failed attempt of this run
    assert isinstance(result, LoginResult)
    assert not result
    assert result.fail_reason == "User credential mismatch."
    assert result.fail_type == "https://api.backend.ai/probs/auth-failed"
    assert "not-the-password-of-user" not in repr(result)
    async with Client(_config()) as client:  # a successful login resets the failure count
        assert await client.login()
        await client.logout()


async def test_login_call_through_func_logout() -> None:
    async with Client(_config(), agent_signature="backendai_async-tests") as client:
        assert await client.check_login() is False
        result = await client.login()
        assert result, result.fail_reason
        assert result.access_key == USER[0]
        assert result.role == "user"
        assert await client.check_login() is True
        assert await client.get_manager_version() == "23.09.10"
        assert client.api_version == "v6.20230315"
        answer = await client.request(
            "POST", "/admin/graphql", json={"query": "{ user { email } }"}
        )
        assert answer["user"]["email"] == USER_EMAIL
        assert (await client.request("GET", "/auth/role"))["global_role"] == "user"
        saved = client.export_session()
        assert saved.session_id
        assert "AIOHTTP_SESSION" in saved.cookies

        async with Client(_config(), login_state=saved.to_dict()) as restored:
            assert await restored.check_login() is True  # no second login needed

        await client.logout()  # an empty 201 body: a success
        assert await client.check_login() is False
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/auth/role")
        assert info.value.status == 401

    async with Client(_config(), login_state=saved) as dead:
        assert await dead.check_login() is False  # the saved login ended with the logout

"""SESSION mode against each real webserver.

Mind the account lock: 10 failed logins in 20 minutes block an account for 20 minutes, so
this module makes exactly one wrong-password attempt per server and run, and then logs in
correctly, which resets the webserver's failure count.
"""

from __future__ import annotations

import pytest

from backendai_async import AuthenticationError, Client, LoginResult

from .conftest import Real, Wire, web_config

WRONG = "not-the-password-of-user"


async def test_a_wrong_password_is_a_falsy_login_result(real: Real) -> None:
    wire = Wire()
    async with Client(web_config(real, WRONG), middlewares=[wire]) as client:
        result = await client.login()  # the one failed attempt of this run
    status = wire.last("POST", "/server/login")[2]
    real.observe("refused_login", f'{status} `{{"authenticated": false, "data": {{problem}}}}`')
    assert isinstance(result, LoginResult)
    assert not result
    assert result.fail_reason == "User credential mismatch."
    assert result.fail_type == "https://api.backend.ai/probs/auth-failed"
    assert WRONG not in repr(result)
    async with Client(web_config(real)) as client:  # a successful login resets the count
        assert await client.login()
        await client.logout()


async def test_login_call_through_func_logout(real: Real) -> None:
    wire = Wire()
    cfg = web_config(real)
    async with Client(cfg, agent_signature="backendai_async-tests", middlewares=[wire]) as client:
        assert await client.check_login() is False
        result = await client.login()
        assert result, result.fail_reason
        assert result.access_key == real.target.user[0]
        assert result.role == "user"
        assert await client.check_login() is True
        assert await client.get_manager_version() == real.facts.manager
        assert client.api_version == real.facts.negotiated
        answer = await client.request(
            "POST", "/admin/graphql", json={"query": "{ user { email } }"}
        )
        data = answer["data"] if real.facts.graphql_envelope else answer
        assert data["user"]["email"] == real.target.user_email
        assert (await client.request("GET", "/auth/role"))["global_role"] == "user"
        saved = client.export_session()
        assert saved.session_id
        assert "AIOHTTP_SESSION" in saved.cookies

        async with Client(cfg, login_state=saved.to_dict()) as restored:
            assert await restored.check_login() is True  # no second login needed

        await client.logout()  # an empty body: a success
        real.observe("logout", f"{wire.last('POST', '/server/logout')[2]}, empty body")
        assert await client.check_login() is False
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/auth/role")
        assert info.value.status == 401

    async with Client(cfg, login_state=saved) as dead:
        assert await dead.check_login() is False  # the saved login ended with the logout

"""SESSION mode against the embedded webserver (in front of the embedded manager).

Each test asserts on what the fake webserver and the fake manager received on the wire.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from backendai_async import (
    AbortController,
    AbortError,
    AuthenticationError,
    Client,
    ClientConfig,
    ErrorType,
    LoginResult,
    LoginState,
    RequestError,
    RequestTimeoutError,
    ServerError,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    WebUser,
    problem_response,
)
from backendai_async.testing._users import EXAMPLE_USERS

from .conftest import acquired_connections

USERS = {u.email: u for u in EXAMPLE_WEB_USERS}
USER = USERS["user@lablup.com"]
ADMIN = USERS["admin@lablup.com"]
WRONG_PASSWORD = "not-the-password-4711"
SESSION_HEADER = "X-BackendAI-SessionID"
GQL = {"query": "{ user { email } }"}
PROBLEM_AUTH = "https://api.backend.ai/probs/auth-failed"


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
async def manager() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer() as srv:  # its account routes check like 23.09
        yield srv


@pytest.fixture
async def webserver(manager: BackendAITestServer) -> AsyncIterator[BackendAITestWebserver]:
    async with BackendAITestWebserver(manager) as ws:
        yield ws


MakeClient = Callable[..., Client]


@pytest.fixture
async def make_client(webserver: BackendAITestWebserver) -> AsyncIterator[MakeClient]:
    """SESSION-mode clients (user@lablup.com unless told), closed and leak-checked at teardown."""
    made: list[Client] = []

    def factory(
        user: WebUser = USER,
        password: str | None = None,
        *,
        endpoint: str | None = None,
        **client_options: Any,
    ) -> Client:
        cfg = ClientConfig(
            user.email,
            user.password if password is None else password,
            endpoint or str(webserver.endpoint),
            "SESSION",
        )
        client = Client(cfg, **client_options)
        made.append(client)
        return client

    yield factory
    for client in made:
        assert acquired_connections(client) == 0, "a call left a connection acquired"
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return make_client()


def _last(webserver: BackendAITestWebserver, path: str) -> Any:
    return [r for r in webserver.requests if r.path == path][-1]


# -- the whole flow ------------------------------------------------------------------------


async def test_the_js_readme_flow_logs_in_calls_through_func_and_logs_out(
    client: Client, webserver: BackendAITestWebserver, manager: BackendAITestServer
) -> None:
    assert await client.check_login() is False
    result = await client.login()
    assert result
    assert isinstance(result, LoginResult)
    assert result.authenticated
    assert result.fail_reason is None
    assert result.access_key == USER.access_key
    assert result.role == "user"
    assert dict(result.data or {}) == {
        "access_key": USER.access_key,
        "role": "user",
        "status": "active",
    }
    assert await client.check_login() is True
    assert await client.get_manager_version() == "23.09.10"
    assert webserver.count("GET", "/func/") == 1  # negotiated once, through the webserver

    answer = await client.request("POST", "/admin/graphql", json=GQL)
    assert answer == {"user": {"email": EXAMPLE_USERS[USER.email]["email"]}}
    sent = _last(webserver, "/func/admin/graphql")
    assert "Authorization" not in sent.headers  # nothing is signed in SESSION mode
    assert sent.json == GQL
    reached = [r for r in manager.requests if r.path == "/admin/graphql"]
    assert len(reached) == 1
    assert reached[0].access_key == USER.access_key
    assert reached[0].auth_ok is True

    await client.logout()  # the empty 201 is a success, not a decode error
    assert _last(webserver, "/server/logout").status == 201
    assert await client.check_login() is False
    with pytest.raises(AuthenticationError) as info:
        await client.request("POST", "/admin/graphql", json=GQL)
    assert info.value.type is ErrorType.ERR_SERVER
    assert info.value.status == 401
    assert webserver.count("POST", "/server/login") == 1


async def test_the_login_sends_the_config_credentials_as_the_webserver_expects(
    client: Client, webserver: BackendAITestWebserver
) -> None:
    await client.login()
    sent = _last(webserver, "/server/login")
    assert sent.json == {"username": USER.email, "password": USER.password}
    assert sent.headers["Content-Type"] == "application/json"


async def test_create_if_not_exists_reaches_the_manager_through_func_with_the_users_keypair(
    client: Client, webserver: BackendAITestWebserver, manager: BackendAITestServer
) -> None:
    assert await client.login()
    answer = await client.create_if_not_exists("python", "session-mode-1")
    assert answer["sessionName"] == "session-mode-1"
    sent = _last(webserver, "/func/session")
    assert sent.method == "POST"
    assert "Authorization" not in sent.headers
    reached = [r for r in manager.requests if r.method == "POST" and r.path == "/session"]
    assert len(reached) == 1
    assert reached[0].access_key == USER.access_key
    assert reached[0].auth_ok is True
    assert reached[0].json["name"] == "session-mode-1"
    assert reached[0].json["image"] == "python"


async def test_a_call_through_func_is_forwarded_signed_with_the_users_keypair(
    make_client: MakeClient, manager: BackendAITestServer
) -> None:
    async with make_client(ADMIN) as admin, make_client(USER) as user:
        assert await admin.login()
        assert await user.login()
        assert (await admin.request("GET", "/auth/role"))["global_role"] == "superadmin"
        assert (await user.request("GET", "/auth/role"))["global_role"] == "user"
    keys = [r.access_key for r in manager.requests if r.path == "/auth/role"]
    assert keys == [ADMIN.access_key, USER.access_key]
    assert all(r.auth_ok for r in manager.requests if r.path == "/auth/role")


async def test_https_webserver_in_front_of_an_https_manager() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with (
        BackendAITestServer(ssl_context=server_ctx) as manager,
        BackendAITestWebserver(manager, ssl_context=server_ctx) as webserver,
    ):
        assert webserver.endpoint.scheme == "https"
        endpoint = str(webserver.endpoint)
        cfg = ClientConfig(USER.email, USER.password, endpoint, "SESSION", ssl=client_ctx)
        async with Client(cfg) as client:
            assert await client.login()
            assert (await client.request("GET", "/auth/role"))["global_role"] == "user"
            assert "AIOHTTP_SESSION" in client.export_session().cookies
        assert manager.requests[-1].access_key == USER.access_key


# -- cookies, the session header, export and restore ---------------------------------------


async def test_the_cookie_of_an_ip_host_is_kept_and_sent(
    client: Client, webserver: BackendAITestWebserver
) -> None:
    assert webserver.endpoint.host == "127.0.0.1"
    await client.login()
    sid = client.export_session().session_id
    assert sid is not None
    jar = client.session.cookie_jar if client.session else None
    assert jar is not None
    assert {c.key: c.value for c in jar} == {"AIOHTTP_SESSION": sid}
    await client.check_login()
    assert _last(webserver, "/server/login-check").cookies == {"AIOHTTP_SESSION": sid}


async def test_the_cookie_alone_carries_a_restored_login(
    client: Client, make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    await client.login()
    state = client.export_session()
    cookie_only = LoginState(state.endpoint, None, state.cookies)
    restored = make_client(login_state=cookie_only)
    assert await restored.check_login()
    sent = _last(webserver, "/server/login-check")
    assert SESSION_HEADER not in sent.headers
    assert sent.cookies == dict(state.cookies)
    assert webserver.count("POST", "/server/login") == 1


async def test_aiohttps_default_jar_drops_the_ip_cookie_and_the_session_header_rescues_it(
    make_client: MakeClient, webserver: BackendAITestWebserver, manager: BackendAITestServer
) -> None:
    async with aiohttp.ClientSession() as http:  # the default CookieJar refuses IP hosts
        client = make_client(session=http)
        assert await client.login()
        assert len(http.cookie_jar) == 0
        assert await client.check_login()
        await client.request("GET", "/auth/role")
        await client.close()
    sent = _last(webserver, "/func/auth/role")
    assert sent.cookies == {}
    assert sent.headers[SESSION_HEADER] == webserver.authenticated_sessions()[0]
    assert manager.requests[-1].access_key == USER.access_key


async def test_a_login_exported_as_json_is_restored_in_a_new_client_without_logging_in(
    client: Client, make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    await client.login()
    saved = json.dumps(client.export_session().to_dict())
    restored = make_client(login_state=json.loads(saved))
    assert restored.export_session() == client.export_session()  # before any request
    assert await restored.check_login()
    assert (await restored.request("GET", "/auth/role"))["global_role"] == "user"
    assert webserver.count("POST", "/server/login") == 1


async def test_import_session_adopts_a_login_in_an_open_client(
    client: Client, make_client: MakeClient
) -> None:
    await client.login()
    other = make_client()
    assert await other.check_login() is False
    other.import_session(client.export_session())
    assert await other.check_login() is True


async def test_the_session_id_alone_carries_a_restored_login(
    client: Client, make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    await client.login()
    state = client.export_session()
    restored = make_client(login_state=LoginState(state.endpoint, state.session_id))
    assert await restored.check_login()
    sent = _last(webserver, "/server/login-check")
    assert sent.cookies == {}
    assert sent.headers[SESSION_HEADER] == state.session_id


async def test_a_login_state_never_shows_its_secrets(client: Client) -> None:
    await client.login()
    state = client.export_session()
    assert state.session_id
    assert state.session_id not in repr(state)
    assert all(value not in repr(state) for value in state.cookies.values())
    assert "********" in repr(state)


async def test_logout_leaves_nothing_to_export_and_kills_the_saved_login(
    client: Client, make_client: MakeClient
) -> None:
    await client.login()
    saved = client.export_session()
    await client.logout()
    assert client.export_session().empty
    assert await make_client(login_state=saved).check_login() is False


async def test_bad_login_states_are_refused_clearly(
    client: Client, webserver: BackendAITestWebserver, manager: BackendAITestServer
) -> None:
    with pytest.raises(ValueError, match="belongs to"):
        client.import_session(LoginState("http://127.0.0.1:1/", "abc"))
    with pytest.raises(ValueError, match="unknown login state fields"):
        client.import_session({"endpoint": str(webserver.endpoint), "sid": "x"})
    with pytest.raises(ValueError, match="cookies"):
        LoginState(str(webserver.endpoint), None, {"AIOHTTP_SESSION": 1})  # type: ignore[dict-item]
    api = Client(ClientConfig(manager.access_key, manager.secret_key, str(manager.endpoint)))
    with pytest.raises(ValueError, match="SESSION-mode"):
        api.import_session(LoginState(str(manager.endpoint), "abc"))
    with pytest.raises(ValueError, match="SESSION-mode"):
        Client(api.config, login_state=LoginState(str(manager.endpoint), "abc"))


# -- expiry: never a silent re-login -------------------------------------------------------


async def test_an_expired_login_is_false_and_calls_raise_401_without_a_relogin(
    client: Client, webserver: BackendAITestWebserver
) -> None:
    await client.login()
    webserver.expire_sessions()
    assert await client.check_login() is False
    for _ in range(2):
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/auth/role")
        assert isinstance(info.value, ServerError)
        assert info.value.status == 401
        assert info.value.type is ErrorType.ERR_SERVER
    assert webserver.count("POST", "/server/login") == 1


async def test_a_login_older_than_max_age_has_expired(manager: BackendAITestServer) -> None:
    async with BackendAITestWebserver(manager, max_age=60) as webserver:
        cfg = ClientConfig(USER.email, USER.password, str(webserver.endpoint), "SESSION")
        async with Client(cfg) as client:
            await client.login()
            webserver.clock_offset = 30
            assert await client.check_login() is True
            webserver.clock_offset = 61
            assert await client.check_login() is False
            with pytest.raises(AuthenticationError):
                await client.request("GET", "/auth/role")


async def test_a_200_body_saying_unauthenticated_is_a_401_too(
    manager: BackendAITestServer,
) -> None:
    async with BackendAITestWebserver(manager, unauthenticated_status=200) as webserver:
        cfg = ClientConfig(USER.email, USER.password, str(webserver.endpoint), "SESSION")
        async with Client(cfg) as client:
            await client.login()
            assert await client.request("POST", "/admin/gql", json=GQL)
            webserver.expire_sessions()
            assert await client.check_login() is False
            with pytest.raises(AuthenticationError) as info:
                await client.request("POST", "/admin/gql", json=GQL)
            err = info.value
            assert _last(webserver, "/func/admin/gql").status == 200
            assert err.status == 401
            assert err.type is ErrorType.ERR_SERVER
            assert err.error_code == "user_auth_unauthorized"
            assert "expired" in err.message
            assert webserver.count("POST", "/server/login") == 1


async def test_check_login_treats_a_401_from_login_check_as_logged_out() -> None:
    async def login_check(request: web.Request) -> web.Response:
        return problem_response(401, "auth-failed", "Unauthorized access")

    app = web.Application()
    app.router.add_post("/server/login-check", login_check)
    app.router.add_get("/func/", lambda r: _version())
    async with TestServer(app, host="127.0.0.1") as srv:
        cfg = ClientConfig(USER.email, USER.password, str(srv.make_url("/")), "SESSION")
        async with Client(cfg) as client:
            assert await client.check_login() is False
            status = await client.auth.login_status()
            assert not status
            assert status.fail_reason == "Unauthorized access"


async def _version() -> web.Response:
    return web.json_response({"version": "v6.20230315", "manager": "23.09.10"})


# -- refusals: wrong password, 429, monitor, 2FA, already logged in --------------------------


async def test_a_wrong_password_gives_a_falsy_result_with_the_servers_reason(
    make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    client = make_client(password=WRONG_PASSWORD)
    result = await client.login()
    assert not result
    assert result.authenticated is False
    assert result.fail_reason == "User credential mismatch."
    assert result.fail_type == "https://api.backend.ai/probs/auth-failed"
    assert result.access_key is None
    assert await client.check_login() is False
    assert client.export_session().session_id is None
    assert webserver.login_history[USER.email][1] == 1


async def test_a_wrong_password_answered_with_401_like_26x_is_the_same_falsy_result(
    make_client: MakeClient, manager: BackendAITestServer
) -> None:
    async with BackendAITestWebserver(
        manager, refused_login_status=401, logout_status=200
    ) as webserver:
        endpoint = str(webserver.endpoint)
        result = await make_client(password=WRONG_PASSWORD, endpoint=endpoint).login()
        assert _last(webserver, "/server/login").status == 401
        assert not result
        assert result.fail_reason == "User credential mismatch."
        assert result.fail_type == "https://api.backend.ai/probs/auth-failed"
        right = make_client(endpoint=endpoint)
        assert await right.login()
        await right.logout()  # an empty 200
        assert _last(webserver, "/server/logout").status == 200
        assert await right.check_login() is False


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, {"authenticated": False, "data": {"title": "boom"}}, ServerError),
        (429, {"authenticated": False, "data": None}, ServerError),
        (401, {"type": PROBLEM_AUTH, "title": "Unauthorized"}, AuthenticationError),
        (502, "Bad Gateway", ServerError),
    ],
)
async def test_a_login_answer_that_is_a_failure_still_raises(
    status: int, body: Any, error: type[ServerError]
) -> None:
    async def login(request: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(status=status, text=body)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/server/login", login)
    app.router.add_get("/func/", lambda r: _version())
    async with TestServer(app, host="127.0.0.1") as srv:
        cfg = ClientConfig(USER.email, USER.password, str(srv.make_url("/")), "SESSION")
        async with Client(cfg) as client:
            with pytest.raises(error) as info:
                await client.login()
    assert info.value.status == status


async def test_too_many_failed_logins_raise_a_429_until_the_block_ends(
    make_client: MakeClient, manager: BackendAITestServer
) -> None:
    async with BackendAITestWebserver(
        manager, login_allowed_fail_count=2, login_block_time=600
    ) as webserver:
        endpoint = str(webserver.endpoint)
        wrong = make_client(password=WRONG_PASSWORD, endpoint=endpoint)
        assert not await wrong.login()
        assert not await wrong.login()
        with pytest.raises(ServerError) as info:
            await wrong.login()
        err = info.value
        assert err.status == 429
        assert err.type is ErrorType.ERR_SERVER
        assert "too many failed login attempts" in err.message
        assert err.problem_type.endswith("/too-many-requests")
        right = make_client(endpoint=endpoint)
        with pytest.raises(ServerError, match="too many failed login attempts"):
            await right.login()  # blocked even with the right password
        webserver.clock_offset = 601
        assert await right.login()


async def test_a_successful_login_resets_the_failure_count(
    make_client: MakeClient, manager: BackendAITestServer
) -> None:
    async with BackendAITestWebserver(manager, login_allowed_fail_count=2) as webserver:
        endpoint = str(webserver.endpoint)
        wrong = make_client(password=WRONG_PASSWORD, endpoint=endpoint)
        assert not await wrong.login()
        right = make_client(endpoint=endpoint)
        assert await right.login()
        assert webserver.login_history[USER.email][1] == 0
        assert not await wrong.login()
        assert not await wrong.login()  # two more failures allowed again


async def test_a_monitor_account_is_logged_out_again(
    make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    client = make_client(USERS["monitor@lablup.com"])
    result = await client.login()
    assert not result
    assert result.fail_reason == "Monitor user does not allow to login."
    assert result.role == "monitor"
    assert webserver.count("POST", "/server/logout") == 1
    assert webserver.authenticated_sessions() == []
    assert await client.check_login() is False
    assert client.export_session().session_id is None


async def test_two_factor_authentication_asks_for_the_otp_and_accepts_it(
    make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    client = make_client(USERS["otp@lablup.com"])
    first = await client.login()
    assert not first
    assert first.needs_otp
    assert not first.needs_totp_registration
    assert first.fail_type == "https://api.backend.ai/probs/require-totp-authentication"
    assert first.fail_reason == "You must authenticate using a one-time password."
    wrong = await client.login(otp="000000")
    assert not wrong
    assert wrong.fail_reason == "Invalid TOTP code provided"
    ok = await client.login(otp="123456")
    assert ok
    assert ok.role == "user"
    assert _last(webserver, "/server/login").json["otp"] == "123456"
    with pytest.raises(ValueError, match="otp"):
        await client.login(otp="")


async def test_two_factor_registration_returns_its_token_but_never_shows_it(
    make_client: MakeClient,
) -> None:
    result = await make_client(USERS["totp-new@lablup.com"]).login()
    assert not result
    assert result.needs_totp_registration
    assert not result.needs_otp
    token = (result.data or {})["two_factor_registration_token"]
    assert token
    assert token not in repr(result)
    assert token not in json.dumps(result.to_dict())


async def test_logging_in_twice_is_the_servers_400(client: Client) -> None:
    assert await client.login()
    with pytest.raises(ServerError) as info:
        await client.login()
    assert info.value.status == 400
    assert "You have already logged in." in info.value.message


async def test_the_webserver_rejects_a_login_without_a_field(
    webserver: BackendAITestWebserver,
) -> None:
    async with aiohttp.ClientSession() as http:
        url = webserver.endpoint / "server" / "login"
        async with http.post(url, json={"username": USER.email}) as resp:
            assert resp.status == 400
            assert (await resp.json())["title"] == "You must provide the password field."
        async with http.post(url, json={"password": "x"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["title"] == "You must provide the username field."


# -- token login ---------------------------------------------------------------------------


async def test_token_login_with_a_token_argument(
    client: Client, webserver: BackendAITestWebserver
) -> None:
    assert USER.token is not None
    result = await client.token_login(USER.token)
    assert result
    assert result.access_key == USER.access_key
    assert _last(webserver, "/server/token-login").json == {"sToken": USER.token}
    assert await client.check_login()


async def test_token_login_with_the_token_cookie(
    make_client: MakeClient, webserver: BackendAITestWebserver
) -> None:
    assert USER.token is not None
    state = LoginState(str(webserver.endpoint), cookies={"sToken": USER.token})
    client = make_client(login_state=state)
    assert await client.token_login()
    sent = _last(webserver, "/server/token-login")
    assert sent.json == {}
    assert sent.cookies["sToken"] == USER.token


async def test_a_wrong_token_gives_a_falsy_result(client: Client) -> None:
    result = await client.token_login("no-such-token")
    assert not result
    assert result.fail_reason == "Invalid or expired token."


# -- reaching the webserver: down, slow, aborted, cancelled ----------------------------------


async def test_a_webserver_that_is_down_raises_err_request_naming_the_endpoint(
    make_client: MakeClient, free_port: int
) -> None:
    endpoint = f"http://127.0.0.1:{free_port}"
    client = make_client(endpoint=endpoint)
    for call in (client.login, client.check_login, client.logout):
        with pytest.raises(RequestError) as info:
            await call()
        err = info.value
        assert err.type is ErrorType.ERR_REQUEST
        assert endpoint in err.message
        assert endpoint in str(err)
        assert isinstance(err.__cause__, RequestError)
        assert USER.password not in repr(err.to_dict()) + str(err) + repr(err)


async def test_a_manager_behind_the_webserver_that_is_down_is_a_502(
    client: Client, manager: BackendAITestServer
) -> None:
    await client.login()
    await manager.close()
    with pytest.raises(ServerError) as info:
        await client.request("GET", "/auth/role")
    assert info.value.status == 502
    assert info.value.type is ErrorType.ERR_SERVER
    assert "inaccessible" in info.value.message


async def test_login_has_one_deadline(client: Client, webserver: BackendAITestWebserver) -> None:
    await client.get_manager_version()
    webserver.stall("/server/login")
    with pytest.raises(RequestTimeoutError):
        await client.login(timeout=0.2)
    webserver.release()
    with pytest.raises(ValueError, match="timeout"):
        await client.login(timeout=0)


async def test_login_can_be_aborted(client: Client, webserver: BackendAITestWebserver) -> None:
    webserver.stall("/server/login")
    ctl = AbortController()
    task = asyncio.create_task(client.login(signal=ctl.signal))
    await webserver.wait_for_request("POST", "/server/login")
    ctl.abort("stop")
    with pytest.raises(AbortError):
        await task
    webserver.release()


async def test_cancelling_a_login_propagates(
    client: Client, webserver: BackendAITestWebserver
) -> None:
    webserver.stall("/server/login")
    task = asyncio.create_task(client.login())
    await webserver.wait_for_request("POST", "/server/login")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    webserver.release()
    assert acquired_connections(client) == 0


# -- the password never leaks --------------------------------------------------------------


async def test_the_password_appears_in_no_error_repr_log_or_dict(
    make_client: MakeClient,
    manager: BackendAITestServer,
    free_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="backendai_async")
    seen: list[str] = []
    async with BackendAITestWebserver(manager, login_allowed_fail_count=1) as webserver:
        client = make_client(password=WRONG_PASSWORD, endpoint=str(webserver.endpoint))
        result = await client.login()
        seen += [repr(result), json.dumps(result.to_dict()), repr(client), repr(client.config)]
        errors: list[ServerError | RequestError] = []
        with pytest.raises(ServerError) as blocked:
            await client.login()
        errors.append(blocked.value)
        right = make_client(endpoint=str(webserver.endpoint))
        webserver.reset_login_failures()
        await right.login()
        with pytest.raises(ServerError) as twice:
            await right.login()
        errors.append(twice.value)
        seen += [repr(right), repr(right.config), repr(right.export_session())]
    down = make_client(endpoint=f"http://127.0.0.1:{free_port}")
    with pytest.raises(RequestError) as unreachable:
        await down.login()
    errors.append(unreachable.value)
    assert blocked.value.request_parameters["password"] == "********"
    assert twice.value.request_parameters["password"] == "********"
    for err in errors:
        seen += [str(err), repr(err), json.dumps(err.to_dict(), default=str)]
        if err.__cause__ is not None:
            seen += [str(err.__cause__), repr(err.__cause__)]
    seen.append(caplog.text)
    for text in seen:
        assert WRONG_PASSWORD not in text
        assert USER.password not in text


# -- account calls (both modes) ------------------------------------------------------------


async def test_account_calls_reach_the_manager_through_func(
    client: Client, manager: BackendAITestServer
) -> None:
    await client.login()
    assert await client.update_full_name(USER.email, "Jane Doe") == {}
    assert await client.update_password(USER.password, "n3w-pw", "n3w-pw") == {}
    assert await client.signout(USER.email, "n3w-pw") == {}  # the password just set
    reached = [r for r in manager.requests if r.path.startswith("/auth/")]
    assert [r.path for r in reached] == [
        "/auth/update-full-name",
        "/auth/update-password",
        "/auth/signout",
    ]
    assert all(r.access_key == USER.access_key for r in reached)
    assert reached[0].json == {"email": USER.email, "full_name": "Jane Doe"}
    assert reached[1].json == {
        "old_password": USER.password,
        "new_password": "n3w-pw",
        "new_password2": "n3w-pw",
    }
    assert reached[2].json == {"username": USER.email, "password": "n3w-pw"}


async def test_account_calls_work_in_api_mode(manager: BackendAITestServer) -> None:
    cfg = ClientConfig(USER.access_key, USER.secret_key, str(manager.endpoint))
    async with Client(cfg) as client:
        assert await client.update_full_name(USER.email, "Jane Doe") == {}
    assert manager.requests[-1].path == "/auth/update-full-name"
    assert manager.requests[-1].access_key == USER.access_key


async def test_account_call_errors_mask_passwords(
    client: Client, manager: BackendAITestServer
) -> None:
    await client.login()
    with pytest.raises(AuthenticationError) as info:
        await client.update_password("wrong-old-password", "n3w-pw", "n3w-pw")
    err = info.value
    assert err.status == 401
    assert "Old password mismatch" in err.message
    text = str(err) + repr(err) + json.dumps(err.to_dict(), default=str)
    assert "wrong-old-password" not in text
    assert "n3w-pw" not in text
    before = len(manager.requests)
    with pytest.raises(ValueError, match="differ"):
        await client.update_password("old", "a-new-one", "another")
    with pytest.raises(ValueError, match="user_id"):
        await client.signout("", "pw")
    assert len(manager.requests) == before


async def test_session_calls_refuse_an_api_mode_client(manager: BackendAITestServer) -> None:
    async with Client(
        ClientConfig(manager.access_key, manager.secret_key, str(manager.endpoint))
    ) as c:
        for call in (c.login, c.check_login, c.logout, c.token_login):
            with pytest.raises(ValueError, match="SESSION-mode"):
                await call()
        with pytest.raises(ValueError, match="SESSION-mode"):
            c.export_session()
    assert manager.requests == []


# -- the result object ---------------------------------------------------------------------


def test_a_login_result_is_truthy_only_when_authenticated() -> None:
    ok = LoginResult(True, data={"access_key": "AK", "role": "user", "status": "active"})
    refused = LoginResult(False, "nope", "https://api.backend.ai/probs/auth-failed")
    assert ok
    assert not refused
    assert ok.access_key == "AK"
    assert refused.access_key is None
    assert ok.to_dict() == {
        "authenticated": True,
        "fail_reason": None,
        "fail_type": None,
        "data": {"access_key": "AK", "role": "user", "status": "active"},
    }
    with pytest.raises(TypeError):
        ok.data["role"] = "superadmin"  # type: ignore[index]

"""PTY, execute and app tunnels over WebSockets against the fake manager: signed upgrades,
framing, limits, close codes as errors, back-pressure, and nothing left open."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from backendai_async import (
    AbortController,
    AbortError,
    AuthenticationError,
    Client,
    ClientConfig,
    PtyStream,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    WebSocketClosedError,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    session_store,
    stream_settings,
)

from .conftest import ClientFactory, acquired_connections


@pytest.fixture
async def running(client: Client) -> str:
    await client.create_if_not_exists("python", "sess-01")
    return "sess-01"


def upgrades(server: BackendAITestServer, tail: str) -> list[str]:
    return [r.path for r in server.requests if r.path.endswith(tail)]


async def test_the_terminal_echoes_typing_and_records_resizes(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    async with client.stream_pty(running) as pty:
        assert await pty.receive() == b"$ "  # the prompt
        await pty.send(b"ls -l\n")
        await pty.send("é\n")
        await pty.resize(24, 80)
        await pty.restart()
        assert await pty.receive() == b"ls -l\n"
        assert await pty.receive() == "é\n".encode()
    settings = stream_settings(server)
    assert settings.typed == [b"ls -l\n", "é\n".encode()]
    assert settings.resizes == [(24, 80)]
    assert settings.restarts == 1
    record = next(r for r in server.requests if r.path == "/stream/session/sess-01/pty")
    assert record.auth_ok is True
    assert record.headers["Upgrade"].lower() == "websocket"
    assert acquired_connections(client) == 0
    await settings.wait_until(lambda s: s.open_sockets == 0)


async def test_execute_streams_results_and_answers_input(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    results = []
    code = "print(1)\ninput('name? ')\nprint(6 * 7)"
    async with client.stream_execute(running, mode="query", code=code) as ex:
        async for result in ex:
            results.append(result)
            if result["status"] == "waiting-input":
                await ex.send_input("bob")
    assert [r["status"] for r in results] == ["waiting-input", "finished"]
    assert results[0]["console"] == [["stdout", "1\n"], ["stdout", "name? "]]
    assert results[1]["console"] == [["stdout", "bob\n"], ["stdout", "42\n"]]
    assert results[1]["exitCode"] == 0
    settings = stream_settings(server)
    assert settings.requests == [{"mode": "query", "code": code, "options": {}}]
    assert settings.inputs == ["bob"]


async def test_a_socket_that_closes_before_the_run_finished_is_an_error(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    stream_settings(server).close_code, stream_settings(server).close_after = 1000, 1
    async with client.stream_execute(running, code="print(1)") as ex:
        with pytest.raises(ResponseError, match="before the run finished"):
            async for _ in ex:
                pass  # pragma: no cover


async def test_the_app_tunnel_carries_bytes_and_its_end(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    async with client.stream_proxy(running, "jupyter", "http", envs={"A": "1"}) as tunnel:
        await tunnel.send(b"GET / HTTP/1.0\r\n\r\n")
        assert await tunnel.receive() == b"GET / HTTP/1.0\r\n\r\n"
        await tunnel.send(b"")  # the fake app hangs up: close code 1001
        assert [chunk async for chunk in tunnel] == []
    record = next(r for r in server.requests if r.path.endswith("/httpproxy"))
    assert record.query["app"] == "jupyter"
    assert record.query["envs"] == '{"A": "1"}'


async def test_an_app_that_refuses_the_tunnel_is_a_close_code_error(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    stream_settings(server).refuse_apps = True
    async with client.stream_proxy(running, "sshd") as tunnel:
        with pytest.raises(WebSocketClosedError) as info:
            await tunnel.receive()
        with pytest.raises(WebSocketClosedError):  # the same error on every later use
            await tunnel.send(b"x")
    assert info.value.close_code == 1013


@pytest.mark.parametrize(
    ("code", "error"),
    [(1011, WebSocketClosedError), (1008, WebSocketClosedError), (4001, WebSocketClosedError)],
)
async def test_server_close_codes_become_errors(
    client: Client, server: BackendAITestServer, running: str, code: int, error: type
) -> None:
    settings = stream_settings(server)
    settings.close_code, settings.close_after = code, 1
    async with client.stream_pty(running) as pty:
        await pty.receive()
        await pty.send(b"x")
        assert await pty.receive() == b"x"
        with pytest.raises(error) as info:
            await pty.receive()
    assert info.value.close_code == code
    assert "closed by the test server" in str(info.value)
    assert info.value.type.name == "ERR_SERVER"


@pytest.mark.parametrize("code", [1000, 1001])
async def test_a_normal_close_ends_the_stream(
    client: Client, server: BackendAITestServer, running: str, code: int
) -> None:
    stream_settings(server).close_code = code
    async with client.stream_pty(running) as pty:
        assert [chunk async for chunk in pty] == [b"$ "]
        assert await pty.receive() is None


async def read_to_the_end(pty: PtyStream) -> None:
    while await pty.receive() is not None:
        pass


async def test_a_dropped_connection_is_a_request_error(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    settings = stream_settings(server)
    settings.drop, settings.close_after = True, 1
    async with client.stream_pty(running) as pty:
        await pty.receive()
        await pty.send(b"x")  # the server cuts the connection here, without a close frame
        with pytest.raises(RequestError, match="broke"):
            await read_to_the_end(pty)


async def test_a_missing_session_is_refused_before_the_upgrade(client: Client) -> None:
    with pytest.raises(ServerError) as info:
        async with client.stream_pty("no-such-session"):
            pass  # pragma: no cover
    assert info.value.status == 404
    assert "upgrade was refused" in str(info.value)
    assert acquired_connections(client) == 0


async def test_a_wrong_key_is_an_authentication_error(
    make_client: ClientFactory, server: BackendAITestServer, running: str
) -> None:
    bad = make_client(ClientConfig(server.access_key, "wrong" * 8, str(server.endpoint)))
    with pytest.raises(AuthenticationError):
        async with bad.stream_pty(running):
            pass  # pragma: no cover


async def test_a_session_that_cannot_stream_hits_the_first_frame_limit(
    client: Client, server: BackendAITestServer
) -> None:
    session_store(server).auto_start = False
    await client.create_if_not_exists("python", "sess-02")  # PENDING: 101, then silence
    async with client.stream_pty("sess-02", first_frame_timeout=0.1) as pty:
        with pytest.raises(RequestTimeoutError) as info:
            await pty.receive()
        assert pty.closed
    assert info.value.phase == "first-frame"
    assert acquired_connections(client) == 0


async def test_the_idle_limit_applies_after_the_first_frame(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    async with client.stream_pty(running, idle_timeout=0.1) as pty:
        assert await pty.receive() == b"$ "
        with pytest.raises(RequestTimeoutError) as info:
            await pty.receive()
    assert info.value.phase == "idle"


async def test_a_slow_consumer_stops_the_server_and_loses_nothing(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    settings = stream_settings(server)
    flood = settings.flood = 32 * 1024 * 1024
    async with client.stream_pty(running, heartbeat=None) as pty:
        assert await pty.receive() == b"$ "
        await settings.wait_until(lambda s: s.flood_blocked, timeout=30)  # TCP pushed back
        assert settings.flood_sent < flood
        received = 0
        while received < flood:
            chunk = await pty.receive()
            assert chunk is not None
            received += len(chunk)
    assert received == flood


async def test_cancelling_a_receive_leaves_nothing_open(
    client: Client, server: BackendAITestServer, running: str
) -> None:
    async def read_forever() -> None:
        async with client.stream_pty(running) as pty:
            while True:
                await pty.receive()

    task = asyncio.create_task(read_forever())
    await stream_settings(server).wait_until(lambda s: s.open_sockets == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired_connections(client) == 0
    await stream_settings(server).wait_until(lambda s: s.open_sockets == 0)


async def test_abort_and_close_interrupt_a_receive(
    server: BackendAITestServer, make_client: ClientFactory
) -> None:
    client = make_client()
    await client.create_if_not_exists("python", "sess-03")
    settings = stream_settings(server)

    async def type_then_wait(pty: PtyStream, count: int) -> None:
        await pty.send(b"x")
        await pty.receive()  # the echo
        await pty.receive()  # nothing more comes: this waits (in flight)

    ctl = AbortController()
    async with client.stream_pty("sess-03", signal=ctl.signal) as pty:
        await pty.receive()
        waiting = asyncio.create_task(type_then_wait(pty, 1))
        await settings.wait_until(lambda s: len(s.typed) == 1)
        ctl.abort("bye")
        with pytest.raises(AbortError, match="bye"):
            await waiting
    async with client.stream_pty("sess-03") as pty:
        await pty.receive()
        waiting = asyncio.create_task(type_then_wait(pty, 2))
        await settings.wait_until(lambda s: len(s.typed) == 2)
        await client.close()
        with pytest.raises(AbortError):
            await waiting
    await settings.wait_until(lambda s: s.open_sockets == 0)


async def test_an_old_server_streams_under_stream_kernel(
    make_client: ClientFactory,
) -> None:
    async with BackendAITestServer(api_version="v4.20190615", manager_version="19.09.0") as old:
        client = make_client(ClientConfig(old.access_key, old.secret_key, str(old.endpoint)))
        await client.create_if_not_exists("python", "sess-04")
        async with client.stream_pty("sess-04") as pty:
            assert await pty.receive() == b"$ "
        assert upgrades(old, "/pty") == ["/stream/kernel/sess-04/pty"]


async def test_session_mode_streams_through_the_webserver(server: BackendAITestServer) -> None:
    async with BackendAITestWebserver(manager=server) as web:
        user = EXAMPLE_WEB_USERS[1]
        config = ClientConfig(user.email, user.password, str(web.endpoint), "SESSION")
        async with Client(config) as client:
            await client.login()
            await client.create_if_not_exists("python", "sess-05")
            async with client.stream_pty("sess-05") as pty:
                assert await pty.receive() == b"$ "
                await pty.send(b"pwd\n")
                assert await pty.receive() == b"pwd\n"
            assert acquired_connections(client) == 0
    assert [r.path for r in web.requests if "/stream/" in r.path] == [
        "/func/stream/session/sess-05/pty"
    ]
    record = next(r for r in server.requests if r.path.endswith("/pty"))
    assert record.access_key == user.access_key
    assert record.auth_ok


async def test_a_callers_session_cannot_sign_an_upgrade(
    server: BackendAITestServer, running: str
) -> None:
    async with aiohttp.ClientSession() as own:
        config = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(config, session=own) as client:
            with pytest.raises(RuntimeError, match="own aiohttp session"):
                async with client.stream_pty(running):
                    pass  # pragma: no cover


def test_bad_arguments_fail_before_sending(client: Client, server: BackendAITestServer) -> None:
    with pytest.raises(ValueError, match="session"):
        client.stream_pty("a/b")
    with pytest.raises(ValueError, match="mode"):
        client.stream_execute("sess-01", mode="input")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        client.stream_proxy("sess-01", "sshd", port=80)
    with pytest.raises(ValueError, match="first_frame_timeout"):
        client.stream_pty("sess-01", first_frame_timeout=0)
    assert server.requests == []


async def test_bad_send_arguments_are_type_errors(client: Client, running: str) -> None:
    async with client.stream_pty(running) as pty:
        with pytest.raises(TypeError):
            await pty.send(42)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="rows"):
            await pty.resize(0, 80)


async def test_26_refuses_the_streams_of_a_session_that_is_not_running(
    make_client: ClientFactory,
) -> None:
    async with BackendAITestServer(api_version="v9.20250722", manager_version="26.9.6") as new:
        session_store(new).auto_start = False
        client = make_client(ClientConfig(new.access_key, new.secret_key, str(new.endpoint)))
        await client.create_if_not_exists("python", "sess-06")
        with pytest.raises(ServerError) as info:
            async with client.stream_pty("sess-06"):
                pass  # pragma: no cover
        assert info.value.status == 404

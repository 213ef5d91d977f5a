"""Signatures over real loopback HTTP, verified by the test server's independent verifier."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme

from backendai_async import AuthenticationError, Client, ClientConfig, RequestError, ServerError
from backendai_async.testing import BackendAITestServer

from .conftest import ClientFactory

ECHO = "/_test/echo"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PATCH", "PUT"])
async def test_every_method_is_signed_and_accepted(
    client: Client, server: BackendAITestServer, method: str
) -> None:
    body = {"name": "x"} if method in ("POST", "PATCH", "PUT") else None
    seen = await client.request(method, f"{ECHO}/a", json=body, params={"q": "1"})
    assert seen["method"] == method
    assert seen["access_key"] == server.access_key
    assert seen["json"] == body
    last = server.requests[-1]
    assert last.auth_ok is True
    assert last.headers["Content-Type"] == "application/json"
    assert last.headers["X-BackendAI-Version"] == "v6.20230315"
    assert last.headers["Authorization"].startswith("BackendAI signMethod=HMAC-SHA256, credential=")


@pytest.mark.parametrize(
    ("path", "params", "expected_query"),
    [
        ("/plain", None, []),
        ("/with space/dir", {"path": "a b"}, [["path", "a b"]]),
        ("/데이터/files", {"path": "한글 폴더"}, [["path", "한글 폴더"]]),
        ("/repeat", [("k", "1"), ("k", "2"), ("x", "a/b")], [["k", "1"], ["k", "2"], ["x", "a/b"]]),
        (
            "/pre?scaling_group=a%2Fb&group=default",
            None,
            [["scaling_group", "a/b"], ["group", "default"]],
        ),
        ("/sym", {"q": "a+b&c=d;e", "e": "é?#"}, [["q", "a+b&c=d;e"], ["e", "é?#"]]),
        ("/name.with.dots", {"empty": ""}, [["empty", ""]]),
    ],
)
async def test_paths_and_queries_sign_exactly_what_is_sent(
    client: Client, path: str, params: Any, expected_query: list[list[str]]
) -> None:
    seen = await client.request("GET", ECHO + path, params=params)
    assert seen["query"] == expected_query
    assert seen["access_key"] is not None


@pytest.mark.parametrize(
    "version",
    ["v3.20170615", "v4.20181215", "v4.20190615", "v5.20191215", "v6.20200815", "v6.20230315"],
)
async def test_every_api_version_from_v3_to_v6_signs_correctly(
    make_client: ClientFactory, server: BackendAITestServer, version: str
) -> None:
    server.api_version = version
    client = make_client()
    seen = await client.request("POST", f"{ECHO}/v", json={"hashed": version < "v4.20181215"})
    assert client.api_version == version
    assert seen["access_key"] == server.access_key
    assert server.requests[-1].headers["X-BackendAI-Version"] == version


async def test_v3_hashes_the_json_body_into_the_signature(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    # A v3 server recomputes sha256(body); only a signer that hashed these bytes passes.
    server.api_version = "v3.20170615"
    client = make_client()
    seen = await client.request("POST", f"{ECHO}/ok", json={"a": 1, "b": "한"})
    assert seen["json"] == {"a": 1, "b": "한"}
    assert seen["access_key"] == server.access_key


async def test_a_wrong_secret_is_a_401_authentication_error(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(ClientConfig(server.access_key, "not-the-secret", str(server.endpoint)))
    with pytest.raises(AuthenticationError) as info:
        await client.request("GET", "/auth/role")
    err = info.value
    assert err.status == 401
    assert err.problem_type == "https://api.backend.ai/probs/auth-failed"
    assert "Signature mismatch" in err.message
    assert "not-the-secret" not in repr(err.to_dict())


async def test_an_unknown_access_key_is_refused(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(ClientConfig("AKIANOSUCHKEY0000000", "x", str(server.endpoint)))
    with pytest.raises(ServerError, match="Access key not found"):
        await client.request("GET", "/auth/role")


async def test_the_agent_signature_ends_the_user_agent_the_server_sees(
    server: BackendAITestServer,
) -> None:
    # The JS SDK's mangleUserAgentSignature(): "<client name and version>; <agentSignature>".
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    async with Client(cfg, "my-app/1.2") as client:
        await client.request("GET", f"{ECHO}/ua")
        assert client.user_agent.endswith("; my-app/1.2")
        assert client.user_agent.startswith("Backend.AI Client for Python")
    assert server.requests[-1].headers["User-Agent"] == client.user_agent
    assert server.requests[-1].auth_ok is True
    async with Client(cfg) as plain:
        await plain.request("GET", f"{ECHO}/ua")
    assert server.requests[-1].headers["User-Agent"] == plain.user_agent
    assert ";" not in plain.user_agent


async def test_user_middlewares_run_outside_the_signer(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    seen_auth: list[str | None] = []

    async def outer(req: Any, handler: Any) -> Any:
        seen_auth.append(req.headers.get("Authorization"))
        req.headers["X-Custom"] = "1"
        return await handler(req)

    client = make_client(middlewares=[outer])
    await client.request("GET", "/auth/role")
    # GET / (negotiation) and the call; the signer had not run yet: it signs the final request
    assert seen_auth == [None, None]
    assert server.requests[-1].headers["X-Custom"] == "1"
    assert server.requests[-1].auth_ok


async def test_a_session_passed_in_is_used_with_its_middlewares_and_not_closed(
    server: BackendAITestServer,
) -> None:
    import aiohttp

    calls: list[str] = []

    async def session_mw(req: Any, handler: Any) -> Any:
        calls.append(req.url.path)
        return await handler(req)

    async with aiohttp.ClientSession(middlewares=(session_mw,)) as session:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg, session=session) as client:
            role = await client.request("GET", "/auth/role")
        assert role["global_role"] == "superadmin"
        assert not session.closed
        assert "/auth/role" in calls


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@contextlib.asynccontextmanager
async def tls_server(ca: trustme.CA) -> AsyncIterator[BackendAITestServer]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    async with BackendAITestServer(ssl_context=server_ctx) as srv:
        yield srv


async def test_https_with_a_trusted_certificate(ca: trustme.CA) -> None:
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with tls_server(ca) as srv:
        cfg = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint), ssl=client_ctx)
        async with Client(cfg) as client:
            seen = await client.request("GET", f"{ECHO}/tls", params={"a": "b c"})
        assert seen["access_key"] == srv.access_key
        assert str(srv.endpoint).startswith("https://")


async def test_https_with_an_untrusted_certificate_is_a_request_error(ca: trustme.CA) -> None:
    async with tls_server(ca) as srv:
        cfg = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint))
        async with Client(cfg) as client:
            with pytest.raises(RequestError, match="TLS") as info:
                await client.request("GET", "/auth/role", retry=2)
        assert info.value.attempts == 1  # a verification failure is never retried
        assert srv.count() == 0


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not _port_free(80), reason="port 80 on 127.0.0.1 is taken or not bindable")
async def test_an_explicit_default_port_signs_the_host_header_actually_sent() -> None:
    # The JS and official Python SDKs sign "host:80" while the Host header says "host".
    async with BackendAITestServer(port=80) as srv:
        cfg = ClientConfig(srv.access_key, srv.secret_key, "http://127.0.0.1:80")
        async with Client(cfg) as client:
            seen = await client.request("GET", f"{ECHO}/p80")
        assert seen["host"] == "127.0.0.1"
        assert seen["access_key"] == srv.access_key

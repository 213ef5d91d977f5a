"""Every ErrorType from a real fault on loopback, classified by the phase that failed."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from backendai_async import (
    AuthenticationError,
    Client,
    ClientConfig,
    ClientError,
    ErrorType,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    UnderlyingError,
    UnknownError,
)
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import ClientFactory, acquired_connections


async def _fail(client: Client, *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        await client.request(*args, **kwargs)
    assert acquired_connections(client) == 0
    return info.value


async def test_connection_refused_is_a_request_error(free_port: int) -> None:
    cfg = ClientConfig("AK", "SK", f"http://127.0.0.1:{free_port}")
    async with Client(cfg) as client:
        err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, RequestError)
    assert err.type is ErrorType.ERR_REQUEST
    assert err.sent is False
    assert f"127.0.0.1:{free_port}" in err.message
    assert err.problem_type.endswith("/client-request-error")
    assert isinstance(err.__cause__, UnderlyingError)
    assert issubclass(err.__cause__.exc_type, aiohttp.ClientConnectorError)


class _NoDns(aiohttp.abc.AbstractResolver):
    """A resolver that knows no host, so the DNS failure needs no network."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> Any:
        raise OSError(-2, f"Name or service not known: {host}")

    async def close(self) -> None:
        return None


async def test_unresolvable_host_is_a_request_error() -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_NoDns())) as session:
        cfg = ClientConfig("AK", "SK", "http://backend.invalid:8081")
        async with Client(cfg, session=session) as client:
            err = await _fail(client, "GET", "/")
    assert isinstance(err, RequestError)
    assert "cannot resolve host 'backend.invalid'" in err.message


async def test_close_before_status_line_is_a_request_error(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(path="/auth/role", drop=True, times=None))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, RequestError)
    assert "closed the connection" in err.message


async def test_a_dropped_post_is_not_resent(client: Client, server: BackendAITestServer) -> None:
    # aiohttp itself resends an idempotent request once on a stale keep-alive connection;
    # a POST that may have reached the server must never be sent twice.
    server.add_fault(Fault(method="POST", path="/auth", drop=True))
    err = await _fail(client, "POST", "/auth", json={"echo": "x"}, retry=3)
    assert isinstance(err, RequestError)
    assert err.attempts == 1
    assert server.count("POST", "/auth") == 1


async def test_reset_mid_body_is_a_response_error(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(path="/auth/role", reset_mid_body=True))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ResponseError)
    assert err.type is ErrorType.ERR_RESPONSE
    assert err.status == 200


async def test_malformed_json_on_2xx_is_a_response_error(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(path="/auth/role", malformed_json=True))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ResponseError)
    assert "unusable application/json body" in err.message


async def test_json_null_on_2xx_decodes_to_none(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(path="/auth/role", json_null=True))
    assert await client.request("GET", "/auth/role") is None


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (
            Fault(
                path="/auth/role",
                status=500,
                body="<html><h1>oops</h1></html>",
                content_type="text/html",
            ),
            None,
        ),
        (Fault(path="/auth/role", status=502, body=b""), None),
        (
            Fault(
                path="/auth/role", status=503, body="maintenance window", content_type="text/plain"
            ),
            "maintenance window",
        ),
        (Fault(path="/auth/role", problem=(409, "conflict", "Conflict!", None)), "Conflict!"),
    ],
)
async def test_error_statuses_are_server_errors_whatever_the_body(
    client: Client, server: BackendAITestServer, fault: Fault, detail: str | None
) -> None:
    server.add_fault(fault)
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ServerError)
    assert err.type is ErrorType.ERR_SERVER
    assert err.status == (fault.status or (fault.problem or (0,))[0])
    if detail:
        assert detail in err.message
    assert err.message.startswith(f"server responded failure: {err.status} ")


async def test_server_problem_type_title_and_body_are_kept(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(
        Fault(path="/auth/role", problem=(404, "object-not-found", "No such session.", "Session x"))
    )
    err = await _fail(client, "GET", "/auth/role")
    assert err.problem_type == "https://api.backend.ai/probs/object-not-found"
    assert err.title == "404 Not Found - No such session."
    assert err.description == "Session x"
    assert err.body["title"] == "No such session."
    d = err.to_dict()
    assert d["isError"] is True
    assert d["type"] == 0
    assert d["statusCode"] == 404
    assert d["statusText"] == "Not Found"
    assert d["problemType"] == err.problem_type
    assert d["requestMethod"] == "GET"
    assert d["requestUrl"].endswith("/auth/role")
    assert d["timestamp"].endswith("GMT")


async def test_a_redirect_is_not_followed(client: Client, server: BackendAITestServer) -> None:
    server.add_fault(Fault(path="/auth/role", redirect="http://127.0.0.2:1/steal"))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ServerError)
    assert err.status == 307
    assert "not followed" in err.message
    assert server.count() == 2  # the probe and the call: nothing went to the other host


async def test_clock_skew_is_explained_with_the_measured_offset(
    client: Client, server: BackendAITestServer
) -> None:
    server.clock_offset = 3600.0
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ServerError)
    assert "Date/time sync error" in err.message
    assert "clock skew" in err.message


async def test_a_body_over_the_limit_is_refused(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    client = make_client(max_response_size=1000)
    server.add_fault(Fault(path="/auth/role", body_size=5000))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, ResponseError)
    assert "max_response_size" in err.message


async def test_stall_before_headers_hits_the_deadline(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(Fault(path="/auth/role", delay=30))
    err = await _fail(client, "GET", "/auth/role", timeout=0.3)
    assert isinstance(err, RequestTimeoutError)
    assert err.type is ErrorType.ERR_TIMEOUT
    assert (err.phase, err.limit, err.status) == ("total", 0.3, 408)
    assert "0.3 s" in err.message


async def test_stall_mid_body_hits_the_idle_read_limit(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    from backendai_async import Timeouts

    client = make_client(timeouts=Timeouts(total=None, read=0.3))
    server.add_fault(Fault(path="/auth/role", stall_mid_body=30))
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, RequestTimeoutError)
    assert err.phase == "read"


async def test_something_unexpected_is_an_unknown_error(client: Client) -> None:
    async def broken_reader(resp: Any, limit: int | None) -> Any:
        raise KeyError("bug")

    with pytest.raises(UnknownError) as info:
        await client._api.send("GET", "/auth/role", reader=broken_reader)
    assert info.value.type is ErrorType.ERR_UNKNOWN
    assert isinstance(info.value.__cause__, UnderlyingError)
    assert info.value.__cause__.exc_type is KeyError


async def test_a_401_is_an_authentication_error_subclass(
    client: Client, server: BackendAITestServer
) -> None:
    server.add_fault(
        Fault(
            path="/auth/role", problem=(401, "auth-failed", "Credential/signature mismatch.", "x")
        )
    )
    err = await _fail(client, "GET", "/auth/role")
    assert isinstance(err, AuthenticationError)
    assert isinstance(err, ServerError)

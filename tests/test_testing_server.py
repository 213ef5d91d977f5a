"""The fake manager over real loopback HTTP, driven by raw aiohttp and a hand-written signer.

Nothing from the SDK is used here: these tests pin the server's behaviour on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import ssl
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
import trustme
import yarl
from aiohttp import web

from backendai_async.testing import (
    EXAMPLE_KEYPAIRS,
    STATE_KEY,
    BackendAITestServer,
    Fault,
    ServerState,
    event_hub,
)
from backendai_async.testing._users import EXAMPLE_USERS

ADMIN_AK = "AKIAIOSFODNN7EXAMPLE"
USER_AK = "AKIANABBDUSEREXAMPLE"
V6 = "v6.20230315"
PROBS = "https://api.backend.ai/probs/"


def signed_headers(
    method: str,
    url: yarl.URL,
    access_key: str = ADMIN_AK,
    secret_key: str | None = None,
    *,
    version: str | None = V6,
    date: datetime | str | None = None,
    body: bytes = b"",
    content_type: str = "application/json",
    date_header: str = "X-BackendAI-Date",
) -> dict[str, str]:
    """Headers of a request signed the way the manager checks it (independent of the SDK)."""
    secret = secret_key if secret_key is not None else EXAMPLE_KEYPAIRS[access_key]
    when = date if date is not None else datetime.now(timezone.utc)
    raw_date = when if isinstance(when, str) else when.isoformat()
    key_date = (when if isinstance(when, datetime) else datetime.now(timezone.utc)).strftime(
        "%Y%m%d"
    )
    host = f"{url.host}:{url.port}"
    ver = version or V6
    body_hash = hashlib.sha256(body if ver < "v4.20181215" else b"").hexdigest()
    sign_string = (
        f"{method}\n{url.raw_path_qs}\n{raw_date}\nhost:{host}\n"
        f"content-type:{content_type}\nx-backendai-version:{ver}\n{body_hash}"
    )
    k1 = hmac.new(secret.encode(), key_date.encode(), hashlib.sha256).digest()
    k2 = hmac.new(k1, host.encode(), hashlib.sha256).digest()
    sig = hmac.new(k2, sign_string.encode(), hashlib.sha256).hexdigest()
    headers = {
        date_header: raw_date,
        "Content-Type": content_type,
        "Authorization": f"BackendAI signMethod=HMAC-SHA256, credential={access_key}:{sig}",
    }
    if version is not None:
        headers["X-BackendAI-Version"] = version
    return headers


async def signed(
    http: aiohttp.ClientSession,
    method: str,
    url: yarl.URL,
    access_key: str = ADMIN_AK,
    secret_key: str | None = None,
    *,
    json_body: Any = None,
    **kw: Any,
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """Send a signed request; returns status, decoded body (JSON when possible) and response."""
    body = b"" if json_body is None else json.dumps(json_body).encode()
    headers = signed_headers(method, url, access_key, secret_key, body=body, **kw)
    async with http.request(method, url, headers=headers, data=body or None) as resp:
        text = await resp.text()
        try:
            decoded: Any = json.loads(text)
        except ValueError:
            decoded = text
        return resp.status, decoded, resp


@pytest.fixture
async def server() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer() as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # a fresh connection per request: aiohttp silently resends an idempotent request once
    # when a reused keep-alive connection turns out dead, which would hide dropped requests
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        yield s


def problem(kind: str, title: str, msg: str | None = None) -> dict[str, str]:
    body = {"type": PROBS + kind, "title": title}
    if msg is not None:
        body["msg"] = msg
    return body


AUTH_FAILED = "Credential/signature mismatch."
INVALID_AUTH = "Missing or invalid authorization parameters."


# --- versions and unauthenticated routes ------------------------------------------------


async def test_root_announces_versions_with_a_date_header(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200
        assert await resp.json() == {"version": V6, "manager": "23.09.10"}
        assert "Date" in resp.headers
        assert resp.headers["Server"] == "BackendAI"
    server.api_version, server.manager_version = "v4.20190615", "19.09.0"
    async with http.get(server.url("/")) as resp:
        assert await resp.json() == {"version": "v4.20190615", "manager": "19.09.0"}


async def test_server_endpoint_and_default_keypair(server: BackendAITestServer) -> None:
    assert server.endpoint.scheme == "http"
    assert server.endpoint.host == "127.0.0.1"
    assert server.endpoint.port
    assert server.endpoint.port > 0
    assert (server.access_key, server.secret_key) == (ADMIN_AK, EXAMPLE_KEYPAIRS[ADMIN_AK])
    assert isinstance(server.app, web.Application)
    assert server.app.frozen


async def test_version_header_is_checked_on_every_request(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    unsupported = problem("generic-bad-request", "Bad request.", "Unsupported API version.")
    for version in ("v8.20240101", "v7.20230615", "v3.20170615", "nonsense"):
        async with http.get(server.url("/"), headers={"X-BackendAI-Version": version}) as resp:
            assert resp.status == 400, version
            assert resp.content_type == "application/problem+json"
            assert await resp.json() == unsupported
        status, body, _ = await signed(http, "GET", server.url("/auth/role"), version=version)
        assert (status, body) == (400, unsupported)


async def test_unknown_path_and_method(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await signed(http, "GET", server.url("/no/such/path"))
    assert status == 404
    assert body == {**problem("url-not-found", "Unknown URL path."), "data": "/no/such/path"}
    status, body, resp = await signed(http, "DELETE", server.url("/auth/role"))
    assert status == 405
    assert body == problem("method-not-allowed", "HTTP Method Not Allowed.")
    assert "GET" in resp.headers["Allow"]


# --- authentication ---------------------------------------------------------------------


async def test_signed_role_for_superadmin_and_user(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    status, body, resp = await signed(http, "GET", server.url("/auth/role"))
    assert status == 200
    assert resp.headers["Server"] == "BackendAI"
    assert body == {"global_role": "superadmin", "domain_role": "admin", "group_role": None}
    status, body, _ = await signed(http, "GET", server.url("/auth/role"), USER_AK)
    assert body == {"global_role": "user", "domain_role": "user", "group_role": None}


async def test_role_with_group_parameter(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    group = "0b7c1f2e-4a55-4c3e-9d7a-1a2b3c4d5e10"
    status, body, _ = await signed(http, "GET", server.url(f"/auth/role?group={group}"), USER_AK)
    assert (status, body["group_role"]) == (200, "user")
    other = "0b7c1f2e-4a55-4c3e-9d7a-1a2b3c4d5e11"
    status, body, _ = await signed(http, "GET", server.url(f"/auth/role?group={other}"))
    assert status == 404
    assert body["type"] == PROBS + "object-not-found"
    status, body, _ = await signed(http, "GET", server.url("/auth/role?group=zzz"))
    assert status == 400
    assert body["type"] == PROBS + "invalid-api-params"


async def test_wrong_secret_is_401_signature_mismatch(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    status, body, resp = await signed(http, "GET", server.url("/auth/role"), secret_key="wrong")
    assert status == 401
    assert resp.headers["Content-Type"] == "application/problem+json; charset=utf-8"
    assert body == problem("auth-failed", AUTH_FAILED, "Signature mismatch")


async def test_unknown_access_key_is_401(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    url = server.url("/auth/role")
    status, body, _ = await signed(http, "GET", url, "AKIANOSUCHKEY", secret_key="x")
    assert (status, body) == (401, problem("auth-failed", AUTH_FAILED, "Access key not found"))


async def test_missing_authorization_is_401(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    headers = {"X-BackendAI-Date": datetime.now(timezone.utc).isoformat()}
    async with http.get(server.url("/auth/role"), headers=headers) as resp:
        assert resp.status == 401
        assert await resp.json() == problem("auth-failed", AUTH_FAILED, "Unauthorized access")


async def test_malformed_authorization_is_400(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    url = server.url("/auth/role")
    headers = signed_headers("GET", url)
    headers["Authorization"] = "BackendAI signMethod=HMAC-SHA256"
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 400
        assert await resp.json() == problem(
            "invalid-auth-params", INVALID_AUTH, "Missing or malformed authorization parameters"
        )


async def test_date_out_of_window_is_400(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    sync_error = problem("invalid-auth-params", INVALID_AUTH, "Date/time sync error")
    now = datetime.now(timezone.utc)
    for skew in (timedelta(minutes=-16), timedelta(minutes=16)):
        status, body, _ = await signed(http, "GET", server.url("/auth/role"), date=now + skew)
        assert (status, body) == (400, sync_error)
    status, _, _ = await signed(
        http, "GET", server.url("/auth/role"), date=now - timedelta(minutes=14)
    )
    assert status == 200


async def test_clock_offset_skews_the_server_clock(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.clock_offset = 3600.0
    status, body, _ = await signed(http, "GET", server.url("/auth/role"))
    assert (status, body["msg"]) == (400, "Date/time sync error")
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    status, _, _ = await signed(http, "GET", server.url("/auth/role"), date=later)
    assert status == 200


async def test_missing_version_is_400_on_auth_routes_only(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await signed(http, "GET", server.url("/auth/role"), version=None)
    assert (status, body) == (
        400,
        problem("invalid-auth-params", INVALID_AUTH, "API version missing in request headers"),
    )
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "date",
    [
        "{now:%Y-%m-%dT%H:%M:%S}.{ms:03d}Z",
        "{now:%Y-%m-%dT%H:%M:%S}+00:00",
        "{now:%Y-%m-%dT%H:%M:%S}",
    ],
)
async def test_date_formats_and_the_date_header(
    server: BackendAITestServer, http: aiohttp.ClientSession, date: str
) -> None:
    now = datetime.now(timezone.utc)
    raw = date.format(now=now, ms=now.microsecond // 1000)
    for header in ("X-BackendAI-Date", "Date"):
        status, _, _ = await signed(
            http, "GET", server.url("/auth/role"), date=raw, date_header=header
        )
        assert status == 200, (raw, header)


async def test_date_header_wins_over_x_backendai_date(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    url = server.url("/auth/role")
    headers = signed_headers("GET", url, date_header="Date")
    async with http.get(url, headers={**headers, "X-BackendAI-Date": "garbage"}) as resp:
        assert resp.status == 200
    headers = signed_headers("GET", url)
    async with http.get(url, headers={**headers, "Date": "garbage"}) as resp:
        assert resp.status == 400


async def test_signed_content_type_is_the_media_type_without_parameters(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    url = server.url("/auth/role")
    headers = signed_headers("GET", url, content_type="application/json")
    headers["Content-Type"] = "application/json; charset=utf-8"
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 200
    # no Content-Type on the wire: the server signs application/octet-stream
    headers = signed_headers("GET", url, content_type="application/octet-stream")
    del headers["Content-Type"]
    async with http.get(url, headers=headers, skip_auto_headers=["Content-Type"]) as resp:
        assert resp.status == 200


async def test_v3_server_hashes_the_signed_body() -> None:
    async with (
        BackendAITestServer(api_version="v3.20170615") as server,
        aiohttp.ClientSession() as http,
    ):
        url = server.url("/auth")
        body = json.dumps({"echo": "hashed"}).encode()
        headers = signed_headers("POST", url, version="v3.20170615", body=body)
        async with http.post(url, headers=headers, data=body) as resp:
            assert resp.status == 200
            assert await resp.json() == {"authorized": "yes", "echo": "hashed"}
        # the signature over an empty body no longer matches once a body is sent
        headers = signed_headers("POST", url, version="v3.20170615", body=b"")
        async with http.post(url, headers=headers, data=body) as resp:
            assert resp.status == 401
        # a v4 version header is refused by a v3 server
        headers = signed_headers("POST", url, version="v4.20190615", body=body)
        async with http.post(url, headers=headers, data=body) as resp:
            assert resp.status == 400


async def test_v3_multipart_body_is_not_hashed() -> None:
    async with (
        BackendAITestServer(api_version="v3.20170615") as server,
        aiohttp.ClientSession() as http,
    ):
        url = server.url("/_test/echo/upload")
        form = aiohttp.FormData()
        form.add_field("src", b"data", filename="a.txt")
        payload = form()
        headers = signed_headers(
            "POST", url, version="v3.20170615", content_type="multipart/form-data"
        )
        headers["Content-Type"] = payload.content_type
        async with http.post(url, headers=headers, data=payload) as resp:
            assert resp.status == 200
            assert (await resp.json())["content_type"] == "multipart/form-data"


async def test_keypairs_with_explicit_roles(http: aiohttp.ClientSession) -> None:
    keypairs = {"AKUSER": ("user-secret", "user"), "AKADMIN": ("admin-secret", "admin")}
    async with BackendAITestServer(keypairs=keypairs) as server:
        assert (server.access_key, server.secret_key) == ("AKUSER", "user-secret")
        url = server.url("/auth/role")
        status, body, _ = await signed(http, "GET", url, "AKADMIN", "admin-secret")
        assert (status, body["global_role"], body["domain_role"]) == (200, "user", "admin")
        status, body, _ = await signed(http, "GET", url, ADMIN_AK)
        assert (status, body["msg"]) == (401, "Access key not found")


# --- the other core routes --------------------------------------------------------------


async def test_auth_echo_route(server: BackendAITestServer, http: aiohttp.ClientSession) -> None:
    status, body, _ = await signed(http, "GET", server.url("/auth?echo=hi%20there"))
    assert (status, body) == (200, {"authorized": "yes", "echo": "hi there"})
    status, body, _ = await signed(http, "POST", server.url("/auth"), json_body={"echo": "x"})
    assert (status, body) == (200, {"authorized": "yes", "echo": "x"})
    status, body, _ = await signed(http, "GET", server.url("/auth"))
    assert status == 400
    assert body["data"] == {"echo": "is required"}


async def test_echo_route_reports_what_it_saw(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    raw = "/_test/echo/my%20folder/%ED%95%9C?x=1&x=2&path=a+b&s=a%2Fb"
    url = server.url(raw)
    assert url.raw_path_qs == raw
    status, body, _ = await signed(http, "PATCH", url, json_body={"k": [1, 2]})
    assert status == 200
    assert body["method"] == "PATCH"
    assert body["raw_path"] == raw
    assert body["path"] == "/_test/echo/my folder/한"
    assert body["query"] == [["x", "1"], ["x", "2"], ["path", "a b"], ["s", "a/b"]]
    assert body["json"] == {"k": [1, 2]}
    assert body["content_type"] == "application/json"
    assert body["access_key"] == ADMIN_AK


async def test_graphql_legacy_and_standard_shapes(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    query = {"query": "{ me: user { email } }", "variables": {"a": 1}}
    me = {"me": {"email": EXAMPLE_USERS["admin@lablup.com"]["email"]}}
    status, body, _ = await signed(http, "POST", server.url("/admin/graphql"), json_body=query)
    assert (status, body) == (200, me)
    status, body, _ = await signed(http, "POST", server.url("/admin/gql"), json_body=query)
    assert (status, body) == (200, {"data": me})
    unknown = {"query": "query {\n  nope { x }\n}"}
    error = {  # as 23.09 words it (without its "Did you mean" hint); no path: nothing ran
        "message": "Cannot query field 'nope' on type 'Queries'.",
        "locations": [{"line": 2, "column": 3}],
    }
    status, body, _ = await signed(http, "POST", server.url("/admin/gql"), json_body=unknown)
    assert (status, body) == (200, {"data": None, "errors": [error]})


async def test_graphql_superadmin_only_field(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    query = {"query": "{ agent_list(limit: 1, offset: 0) { total_count } }"}
    error = {
        "message": "Forbidden operation. (superadmin privilege required)",
        "locations": [{"line": 1, "column": 3}],
        "path": ["agent_list"],
    }
    url = server.url("/admin/graphql")
    status, body, _ = await signed(http, "POST", url, USER_AK, json_body=query)
    assert status == 400
    assert body == {**problem("graphql-error", "GraphQL-generated error."), "data": [error]}
    status, body, _ = await signed(http, "POST", server.url("/admin/gql"), USER_AK, json_body=query)
    assert (status, body) == (200, {"data": {"agent_list": None}, "errors": [error]})
    status, body, _ = await signed(http, "POST", url, json_body=query)
    assert status == 200


async def test_graphql_resolvers_and_old_servers(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.state.graphql_fields["user"] = lambda variables, kp: {"role": kp.role}
    query = {"query": "{ user { role } }"}
    status, body, _ = await signed(
        http, "POST", server.url("/admin/graphql"), USER_AK, json_body=query
    )
    assert (status, body) == (200, {"user": {"role": "user"}})
    server.api_version = "v6.20200815"
    url = server.url("/admin/gql")
    status, body, _ = await signed(http, "POST", url, json_body=query, version="v6.20200815")
    assert status == 404
    assert body["type"] == PROBS + "url-not-found"


async def test_graphql_validation(server: BackendAITestServer, http: aiohttp.ClientSession) -> None:
    status, body, _ = await signed(http, "POST", server.url("/admin/graphql"), json_body={"q": 1})
    assert status == 400
    assert list(body["data"].items()) == [("query", "is required"), ("q", "q is not allowed key")]


# --- recording --------------------------------------------------------------------------


async def test_requests_are_recorded_including_rejected_ones(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200
    await signed(http, "POST", server.url("/auth?x=1"), json_body={"echo": "e"})
    await signed(http, "GET", server.url("/auth/role"), secret_key="wrong")
    root, ok, bad = server.requests
    assert (root.method, root.path, root.auth_ok, root.access_key, root.status) == (
        "GET",
        "/",
        None,
        None,
        200,
    )
    assert (ok.method, ok.path, ok.raw_path) == ("POST", "/auth", "/auth?x=1")
    assert ok.query["x"] == "1"
    assert ok.json == {"echo": "e"}
    assert ok.body == b'{"echo": "e"}'
    assert ok.body_size == 13
    assert ok.headers["X-BackendAI-Version"] == V6
    assert (ok.auth_ok, ok.access_key, ok.status) == (True, ADMIN_AK, 200)  # body beats query
    assert (bad.auth_ok, bad.access_key, bad.status) == (False, None, 401)
    assert server.count() == 3
    assert server.count("GET") == 2
    assert server.count("get", "/auth/role") == 1
    assert server.count(path="/auth") == 1
    server.add_fault(Fault(path="/nothing"))
    server.clear()
    assert server.requests == []
    assert server.faults == []
    assert server.count() == 0


async def test_large_bodies_are_recorded_up_to_one_mib(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    body = b"z" * (1024 * 1024 + 4096)
    url = server.url("/_test/echo/big")
    headers = signed_headers("PUT", url, content_type="application/octet-stream")
    async with http.put(url, headers=headers, data=io.BytesIO(body)) as resp:
        assert resp.status == 200
        assert (await resp.json())["body_size"] == len(body)
    (record,) = server.requests
    assert record.body_size == len(body)
    assert record.body == body[: 1024 * 1024]
    assert record.json is None


# --- faults -----------------------------------------------------------------------------


async def test_fault_replaces_the_answer_with_an_html_500(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    page = "<html><body>Internal Server Error</body></html>"
    server.add_fault(Fault(path="/auth/role", status=500, body=page, content_type="text/html"))
    status, body, resp = await signed(http, "GET", server.url("/auth/role"))
    assert (status, body, resp.content_type) == (500, page, "text/html")
    assert resp.headers.get("Server") != "BackendAI"
    status, _, _ = await signed(http, "GET", server.url("/auth/role"))
    assert status == 200  # times=1 by default


async def test_fault_empty_502_and_503_with_retry_after(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(method="GET", path="/", status=502))
    server.add_fault(Fault(method="GET", path="/", status=503, headers={"Retry-After": "7"}))
    async with http.get(server.url("/")) as resp:
        assert (resp.status, await resp.read()) == (502, b"")
    async with http.get(server.url("/")) as resp:
        assert (resp.status, resp.headers["Retry-After"]) == (503, "7")
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200


async def test_fault_problem_shortcut(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(
        Fault(path="/auth/role", problem=(429, "too-many-requests", "Too many requests.", "slow"))
    )
    status, body, resp = await signed(http, "GET", server.url("/auth/role"))
    assert status == 429
    assert resp.content_type == "application/problem+json"
    assert body == problem("too-many-requests", "Too many requests.", "slow")


async def test_fault_drop_closes_before_the_status_line(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    fault = server.add_fault(Fault(path="/", drop=True))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(server.url("/")):
            pass
    assert fault.hits == 1
    assert fault.remaining == 0
    (record,) = server.requests
    assert record.status is None
    assert record.fault is fault


async def test_aiohttp_resends_a_dropped_idempotent_request_once(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    # worth knowing when testing clients: a single drop on a GET never reaches the caller
    server.add_fault(Fault(path="/", drop=True))
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200
    assert [r.status for r in server.requests] == [None, 200]
    server.clear()
    server.add_fault(Fault(path="/", drop=True, times=2))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.get(server.url("/")):
            pass
    assert server.count("GET", "/") == 2


async def test_fault_reset_mid_body(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", reset_mid_body=True, body_size=100_000))
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200
        assert resp.content_length == 100_000
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_fault_stall_mid_body_then_completes(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", stall_mid_body=0.2, body=b"0123456789"))
    started = time.monotonic()
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200
        assert await resp.read() == b"0123456789"
    assert time.monotonic() - started >= 0.2


async def test_fault_stall_mid_body_trips_a_read_timeout(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", stall_mid_body=30))
    timeout = aiohttp.ClientTimeout(sock_read=0.2)
    async with http.get(server.url("/"), timeout=timeout) as resp:
        assert resp.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()


async def test_fault_delay_before_headers(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", delay=0.2))
    started = time.monotonic()
    async with http.get(server.url("/")) as resp:
        assert resp.status == 200  # the real handler answers after the delay
    assert time.monotonic() - started >= 0.2
    server.add_fault(Fault(path="/", delay=30))
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(server.url("/"), timeout=aiohttp.ClientTimeout(sock_read=0.2)):
            pass


async def test_fault_malformed_json_and_null(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", malformed_json=True))
    server.add_fault(Fault(path="/", json_null=True))
    async with http.get(server.url("/")) as resp:
        assert (resp.status, resp.content_type) == (200, "application/json")
        with pytest.raises(json.JSONDecodeError):
            await resp.json()
    async with http.get(server.url("/")) as resp:
        assert await resp.json() is None


async def test_fault_redirect(server: BackendAITestServer, http: aiohttp.ClientSession) -> None:
    target = "http://127.0.0.1:9/elsewhere"
    server.add_fault(Fault(path="/auth/role", redirect=target))
    async with http.get(server.url("/auth/role"), allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (307, target)


async def test_fault_body_size(server: BackendAITestServer, http: aiohttp.ClientSession) -> None:
    server.add_fault(Fault(path="/", body_size=300_000))
    server.add_fault(Fault(path="/", body_size=1000, content_type="application/json"))
    async with http.get(server.url("/")) as resp:
        assert resp.content_type == "application/octet-stream"
        assert len(await resp.read()) == 300_000
    async with http.get(server.url("/")) as resp:
        data = await resp.read()
        assert len(data) == 1000
        assert isinstance(json.loads(data), str)


async def test_fault_headers_only_decorate_the_real_answer(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/", headers={"X-Extra": "1"}))
    async with http.get(server.url("/")) as resp:
        assert resp.headers["X-Extra"] == "1"
        assert (await resp.json())["version"] == V6


async def test_fault_matching_times_method_and_prefix(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    twice = server.add_fault(Fault(method="POST", path="/_test/echo/*", status=503, times=2))
    url = server.url("/_test/echo/a/b")
    assert (await signed(http, "GET", url))[0] == 200  # method does not match
    assert (await signed(http, "POST", url))[0] == 503
    assert (await signed(http, "POST", server.url("/_test/echo/x")))[0] == 503
    assert (await signed(http, "POST", url))[0] == 200
    assert twice.hits == 2
    forever = server.add_fault(Fault(path="/", status=500, times=None))
    for _ in range(3):
        async with http.get(server.url("/")) as resp:
            assert resp.status == 500
    assert forever.hits == 3
    assert forever.remaining is None


async def test_fault_applies_to_unknown_paths_before_auth(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    server.add_fault(Fault(path="/not/a/route", status=418))
    async with http.get(server.url("/not/a/route")) as resp:
        assert resp.status == 418


async def test_fault_after_auth_only_hits_authenticated_requests(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    fault = server.add_fault(Fault(path="/auth/role", status=500, before_auth=False))
    status, _, _ = await signed(http, "GET", server.url("/auth/role"), secret_key="wrong")
    assert status == 401
    assert fault.hits == 0
    status, _, _ = await signed(http, "GET", server.url("/auth/role"))
    assert status == 500
    assert fault.hits == 1


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="times"):
        Fault(times=-1)
    with pytest.raises(ValueError, match="drop"):
        Fault(drop=True, reset_mid_body=True)


# --- https, lifecycle, extension ----------------------------------------------------------


async def test_https_with_trustme() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with (
        BackendAITestServer(ssl_context=server_ctx) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ctx)) as http,
    ):
        assert server.endpoint.scheme == "https"
        async with http.get(server.url("/")) as resp:
            assert resp.status == 200
        status, body, _ = await signed(http, "GET", server.url("/auth/role"))
        assert (status, body["global_role"]) == (200, "superadmin")


async def test_close_during_a_stall_is_fast(http: aiohttp.ClientSession) -> None:
    server = await BackendAITestServer().start()
    try:
        server.add_fault(Fault(path="/", delay=60))
        server.add_fault(Fault(path="/", stall_mid_body=60))
        # POST: aiohttp would silently resend a GET after the disconnect
        before_headers = asyncio.ensure_future(http.post(server.url("/")))
        await server.wait_for_request("POST", "/")
        async with http.get(server.url("/")) as mid_body:
            assert mid_body.status == 200
            started = time.monotonic()
            await server.close()
            assert time.monotonic() - started < 1.0
            with pytest.raises(aiohttp.ClientPayloadError):
                await mid_body.read()
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await before_headers
    finally:
        await server.close()  # idempotent


async def test_start_close_and_endpoint_before_start() -> None:
    server = BackendAITestServer()
    with pytest.raises(RuntimeError):
        _ = server.endpoint
    await server.start()
    with pytest.raises(RuntimeError):
        await server.start()
    await server.close()
    await server.close()
    with pytest.raises(RuntimeError):
        await server.start()  # one run per instance


async def test_wait_for_request_times_out(server: BackendAITestServer) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await server.wait_for_request(path="/never", timeout=0.05)


async def test_extra_routes_can_add_public_and_streaming_handlers(
    http: aiohttp.ClientSession,
) -> None:
    def install(app: web.Application, state: ServerState) -> None:
        async def hello(request: web.Request) -> web.StreamResponse:
            return web.json_response({"public": True})

        async def upload(request: web.Request) -> web.StreamResponse:
            st = request.app[STATE_KEY]
            total = 0
            async for chunk in request.content.iter_chunked(65536):
                st.record_chunk(request, chunk)
                total += len(chunk)
            return web.json_response({"received": total})

        app.router.add_route("GET", "/extra/hello", state.public(hello))
        app.router.add_route("POST", "/extra/upload", state.streaming(upload))

    async with BackendAITestServer(extra_routes=[install]) as server:
        async with http.get(server.url("/extra/hello")) as resp:
            assert await resp.json() == {"public": True}
        url = server.url("/extra/upload")
        data = b"q" * 200_000
        headers = signed_headers("POST", url, content_type="application/octet-stream")
        async with http.post(url, headers=headers, data=io.BytesIO(data)) as resp:
            assert await resp.json() == {"received": len(data)}
        hello_rec, upload_rec = server.requests
        assert hello_rec.auth_ok is None
        assert (upload_rec.auth_ok, upload_rec.body_size, upload_rec.body) == (
            True,
            len(data),
            data,
        )


# --- event streams: the hub sees a client leave ----------------------------------------------


async def test_the_event_hub_sees_a_closed_stream_leave_and_an_open_one_stay(
    server: BackendAITestServer, http: aiohttp.ClientSession
) -> None:
    hub = event_hub(server)
    url = server.url("/events/session")
    with pytest.raises(ValueError, match="wait_for_departures"):
        await hub.wait_for_subscribers(0)
    resp = await http.get(url, headers=signed_headers("GET", url))
    assert resp.status == 200
    await hub.wait_for_subscribers(1)
    # The client keeps its socket open: no departure to see (the pings are 15 s apart).
    with pytest.raises(asyncio.TimeoutError):  # not the builtin on 3.10
        await hub.wait_for_departures(timeout=0.2)
    assert hub.subscribers == 1
    resp.close()  # closes the socket: seen at once, not at the next ping
    await hub.wait_for_departures(timeout=5)
    assert hub.subscribers == 0

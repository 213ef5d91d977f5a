"""Property: whatever the path, query, body and version, the test server accepts the signature."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendai_async import Client, ClientConfig
from backendai_async.testing import BackendAITestServer

VERSIONS = [
    "v3.20170615",
    "v4.20181215",
    "v4.20190615",
    "v5.20191215",
    "v6.20220615",
    "v6.20230315",
]
segment = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#%\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))
query_value = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


class _Harness:
    """One loop, one server, one client per version, shared by every hypothesis example."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: dict[str, BackendAITestServer] = {}
        self.clients: dict[str, Client] = {}

    def client(self, version: str) -> tuple[Client, BackendAITestServer]:
        """A client talking to a server that announces exactly ``version``."""
        if version not in self.clients:
            server = self.servers[version] = BackendAITestServer(api_version=version)
            self.run(server.start())
            cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
            self.clients[version] = Client(cfg)
        return self.clients[version], self.servers[version]

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        for client in self.clients.values():
            self.run(client.close())
        for server in self.servers.values():
            self.run(server.close())
        self.loop.close()


@pytest.fixture(scope="module")
def harness() -> Iterator[_Harness]:
    h = _Harness()
    yield h
    h.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PATCH", "PUT"]),
    segments=st.lists(segment, min_size=1, max_size=3),
    query=st.lists(
        st.tuples(st.text(min_size=1, max_size=6).filter(lambda s: "\x00" not in s), query_value),
        max_size=3,
    ),
    body=json_value,
    version=st.sampled_from(VERSIONS),
)
def test_any_request_is_accepted(
    harness: _Harness,
    method: str,
    segments: list[str],
    query: list[tuple[str, str]],
    body: Any,
    version: str,
) -> None:
    from urllib.parse import quote

    client, server = harness.client(version)
    path = "/_test/echo/" + "/".join(quote(s, safe="") for s in segments)
    send_body = body if method != "GET" and body is not None else None
    seen = harness.run(client.request(method, path, params=query or None, json=send_body))
    assert seen["access_key"] == server.access_key
    assert client.api_version == version
    assert seen["query"] == [[k, v] for k, v in query]
    if send_body is not None:
        assert seen["json"] == send_body

"""Helpers shared by the tests of the REST-side administration namespaces."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from backendai_async import ClientConfig
from backendai_async.testing import EXAMPLE_KEYPAIRS, BackendAITestServer, RecordedRequest

ADMIN_AK, USER_AK = list(EXAMPLE_KEYPAIRS)


def user_config(server: BackendAITestServer) -> ClientConfig:
    """A config for the fake's normal (non-admin) user."""
    return ClientConfig(USER_AK, EXAMPLE_KEYPAIRS[USER_AK], str(server.endpoint))


def last(server: BackendAITestServer, method: str, path: str) -> RecordedRequest:
    """The last request the server received for ``method path``."""
    found = [r for r in server.requests if r.method == method and r.path == path]
    assert found, (
        f"no {method} {path} was received: {[(r.method, r.path) for r in server.requests]}"
    )
    return found[-1]


async def refused_before_sending(
    server: BackendAITestServer, call: Awaitable[Any], words: str, prefix: str
) -> None:
    """``call`` raises ValueError matching ``words`` and nothing reached ``prefix``."""
    with pytest.raises(ValueError, match=words):
        await call
    assert not [r for r in server.requests if r.path.startswith(prefix)]

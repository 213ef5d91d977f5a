"""The typed answers and the error messages, against the real servers: every key a real
answer has is declared in its ``TypedDict``, creation answers have one shape, and errors
carry the server's reason and say which mode to use."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest

from backendai_async import (
    Client,
    ClientConfig,
    GraphQLError,
    ResponseError,
    ServerError,
    ServerVersion,
    SessionCreated,
    SessionInfo,
)

from .conftest import Real, web_config

pytestmark = pytest.mark.integration
PENDING = {"enqueueOnly": True, "architecture": "x86_64", "cpu": 1, "mem": "512m"}


def declared(typed: Any) -> set[str]:
    return set(typed.__annotations__) | {
        k for base in typed.__mro__ for k in getattr(base, "__annotations__", {})
    }


async def test_real_answers_only_have_declared_keys(real: Real, user: Client) -> None:
    version = await user.get_server_version()
    assert set(version) == declared(ServerVersion)
    name = f"typed-{secrets.token_hex(4)}"
    try:
        created = await user.create_if_not_exists(real.target.image, name, PENDING)
        again = await user.create_if_not_exists(real.target.image, name, PENDING)
        info = await user.get_info(name)
    finally:
        await user.destroy(name, forced=True)
    assert set(created) == set(again) == declared(SessionCreated)
    assert created["servicePorts"] == again["servicePorts"] == []
    assert again["created"] is False
    assert again["raw"]["service_ports"] is None  # PENDING: the manager's null, kept raw
    assert set(info) <= declared(SessionInfo), set(info) - declared(SessionInfo)
    assert isinstance(info["status"], str)


async def test_kernel_id_is_sent_only_where_the_manager_takes_it(real: Real, user: Client) -> None:
    name = f"klogs-{secrets.token_hex(4)}"
    await user.create_if_not_exists(real.target.image, name, PENDING)
    try:
        if user.supports("per-kernel-logs"):
            with pytest.raises(ServerError) as info:  # accepted, but no such kernel
                await user.get_logs(name, kernel_id=str(uuid.uuid4()))
            assert info.value.status == 404
        else:
            with pytest.raises(ValueError, match="kernel_id"):
                await user.get_logs(name, kernel_id=str(uuid.uuid4()))
    finally:
        await user.destroy(name, forced=True)


async def test_a_validation_error_carries_the_servers_reason(user: Client) -> None:
    with pytest.raises(ServerError) as info:
        await user.request("GET", "/auth/role", params={"group": "default"})
    assert info.value.status == 400
    assert "group" in info.value.message
    assert "UUID" in info.value.message


async def test_a_graphql_permission_error_carries_the_servers_reason(user: Client) -> None:
    with pytest.raises(GraphQLError) as info:
        await user.query("{ agent_list(limit: 1, offset: 0) { total_count } }")
    assert "superadmin privilege required" in info.value.message
    with pytest.raises(GraphQLError) as legacy:
        await user.request(
            "POST",
            "/admin/graphql",
            json={"query": "{ agent_list(limit: 1, offset: 0) { total_count } }"},
        )
    assert "superadmin privilege required" in legacy.value.message


async def test_api_mode_at_the_webserver_says_to_use_session_mode(real: Real) -> None:
    async with Client(ClientConfig(*real.target.user, real.target.webserver)) as client:
        with pytest.raises(ResponseError, match=r"looks like a Backend\.AI webserver"):
            await client.get_manager_version()


async def test_session_mode_at_the_manager_says_to_use_api_mode(real: Real) -> None:
    cfg = web_config(real)
    at_manager = ClientConfig(cfg.user_id, cfg.password, real.target.manager, "SESSION")
    async with Client(at_manager) as client:
        with pytest.raises(ServerError, match=r"SESSION mode needs a Backend\.AI webserver"):
            await client.get_manager_version()

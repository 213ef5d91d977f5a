"""Compute sessions that stay PENDING, on every server: creation, reuse, info, restart,
download routing and destruction. The sessions ask for more CPUs than any agent has, so
they stay PENDING even where an agent runs (the RUNNING lifecycle is test_running_real.py).
"""

from __future__ import annotations

import secrets

import pytest

from backendai_async import Client, ErrorType, ServerError
from backendai_async.resources.sessions import SessionResources

from .conftest import (
    Real,
    SessionNames,
    Wire,
    observe_restart_refused,
    outcome,
    problem,
    title_of,
)

pytestmark = pytest.mark.integration

UNSCHEDULABLE = SessionResources(cpu=1024, mem="512m", enqueue_only=True)


async def test_create_then_reuse_then_info_then_forced_destroy(
    real: Real, admin: Client, wire: Wire, session_names: SessionNames
) -> None:
    name = session_names.new()
    image = real.target.image
    created = await admin.create_if_not_exists(image, name, UNSCHEDULABLE)
    assert wire.last() == ("POST", "/session", 201)
    assert created["created"] is True
    assert created["sessionName"] == name
    assert created["status"] == "PENDING"

    reused = await admin.create_if_not_exists("python", name, {"enqueueOnly": True})
    assert wire.last() == ("POST", "/session", 201)
    assert reused["created"] is False
    assert reused["sessionId"] == created["sessionId"]
    keys = sorted(k for k in reused["raw"] if k in ("servicePorts", "service_ports"))
    real.observe("reuse_keys", " and ".join(f"`{k}`" for k in reversed(keys)))

    info = await admin.get_info(name)
    assert wire.last() == ("GET", f"/session/{name}", 200)
    assert info["status"] == "PENDING"
    assert info["image"] == image
    assert "'cpu': Decimal('1024" in info["requestedSlots"]

    destroyed = await admin.destroy(name, forced=True)
    assert wire.last() == ("DELETE", f"/session/{name}", 200)
    real.observe("destroy_pending", f"200 `{destroyed['stats']['status']}`")
    with pytest.raises(ServerError) as after:
        await admin.get_info(name)
    err = after.value
    assert err.status == 404
    real.observe("after_destroy", f"404 `{problem(err)}`")
    assert f"session {name!r} is unknown or was destroyed" in err.message


async def test_reuse_refused_is_the_servers_400(
    real: Real, admin: Client, session_names: SessionNames
) -> None:
    name = session_names.new()
    created = await admin.create_if_not_exists(real.target.image, name, UNSCHEDULABLE)
    with pytest.raises(ServerError) as info:
        await admin.create_if_not_exists(
            real.target.image, name, {"enqueueOnly": True, "reuseIfExists": False}
        )
    err = info.value
    assert err.status == 400
    assert err.body["data"]["existingSessionId"] == created["sessionId"]
    real.observe("session_exists", f"400 `{problem(err)}` with `data.existingSessionId`")


async def test_an_unknown_image_is_a_404_with_the_servers_problem(
    real: Real, admin: Client, wire: Wire, session_names: SessionNames
) -> None:
    with pytest.raises(ServerError) as info:
        await admin.create_if_not_exists("no-such-image:0.1", session_names.new(), UNSCHEDULABLE)
    err = info.value
    assert wire.last() == ("POST", "/session", 404)
    assert err.type is ErrorType.ERR_SERVER
    assert title_of(err) == "No such environment image."
    real.observe("unknown_image", f"404 `{problem(err)}`")


async def test_a_missing_session_is_a_404_that_says_so(real: Real, admin: Client) -> None:
    name = f"no-such-{secrets.token_hex(4)}"
    with pytest.raises(ServerError) as info:
        await admin.get_info(name)
    err = info.value
    assert err.type is ErrorType.ERR_SERVER
    assert err.status == 404
    real.observe("missing_session", f'404 `{problem(err)}` "{title_of(err)}"')
    assert f"session {name!r} is unknown or was destroyed" in err.message


async def test_restart_of_a_pending_session(
    real: Real, admin: Client, wire: Wire, session_names: SessionNames
) -> None:
    name = session_names.new()
    await admin.create_if_not_exists(real.target.image, name, UNSCHEDULABLE)
    answer = await outcome(admin.restart(name))
    if isinstance(answer, ServerError):
        observe_restart_refused(real, answer)
    else:
        assert answer is None
        real.observe("restart", f"{wire.last('PATCH')[2]} (PENDING session)")


async def test_download_routing_on_a_session_that_does_not_exist(
    real: Real, admin: Client, wire: Wire
) -> None:
    name = f"no-such-{secrets.token_hex(4)}"
    with pytest.raises(ServerError) as info:
        await admin.download_single(name, "a.txt")
    assert info.value.status == 404  # asked the way the server reads it: no 400 or 405
    path = f"/session/{name}/download_single"
    first = wire.statuses("GET", path)
    assert len(first) == 1
    if first == [405]:
        assert wire.statuses("POST", path) == [404]
        real.observe("download_get", "405 (POST only)")
    else:
        assert first == [404]
        real.observe("download_get", "404 for an unknown session (GET route exists)")

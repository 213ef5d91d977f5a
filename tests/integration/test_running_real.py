"""RUNNING sessions, on servers with an agent alive (the 26.9 harness's dummy agent).

Everything goes through the public API. One session is created blocking (the manager
answers once it runs) and shared by the read-only tests of this module; the lifecycle
test makes its own with ``enqueueOnly`` and polls until RUNNING. Waits are bounded and
driven by the server's answers (``_waits.py``); every session is destroyed at teardown,
also when a test fails. On servers without an agent the module is skipped.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from backendai_async import Client, ClientConfig, ErrorType, ServerError
from backendai_async.resources.sessions import SessionResources

from ._waits import wait_for_status, wait_until_gone
from .conftest import (
    Real,
    SessionNames,
    Wire,
    observe_restart_refused,
    outcome,
    problem,
    skip_without_agent,
)

SMALL = SessionResources(cpu=1, mem="512m", enqueue_only=True)


@dataclass(frozen=True)
class Running:
    name: str
    created: dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(real: Real) -> AsyncIterator[Running]:
    """A session created blocking (``enqueueOnly`` false): the answer comes once it runs."""
    skip_without_agent(real)
    name = f"run-{secrets.token_hex(4)}"
    async with Client(ClientConfig(*real.target.admin, real.target.manager)) as admin:
        try:
            created = await admin.create_if_not_exists(
                real.target.image, name, {"cpu": 1, "mem": "512m", "maxWaitSeconds": 60}
            )
            yield Running(name, created)
        finally:
            with contextlib.suppress(ServerError):
                await admin.destroy(name, forced=True, timeout=30)


async def test_a_blocking_create_answers_once_the_session_runs(
    real: Real, running: Running
) -> None:
    assert running.created["created"] is True
    assert running.created["sessionName"] == running.name
    real.observe("blocking_create", f"201 {running.created['status']}")


async def test_info_logs_and_files_of_a_running_session(
    real: Real, admin: Client, running: Running
) -> None:
    info = await admin.get_info(running.name)
    assert info["status"] == "RUNNING"
    assert info["image"] == real.target.image
    logs = await admin.get_logs(running.name)
    assert isinstance(logs["result"]["logs"], str)
    real.observe("logs", f'200 "{logs["result"]["logs"]}"')
    files = await admin.list_files(running.name, ".")
    assert {"files", "errors", "abspath"} <= set(files)


async def test_execute_in_complete_mode(real: Real, admin: Client, running: Running) -> None:
    answer = await admin.execute(running.name, None, "complete", "pri")
    status = answer["result"]["result"]["status"]
    real.observe("execute_complete", f"200 `{status}`")


async def test_execute_in_query_mode_on_the_dummy_is_a_clean_server_error(
    real: Real, admin: Client, wire: Wire, running: Running
) -> None:
    answer = await outcome(admin.execute(running.name, None, "query", "print(6 * 7)"))
    if not isinstance(answer, ServerError):  # a real agent runs the code
        real.observe("execute_query", f"200 `{answer['result']['status']}`")
        return
    err = answer  # the dummy agent cannot run code: the manager answers 500
    assert wire.last("POST", f"/session/{running.name}")[2] == 500
    assert err.type is ErrorType.ERR_SERVER
    assert err.status == 500
    assert err.problem_type == err.body["type"]  # the server's own type, not ours
    assert err.message.startswith("server responded failure: 500 Internal Server Error")
    real.observe("execute_query", f"500 `{problem(err)}`")


async def test_restart_of_a_running_session(real: Real, admin: Client, running: Running) -> None:
    answer = await outcome(admin.restart(running.name))
    if isinstance(answer, ServerError):
        observe_restart_refused(real, answer)
    else:
        await wait_for_status(admin, running.name, "RUNNING")


async def test_upload_then_downloads_are_sent_the_way_the_server_reads_them(
    real: Real, admin: Client, wire: Wire, running: Running, tmp_path: Path
) -> None:
    name = running.name
    await admin.upload(name, "hello.txt", b"hello")
    path = await admin.download_single(name, "hello.txt", tmp_path)
    assert path == tmp_path / "hello.txt"
    size = path.stat().st_size  # the dummy agent answers every download empty
    single = f"/session/{name}/download_single"
    assert wire.statuses("GET", single) in ([], [405])
    assert wire.last(path=single)[2] == 200
    real.observe("download_post", f"200, {size} bytes")
    async with await admin.download(name, ["hello.txt", "other.txt"]) as stream:
        body = b"".join([chunk async for chunk in stream])
    assert body.count(b"Content-Encoding: identity") == 2  # one part per path
    assert wire.last(path=f"/session/{name}/download")[:2] == ("POST", f"/session/{name}/download")
    assert wire.statuses("GET", f"/session/{name}/download") == []  # remembered: POST at once


async def test_enqueue_only_then_running_then_rename_then_destroy(
    real: Real, admin: Client, wire: Wire, session_names: SessionNames
) -> None:
    skip_without_agent(real)
    name = session_names.new("enq")
    created = await admin.create_if_not_exists(real.target.image, name, SMALL)
    assert created["status"] == "PENDING"
    info, seen = await wait_for_status(admin, name, "RUNNING")
    assert seen[-1] == "RUNNING"
    real.observe("running", info["status"])

    new_name = session_names.renamed(f"{name}-renamed")
    await admin.rename_session(name, new_name)
    real.observe("rename", str(wire.last("POST", f"/session/{name}/rename")[2]))
    renamed = await admin.get_info(new_name)
    assert (renamed["status"], renamed["creationTime"]) == ("RUNNING", info["creationTime"])
    with pytest.raises(ServerError) as old:
        await admin.get_info(name)
    assert old.value.status == 404

    destroyed = await admin.destroy(new_name)
    real.observe("destroy_running", f"200 `{destroyed['stats']['status']}`")
    gone, terminating = await wait_until_gone(admin, new_name)
    # The 404's problem type varies with the moment asked (entity-not-found once the row
    # is gone, object-not-found while only its kernels are): the status is the fact.
    assert problem(gone) in ("entity-not-found", "object-not-found")
    first = f"{terminating[0]}, then " if terminating else ""
    real.observe("gone_after", f"{first}404")
    assert f"session {new_name!r} is unknown or was destroyed" in gone.message

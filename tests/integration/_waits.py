"""Bounded waits on a real server's own answers (there is no event to wait on yet).

Each wait polls ``get_info`` and stops on the first answer that decides it: the status
wanted, a status the session cannot come back from, or the deadline. The history of
statuses is in the failure message, so a slow or broken scheduler is told apart from an
SDK bug.
"""

from __future__ import annotations

import asyncio
from typing import Any

from backendai_async import Client, ServerError

__all__ = ["wait_for_status", "wait_until_gone"]

POLL_INTERVAL = 0.25
FINAL = frozenset({"ERROR", "CANCELLED", "TERMINATED"})


async def wait_for_status(
    client: Client, name: str, wanted: str, deadline: float = 90.0
) -> tuple[dict[str, Any], list[str]]:
    """``get_info`` until ``status == wanted``; returns the info and the statuses seen."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    seen: list[str] = []
    while True:
        info = await client.get_info(name, timeout=30)
        status = info["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == wanted:
            return info, seen
        assert status not in FINAL | {"TERMINATING"}, (
            f"session {name} ended up {status} instead of {wanted} (statuses: {seen}, "
            f"statusInfo: {info.get('statusInfo')!r})"
        )
        assert loop.time() < until, f"session {name} not {wanted} after {deadline} s: {seen}"
        await asyncio.sleep(POLL_INTERVAL)


async def wait_until_gone(
    client: Client, name: str, deadline: float = 60.0
) -> tuple[ServerError, list[str]]:
    """``get_info`` until the server answers 404; returns that error and the statuses seen."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    seen: list[str] = []
    while True:
        try:
            info = await client.get_info(name, timeout=30)
        except ServerError as err:
            if err.status == 404:
                return err, seen
            raise
        status = info["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        assert status in ("TERMINATING", "TERMINATED"), f"{name} is {status} after destroy"
        assert loop.time() < until, f"session {name} still known after {deadline} s: {seen}"
        await asyncio.sleep(POLL_INTERVAL)

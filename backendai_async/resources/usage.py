"""``client.resources``: cluster totals over the agents, and your monthly usage statistics.

``total_resource_information`` sums the agents' slots (superadmin: it reads
``client.agent.list``). Unlike the JS SDK it needs no list of known devices: every slot an
agent reports is summed (``cuda.device``, ``rocm.device``, a new accelerator …), and the JS
SDK's keys (``cpu``, ``mem``, legacy ``gpu``/``fgpu``, ``agents``) are always there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._base import Resource
from ._graphql import Timeout

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["TOTAL_FIELDS", "Resources", "sum_agent_resources"]

TOTAL_FIELDS = (
    "id",
    "addr",
    "status",
    "first_contact",
    "cpu_cur_pct",
    "mem_cur_bytes",
    "occupied_slots",
    "available_slots",
)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and number not in (float("inf"), float("-inf")) else 0.0


def _slots(text: Any) -> Mapping[str, Any]:
    if isinstance(text, Mapping):
        return text
    try:
        found = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return found if isinstance(found, Mapping) else {}


def _tidy(number: float) -> int | float:
    return int(number) if number.is_integer() else number


def sum_agent_resources(agents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The JS SDK's resource summary of a list of agents (pure; see the module doc)."""
    totals: dict[str, dict[str, float]] = {
        "cpu": {"total": 0.0, "used": 0.0, "percent": 0.0},
        "mem": {"total": 0.0, "allocated": 0.0, "used": 0.0},
    }
    count = 0
    for agent in agents:
        count += 1
        available, occupied = (
            _slots(agent.get("available_slots")),
            _slots(agent.get("occupied_slots")),
        )
        for slot in {*available, *occupied}:
            entry = totals.setdefault(slot, {"total": 0.0, "used": 0.0})
            entry["total"] += _number(available.get(slot))
            entry["allocated" if slot == "mem" else "used"] += _number(occupied.get(slot))
        totals["cpu"]["percent"] += _number(agent.get("cpu_cur_pct"))
        totals["mem"]["used"] += _number(agent.get("mem_cur_bytes"))
    result: dict[str, Any] = {
        slot: {k: _tidy(v) for k, v in entry.items()} for slot, entry in totals.items()
    }
    for legacy, slot in (("gpu", "cuda.device"), ("fgpu", "cuda.shares")):
        result[legacy] = dict(result.get(slot, {"total": 0, "used": 0}))
    result["agents"] = {"total": count, "using": count}
    return result


class Resources(Resource):
    """``total_resource_information`` (superadmin) and ``user_stats``."""

    async def total_resource_information(
        self,
        status: str = "ALIVE",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any]:
        """Sums over every agent with ``status``: ``{"cpu": {"total", "used", "percent"},
        "mem": {"total", "allocated", "used"}, <slot>: {"total", "used"}, ...,
        "agents": {"total", "using"}}``."""
        from .agents import Agents  # a composite of the agent list, as in the JS SDK

        found = await Agents(self._api).list(status, TOTAL_FIELDS, timeout, signal=signal)
        return sum_agent_resources(found.get("agents") or [])

    async def user_stats(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Your usage over the last month, in 15-minute buckets (``GET
        /resource/stats/user/month``)."""
        return await self._api.send(
            "GET", "/resource/stats/user/month", timeout=timeout, signal=signal
        )

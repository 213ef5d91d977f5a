"""Usage statistics in the fake manager: ``GET /resource/stats/user/month``.

``state.extras["user_stats"]`` is the list it answers (by default four empty 15-minute
buckets shaped like the manager's; a real manager sends a month of them).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import fixture
from ._manager import STATE_KEY, ServerState

__all__ = ["EXAMPLE_USER_STATS", "register_usage_routes"]

_METRICS = {
    "num_sessions": "count",
    "cpu_allocated": "count",
    "mem_allocated": "bytes",
    "gpu_allocated": "count",
    "io_read_bytes": "bytes",
    "io_write_bytes": "bytes",
    "disk_used": "bytes",
}
EXAMPLE_USER_STATS: list[dict[str, Any]] = [
    {
        "date": 1693526400.0 + 900 * i,
        **{name: {"value": 0, "unit_hint": unit} for name, unit in _METRICS.items()},
    }
    for i in range(4)
]


async def _user_month(request: web.Request) -> web.StreamResponse:
    return web.json_response(fixture(request.app[STATE_KEY], "user_stats", EXAMPLE_USER_STATS))


def register_usage_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_route("GET", "/resource/stats/user/month", _user_month)

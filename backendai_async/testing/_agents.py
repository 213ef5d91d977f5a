"""Agents in the fake manager's GraphQL (superadmin only, as on the real manager).

The embedded server has no agents by default; ``state.extras["agents"]`` (a list of dicts
shaped like the manager's ``Agent`` type) is what ``agent``/``agents``/``agent_list`` see.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import GraphQLContext, GraphQLField, register_graphql_field
from ._manager import ServerState

__all__ = ["register_agent_fields"]


def _agents(ctx: GraphQLContext) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ctx.state.extras.setdefault("agents", [])
    status = ctx.args.get("status")
    return [a for a in rows if status is None or a.get("status") == status]


def _agent(ctx: GraphQLContext) -> dict[str, Any] | None:
    return next((a for a in _agents(ctx) if a.get("id") == ctx.args.get("agent_id")), None)


def _agent_list(ctx: GraphQLContext) -> dict[str, Any]:
    rows = _agents(ctx)
    offset, limit = int(ctx.args.get("offset") or 0), int(ctx.args.get("limit") or 0)
    return {"items": rows[offset : offset + limit], "total_count": len(rows)}


def register_agent_fields(app: web.Application, state: ServerState) -> None:
    for name, resolve in (("agent", _agent), ("agents", _agents), ("agent_list", _agent_list)):
        register_graphql_field(state, GraphQLField(name, resolve, role="superadmin"))

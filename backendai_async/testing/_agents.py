"""Agents in the fake manager's GraphQL: ``agent``, ``agents``, ``agent_list`` and
``modify_agent`` (superadmin, as on the real manager), and ``agent_summary`` /
``agent_summary_list`` (every user).

The embedded server has no agents by default (like the 23.09 harness);
``state.extras["agents"]`` (a list of dicts shaped like the manager's ``Agent`` type, slots
as JSON strings) is what these fields see.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import (
    GraphQLContext,
    GraphQLField,
    ObjectType,
    done,
    mutation_field,
    page,
    register_graphql_field,
)
from ._manager import ServerState

__all__ = ["AGENT_TYPE", "register_agent_fields"]

AGENT_TYPE = ObjectType.of(
    "Agent",
    "id status status_changed region scaling_group schedulable available_slots occupied_slots "
    "addr architecture first_contact lost_at live_stat version compute_plugins "
    "hardware_metadata auto_terminate_abusing_kernel local_config container_count mem_slots "
    "cpu_slots gpu_slots tpu_slots used_mem_slots used_cpu_slots used_gpu_slots "
    "used_tpu_slots cpu_cur_pct mem_cur_bytes",
)
SUMMARY_TYPE = ObjectType.of(
    "AgentSummary",
    "id status scaling_group schedulable available_slots occupied_slots architecture",
)
_ARGS = frozenset({"status", "scaling_group", "limit", "offset", "filter", "order"})


def _agents(ctx: GraphQLContext) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ctx.state.extras.setdefault("agents", [])
    status, group = ctx.args.get("status"), ctx.args.get("scaling_group")
    return [
        a
        for a in rows
        if status in (None, a.get("status")) and group in (None, a.get("scaling_group"))
    ]


def _agent(ctx: GraphQLContext) -> dict[str, Any] | None:
    return next((a for a in _agents(ctx) if a.get("id") == ctx.args.get("agent_id")), None)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    rows = ctx.state.extras.setdefault("agents", [])
    row = next((a for a in rows if a.get("id") == ctx.args["id"]), None)
    if row is None:
        return {"ok": False, "msg": "no matching agent"}
    row.update({k: v for k, v in dict(ctx.args["props"]).items() if v is not None})
    return done()


def register_agent_fields(app: web.Application, state: ServerState) -> None:
    agent_list = ObjectType("AgentList", {"items": AGENT_TYPE, "total_count": None})
    summaries = ObjectType("AgentSummaryList", {"items": SUMMARY_TYPE, "total_count": None})
    one = frozenset({"agent_id"})
    for gql_field in (
        GraphQLField("agent", _agent, role="superadmin", type=AGENT_TYPE, args=one),
        GraphQLField("agents", _agents, role="superadmin", type=AGENT_TYPE, args=_ARGS),
        GraphQLField(
            "agent_list",
            lambda ctx: page(_agents(ctx), ctx),
            role="superadmin",
            type=agent_list,
            args=_ARGS,
        ),
        GraphQLField("agent_summary", _agent, type=SUMMARY_TYPE, args=one),
        GraphQLField(
            "agent_summary_list", lambda ctx: page(_agents(ctx), ctx), type=summaries, args=_ARGS
        ),
        mutation_field("modify_agent", _modify),
    ):
        register_graphql_field(state, gql_field)

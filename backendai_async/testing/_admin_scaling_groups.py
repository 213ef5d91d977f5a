"""Scaling groups in the fake manager: REST ``GET /scaling-groups?group=`` and
``/scaling-groups/{name}/wsproxy-version``, GraphQL ``scaling_group(s)`` and the
create/modify/delete/associate mutations (superadmin).

``state.extras["scaling_groups"]`` maps a name to its ``ScalingGroup`` row (``default``,
public, fifo). A project may use the active scaling groups of its domain and its own.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ._graphql import (
    GraphQLContext,
    GraphQLField,
    ObjectType,
    done,
    fixture,
    mutation_field,
    register_graphql_field,
)
from ._manager import STATE_KEY, ServerState, problem_response
from ._users import CREATED_AT

__all__ = ["EXAMPLE_SCALING_GROUPS", "SCALING_GROUP_TYPE", "register_scaling_group_routes"]

SCALING_GROUP_TYPE = ObjectType.of(
    "ScalingGroup",
    "name description is_active is_public created_at wsproxy_addr wsproxy_api_token driver "
    "driver_opts scheduler scheduler_opts use_host_network",
)
_SCHEDULER_OPTS = {
    "allowed_session_types": ["interactive", "batch"],
    "pending_timeout": 0.0,
    "config": {},
}
EXAMPLE_SCALING_GROUPS: dict[str, dict[str, Any]] = {
    "default": {
        "name": "default",
        "description": "default scaling group",
        "is_active": True,
        "is_public": True,
        "created_at": CREATED_AT,
        "wsproxy_addr": None,
        "wsproxy_api_token": None,
        "driver": "static",
        "driver_opts": "{}",
        "scheduler": "fifo",
        "scheduler_opts": json.dumps(_SCHEDULER_OPTS),
        "use_host_network": False,
    }
}


def scaling_groups(state: ServerState) -> dict[str, dict[str, Any]]:
    """The scaling groups fixture (name -> row)."""
    found: dict[str, dict[str, Any]] = fixture(state, "scaling_groups", EXAMPLE_SCALING_GROUPS)
    return found


def _create(ctx: GraphQLContext) -> dict[str, Any]:
    name = ctx.args["name"]
    if name in scaling_groups(ctx.state):
        return {"ok": False, "msg": "integrity error: duplicate key value"}
    row = {
        **EXAMPLE_SCALING_GROUPS["default"],
        "description": "",
        "is_public": True,
        "driver_opts": "{}",
        "scheduler_opts": "{}",
        **{k: v for k, v in dict(ctx.args["props"]).items() if v is not None},
        "name": name,
    }
    scaling_groups(ctx.state)[name] = row
    return done(scaling_group=row)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = scaling_groups(ctx.state).get(ctx.args["name"])
    if row is None:
        return {"ok": False, "msg": "no matching scalinggroup"}
    row.update({k: v for k, v in dict(ctx.args["props"]).items() if v is not None})
    return done()


def _delete(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_domains import domains
    from ._admin_groups import projects

    name = ctx.args["name"]
    if scaling_groups(ctx.state).pop(name, None) is None:
        return {"ok": False, "msg": "no matching scalinggroup"}
    for row in (*domains(ctx.state).values(), *projects(ctx.state).values()):
        row["scaling_groups"] = [sg for sg in row["scaling_groups"] if sg != name]
    return done()


def _associate_domain(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_domains import domains

    domain = domains(ctx.state).get(ctx.args["domain"])
    name = ctx.args["scaling_group"]
    if domain is None or name not in scaling_groups(ctx.state):
        return {"ok": False, "msg": "integrity error: no such domain or scaling group"}
    if name not in domain["scaling_groups"]:
        domain["scaling_groups"].append(name)
    return done()


async def _list(request: web.Request) -> web.StreamResponse:
    from ._admin_domains import domains
    from ._admin_groups import projects

    state = request.app[STATE_KEY]
    group = request.query.get("group")
    if group is None:
        return problem_response(
            400,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            "Input validation error",
            {"group": "is required"},
        )
    project = next((p for p in projects(state).values() if group in (p["id"], p["name"])), None)
    allowed: list[str] = []
    if project is not None:
        domain = domains(state).get(project["domain_name"], {})
        allowed = [*domain.get("scaling_groups", ()), *project["scaling_groups"]]
    rows = scaling_groups(state)
    names = [n for n in dict.fromkeys(allowed) if rows.get(n, {}).get("is_active")]
    return web.json_response({"scaling_groups": [{"name": n} for n in names]})


async def _wsproxy_version(request: web.Request) -> web.StreamResponse:
    row = scaling_groups(request.app[STATE_KEY]).get(request.match_info["name"])
    if row is None:
        return problem_response(404, "object-not-found", "No such scaling group.")
    return web.json_response({"wsproxy_version": "v2" if row["wsproxy_addr"] else "v1"})


def register_scaling_group_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_route("GET", "/scaling-groups", _list)
    app.router.add_route("GET", "/scaling-groups/{name}/wsproxy-version", _wsproxy_version)
    for gql_field in (
        GraphQLField(
            "scaling_group",
            lambda ctx: scaling_groups(ctx.state).get(str(ctx.args.get("name"))),
            role="superadmin",
            type=SCALING_GROUP_TYPE,
            args=frozenset({"name"}),
        ),
        GraphQLField(
            "scaling_groups",
            lambda ctx: [
                r
                for r in scaling_groups(ctx.state).values()
                if ctx.args.get("is_active") in (None, r["is_active"])
                and ctx.args.get("name") in (None, r["name"])
            ],
            role="superadmin",
            type=SCALING_GROUP_TYPE,
            args=frozenset({"name", "is_active"}),
        ),
        mutation_field(
            "create_scaling_group", _create, returns={"scaling_group": SCALING_GROUP_TYPE}
        ),
        mutation_field("modify_scaling_group", _modify),
        mutation_field("delete_scaling_group", _delete),
        mutation_field("associate_scaling_group_with_domain", _associate_domain),
    ):
        register_graphql_field(state, gql_field)

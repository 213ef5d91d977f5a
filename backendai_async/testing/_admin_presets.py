"""Resource presets in the fake manager: REST ``GET /resource/presets``, ``POST
/resource/check-presets``, and GraphQL ``resource_preset(s)`` with their mutations.

``state.extras["resource_presets"]`` maps a name to its ``ResourcePreset`` row (the
harnesses' ``01-small`` and ``02-medium``; ``resource_slots`` is a JSON string, as GraphQL
returns it). ``check-presets`` reports a preset allocatable when the agents of the scaling
group (``state.extras["agents"]``, none by default) have room for it, as 23.09 does.
"""

from __future__ import annotations

import json
import re
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

__all__ = ["EXAMPLE_PRESETS", "PRESET_TYPE", "presets", "register_preset_routes"]

PRESET_TYPE = ObjectType.of("ResourcePreset", "name resource_slots shared_memory")
EXAMPLE_PRESETS: dict[str, dict[str, Any]] = {
    "01-small": {
        "name": "01-small",
        "resource_slots": '{"cpu": "1", "mem": "1073741824"}',
        "shared_memory": None,
    },
    "02-medium": {
        "name": "02-medium",
        "resource_slots": '{"cpu": "2", "mem": "2147483648"}',
        "shared_memory": None,
    },
}
_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*$", re.IGNORECASE)


def presets(state: ServerState) -> dict[str, dict[str, Any]]:
    """The resource presets fixture (name -> row)."""
    found: dict[str, dict[str, Any]] = fixture(state, "resource_presets", EXAMPLE_PRESETS)
    return found


def _bytes(text: Any) -> int | None:
    match = _SIZE.match(str(text)) if text is not None else None
    return None if match is None else int(float(match[1]) * _UNITS[match[2].lower()])


def _slots(text: str) -> dict[str, str]:
    """A resource-slot JSON string with the manager's normalisation of ``mem`` units."""
    slots = {k: str(v) for k, v in json.loads(text).items()}
    if "mem" in slots:
        slots["mem"] = str(_bytes(slots["mem"]))
    return slots


def _stored(props: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    if props.get("resource_slots") is not None:
        row["resource_slots"] = json.dumps(_slots(props["resource_slots"]))
    if props.get("shared_memory") is not None:
        row["shared_memory"] = _bytes(props["shared_memory"])
    return row


def _create(ctx: GraphQLContext) -> dict[str, Any]:
    name = ctx.args["name"]
    if name in presets(ctx.state):
        return {
            "ok": False,
            "msg": 'integrity error: duplicate key value violates "pk_resource_presets"',
        }
    row = _stored(dict(ctx.args["props"]), {"name": name, "shared_memory": None})
    presets(ctx.state)[name] = row
    return done(resource_preset=row)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = presets(ctx.state).get(str(ctx.args.get("name")))
    if row is None:
        return {"ok": False, "msg": "no matching resourcepreset"}
    _stored(dict(ctx.args["props"]), row)
    return done()


def _delete(ctx: GraphQLContext) -> dict[str, Any]:
    if presets(ctx.state).pop(str(ctx.args.get("name")), None) is None:
        return {"ok": False, "msg": "no matching resourcepreset"}
    return done()


def _rest_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "resource_slots": json.loads(row["resource_slots"])}


async def _list(request: web.Request) -> web.StreamResponse:
    rows = presets(request.app[STATE_KEY]).values()
    return web.json_response({"presets": [_rest_row(r) for r in rows]})


def _remaining(state: ServerState, scaling_group: str | None) -> dict[str, float]:
    left: dict[str, float] = {"cpu": 0.0, "mem": 0.0}
    for agent in state.extras.get("agents", ()):
        if agent.get("status") != "ALIVE" or scaling_group not in (
            None,
            agent.get("scaling_group"),
        ):
            continue
        free, used = json.loads(agent["available_slots"]), json.loads(agent["occupied_slots"])
        for slot, value in free.items():
            left[slot] = left.get(slot, 0.0) + float(value) - float(used.get(slot, 0))
    return left


async def _check(request: web.Request) -> web.StreamResponse:
    from ._admin_groups import projects

    state = request.app[STATE_KEY]
    params = json.loads(await request.read()) if request.body_exists else {}
    group = params.get("group", "default")
    if not any(group in (p["name"], p["id"]) for p in projects(state).values()):
        return problem_response(
            400, "invalid-api-params", "Missing or invalid API parameters.", "Unknown user group"
        )
    left = _remaining(state, params.get("scaling_group"))
    shown = {k: f"{v:g}" for k, v in left.items()}
    infinite = dict.fromkeys(left, "Infinity")
    zero = dict.fromkeys(left, "0")
    rows = []
    for row in presets(state).values():
        slots = json.loads(row["resource_slots"])
        fits = all(float(v) <= left.get(k, 0.0) for k, v in slots.items())
        rows.append({**_rest_row(row), "allocatable": fits})
    return web.json_response(
        {
            "keypair_limits": infinite,
            "keypair_using": zero,
            "keypair_remaining": infinite,
            "group_limits": infinite,
            "group_using": zero,
            "group_remaining": infinite,
            "scaling_group_remaining": shown,
            "scaling_groups": {"default": {"using": zero, "remaining": shown}},
            "presets": rows,
        }
    )


def register_preset_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_route("GET", "/resource/presets", _list)
    app.router.add_route("POST", "/resource/check-presets", _check)
    for gql_field in (
        GraphQLField(
            "resource_preset",
            lambda ctx: presets(ctx.state).get(str(ctx.args.get("name"))),
            type=PRESET_TYPE,
            args=frozenset({"name"}),
        ),
        GraphQLField(
            "resource_presets",
            lambda ctx: list(presets(ctx.state).values()),
            type=PRESET_TYPE,
            args=frozenset(),
        ),
        mutation_field("create_resource_preset", _create),
        mutation_field("modify_resource_preset", _modify),
        mutation_field("delete_resource_preset", _delete),
    ):
        register_graphql_field(state, gql_field)

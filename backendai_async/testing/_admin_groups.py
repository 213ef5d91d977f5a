"""Projects ("groups") in the fake manager's GraphQL: ``groups``, ``group`` and
``create_group`` … ``purge_group``, as a 23.09 manager answers them (no ``type`` field or
argument: 23.09 has none).

``state.extras["projects"]`` maps a project id to its ``Group`` row, seeded with the
``default`` project of the real harnesses. A normal user sees the projects they belong
to; changes need an admin (``ok: false`` below that).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ._graphql import (
    GraphQLContext,
    GraphQLField,
    GraphQLFieldError,
    ObjectType,
    done,
    fixture,
    mutation_field,
    register_graphql_field,
)
from ._manager import DEFAULT_GROUP_ID, ServerState
from ._users import CREATED_AT, own_user, users

__all__ = ["EXAMPLE_PROJECTS", "GROUP_TYPE", "projects", "register_group_fields"]

VFOLDER_HOSTS = (
    '{"local:volume1": ["create-vfolder", "modify-vfolder", "delete-vfolder", '
    '"mount-in-session", "upload-file", "download-file", "invite-others", '
    '"set-user-specific-permission"]}'
)
GROUP_TYPE = ObjectType.of(
    "Group",
    "id name description is_active created_at modified_at domain_name total_resource_slots "
    "allowed_vfolder_hosts integration_id resource_policy scaling_groups",
)


def _project(gid: str, name: str, domain: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "id": gid,
        "name": name,
        "description": "",
        "is_active": True,
        "created_at": CREATED_AT,
        "modified_at": CREATED_AT,
        "domain_name": domain,
        "total_resource_slots": "{}",
        "allowed_vfolder_hosts": VFOLDER_HOSTS,
        "integration_id": None,
        "resource_policy": "default",
        "scaling_groups": ["default"],
        **extra,
    }


EXAMPLE_PROJECTS: dict[str, dict[str, Any]] = {
    DEFAULT_GROUP_ID: _project(DEFAULT_GROUP_ID, "default", description="default project")
}


def projects(state: ServerState) -> dict[str, dict[str, Any]]:
    """The projects fixture (id -> ``Group`` row)."""
    found: dict[str, dict[str, Any]] = fixture(state, "projects", EXAMPLE_PROJECTS)
    return found


def _member_of(ctx: GraphQLContext) -> set[str]:
    own = own_user(ctx) or {}
    return {g["id"] for g in own.get("groups", ())}


def _groups(ctx: GraphQLContext) -> list[dict[str, Any]]:
    rows = list(projects(ctx.state).values())
    if not ctx.keypair.is_admin:
        return [r for r in rows if r["id"] in _member_of(ctx)]
    for key in ("domain_name", "is_active"):
        if ctx.args.get(key) is not None:
            rows = [r for r in rows if r[key] == ctx.args[key]]
    return rows


def _group(ctx: GraphQLContext) -> dict[str, Any] | None:
    row = projects(ctx.state).get(str(ctx.args.get("id")))
    if not ctx.keypair.is_admin and (row is None or row["id"] not in _member_of(ctx)):
        raise GraphQLFieldError("Insufficient privilege.")
    return row


def _create(ctx: GraphQLContext) -> dict[str, Any]:
    name, props = ctx.args["name"], dict(ctx.args["props"])
    rows = projects(ctx.state)
    if any(r["name"] == name and r["domain_name"] == props["domain_name"] for r in rows.values()):
        return {
            "ok": False,
            "msg": 'integrity error: duplicate key value violates "uq_groups_name_domain_name"',
        }
    gid = str(uuid.uuid4())
    row = rows[gid] = _project(gid, name, **{k: v for k, v in props.items() if v is not None})
    ctx.state.groups.add(gid)
    return done(group=row)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = projects(ctx.state).get(str(ctx.args["gid"]))
    if row is None:
        return {"ok": False, "msg": "no matching group"}
    props = dict(ctx.args["props"])
    mode, members = props.pop("user_update_mode", None), props.pop("user_uuids", None) or ()
    row.update({k: v for k, v in props.items() if v is not None})
    for user in users(ctx.state).values():
        if user["uuid"] in members:
            refs = [g for g in user["groups"] if g["id"] != row["id"]]
            user["groups"] = refs + (
                [{"id": row["id"], "name": row["name"]}] if mode == "add" else []
            )
    return done()


def _delete(ctx: GraphQLContext) -> dict[str, Any]:
    row = projects(ctx.state).get(str(ctx.args["gid"]))
    if row is None:
        return {"ok": False, "msg": "no matching group"}
    row["is_active"] = False
    return done()


def _purge(ctx: GraphQLContext) -> dict[str, Any]:
    gid = str(ctx.args["gid"])
    if projects(ctx.state).pop(gid, None) is None:
        return {"ok": False, "msg": "no matching group"}
    ctx.state.groups.discard(gid)
    for user in users(ctx.state).values():
        user["groups"] = [g for g in user["groups"] if g["id"] != gid]
    return done()


def register_group_fields(app: web.Application, state: ServerState) -> None:
    by_name = frozenset({"name", "domain_name"})
    for gql_field in (
        GraphQLField(
            "groups", _groups, type=GROUP_TYPE, args=frozenset({"domain_name", "is_active"})
        ),
        GraphQLField("group", _group, type=GROUP_TYPE, args=frozenset({"id", "domain_name"})),
        GraphQLField(
            "groups_by_name",
            lambda ctx: [r for r in _groups(ctx) if r["name"] == ctx.args.get("name")],
            type=GROUP_TYPE,
            args=by_name,
        ),
        mutation_field("create_group", _create, role="admin", returns={"group": GROUP_TYPE}),
        mutation_field("modify_group", _modify, role="admin"),
        mutation_field("delete_group", _delete, role="admin"),
        mutation_field("purge_group", _purge, role="admin"),
    ):
        register_graphql_field(state, gql_field)

"""Users in the fake manager's GraphQL: ``user``, ``users``, ``user_list`` and the
``create_user`` … ``purge_user`` mutations, answered as a 23.09 manager does.

Fixtures are plain data: ``state.extras["users"]`` maps an email to the row the manager's
``User`` type gives (seeded from :data:`EXAMPLE_USERS`). The caller's own user is the one
whose keypair signed the request (``state.extras["keypairs"]``, see ``_admin_keypairs``).
A normal user may read their own account; listing needs an admin ("Insufficient
privilege."), changing a superadmin (``ok: false``).
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
    page,
    register_graphql_field,
)
from ._manager import DEFAULT_GROUP_ID, ServerState

__all__ = ["EXAMPLE_USERS", "USER_TYPE", "own_user", "register_user_fields", "users"]

CREATED_AT = "2023-09-01T00:00:00+00:00"
USER_GROUP_TYPE = ObjectType.of("UserGroup", "id name")
USER_TYPE = ObjectType.of(
    "User",
    "id uuid username email need_password_change full_name description is_active status "
    "status_info created_at modified_at domain_name role resource_policy allowed_client_ip "
    "totp_activated totp_activated_at sudo_session_enabled main_access_key",
    groups=USER_GROUP_TYPE,
)
_USER_ARGS = frozenset({"domain_name", "group_id", "is_active", "status", "limit", "offset"})


def _example(email: str, name: str, full: str, role: str, ak: str, uid: str) -> dict[str, Any]:
    return {
        "id": uid,
        "uuid": uid,
        "email": email,
        "username": name,
        "need_password_change": False,
        "full_name": full,
        "description": "",
        "is_active": True,
        "status": "active",
        "status_info": None,
        "created_at": CREATED_AT,
        "modified_at": CREATED_AT,
        "domain_name": "default",
        "role": role,
        "resource_policy": "default",
        "allowed_client_ip": None,
        "totp_activated": False,
        "sudo_session_enabled": False,
        "main_access_key": ak,
        "groups": [{"id": DEFAULT_GROUP_ID, "name": "default"}],
    }


EXAMPLE_USERS: dict[str, dict[str, Any]] = {
    "admin@lablup.com": _example(
        "admin@lablup.com",
        "admin",
        "Admin Lablup",
        "superadmin",
        "AKIAIOSFODNN7EXAMPLE",
        "f38dea23-50fa-42a0-b5ae-338f5f4693f4",
    ),
    "user@lablup.com": _example(
        "user@lablup.com",
        "user",
        "User Lablup",
        "user",
        "AKIANABBDUSEREXAMPLE",
        "dfa9da54-4b28-432f-be29-c0d680c7a412",
    ),
}
"""The example users (email -> ``User`` row), owners of the example keypairs."""


def users(state: ServerState) -> dict[str, dict[str, Any]]:
    """The users fixture of a server (created from :data:`EXAMPLE_USERS` on first use)."""
    found: dict[str, dict[str, Any]] = fixture(state, "users", EXAMPLE_USERS)
    return found


def own_user(ctx: GraphQLContext) -> dict[str, Any] | None:
    """The user whose keypair signed the request."""
    from ._admin_keypairs import keypairs  # the two tables refer to each other

    row = keypairs(ctx.state).get(ctx.keypair.access_key)
    return users(ctx.state).get(row["user_id"]) if row else None


def _user(ctx: GraphQLContext) -> dict[str, Any] | None:
    email = ctx.args.get("email")
    own = own_user(ctx)
    if email is None or (own is not None and own.get("email") == email):
        return own
    if not ctx.keypair.is_admin:
        raise GraphQLFieldError("Forbidden operation.")
    return users(ctx.state).get(email)


def _listed(ctx: GraphQLContext) -> list[dict[str, Any]]:
    if not ctx.keypair.is_admin:
        raise GraphQLFieldError("Insufficient privilege.")
    args = ctx.args
    rows = list(users(ctx.state).values())
    if args.get("is_active") is not None:
        rows = [r for r in rows if r["is_active"] is args["is_active"]]
    if args.get("status") is not None:
        rows = [r for r in rows if r["status"] == args["status"]]
    if args.get("group_id") is not None:
        rows = [r for r in rows if any(g["id"] == args["group_id"] for g in r["groups"])]
    if args.get("domain_name") is not None:
        rows = [r for r in rows if r["domain_name"] == args["domain_name"]]
    return rows


def _group_refs(state: ServerState, ids: Any) -> list[dict[str, Any]]:
    from ._admin_groups import projects

    found = projects(state)
    return [{"id": gid, "name": found[gid]["name"]} for gid in ids or () if gid in found]


def _apply(state: ServerState, row: dict[str, Any], props: dict[str, Any]) -> None:
    for key, value in props.items():
        if key == "group_ids":
            row["groups"] = _group_refs(state, value)
        elif key != "password" and value is not None:
            row[key] = value


def _create_user(ctx: GraphQLContext) -> dict[str, Any]:
    email, props = ctx.args["email"], dict(ctx.args["props"])
    rows = users(ctx.state)
    if email in rows or any(r["username"] == props.get("username") for r in rows.values()):
        which = "pk_users" if email in rows else "uq_users_username"
        return {"ok": False, "msg": f'integrity error: duplicate key value violates "{which}"'}
    uid = str(uuid.uuid4())
    row = _example(email, props["username"], "", props.get("role") or "user", "", uid)
    row.update(groups=[], main_access_key=None, is_active=props.get("is_active", False))
    _apply(ctx.state, row, props)
    rows[email] = row
    return done(user=row)


def _modify_user(ctx: GraphQLContext) -> dict[str, Any]:
    row = users(ctx.state).get(ctx.args["email"])
    if row is None:
        return {"ok": False, "msg": "no matching user"}
    _apply(ctx.state, row, dict(ctx.args["props"]))
    return done()


def _delete_user(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_keypairs import keypairs

    row = users(ctx.state).get(ctx.args["email"])
    if row is None:
        return {"ok": False, "msg": "no matching user"}
    row.update(status="deleted", is_active=False)
    for kp in keypairs(ctx.state).values():
        if kp["user_id"] == row["email"]:
            kp["is_active"] = False
    return done()


def _purge_user(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_keypairs import forget_keypair, keypairs

    email = ctx.args["email"]
    if users(ctx.state).pop(email, None) is None:
        return {"ok": False, "msg": "no matching user"}
    for ak in [ak for ak, kp in keypairs(ctx.state).items() if kp["user_id"] == email]:
        forget_keypair(ctx.state, ak)
    return done()


def register_user_fields(app: web.Application, state: ServerState) -> None:
    listing = ObjectType("UserList", {"items": USER_TYPE, "total_count": None})
    for gql_field in (
        GraphQLField("user", _user, type=USER_TYPE, args=frozenset({"email", "domain_name"})),
        GraphQLField("users", _listed, type=USER_TYPE, args=_USER_ARGS),
        GraphQLField(
            "user_list", lambda ctx: page(_listed(ctx), ctx), type=listing, args=_USER_ARGS
        ),
        mutation_field("create_user", _create_user, returns={"user": USER_TYPE}),
        mutation_field("modify_user", _modify_user),
        mutation_field("delete_user", _delete_user),
        mutation_field("purge_user", _purge_user),
    ):
        register_graphql_field(state, gql_field)

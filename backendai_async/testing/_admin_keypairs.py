"""Keypairs in the fake manager's GraphQL: ``keypair``, ``keypairs``, ``keypair_list`` and
``create_keypair``/``modify_keypair``/``delete_keypair``, as a 23.09 manager answers them.

``state.extras["keypairs"]`` maps an access key to its ``KeyPair`` row (secret included),
seeded from the server's own keypairs; a created keypair can sign requests at once, a
deleted one no longer can. A normal user sees their own keypairs ("Forbidden operation."
for anyone else's); changes need a superadmin.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from aiohttp import web

from ._graphql import (
    GraphQLContext,
    GraphQLField,
    GraphQLFieldError,
    ObjectType,
    done,
    mutation_field,
    page,
    register_graphql_field,
)
from ._manager import Keypair, Role, ServerState
from ._users import CREATED_AT, users

__all__ = ["KEYPAIR_TYPE", "forget_keypair", "keypairs", "register_keypair_fields"]

KEYPAIR_TYPE = ObjectType.of(
    "KeyPair",
    "id user_id full_name access_key secret_key is_active is_admin resource_policy created_at "
    "last_used rate_limit num_queries user projects ssh_public_key concurrency_used "
    "concurrency_limit",
    user_info=ObjectType.of("UserInfo", "email full_name"),
)
_LIST_ARGS = frozenset({"domain_name", "email", "is_active", "limit", "offset"})


def _row(state: ServerState, kp: Keypair, email: str, **extra: Any) -> dict[str, Any]:
    owner = users(state).get(email, {})
    return {
        "id": kp.access_key,
        "access_key": kp.access_key,
        "secret_key": kp.secret_key,
        "user_id": email,
        "full_name": owner.get("full_name"),
        "user": owner.get("uuid"),
        "user_info": {"email": email, "full_name": owner.get("full_name")},
        "is_active": True,
        "is_admin": kp.is_admin,
        "resource_policy": "default",
        "created_at": CREATED_AT,
        "last_used": None,
        "rate_limit": 1000,
        "num_queries": 0,
        "concurrency_used": 0,
        "concurrency_limit": 0,
        "projects": [g["name"] for g in owner.get("groups", ())],
        "ssh_public_key": None,
        **extra,
    }


def keypairs(state: ServerState) -> dict[str, dict[str, Any]]:
    """The keypairs fixture, built on first use from the server's keypairs and users."""
    found: dict[str, dict[str, Any]] | None = state.extras.get("keypairs")
    if found is None:
        owners = {u.get("main_access_key"): email for email, u in users(state).items()}
        found = state.extras["keypairs"] = {
            ak: _row(state, kp, owners.get(ak) or f"{ak.lower()}@example.com")
            for ak, kp in state.keypairs.items()
        }
    return found


def forget_keypair(state: ServerState, access_key: str) -> None:
    """Remove a keypair from the table and from the keys the server accepts."""
    keypairs(state).pop(access_key, None)
    if len(state.keypairs) > 1:
        state.keypairs.pop(access_key, None)


def _keypair(ctx: GraphQLContext) -> dict[str, Any] | None:
    ak = ctx.args.get("access_key") or ctx.keypair.access_key
    if ak != ctx.keypair.access_key and not ctx.keypair.is_admin:
        raise GraphQLFieldError("Forbidden operation.")
    return keypairs(ctx.state).get(ak)


def _listed(ctx: GraphQLContext) -> list[dict[str, Any]]:
    email, active = ctx.args.get("email"), ctx.args.get("is_active")
    own = keypairs(ctx.state).get(ctx.keypair.access_key, {}).get("user_id")
    if not ctx.keypair.is_admin:
        if email is not None and email != own:
            raise GraphQLFieldError("Forbidden operation.")
        email = own
    return [
        row
        for row in keypairs(ctx.state).values()
        if (email is None or row["user_id"] == email)
        and (active is None or row["is_active"] is active)
    ]


def _create(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_policies import policies

    email, props = ctx.args["user_id"], dict(ctx.args["props"])
    owner = users(ctx.state).get(email)
    if owner is None:
        return {"ok": False, "msg": "integrity error: no such user"}
    if props.get("resource_policy") not in policies(ctx.state):
        return {"ok": False, "msg": "integrity error: no such keypair resource policy"}
    alphabet = string.ascii_uppercase + string.digits
    access_key = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    role: Role = "superadmin" if owner["role"] == "superadmin" else "user"
    if owner["role"] == "admin":
        role = "admin"
    kp = Keypair(access_key, secrets.token_urlsafe(30), role)
    ctx.state.keypairs[access_key] = kp
    row = keypairs(ctx.state)[access_key] = _row(ctx.state, kp, email, **props)
    return done(keypair=row)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = keypairs(ctx.state).get(ctx.args["access_key"])
    if row is None:
        return {"ok": False, "msg": "no matching keypair"}
    row.update({k: v for k, v in dict(ctx.args["props"]).items() if v is not None})
    return done()


def _delete(ctx: GraphQLContext) -> dict[str, Any]:
    if ctx.args["access_key"] not in keypairs(ctx.state):
        return {"ok": False, "msg": "no matching keypair"}
    forget_keypair(ctx.state, ctx.args["access_key"])
    return done()


def register_keypair_fields(app: web.Application, state: ServerState) -> None:
    listing = ObjectType("KeyPairList", {"items": KEYPAIR_TYPE, "total_count": None})
    for gql_field in (
        GraphQLField(
            "keypair", _keypair, type=KEYPAIR_TYPE, args=frozenset({"access_key", "domain_name"})
        ),
        GraphQLField("keypairs", _listed, type=KEYPAIR_TYPE, args=_LIST_ARGS),
        GraphQLField(
            "keypair_list", lambda ctx: page(_listed(ctx), ctx), type=listing, args=_LIST_ARGS
        ),
        mutation_field("create_keypair", _create, returns={"keypair": KEYPAIR_TYPE}),
        mutation_field("modify_keypair", _modify),
        mutation_field("delete_keypair", _delete),
    ):
        register_graphql_field(state, gql_field)

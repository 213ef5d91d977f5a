"""Users in the fake manager's GraphQL: ``user`` (yourself, or anyone for an admin).

Fixtures are plain data: ``state.extras["users"]`` maps an access key to the user row the
manager's ``User`` type would give (the example keypairs' users by default).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import GraphQLContext, GraphQLField, GraphQLFieldError, register_graphql_field
from ._manager import DEFAULT_GROUP_ID, ServerState

__all__ = ["EXAMPLE_USERS", "register_user_fields"]

EXAMPLE_USERS: dict[str, dict[str, Any]] = {
    "AKIAIOSFODNN7EXAMPLE": {
        "email": "admin@lablup.com",
        "username": "admin",
        "full_name": "Admin Lablup",
        "role": "superadmin",
        "status": "active",
        "is_active": True,
        "domain_name": "default",
        "groups": [{"id": DEFAULT_GROUP_ID, "name": "default"}],
    },
    "AKIANABBDUSEREXAMPLE": {
        "email": "user@lablup.com",
        "username": "user",
        "full_name": "User Lablup",
        "role": "user",
        "status": "active",
        "is_active": True,
        "domain_name": "default",
        "groups": [{"id": DEFAULT_GROUP_ID, "name": "default"}],
    },
}


def users(state: ServerState) -> dict[str, dict[str, Any]]:
    """The users fixture of a server (created from :data:`EXAMPLE_USERS` on first use)."""
    found: dict[str, dict[str, Any]] = state.extras.setdefault(
        "users", {ak: dict(row) for ak, row in EXAMPLE_USERS.items()}
    )
    return found


def _user(ctx: GraphQLContext) -> dict[str, Any] | None:
    rows = users(ctx.state)
    email = ctx.args.get("email")
    own = rows.get(ctx.keypair.access_key)
    if email is None or (own is not None and own.get("email") == email):
        return own
    if not ctx.keypair.is_admin:
        raise GraphQLFieldError("Forbidden operation. (admin privilege required)")
    return next((row for row in rows.values() if row.get("email") == email), None)


def register_user_fields(app: web.Application, state: ServerState) -> None:
    register_graphql_field(state, GraphQLField("user", _user))

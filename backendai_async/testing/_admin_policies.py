"""Keypair resource policies in the fake manager's GraphQL: ``keypair_resource_policy``,
``keypair_resource_policies`` and their create/modify/delete mutations (superadmin).

``state.extras["keypair_resource_policies"]`` maps a name to its row (``default``, as on the
harnesses). Like 23.09, ``create_keypair_resource_policy`` fails without
``max_vfolder_count``, ``max_vfolder_size`` and ``allowed_vfolder_hosts``, and a policy a
keypair still uses cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._admin_groups import VFOLDER_HOSTS
from ._graphql import (
    GraphQLContext,
    GraphQLField,
    ObjectType,
    done,
    fixture,
    mutation_field,
    register_graphql_field,
)
from ._manager import ServerState
from ._users import CREATED_AT

__all__ = ["EXAMPLE_POLICIES", "POLICY_TYPE", "policies", "register_policy_fields"]

POLICY_TYPE = ObjectType.of(
    "KeyPairResourcePolicy",
    "name created_at default_for_unspecified total_resource_slots max_session_lifetime "
    "max_concurrent_sessions max_containers_per_session idle_timeout allowed_vfolder_hosts "
    "max_vfolder_count max_vfolder_size max_quota_scope_size",
)
EXAMPLE_POLICIES: dict[str, dict[str, Any]] = {
    "default": {
        "name": "default",
        "created_at": CREATED_AT,
        "default_for_unspecified": "UNLIMITED",
        "total_resource_slots": "{}",
        "max_session_lifetime": 0,
        "max_concurrent_sessions": 5,
        "max_containers_per_session": 1,
        "idle_timeout": 3600,
        "allowed_vfolder_hosts": VFOLDER_HOSTS,
        "max_vfolder_count": 10,
        "max_vfolder_size": 0,
        "max_quota_scope_size": 0,
    }
}
_NOT_NULL_IN_23_09 = ("max_vfolder_count", "max_vfolder_size", "allowed_vfolder_hosts")


def policies(state: ServerState) -> dict[str, dict[str, Any]]:
    """The keypair resource policies fixture (name -> row)."""
    found: dict[str, dict[str, Any]] = fixture(state, "keypair_resource_policies", EXAMPLE_POLICIES)
    return found


def _policy(ctx: GraphQLContext) -> dict[str, Any] | None:
    from ._admin_keypairs import keypairs

    name = ctx.args.get("name")
    if name is None:
        name = keypairs(ctx.state).get(ctx.keypair.access_key, {}).get("resource_policy")
    return policies(ctx.state).get(str(name))


def _create(ctx: GraphQLContext) -> dict[str, Any]:
    name, props = ctx.args["name"], dict(ctx.args["props"])
    missing = [k for k in _NOT_NULL_IN_23_09 if props.get(k) is None]
    if missing:
        return {"ok": False, "msg": f'integrity error: null value in column "{missing[0]}"'}
    if name in policies(ctx.state):
        return {"ok": False, "msg": "integrity error: duplicate key value"}
    row = {**EXAMPLE_POLICIES["default"], "total_resource_slots": "{}", **props, "name": name}
    policies(ctx.state)[name] = row
    return done(resource_policy=row)


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = policies(ctx.state).get(ctx.args["name"])
    if row is None:
        return {"ok": False, "msg": "no matching modifykeypairresourcepolicy"}
    row.update({k: v for k, v in dict(ctx.args["props"]).items() if v is not None})
    return done()


def _delete(ctx: GraphQLContext) -> dict[str, Any]:
    from ._admin_keypairs import keypairs

    name = ctx.args["name"]
    if name not in policies(ctx.state):
        return {"ok": False, "msg": "no matching deletekeypairresourcepolicy"}
    if any(kp["resource_policy"] == name for kp in keypairs(ctx.state).values()):
        return {"ok": False, "msg": "integrity error: the policy is used by keypairs"}
    del policies(ctx.state)[name]
    return done()


def register_policy_fields(app: web.Application, state: ServerState) -> None:
    for gql_field in (
        GraphQLField(
            "keypair_resource_policy", _policy, type=POLICY_TYPE, args=frozenset({"name"})
        ),
        GraphQLField(
            "keypair_resource_policies",
            lambda ctx: list(policies(ctx.state).values()),
            type=POLICY_TYPE,
            args=frozenset(),
        ),
        mutation_field(
            "create_keypair_resource_policy", _create, returns={"resource_policy": POLICY_TYPE}
        ),
        mutation_field("modify_keypair_resource_policy", _modify),
        mutation_field("delete_keypair_resource_policy", _delete),
    ):
        register_graphql_field(state, gql_field)

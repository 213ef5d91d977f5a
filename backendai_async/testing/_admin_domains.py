"""Domains in the fake manager's GraphQL: ``domain``, ``domains``, ``modify_domain``.

``state.extras["domains"]`` maps a name to its ``Domain`` row (the harnesses' ``default``).
Anyone reads their own domain; listing and changing domains needs a superadmin.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._admin_groups import VFOLDER_HOSTS
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
from ._manager import ServerState
from ._users import CREATED_AT, own_user

__all__ = ["DOMAIN_TYPE", "EXAMPLE_DOMAINS", "domains", "register_domain_fields"]

DOMAIN_TYPE = ObjectType.of(
    "Domain",
    "name description is_active created_at modified_at total_resource_slots "
    "allowed_vfolder_hosts allowed_docker_registries integration_id scaling_groups",
)
EXAMPLE_DOMAINS: dict[str, dict[str, Any]] = {
    "default": {
        "name": "default",
        "description": "default domain",
        "is_active": True,
        "created_at": CREATED_AT,
        "modified_at": CREATED_AT,
        "total_resource_slots": "{}",
        "allowed_vfolder_hosts": VFOLDER_HOSTS,
        "allowed_docker_registries": ["cr.backend.ai"],
        "integration_id": None,
        "scaling_groups": ["default"],
    }
}


def domains(state: ServerState) -> dict[str, dict[str, Any]]:
    """The domains fixture (name -> ``Domain`` row)."""
    found: dict[str, dict[str, Any]] = fixture(state, "domains", EXAMPLE_DOMAINS)
    return found


def _domain(ctx: GraphQLContext) -> dict[str, Any] | None:
    own = (own_user(ctx) or {}).get("domain_name")
    name = ctx.args.get("name") or own
    if name != own and not ctx.keypair.is_superadmin:
        raise GraphQLFieldError("No such domain.")
    return domains(ctx.state).get(str(name))


def _domains(ctx: GraphQLContext) -> list[dict[str, Any]]:
    active = ctx.args.get("is_active")
    return [d for d in domains(ctx.state).values() if active is None or d["is_active"] is active]


def _modify(ctx: GraphQLContext) -> dict[str, Any]:
    row = domains(ctx.state).get(ctx.args["name"])
    if row is None:
        return {"ok": False, "msg": "no matching domain"}
    row.update({k: v for k, v in dict(ctx.args["props"]).items() if v is not None})
    return done()


def register_domain_fields(app: web.Application, state: ServerState) -> None:
    for gql_field in (
        GraphQLField("domain", _domain, type=DOMAIN_TYPE, args=frozenset({"name"})),
        GraphQLField(
            "domains", _domains, role="superadmin", type=DOMAIN_TYPE, args=frozenset({"is_active"})
        ),
        mutation_field("modify_domain", _modify, returns={"domain": DOMAIN_TYPE}),
    ):
        register_graphql_field(state, gql_field)

"""``client.domain``: domains (the JS SDK's ``Domain``), over the manager's GraphQL.

Anyone may read their own domain; listing domains and changing one is for superadmins
(the server refuses others with a :class:`~backendai_async.GraphQLError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_text, optional
from ._base import Resource
from ._graphql import Fields, Timeout, Var, fields_or, mutate_data, select_data, target

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import Domain, MutationResult

__all__ = ["DOMAIN_FIELDS", "DOMAIN_LIST_FIELDS", "Domains"]

DOMAIN_LIST_FIELDS = (
    "name",
    "description",
    "is_active",
    "created_at",
    "total_resource_slots",
    "allowed_vfolder_hosts",
    "allowed_docker_registries",
    "integration_id",
)
DOMAIN_FIELDS = (*DOMAIN_LIST_FIELDS, "modified_at", "scaling_groups")
MODIFY_DOMAIN_INPUT = InputSpec.of(
    "ModifyDomainInput",
    "name description is_active allowed_docker_registries integration_id",
    "total_resource_slots allowed_vfolder_hosts",
)


class Domains(Resource):
    """Domains: ``get``, ``list``, ``update``."""

    async def get(
        self,
        domain_name: str | None = None,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Domain]:
        """``{"domain": {...}}``: ``domain_name``, or your own domain when None."""
        name = optional(check_text, domain_name, "domain_name")
        wanted = fields_or(fields, DOMAIN_FIELDS)
        return await select_data(
            self._api,
            "domain",
            {"name": Var("String", name)},
            wanted,
            timeout=timeout,
            signal=signal,
        )

    async def list(
        self,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[Domain]]:
        """``{"domains": [...]}`` (superadmin)."""
        wanted = fields_or(fields, DOMAIN_LIST_FIELDS)
        return await select_data(self._api, "domains", {}, wanted, timeout=timeout, signal=signal)

    async def update(
        self,
        domain_name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a domain (``ModifyDomainInput``; JSON fields as strings or mappings)."""
        args = target("name", domain_name, MODIFY_DOMAIN_INPUT, input, what="domain_name")
        return await mutate_data(self._api, "modify_domain", args, timeout=timeout, signal=signal)

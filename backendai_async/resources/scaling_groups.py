"""``client.scaling_group``: scaling (resource) groups (the JS SDK's ``ScalingGroup``).

``list`` and ``get_wsproxy_version`` are REST and open to every user; the GraphQL calls
(``list_available``, ``create`` …) are for superadmins. ``wsproxy_addr`` and
``is_public`` are asked for only where the manager has them (21.09, 22.09.22).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_props, check_segment, check_text
from ._base import Resource
from ._graphql import Fields, Gated, Timeout, Var, fields_or, mutate_data, select_data, target

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import MutationResult, ScalingGroup

__all__ = ["SCALING_GROUP_FIELDS", "ScalingGroups"]

SCALING_GROUP_FIELDS = (
    "name",
    "description",
    "is_active",
    "created_at",
    "driver",
    "driver_opts",
    "scheduler",
    "scheduler_opts",
    Gated("wsproxy_addr", "wsproxy-addr"),
    Gated("is_public", "is-public"),
)
_SG_KEYS = "description is_active is_public wsproxy_addr wsproxy_api_token driver scheduler "
_SG_KEYS += "use_host_network"
CREATE_SG_INPUT = InputSpec.of("CreateScalingGroupInput", _SG_KEYS, "driver_opts scheduler_opts")
MODIFY_SG_INPUT = InputSpec.of("ModifyScalingGroupInput", _SG_KEYS, "driver_opts scheduler_opts")
_CREATE_DEFAULTS = {"driver": "static", "scheduler": "fifo"}  # the JS SDK's defaults


class ScalingGroups(Resource):
    """Scaling groups: ``list_available``, ``list``, ``get_wsproxy_version``, ``create``,
    ``associate_domain``, ``update``, ``delete``."""

    async def list_available(
        self,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[ScalingGroup]]:
        """``{"scaling_groups": [...]}``: every scaling group (superadmin)."""
        wanted = fields_or(fields, SCALING_GROUP_FIELDS)
        return await select_data(
            self._api, "scaling_groups", {}, wanted, timeout=timeout, signal=signal
        )

    async def list(
        self,
        group: str = "default",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """``{"scaling_groups": [{"name"}, ...]}`` you may use in project ``group`` (name or id)."""
        params = {"group": check_text(group, "group")}
        return await self._api.send(
            "GET", "/scaling-groups", params=params, timeout=timeout, signal=signal
        )

    async def get_wsproxy_version(
        self,
        scaling_group: str,
        group_id: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """``{"wsproxy_version": "v1"|"v2"}`` of a scaling group (as seen from a project)."""
        path = f"/scaling-groups/{check_segment(scaling_group, 'scaling_group')}/wsproxy-version"
        params = None if group_id is None else {"group": check_text(group_id, "group_id")}
        return await self._api.send("GET", path, params=params, timeout=timeout, signal=signal)

    async def create(
        self,
        name: str,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a scaling group (``CreateScalingGroupInput``; driver ``static`` and scheduler
        ``fifo`` unless given)."""
        props = {**_CREATE_DEFAULTS, **check_props(input or {}, CREATE_SG_INPUT)}
        args = {
            "name": Var("String!", check_text(name, "name")),
            "props": Var("CreateScalingGroupInput!", props),
        }
        return await mutate_data(
            self._api, "create_scaling_group", args, timeout=timeout, signal=signal
        )

    async def associate_domain(
        self,
        domain: str,
        scaling_group: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Let a domain use a scaling group."""
        args = {
            "domain": Var("String!", check_text(domain, "domain")),
            "scaling_group": Var("String!", check_text(scaling_group, "scaling_group")),
        }
        return await mutate_data(
            self._api,
            "associate_scaling_group_with_domain",
            args,
            timeout=timeout,
            signal=signal,
        )

    async def update(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a scaling group (``ModifyScalingGroupInput``)."""
        args = target("name", name, MODIFY_SG_INPUT, input)
        return await mutate_data(
            self._api, "modify_scaling_group", args, timeout=timeout, signal=signal
        )

    async def delete(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, MutationResult]:
        """Delete a scaling group."""
        args = target("name", name)
        return await mutate_data(
            self._api, "delete_scaling_group", args, timeout=timeout, signal=signal
        )

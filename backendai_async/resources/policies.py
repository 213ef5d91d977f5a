"""``client.resource_policy``: keypair resource policies (the JS SDK's ``ResourcePolicy``).

Anyone may read them; creating, changing and deleting them is for superadmins. 23.09
managers store ``max_vfolder_count``/``max_vfolder_size`` as required columns although
the fields are deprecated, and fail without ``allowed_vfolder_hosts``:
:meth:`ResourcePolicies.add` sends 0 (no limit from this policy) and ``{}`` (no hosts) for
them when the input leaves them out, so the same call works on 23.09 and 26.x.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_props, check_text
from ._base import Resource
from ._graphql import Fields, Gated, Timeout, Var, fields_or, mutate_data, select_data, target

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import MutationResult

__all__ = ["POLICY_FIELDS", "ResourcePolicies"]

POLICY_FIELDS = (
    "name",
    "created_at",
    "default_for_unspecified",
    "total_resource_slots",
    "max_concurrent_sessions",
    "max_containers_per_session",
    "max_vfolder_count",
    "allowed_vfolder_hosts",
    "idle_timeout",
    Gated("max_session_lifetime", "session-lifetime"),
)
_POLICY_KEYS = (
    "default_for_unspecified max_session_lifetime max_concurrent_sessions "
    "max_concurrent_sftp_sessions max_containers_per_session idle_timeout max_vfolder_count "
    "max_vfolder_size max_quota_scope_size max_pending_session_count"
)
_POLICY_JSON = "total_resource_slots allowed_vfolder_hosts max_pending_session_resource_slots"
CREATE_POLICY_INPUT = InputSpec.of(
    "CreateKeyPairResourcePolicyInput",
    _POLICY_KEYS,
    _POLICY_JSON,
    "default_for_unspecified max_concurrent_sessions max_containers_per_session idle_timeout",
)
MODIFY_POLICY_INPUT = InputSpec.of("ModifyKeyPairResourcePolicyInput", _POLICY_KEYS, _POLICY_JSON)
_STORED_BY_23_09 = {"max_vfolder_count": 0, "max_vfolder_size": 0, "allowed_vfolder_hosts": "{}"}


class ResourcePolicies(Resource):
    """Keypair resource policies: ``get``, ``add``, ``mutate``, ``delete``."""

    async def get(
        self,
        name: str | None = None,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any]:
        """``{"keypair_resource_policy": {...}}`` for ``name``, or
        ``{"keypair_resource_policies": [...]}`` (all of them) without one."""
        wanted = fields_or(fields, POLICY_FIELDS)
        if name is None:
            return await select_data(
                self._api, "keypair_resource_policies", {}, wanted, timeout=timeout, signal=signal
            )
        args = {"name": Var("String", check_text(name, "name"))}
        return await select_data(
            self._api, "keypair_resource_policy", args, wanted, timeout=timeout, signal=signal
        )

    async def add(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a policy (``CreateKeyPairResourcePolicyInput``)."""
        props = {**_STORED_BY_23_09, **check_props(input, CREATE_POLICY_INPUT)}
        args = {
            "name": Var("String!", check_text(name, "name")),
            "props": Var("CreateKeyPairResourcePolicyInput!", props),
        }
        return await mutate_data(
            self._api,
            "create_keypair_resource_policy",
            args,
            ("ok", "msg", "resource_policy { name created_at }"),
            timeout=timeout,
            signal=signal,
        )

    async def mutate(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a policy (``ModifyKeyPairResourcePolicyInput``)."""
        args = target("name", name, MODIFY_POLICY_INPUT, input)
        return await mutate_data(
            self._api, "modify_keypair_resource_policy", args, timeout=timeout, signal=signal
        )

    async def delete(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, MutationResult]:
        """Delete a policy (no keypair may still use it)."""
        args = target("name", name)
        return await mutate_data(
            self._api, "delete_keypair_resource_policy", args, timeout=timeout, signal=signal
        )

"""``client.group``: projects (the manager's "groups"; the JS SDK's ``Group``).

``list`` asks for ``type`` (and filters by it) only where the server has project types
(24.03+, ``supports("model-store")``): 23.09 has neither the field nor the argument, so
the JS SDK's default ``type=['GENERAL']`` is an error there. Creating, changing and
removing projects (not in the JS SDK) are the manager's ``create_group`` …
``purge_group`` mutations; ``delete`` only deactivates, ``purge`` removes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_flag, check_text, optional
from ._base import Resource
from ._graphql import Fields, Gated, Timeout, Var, fields_or, mutate_data, select_data, target

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import MutationResult, Project

__all__ = ["GROUP_FIELDS", "Groups"]

GROUP_FIELDS = (
    "id",
    "name",
    "description",
    "is_active",
    "created_at",
    "modified_at",
    "domain_name",
    Gated("type", "model-store"),
)
_GROUP_KEYS = "description is_active domain_name integration_id resource_policy"
_GROUP_JSON = "total_resource_slots allowed_vfolder_hosts container_registry"
GROUP_INPUT = InputSpec.of("GroupInput", _GROUP_KEYS + " type", _GROUP_JSON, "domain_name")
MODIFY_GROUP_INPUT = InputSpec.of(
    "ModifyGroupInput", _GROUP_KEYS + " name user_update_mode user_uuids", _GROUP_JSON
)
_CREATED = ("ok", "msg", "group { id name domain_name is_active }")


class Groups(Resource):
    """Projects: ``list``, and ``create``, ``update``, ``delete``, ``purge``."""

    async def list(
        self,
        is_active: bool | None = True,
        domain_name: str | None = None,
        fields: Fields | None = None,
        type: Sequence[str] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[Project]]:
        """``{"groups": [...]}``: your projects, or (admins) the domain's or all of them.

        ``type`` (e.g. ``["GENERAL", "MODEL_STORE"]``) needs a 24.03+ manager; without
        it the server's default applies (general projects).
        """
        if type is not None and (
            isinstance(type, str) or not type or not all(isinstance(t, str) and t for t in type)
        ):
            raise ValueError(f"type must be a non-empty list of project types, got {type!r}")
        args = {
            "domain_name": Var("String", optional(check_text, domain_name, "domain_name")),
            "is_active": Var("Boolean", optional(check_flag, is_active, "is_active")),
            "type": Var("[String]", None if type is None else list(type)),
        }
        wanted = fields_or(fields, GROUP_FIELDS)
        return await select_data(self._api, "groups", args, wanted, timeout=timeout, signal=signal)

    async def create(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a project (``GroupInput``; ``domain_name`` is required)."""
        args = target("name", name, GROUP_INPUT, input)
        return await mutate_data(
            self._api, "create_group", args, _CREATED, timeout=timeout, signal=signal
        )

    async def update(
        self,
        id: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a project by id (``ModifyGroupInput``)."""
        args = target("gid", id, MODIFY_GROUP_INPUT, input, "UUID!", "id")
        return await mutate_data(self._api, "modify_group", args, timeout=timeout, signal=signal)

    async def delete(
        self, id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, MutationResult]:
        """Deactivate a project (the manager keeps it; see :meth:`purge`)."""
        args = target("gid", id, type="UUID!", what="id")
        return await mutate_data(self._api, "delete_group", args, timeout=timeout, signal=signal)

    async def purge(
        self, id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, MutationResult]:
        """Remove a project for good (it must be inactive and hold no sessions or folders)."""
        args = target("gid", id, type="UUID!", what="id")
        return await mutate_data(self._api, "purge_group", args, timeout=timeout, signal=signal)

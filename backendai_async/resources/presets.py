"""``client.resource_preset``: resource presets (the JS SDK's ``ResourcePreset``).

Reading is REST (``GET /resource/presets``, ``POST /resource/check-presets``), changing
is GraphQL (admins). 26.x managers need a project for ``check`` and have no default for
it: ``check`` sends ``group="default"`` (23.09's own default) unless one is given. 26.x
also caches ``GET /resource/presets`` for a while, so a change may show there late.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_props
from ._base import Resource
from ._graphql import Timeout, mutate_data, target

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import MutationResult

__all__ = ["CHECK_PARAMS", "ResourcePresets"]

CREATE_PRESET_INPUT = InputSpec.of(
    "CreateResourcePresetInput",
    "shared_memory scaling_group_name",
    "resource_slots",
    "resource_slots",
)
MODIFY_PRESET_INPUT = InputSpec.of(
    "ModifyResourcePresetInput", "name shared_memory scaling_group_name", "resource_slots"
)
CHECK_PARAMS = InputSpec.of("check-presets", "scaling_group group")
LIST_PARAMS = InputSpec.of("presets", "scaling_group")


class ResourcePresets(Resource):
    """Resource presets: ``list``, ``check``, ``add``, ``mutate``, ``delete``."""

    async def list(
        self,
        param: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """``{"presets": [...]}``; ``param`` may name a ``scaling_group`` (26.x filters by it;
        the JS SDK sent it as a GET body, where servers never read it)."""
        query = check_props(param or {}, LIST_PARAMS, "param")
        return await self._api.send(
            "GET", "/resource/presets", params=query or None, timeout=timeout, signal=signal
        )

    async def check(
        self,
        param: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Which presets fit what you may still allocate: ``{"presets": [{..., "allocatable"}],
        "keypair_remaining", "scaling_group_remaining", ...}``. ``param``: ``group``,
        ``scaling_group``."""
        body = {"group": "default", **check_props(param or {}, CHECK_PARAMS, "param")}
        return await self._api.send(
            "POST", "/resource/check-presets", json=body, timeout=timeout, signal=signal
        )

    async def add(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a preset: ``input`` has ``resource_slots`` (JSON string or mapping) and may
        have ``shared_memory`` (``"1g"``)."""
        args = target("name", name, CREATE_PRESET_INPUT, input)
        return await mutate_data(
            self._api, "create_resource_preset", args, timeout=timeout, signal=signal
        )

    async def mutate(
        self,
        name: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a preset by name (``ModifyResourcePresetInput``)."""
        args = target("name", name, MODIFY_PRESET_INPUT, input)
        return await mutate_data(
            self._api, "modify_resource_preset", args, timeout=timeout, signal=signal
        )

    async def delete(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, MutationResult]:
        """Delete a preset by name."""
        args = target("name", name)
        return await mutate_data(
            self._api, "delete_resource_preset", args, timeout=timeout, signal=signal
        )

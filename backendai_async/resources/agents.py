"""``client.agent`` and ``client.agent_summary``: the cluster's agents.

``agent`` is for superadmins (the manager's ``agents``/``agent_list``); ``agent_summary``
is the view every user may have (``agent_summary_list``). ``status`` is ``ALIVE`` or
``TERMINATED``, as in the JS SDK (which quietly returned ``false`` for anything else).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec
from ._base import Resource
from ._graphql import (
    Fields,
    Timeout,
    Var,
    fields_or,
    mutate_data,
    paginate,
    select_data,
    select_page,
    target,
)

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import Agent, MutationResult

__all__ = ["AGENT_FIELDS", "AGENT_STATUSES", "AGENT_SUMMARY_FIELDS", "AgentSummaries", "Agents"]

AGENT_STATUSES = ("ALIVE", "TERMINATED")
AGENT_FIELDS = (
    "id",
    "status",
    "region",
    "first_contact",
    "cpu_cur_pct",
    "mem_cur_bytes",
    "available_slots",
    "occupied_slots",
)
AGENT_SUMMARY_FIELDS = (
    "id",
    "status",
    "scaling_group",
    "schedulable",
    "available_slots",
    "occupied_slots",
    "architecture",
)
MODIFY_AGENT_INPUT = InputSpec.of("ModifyAgentInput", "schedulable scaling_group")


def _status(status: object) -> Var:
    if status not in AGENT_STATUSES:
        raise ValueError(f"status must be one of {AGENT_STATUSES}, got {status!r}")
    return Var("String", status)


class Agents(Resource):
    """Agents (superadmin): ``list``/``iter``, ``update``."""

    async def list(
        self,
        status: str = "ALIVE",
        fields: Fields | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[Agent]]:
        """``{"agents": [...]}``: every agent with ``status``."""
        wanted = fields_or(fields, AGENT_FIELDS)
        args = {"status": _status(status)}
        return await select_data(self._api, "agents", args, wanted, timeout=timeout, signal=signal)

    def iter(
        self,
        status: str = "ALIVE",
        fields: Fields | None = None,
        *,
        page_size: int = 100,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[Agent]:
        """Every agent with ``status``, page by page (``agent_list``): for large clusters."""
        wanted = fields_or(fields, AGENT_FIELDS)
        return paginate(
            self._api,
            "agent_list",
            {"status": _status(status)},
            wanted,
            page_size=page_size,
            timeout=timeout,
            signal=signal,
        )

    async def update(
        self,
        id: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change an agent (``ModifyAgentInput``: ``schedulable``, ``scaling_group``)."""
        args = target("id", id, MODIFY_AGENT_INPUT, input)
        return await mutate_data(self._api, "modify_agent", args, timeout=timeout, signal=signal)


class AgentSummaries(Resource):
    """The agents every user may see: ``list`` (one page), ``iter`` (all)."""

    async def list(
        self,
        status: str = "ALIVE",
        fields: Fields | None = None,
        limit: int = 20,
        offset: int = 0,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any]:
        """``{"agent_summary_list": {"items": [...], "total_count": n}}``: one page."""
        wanted = fields_or(fields, AGENT_SUMMARY_FIELDS)
        return await select_page(
            self._api,
            "agent_summary_list",
            {"status": _status(status)},
            wanted,
            limit,
            offset,
            timeout=timeout,
            signal=signal,
        )

    def iter(
        self,
        status: str = "ALIVE",
        fields: Fields | None = None,
        *,
        page_size: int = 100,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[Agent]:
        """Every agent summary with ``status``, page by page."""
        wanted = fields_or(fields, AGENT_SUMMARY_FIELDS)
        return paginate(
            self._api,
            "agent_summary_list",
            {"status": _status(status)},
            wanted,
            page_size=page_size,
            timeout=timeout,
            signal=signal,
        )

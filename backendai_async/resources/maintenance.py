"""Cluster maintenance: ``client.maintenance`` (image rescans, usage recalculation).

``rescan_images`` starts a background task on the manager and returns its ``task_id``;
``attach_background_task`` follows its progress (server-sent events on
``/events/background-task``, see ``resources/events.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_text, optional
from ._base import Resource
from ._graphql import Var, mutate
from .events import BACKGROUND_TASK_EVENT_TIMEOUT, BackgroundTaskEvent, Events

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["RECALCULATE_TIMEOUT", "Maintenance", "RescanResult"]

Timeout = float | UseDefault | None
RECALCULATE_TIMEOUT: Final = 60.0  # the JS SDK's: it walks every running container


class RescanResult(TypedDict):
    """``rescan_images()``: the background task doing the scan (``ok`` is always true)."""

    ok: bool
    msg: str
    task_id: str


class Maintenance(Resource):
    """``client.maintenance``: admin-only housekeeping of images and resource usage."""

    __slots__ = ()

    def attach_background_task(
        self,
        task_id: str,
        *,
        event_timeout: float | None = BACKGROUND_TASK_EVENT_TIMEOUT,
        timeout: float | None = None,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[BackgroundTaskEvent]:
        """The task's events until it ends (``client.events.attach_background_task``)."""
        return Events(self._api).attach_background_task(
            task_id, event_timeout=event_timeout, timeout=timeout, signal=signal
        )

    async def rescan_images(
        self,
        registry: str | None = None,
        project: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> RescanResult:
        """Rescan the images of ``registry`` (every registry when None or ``""``).

        ``project`` narrows the scan to one project of that registry (managers 25.1.0
        and later; older ones refuse the argument). Admins only. The registry name is
        sent as given (the JS SDK URI-decodes it first).
        """
        registry = optional(check_text, registry or None, "registry")
        project = optional(check_text, project, "project")
        if project is not None and registry is None:
            raise ValueError("project narrows the rescan of one registry: pass registry too")
        args = {"registry": Var("String", registry), "project": Var("String", project)}
        result: RescanResult = await mutate(
            self._api,
            "rescan_images",
            args,
            returning=("ok", "msg", "task_id"),
            timeout=timeout,
            signal=signal,
        )
        return result

    async def recalculate_usage(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Recount the resources in use per keypair and agent from the running containers.

        Superadmins only; default deadline 60 s.
        """
        return await self._api.send(
            "POST",
            "/resource/recalculate-usage",
            timeout=RECALCULATE_TIMEOUT if timeout is USE_DEFAULT else timeout,
            signal=signal,
        )

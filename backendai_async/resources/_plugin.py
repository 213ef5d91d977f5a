"""What the manager-plugin namespaces (``client.cloud``, ``client.edu_app``) share.

Their endpoints exist only where the manager runs the plugin (Backend.AI Cloud's sign-up
flow, the EduApp launcher); elsewhere every call is a 404 ``ServerError``, which
``ping()`` turns into ``False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT, UseDefault
from ._base import Resource, answers

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Plugin", "Timeout"]

Timeout = float | UseDefault | None


class Plugin(Resource):
    """A namespace whose routes live below ``_prefix`` and exist only with the plugin."""

    __slots__ = ()
    _prefix = ""

    async def ping(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> bool:
        """Whether the plugin answers (False on a 404: the manager has no such plugin).

        The JS SDK returns the raw answer and rejects on a 404; any failure other than a
        404 raises here too.
        """
        return await answers(
            self._api.send("GET", f"{self._prefix}/ping", timeout=timeout, signal=signal)
        )

    async def _post(
        self, path: str, body: dict[str, Any], timeout: Timeout, signal: AbortSignal | None
    ) -> Any:
        return await self._api.send(
            "POST", f"{self._prefix}/{path}", json=body, timeout=timeout, signal=signal
        )

    async def _get(
        self, path: str, timeout: Timeout, signal: AbortSignal | None, params: Any = None
    ) -> Any:
        return await self._api.send(
            "GET", f"{self._prefix}/{path}", params=params, timeout=timeout, signal=signal
        )

"""The manager-wide announcement: ``client.service``.

Everyone can read it; changing it is a superadmin's call. Clearing differs per release: a
23.09 manager deletes the announcement when it is disabled and refuses an empty message,
while 26.9 keeps the text of a disabled announcement and clears it only on an empty one.
``update_announcement(False)`` clears it on both (the SDK sends what the release wants).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_flag, check_text
from ._base import Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat

__all__ = ["Announcement", "Service"]

Timeout = float | UseDefault | None


class Announcement(TypedDict):
    """``get_announcement()``: ``message`` is ``""`` when there is none."""

    enabled: bool
    message: str


class Service(Resource):
    """``client.service``: read and change the announcement shown to every user."""

    __slots__ = ()

    async def get_announcement(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Announcement:
        """``{"enabled": bool, "message": str}`` (``GET /manager/announcement``)."""
        result: Announcement = await self._api.send(
            "GET", "/manager/announcement", timeout=timeout, signal=signal
        )
        return result

    async def update_announcement(
        self,
        enabled: bool = True,
        message: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Publish ``message`` (``enabled=True``), or take the announcement down.

        ``update_announcement(False)`` (no message) clears it on every release. With
        ``enabled=False`` and a message, 26.9 keeps that text hidden as a draft; 23.09
        has no drafts and clears it. Publishing needs a non-empty message.
        """
        check_flag(enabled, "enabled")
        if enabled:
            message = check_text(message, "message (needed to publish an announcement)")
        else:
            message = None if message is None or message == "" else check_text(message, "message")
        api = self._api

        def body(compat: Compat) -> dict[str, Any]:
            shown = message
            if shown is None:
                shown = "" if api.supports("announcement-message-kept") else None
            return {"enabled": enabled, "message": shown}

        await api.send("POST", "/manager/announcement", json=body, timeout=timeout, signal=signal)

"""The EduApp launcher's plugin: ``client.edu_app`` (404 on other managers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import check_text
from ._plugin import Plugin, Timeout

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["EduApp"]


class EduApp(Plugin):
    """``client.edu_app``: what the EduApp launcher needs for the caller."""

    __slots__ = ()
    _prefix = "/eduapp"

    async def get_mount_folders(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """The folders to mount automatically into the caller's sessions."""
        return await self._get("mounts", timeout, signal)

    async def get_user_projects(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """The caller's projects."""
        return await self._get("projects", timeout, signal)

    async def get_user_credential(
        self, stoken: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """The credential that a webserver token (``sToken``) stands for."""
        return await self._get(
            "credential", timeout, signal, params={"sToken": check_text(stoken, "stoken")}
        )

"""The caller's dotfiles and bootstrap script: ``client.user_config``.

Dotfiles are small files (``.bashrc``, ``.vimrc`` …) the manager writes into the home
directory of every new session; the bootstrap script runs when a session starts. Both
belong to the keypair that makes the call (a superadmin may name another one with
``owner_access_key``). The JS SDK's client-side "access key is not set" checks are gone:
the server answers for its keypairs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_str, check_text, drop_none, optional
from ._base import Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Dotfile", "UserConfig"]

Timeout = float | UseDefault | None
DEFAULT_PERMISSION = "644"
_PERMISSION = re.compile(r"^[0-7]{3}$", re.ASCII)


class Dotfile(TypedDict):
    """One entry of ``get()``: where it goes, its mode (``"644"``) and its content."""

    path: str
    permission: str
    data: str


class UserConfig(Resource):
    """``client.user_config``: bootstrap script and dotfiles of the caller's keypair."""

    __slots__ = ()

    async def _write(
        self,
        method: str,
        data: object,
        path: object,
        permission: object,
        owner: object,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> Any:
        """Create (POST) or replace (PATCH) one dotfile."""
        if not isinstance(permission, str) or not _PERMISSION.match(permission):
            raise ValueError(f"permission must be three octal digits ('644'), got {permission!r}")
        body = drop_none(
            path=check_text(path, "path"),
            data=check_str(data, "data"),
            permission=permission,
            owner_access_key=optional(check_text, owner, "owner_access_key"),
        )
        return await self._api.send(
            method, "/user-config/dotfiles", json=body, timeout=timeout, signal=signal
        )

    async def get_bootstrap_script(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> str:
        """The bootstrap script (``""`` when none is set)."""
        result: str = await self._api.send(
            "GET", "/user-config/bootstrap-script", timeout=timeout, signal=signal
        )
        return result

    async def update_bootstrap_script(
        self, script: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Replace the bootstrap script (``""`` removes it; the manager strips whitespace)."""
        body = {"script": check_str(script, "script")}
        return await self._api.send(
            "POST", "/user-config/bootstrap-script", json=body, timeout=timeout, signal=signal
        )

    async def create(
        self,
        data: str,
        path: str,
        *,
        permission: str = DEFAULT_PERMISSION,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Add dotfile ``path`` with content ``data`` (400 if it exists).

        The JS SDK's ``create(data = '', path)`` cannot be written in Python (a required
        argument after a defaulted one): pass ``""`` for an empty file.
        """
        return await self._write("POST", data, path, permission, owner_access_key, timeout, signal)

    async def get(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> list[Dotfile]:
        """Every dotfile of the caller's keypair."""
        result: list[Dotfile] = await self._api.send(
            "GET", "/user-config/dotfiles", timeout=timeout, signal=signal
        )
        return result

    async def update(
        self,
        data: str,
        path: str,
        *,
        permission: str = DEFAULT_PERMISSION,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Replace the content (and mode) of dotfile ``path`` (404 if there is none)."""
        return await self._write("PATCH", data, path, permission, owner_access_key, timeout, signal)

    async def delete(
        self,
        path: str,
        *,
        owner_access_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Remove dotfile ``path``: ``{"success": true}`` (404 if there is none).

        Sent in the query string: 26.9 reads this call's parameters only there (a JSON
        body, what the JS SDK sends, is a 400), and 23.09 reads both.
        """
        query = drop_none(
            path=check_text(path, "path"),
            owner_access_key=optional(check_text, owner_access_key, "owner_access_key"),
        )
        return await self._api.send(
            "DELETE", "/user-config/dotfiles", params=query, timeout=timeout, signal=signal
        )

"""Raw configuration in etcd under ``config/``: ``client.setting``.

Keys are relative to ``config/`` (``setting.get("docker/image/auto_pull")`` reads
``config/docker/image/auto_pull``). Superadmin only. ``prefix=True`` matches as a plain
string prefix on the manager (``a/b`` also matches ``a/bc``): end a subtree's key with
``/`` to mean only it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_flag, check_str, check_text
from ._base import Resource
from ._etcd import etcd

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Setting"]

Timeout = float | UseDefault | None


def _key(key: object, what: str = "key", allow_empty: bool = False) -> str:
    return "config/" + (check_str(key, what) if allow_empty else check_text(key, what))


class Setting(Resource):
    """``client.setting``: list, get, set and delete etcd keys under ``config/``."""

    __slots__ = ()

    async def list(
        self, prefix: str = "", *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """``{"result": {...}}``: the nested subtree of every key starting with ``prefix``."""
        body = {"key": _key(prefix, "prefix", allow_empty=True), "prefix": True}
        return await etcd(self._api, "get", body, timeout=timeout, signal=signal)

    async def get(
        self, key: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """``{"result": value}`` (``None`` when the key does not exist)."""
        body = {"key": _key(key), "prefix": False}
        return await etcd(self._api, "get", body, timeout=timeout, signal=signal)

    async def set(
        self,
        key: str,
        value: Any,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Store ``value`` (text, or a mapping stored flattened below ``key``, ≤ 16 keys)."""
        if value is None:
            raise ValueError("value must not be None: delete() removes a key")
        body = {"key": _key(key), "value": value}
        return await etcd(self._api, "set", body, timeout=timeout, signal=signal)

    async def delete(
        self,
        key: str,
        prefix: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Delete ``key`` (with ``prefix``, every key that starts with it)."""
        body = {"key": _key(key), "prefix": check_flag(prefix, "prefix")}
        return await etcd(self._api, "delete", body, timeout=timeout, signal=signal)

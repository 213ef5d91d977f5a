"""The manager's raw etcd access (``POST /config/get|set|delete``), for the namespaces on it.

``client.setting`` (keys under ``config/``) and ``client.registry`` (``config/docker/
registry/``) each describe their keys; the call itself is here once. The manager allows it
to superadmins only (23.09 refuses others with 401, 26.9 with 403).

Bodies: ``get`` and ``delete`` take ``{"key", "prefix"}``, ``set`` takes ``{"key",
"value"}`` (a mapping value is stored flattened below the key). The manager matches
``prefix: true`` as a plain string prefix: ``a/b`` also matches ``a/bc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..timeouts import USE_DEFAULT, UseDefault

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from ._base import Api

__all__ = ["etcd"]


async def etcd(
    api: Api,
    op: Literal["get", "set", "delete"],
    body: dict[str, Any],
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
) -> Any:
    """``POST /config/{op}``: ``{"result": value}`` for get, ``{"result": "ok"}`` otherwise."""
    return await api.send("POST", f"/config/{op}", json=body, timeout=timeout, signal=signal)

"""Container registries stored in etcd (``config/docker/registry/<name>``): ``client.registry``.

A registry is the key of its URL, with its options (``type``, ``project``, ``username`` …)
below it. Names are percent-quoted into the key as the manager reads them
(``localhost:5000`` → ``localhost%3A5000``). Superadmin only. Managers from 23.09.2 also
keep registries in the ``container_registry`` GraphQL API, which this namespace does not
cover (the JS SDK's neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_text
from ._base import Resource
from ._etcd import etcd

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Registry"]

Timeout = float | UseDefault | None
REGISTRY_PREFIX = "config/docker/registry"


def _key(name: object) -> str:
    return f"{REGISTRY_PREFIX}/{quote(check_text(name, 'key'), safe='')}"


class Registry(Resource):
    """``client.registry``: list, set and delete container registries (etcd-backed)."""

    __slots__ = ()

    async def list(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """``{"result": {name: {"": url, "type": ..., ...}}}``: every registry and its options."""
        body = {"key": REGISTRY_PREFIX, "prefix": True}
        return await etcd(self._api, "get", body, timeout=timeout, signal=signal)

    async def set(
        self,
        key: str,
        value: str | Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Add or change registry ``key``: ``value`` is its URL or ``{"": url, "type": ...}``.

        The manager stores at most 16 keys per call (a mapping is flattened into keys).
        """
        if not isinstance(value, (str, Mapping)):
            raise ValueError(f"value must be a URL or a mapping of options, got {value!r}")
        body = {"key": _key(key), "value": value if isinstance(value, str) else dict(value)}
        return await etcd(self._api, "set", body, timeout=timeout, signal=signal)

    async def delete(
        self, key: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Remove registry ``key`` and its options, and no other registry.

        The JS SDK deletes ``…/registry/<key>`` as a string prefix, which also removes
        registries whose names start with ``key`` (``cr.io`` takes ``cr.io.mirror`` along).
        This deletes the options below ``<key>/`` first, then the key itself: two calls,
        each under ``timeout``.
        """
        full = _key(key)
        below = {"key": full + "/", "prefix": True}
        await etcd(self._api, "delete", below, timeout=timeout, signal=signal)
        return await etcd(
            self._api, "delete", {"key": full, "prefix": False}, timeout=timeout, signal=signal
        )

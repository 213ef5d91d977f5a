"""``client.image``: container images (the JS SDK's ``ContainerImage``).

``list`` is GraphQL; ``get``, ``modify_resource`` and ``modify_label`` read and write the
image's settings in the manager's etcd (``POST /config/get|set``, superadmin: a normal user
gets 401 from 23.09 and 403 from 26.x). ``install`` starts a small batch session with the
image so that an agent pulls it. The JS SDK's ``uninstall`` is a stub that does nothing
and is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import check_flag, check_text
from ._base import Resource
from ._graphql import Fields, Timeout, Var, fields_or, select_data

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import Image

__all__ = ["IMAGE_FIELDS", "INSTALL_RESOURCES", "Images", "etcd_image_key"]

IMAGE_FIELDS = (
    "name",
    "tag",
    "registry",
    "digest",
    "installed",
    "labels { key value }",
    "resource_limits { key min max }",
)
INSTALL_RESOURCES: Mapping[str, Any] = {
    "cpu": 1,
    "mem": "512m",
    "enqueueOnly": True,
    "type": "batch",
    "startupCommand": 'echo "Image is installed"',
}


def etcd_image_key(registry: str, image: str, tag: str) -> str:
    """``images/<registry>/<image>/<tag>`` as the manager keys it in etcd (``:`` and ``/``
    escaped everywhere; the JS node SDK escaped only the first ``/``)."""
    registry = check_text(registry, "registry").replace(":", "%3A")
    image = check_text(image, "image").replace("/", "%2F")
    tag = check_text(tag, "tag")
    if "/" in registry or "/" in tag:
        raise ValueError(f"registry and tag cannot contain '/': {registry!r}, {tag!r}")
    return f"images/{registry}/{image}/{tag}"


def _resource_tree(input: object) -> dict[str, dict[str, Any]]:
    """``{slot: {"min": ..., "max": ...}}``, checked (the value ``/config/set`` flattens)."""
    if not isinstance(input, Mapping) or not input:
        raise ValueError("input must be a non-empty mapping of slot -> {'min', 'max'}")
    tree: dict[str, dict[str, Any]] = {}
    for slot, limits in input.items():
        check_text(slot, "input slot name")
        if "/" in slot or not isinstance(limits, Mapping) or not limits:
            raise ValueError(f"input[{slot!r}] must be a mapping like {{'min': '1'}}")
        unknown = set(limits) - {"min", "max"}
        if unknown:
            raise ValueError(f"input[{slot!r}]: unknown keys {sorted(unknown)} (min, max)")
        tree[slot] = dict(limits)
    return tree


class Images(Resource):
    """Images: ``list``, ``get``, ``modify_resource``, ``modify_label``, ``install``."""

    async def list(
        self,
        fields: Fields | None = None,
        installed_only: bool = False,
        system_images: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[Image]]:
        """``{"images": [...]}`` you may use (all of them for a superadmin).

        ``system_images=True`` asks for operational images (23.09's ``is_operation``; the
        JS SDK never sent it); newer managers that dropped the argument refuse it.
        """
        args = {
            "is_installed": Var(
                "Boolean", True if check_flag(installed_only, "installed_only") else None
            ),
            "is_operation": Var(
                "Boolean", True if check_flag(system_images, "system_images") else None
            ),
        }
        wanted = fields_or(fields, IMAGE_FIELDS)
        return await select_data(self._api, "images", args, wanted, timeout=timeout, signal=signal)

    async def get(
        self,
        registry: str,
        image: str,
        tag: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """``{"result": {slot: {"min", "max"}}}``: the image's resource limits in etcd."""
        body = {"key": etcd_image_key(registry, image, tag) + "/resource/", "prefix": True}
        return await self._api.send(
            "POST", "/config/get", json=body, timeout=timeout, signal=signal
        )

    async def modify_resource(
        self,
        registry: str,
        image: str,
        tag: str,
        input: Mapping[str, Mapping[str, Any]],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Set resource limits, ``{"cpu": {"min": "1"}, "mem": {"min": "1g"}}``, in one call
        (the JS SDK sent one request per value)."""
        body = {
            "key": etcd_image_key(registry, image, tag) + "/resource",
            "value": _resource_tree(input),
        }
        return await self._api.send(
            "POST", "/config/set", json=body, timeout=timeout, signal=signal
        )

    async def modify_label(
        self,
        registry: str,
        image: str,
        tag: str,
        key: str,
        value: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Set one label of the image in etcd."""
        if "/" in check_text(key, "key"):
            raise ValueError(f"key cannot contain '/': {key!r}")
        if not isinstance(value, str):
            raise ValueError(f"value must be a string, got {type(value).__name__}")
        body = {"key": f"{etcd_image_key(registry, image, tag)}/labels/{key}", "value": value}
        return await self._api.send(
            "POST", "/config/set", json=body, timeout=timeout, signal=signal
        )

    async def install(
        self,
        name: str,
        architecture: str,
        resource: Mapping[str, Any] | None = None,
        registry: str = "index.docker.io",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Queue a short batch session with ``registry/name`` so that an agent pulls it; the
        answer is the session's (``create_if_not_exists``). ``resource`` replaces the
        default one-CPU batch job's settings (:data:`INSTALL_RESOURCES`)."""
        from .sessions import Sessions  # a composite of the session API, as in the JS SDK

        image = f"{check_text(registry, 'registry')}/{check_text(name, 'name')}"
        resources = {
            **INSTALL_RESOURCES,
            **(resource or {}),
            "architecture": check_text(architecture, "architecture"),
        }
        sessions = Sessions(self._api)
        return await sessions.create_if_not_exists(image, None, resources, timeout, signal=signal)

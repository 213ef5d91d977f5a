"""``client.storageproxy``: storage volumes behind the storage proxies (``StorageProxy``).

Volume lists and details are for superadmins; ``get_all_permissions`` (``GET /acl``) and
the allowed-hosts query are for every user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import check_text, check_uuid, optional
from ._base import Resource
from ._graphql import Fields, Timeout, Var, fields_or, paginate, select_data, select_page

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import StorageVolume

__all__ = ["ALLOWED_HOSTS_QUERY", "STORAGE_DETAIL_FIELDS", "STORAGE_FIELDS", "StorageProxies"]

STORAGE_FIELDS = ("id", "backend", "capabilities")
STORAGE_DETAIL_FIELDS = ("id", "backend", "path", "fsprefix", "capabilities")
ALLOWED_HOSTS_QUERY = (
    "query($domain_name: String, $group_id: UUID!, $resource_policy: String) {"
    " domain(name: $domain_name) { allowed_vfolder_hosts }"
    " group(id: $group_id, domain_name: $domain_name) { allowed_vfolder_hosts }"
    " keypair_resource_policy(name: $resource_policy) { allowed_vfolder_hosts } }"
)


class StorageProxies(Resource):
    """Storage volumes: ``list`` (one page)/``iter``, ``detail``, ``get_all_permissions``,
    ``get_allowed_vfolder_hosts_by_current_user_info``."""

    async def list(
        self,
        fields: Fields | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any]:
        """``{"storage_volume_list": {"items": [...], "total_count": n}}``: one page."""
        wanted = fields_or(fields, STORAGE_FIELDS)
        return await select_page(
            self._api,
            "storage_volume_list",
            {},
            wanted,
            limit,
            offset,
            timeout=timeout,
            signal=signal,
        )

    def iter(
        self,
        fields: Fields | None = None,
        *,
        page_size: int = 100,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[StorageVolume]:
        """Every storage volume, page by page."""
        wanted = fields_or(fields, STORAGE_FIELDS)
        return paginate(
            self._api,
            "storage_volume_list",
            {},
            wanted,
            page_size=page_size,
            timeout=timeout,
            signal=signal,
        )

    async def detail(
        self,
        host: str,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, StorageVolume]:
        """``{"storage_volume": {...}}`` of a vfolder host such as ``"local:volume1"``."""
        args = {"id": Var("String", check_text(host, "host"))}
        wanted = fields_or(fields, STORAGE_DETAIL_FIELDS)
        return await select_data(
            self._api, "storage_volume", args, wanted, timeout=timeout, signal=signal
        )

    async def get_all_permissions(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """``{"vfolder_host_permission_list": [...]}``: every permission a host can grant."""
        return await self._api.send("GET", "/acl", timeout=timeout, signal=signal)

    async def get_allowed_vfolder_hosts_by_current_user_info(
        self,
        domain_name: str | None,
        project_id: str,
        resource_policy_name: str | None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, Any]:
        """The ``allowed_vfolder_hosts`` (JSON strings) of a domain, a project and a keypair
        resource policy, in one query: ``{"domain": {...}, "group": {...},
        "keypair_resource_policy": {...}}``. None means your own domain / policy."""
        variables = {
            "domain_name": optional(check_text, domain_name, "domain_name"),
            "group_id": check_uuid(project_id, "project_id"),
            "resource_policy": optional(check_text, resource_policy_name, "resource_policy_name"),
        }
        return await self._api.query(
            ALLOWED_HOSTS_QUERY, variables, timeout=timeout, signal=signal, mutation=False
        )

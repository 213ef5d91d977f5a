"""Every difference between API versions that changes a path or a field, in one table.

Resources ask ``compat_for(version)`` instead of testing versions themselves, so supporting
a new server release means editing this file only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from .version import ApiVersion

__all__ = ["Compat", "compat_for"]

_BODY_UNSIGNED_SINCE = ApiVersion(4, "20181215")
_RESOURCE_SLOTS_MOVED = ApiVersion(4, "20190601")
_SESSION_ROUTES = ApiVersion(5, "20191215")
_GQL_ENDPOINT = ApiVersion(6, "20210815")
_CLUSTER_PARAMS = ApiVersion(6, "20200815")  # cluster_size/cluster_mode at the top level
_STORAGE_PROXY = ApiVersion(6, "20200815")  # vfolder transfers through storage proxies


@dataclass(frozen=True)
class Compat:
    """What one API version calls things."""

    version: ApiVersion
    hashes_body: bool  # v3 signs the body's SHA-256, later versions sign b""
    session_prefix: str  # "/session" (v5+) or "/kernel"
    stream_prefix: str  # WebSockets: "/stream/session" (v5+) or "/stream/kernel"
    create_session_path: str  # "/session" (v5+) or "/kernel/create"
    session_name_field: str  # GraphQL: "session_name" (v5+) or "sess_id"
    resource_slots_path: str  # "/config/resource-slots" or "/etcd/resource-slots"
    graphql_path: str  # "/admin/gql" (standard {data, errors}) from v6.20210815, else legacy
    create_image_field: str  # session creation: "image" (v5+) or "lang"
    create_name_field: str  # session creation: "name" (v5+) or "clientSessionToken"
    cluster_params_top_level: bool  # v6+: cluster_size/cluster_mode beside "config"
    gql_renames: Mapping[str, str]  # GraphQL field names this version spells differently
    gql_session_renames: Mapping[str, str]  # ComputeSession fields spelled differently
    gql_session_absent: frozenset[str]  # ComputeSession fields this version lacks
    vfolder_storage_proxy: bool  # v6+: transfers go to the storage proxy the manager names
    vfolder_upload_request: str  # "request-upload" (v6+) or the manager's "create_upload_session"
    vfolder_download_request: str  # "request-download" (v6+) or "request_download"
    vfolder_download_field: str  # the file's key in that body: "path" (v6+) or "file"
    vfolder_rename_is_dir: bool  # rename_file takes "is_dir" (v6+; older validators refuse it)


_NO_RENAMES: Mapping[str, str] = MappingProxyType({})
_BEFORE_V5_RENAMES: Mapping[str, str] = MappingProxyType({"session_name": "sess_id"})
# Before v5 a session was its main kernel: ``sess_id`` named it (``name`` came with v5) and
# neither ``starts_at`` nor ``containers`` existed (manager 19.09's schema).
_BEFORE_V5_SESSION_RENAMES: Mapping[str, str] = MappingProxyType(
    {"session_name": "sess_id", "name": "sess_id"}
)
_BEFORE_V5_SESSION_ABSENT = frozenset({"starts_at", "containers"})


@lru_cache(maxsize=32)
def compat_for(version: ApiVersion) -> Compat:
    """The compatibility row for a negotiated version."""
    sessions = version >= _SESSION_ROUTES
    proxy = version >= _STORAGE_PROXY
    return Compat(
        version=version,
        hashes_body=version < _BODY_UNSIGNED_SINCE,
        session_prefix="/session" if sessions else "/kernel",
        stream_prefix="/stream/session" if sessions else "/stream/kernel",
        create_session_path="/session" if sessions else "/kernel/create",
        session_name_field="session_name" if sessions else "sess_id",
        resource_slots_path=(
            "/config/resource-slots" if version >= _RESOURCE_SLOTS_MOVED else "/etcd/resource-slots"
        ),
        graphql_path="/admin/gql" if version >= _GQL_ENDPOINT else "/admin/graphql",
        create_image_field="image" if sessions else "lang",
        create_name_field="name" if sessions else "clientSessionToken",
        cluster_params_top_level=version >= _CLUSTER_PARAMS,
        gql_renames=_NO_RENAMES if sessions else _BEFORE_V5_RENAMES,
        gql_session_renames=_NO_RENAMES if sessions else _BEFORE_V5_SESSION_RENAMES,
        gql_session_absent=frozenset() if sessions else _BEFORE_V5_SESSION_ABSENT,
        vfolder_storage_proxy=proxy,
        vfolder_upload_request="request-upload" if proxy else "create_upload_session",
        vfolder_download_request="request-download" if proxy else "request_download",
        vfolder_download_field="path" if proxy else "file",
        vfolder_rename_is_dir=proxy,
    )

"""Storage volumes in the fake manager: GraphQL ``storage_volume(s)`` (superadmin) and REST
``GET /acl`` (the permissions a vfolder host can grant).

``state.extras["storage_volumes"]`` is a list of ``StorageVolume`` rows (``local:volume1``,
a vfs volume, as on the harnesses).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import GraphQLField, ObjectType, fixture, page, register_graphql_field
from ._manager import ServerState

__all__ = ["EXAMPLE_VOLUMES", "HOST_PERMISSIONS", "register_storage_routes"]

VOLUME_TYPE = ObjectType.of(
    "StorageVolume",
    "id backend fsprefix path capabilities hardware_metadata performance_metric usage",
)
EXAMPLE_VOLUMES: list[dict[str, Any]] = [
    {
        "id": "local:volume1",
        "backend": "vfs",
        "fsprefix": ".",
        "path": "/var/lib/backend.ai/vfroot/volume1",
        "capabilities": ["vfolder"],
        "hardware_metadata": "{}",
        "performance_metric": "{}",
        "usage": '{"capacity_bytes": 0, "used_bytes": 0}',
    }
]
HOST_PERMISSIONS = [
    "create-vfolder",
    "modify-vfolder",
    "delete-vfolder",
    "mount-in-session",
    "upload-file",
    "download-file",
    "invite-others",
    "set-user-specific-permission",
]


def volumes(state: ServerState) -> list[dict[str, Any]]:
    """The storage volumes fixture."""
    found: list[dict[str, Any]] = fixture(state, "storage_volumes", EXAMPLE_VOLUMES)
    return found


async def _acl(request: web.Request) -> web.StreamResponse:
    return web.json_response({"vfolder_host_permission_list": HOST_PERMISSIONS})


def register_storage_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_route("GET", "/acl", _acl)
    listing = ObjectType("StorageVolumeList", {"items": VOLUME_TYPE, "total_count": None})
    for gql_field in (
        GraphQLField(
            "storage_volume",
            lambda ctx: next(
                (v for v in volumes(ctx.state) if v["id"] == ctx.args.get("id")), None
            ),
            role="superadmin",
            type=VOLUME_TYPE,
            args=frozenset({"id"}),
        ),
        GraphQLField(
            "storage_volume_list",
            lambda ctx: page(volumes(ctx.state), ctx),
            role="superadmin",
            type=listing,
            args=frozenset({"limit", "offset", "filter", "order"}),
        ),
    ):
        register_graphql_field(state, gql_field)

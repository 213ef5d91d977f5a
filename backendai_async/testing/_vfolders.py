"""Virtual folders of the embedded manager: the ``/folders`` routes, answering as 23.09 does.

    async with BackendAITestServer() as server:
        store = vfolder_store(server)            # folders, shares, invitations: plain data
        store.proxy.cut_upload_at = 1_000_000    # the fake storage proxy's knobs

Parameters are validated the way the 23.09 manager's validators do (its error texts and
``data`` shapes), permissions follow its rules (owner; project folders for members, with
the folder's permission for non-admins; invitations with their own permission) and a
folder you may not see is "No such virtual folder." (404). Files live in a temporary
directory per folder. Transfers go through :class:`FakeStorageProxy` (its own port) from
API v6.20200815; announce an older API version and the manager serves them itself
(``create_upload_session`` + its own tus route, ``request_download`` +
``download_with_token``), as managers before 20.09 did. Announce a manager release from
24.03 on and deleted folders go to a trash bin (``delete-pending``), with the
``restore-from-trash-bin`` / ``delete-from-trash-bin`` / ``purge`` routes of 26.9, and
``POST .../delete-files`` is accepted (23.09 answers it with 405).

Nothing here imports the SDK.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from ._manager import ServerState
from ._vfolder_files import ROUTES as FILE_ROUTES
from ._vfolder_folders import ROUTES as FOLDER_ROUTES
from ._vfolder_params import Handler, Problem
from ._vfolder_sharing import ROUTES as SHARING_ROUTES
from ._vfolder_store import (
    DEFAULT_VFOLDER_HOST,
    VFOLDERS_KEY,
    FakeVFolder,
    VFolderStore,
    vfolder_store,
)

__all__ = [
    "DEFAULT_VFOLDER_HOST",
    "VFOLDERS_KEY",
    "FakeVFolder",
    "VFolderStore",
    "register_vfolder_routes",
    "vfolder_store",
]


def _wrap(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem as p:
            return p.response

    run.__name__ = handler.__name__
    return run


def register_vfolder_routes(app: web.Application, state: ServerState) -> None:
    """Install the folder routes, their store and its storage proxy; a ``RouteInstaller``."""
    store = VFolderStore(state)
    app[VFOLDERS_KEY] = store
    state.companions.append(store.proxy)

    async def cleanup(_app: web.Application) -> None:
        await asyncio.to_thread(store.cleanup)

    app.on_cleanup.append(cleanup)
    for method, path, handler, flags in (*SHARING_ROUTES, *FILE_ROUTES, *FOLDER_ROUTES):
        route = _wrap(handler)
        if "public" in flags:
            state.public(route)
        if "streaming" in flags:
            state.streaming(route)
        app.router.add_route(method, "/folders" + path, route)

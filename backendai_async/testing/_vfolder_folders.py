"""The folder routes of the embedded manager: create, list, info, rename, options, clone,
delete (and the trash bin of 24.03+), hosts and types."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from typing import Any

from aiohttp import web

from ._events import start_background_task
from ._manager import STATE_KEY, problem_response
from ._vfolder_params import (
    PERMISSION,
    PERMS,
    USAGE_MODES,
    Checker,
    Problem,
    Route,
    already_exists,
    anything,
    boolean,
    created_row,
    enum_of,
    forbidden,
    has_trash_bin,
    invalid,
    listed_row,
    me_of,
    method_not_allowed,
    not_found,
    optional,
    params_of,
    ready,
    resolve,
    slug,
    store_of,
    string,
    to_bool,
    unauthorized,
    usage_of,
    uuid_hex,
)
from ._vfolder_store import (
    FakeVFolder,
    VFolderStore,
    live,
)

# -- folders -------------------------------------------------------------------------------


async def _create(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    c = Checker(await params_of(request))
    name = c.get("name", check=slug)
    host = c.get("host", default=None, check=optional(string))
    usage_mode = c.get(
        "usage_mode", default="general", check=enum_of(USAGE_MODES, "VFolderUsageMode")
    )
    permission = c.get("permission", default="rw", check=enum_of(PERMS, "VFolderPermission"))
    c.get("unmanaged_path", "unmanagedPath", default=None, check=anything)
    group = c.get("group", "groupId", "group_id", default=None, check=optional(string))
    c.get("quota", default=None, check=anything)
    cloneable = c.get("cloneable", default=False, check=boolean)
    c.done()
    host = host or store.default_host
    if not host:
        raise invalid(
            "You must specify the vfolder host because the default host is not configured."
        )
    if name.startswith(".") and name != ".local" and group is not None:
        raise invalid("dot-prefixed vfolders cannot be a group folder.")
    group_id = None
    if group is not None:
        group_id = store.project_id(group)
        if group_id is None:
            raise not_found(group, "user group (or project)")
        if not me["is_admin"]:
            raise forbidden("no permission")
    ownership = "group" if group_id else "user"
    if ownership not in store.allowed_types:
        raise invalid(f"{ownership}-owned vfolder is not allowed in this cluster")
    if host not in store.hosts:
        raise invalid(f"`create` Not allowed in vfolder host(`{host}`)")
    if any(a.folder.name == name for a in store.accessible(me)):
        raise already_exists(name)
    folder = FakeVFolder(
        id=uuid.uuid4().hex,
        name=name,
        host=host,
        creator=me["email"],
        user=None if group_id else me["uuid"],
        group=group_id,
        usage_mode=usage_mode or "general",
        permission=permission or "rw",
        cloneable=cloneable,
    )
    store.folders[folder.id] = folder
    await asyncio.to_thread(store.directory, folder)
    return web.json_response(created_row(folder), status=201)


async def _list(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    c = Checker(await params_of(request))
    if c.get("all", default=False, check=to_bool):
        raise invalid("Deprecated use of 'all' option")
    group_id = c.get("group_id", "groupId", default=None, check=anything)
    email = c.get("owner_user_email", "ownerUserEmail", default=None, check=optional(string))
    c.done()
    if email is not None and email != me["email"]:
        if not me["is_admin"]:
            raise Problem(
                problem_response(
                    403,
                    "generic-forbidden",
                    "Forbidden operation.",
                    "Only admins can query other users' vfolders",
                )
            )
        other = store.user_by_email(email)
        if other is None:
            raise not_found(email, "user")
        me = other
    rows = [
        listed_row(a, store)
        for a in store.accessible(me)
        if group_id is None
        or a.folder.user is not None
        or a.folder.group == store.project_id(group_id)
    ]
    return web.json_response(rows)


async def _info(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    access = resolve(request)
    f = access.folder
    count, used = await asyncio.to_thread(usage_of, store.directory(f))
    return web.json_response(
        {
            "name": f.name,
            "id": f.id,
            "host": f.host,
            "quota_scope_id": f.quota_scope_id,
            "status": f.status,
            "numFiles": count,
            "num_files": count,
            "used_bytes": used,
            "created": f.created_at,
            "created_at": f.created_at,
            "last_used": f.created_at,
            "user": str(f.user),
            "group": str(f.group),
            "type": f.ownership_type,
            "is_owner": access.is_owner,
            "permission": access.permission,
            "usage_mode": f.usage_mode,
            "cloneable": f.cloneable,
            "max_size": f.max_size,
            "cur_size": 0,
        }
    )


async def _remove(store: VFolderStore, folder: FakeVFolder, request: web.Request) -> None:
    """Delete a folder: to the trash bin on 24.03+, at once before."""
    if has_trash_bin(request):
        folder.status = "delete-pending"
        return
    store.folders.pop(folder.id, None)
    await asyncio.to_thread(shutil.rmtree, store.root / folder.id, True)


async def _delete(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    name = request.match_info["name"]
    matches = [a for a in store.accessible(me) if a.folder.name == name]
    if len(matches) > 1:
        raise Problem(
            problem_response(404, "too-many-vfolders", "There are two or more matching vfolders.")
        )
    if not matches:
        raise not_found(name)
    access = ready(matches[0])
    if not access.is_owner and access.permission != "wd":
        raise invalid("Cannot delete the vfolder that is not owned by myself.")
    await _remove(store, access.folder, request)
    return web.Response(status=204)


def _by_id(request: web.Request, params: dict[str, Any], *aliases: str) -> FakeVFolder:
    c = Checker(params)
    fid = c.get(*aliases, check=uuid_hex)
    c.done()
    folder = store_of(request).folders.get(fid)
    if folder is None:
        raise not_found(str(uuid.UUID(fid)))
    return folder


async def _delete_by_id(request: web.Request) -> web.StreamResponse:
    me = me_of(request)
    trash = has_trash_bin(request)
    if not trash and not me["is_superadmin"]:
        raise unauthorized()
    params = await params_of(request)
    folder = (
        _by_id(request, params, "id", "vfolderId", "vfolder_id")
        if trash
        else _by_id(request, params, "id")
    )
    if trash and folder.user != me["uuid"] and not me["is_superadmin"]:
        raise not_found(folder.id)
    await _remove(store_of(request), folder, request)
    return web.Response(status=204)


def _trash_only(request: web.Request) -> None:
    if not has_trash_bin(request):
        raise method_not_allowed("DELETE,GET")


async def _restore(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    folder = _by_id(request, await params_of(request), "id", "vfolderId", "vfolder_id")
    if folder.status != "delete-pending":
        raise invalid("The vfolder is not in the trash bin.")
    folder.status = "ready"
    return web.Response(status=204)


async def _delete_from_trash(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    store = store_of(request)
    folder = _by_id(request, await params_of(request), "id", "vfolderId", "vfolder_id")
    if folder.status != "delete-pending":
        raise invalid("The vfolder is not in the trash bin.")
    folder.status = "delete-complete"
    await asyncio.to_thread(shutil.rmtree, store.root / folder.id, True)
    return web.Response(status=204)


async def _purge(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    if not me_of(request)["is_superadmin"]:
        raise Problem(
            problem_response(
                403,
                "insufficient-privilege",
                "Insufficient privilege.",
                "You are not allowed to purge vfolders",
            )
        )
    folder = _by_id(request, await params_of(request), "id", "vfolderId", "vfolder_id")
    if live(folder):
        raise invalid("Only deleted vfolders can be purged.")
    store_of(request).folders.pop(folder.id, None)
    return web.Response(status=204)


async def _hosts(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    c = Checker(await params_of(request))
    c.get("group_id", "groupId", default=None, check=anything)
    c.done()
    info = {
        h: {"backend": "vfs", "capabilities": ["vfolder"], "usage": {}, "sftp_scaling_groups": []}
        for h in store.hosts
    }
    default = store.default_host if store.default_host in store.hosts else None
    return web.json_response(
        {"default": default, "allowed": sorted(store.hosts), "volume_info": info}
    )


async def _all_hosts(request: web.Request) -> web.StreamResponse:
    if not me_of(request)["is_superadmin"]:
        raise unauthorized()
    store = store_of(request)
    default = store.default_host if store.default_host in store.hosts else None
    return web.json_response({"default": default, "allowed": sorted(store.hosts)})


async def _allowed_types(request: web.Request) -> web.StreamResponse:
    return web.json_response(store_of(request).allowed_types)


async def _rename(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    access = ready(resolve(request, "wd"))
    c = Checker(await params_of(request))
    new_name = c.get("new_name", check=slug)
    c.done()
    if any(a.folder.name == new_name for a in store.accessible(me)):
        raise invalid("One of your accessible vfolders already has the name you requested.")
    if not access.is_owner:
        raise invalid("Cannot change the name of a vfolder that is not owned by myself.")
    access.folder.name = new_name
    return web.Response(status=201)


async def _update_options(request: web.Request) -> web.StreamResponse:
    access = ready(resolve(request, "wd"))
    c = Checker(await params_of(request))
    cloneable = c.get("cloneable", default=None, check=optional(boolean))
    permission = c.get("permission", default=None, check=PERMISSION)
    c.done()
    if not access.is_owner:
        raise invalid("Cannot change the options of a vfolder that is not owned by myself.")
    if cloneable is not None:
        access.folder.cloneable = cloneable
    if permission is not None:
        access.folder.permission = permission
    return web.Response(status=201)


async def _clone(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    access = ready(resolve(request, "ro"))
    c = Checker(await params_of(request))
    cloneable = c.get("cloneable", default=False, check=boolean)
    target_name = c.get("target_name", check=slug)
    host = c.get("target_host", default=None, check=optional(string))
    usage_mode = c.get(
        "usage_mode", default="general", check=enum_of(USAGE_MODES, "VFolderUsageMode")
    )
    permission = c.get("permission", default="rw", check=enum_of(PERMS, "VFolderPermission"))
    c.done()
    if not access.folder.cloneable:
        raise forbidden("The source vfolder is not permitted to be cloned.")
    host = host or store.default_host or access.folder.host
    if host not in store.hosts:
        raise invalid(f"`create` Not allowed in vfolder host(`{host}`)")
    if any(a.folder.name == target_name for a in store.accessible(me)):
        raise already_exists()
    folder = FakeVFolder(
        id=uuid.uuid4().hex,
        name=target_name,
        host=host,
        creator=me["email"],
        user=me["uuid"],
        usage_mode=usage_mode or "general",
        permission=permission or "rw",
        cloneable=cloneable,
    )
    source = store.directory(access.folder)
    await asyncio.to_thread(shutil.copytree, source, store.root / folder.id)
    store.folders[folder.id] = folder
    owner = request.app[STATE_KEY].keypair_of(request)
    task = start_background_task(request.app, owner.access_key if owner else None)
    body = {**created_row(folder), "bgtask_id": task}  # its events: /events/background-task
    body.pop("quota_scope_id")
    body.pop("max_size")
    body.pop("status")
    return web.json_response(body, status=201)


ROUTES: tuple[Route, ...] = (
    ("GET", "/_/hosts", _hosts, ""),
    ("GET", "/_/all-hosts", _all_hosts, ""),
    ("GET", "/_/all_hosts", _all_hosts, ""),
    ("GET", "/_/allowed-types", _allowed_types, ""),
    ("GET", "/_/allowed_types", _allowed_types, ""),
    ("POST", "/restore-from-trash-bin", _restore, ""),
    ("POST", "/delete-from-trash-bin", _delete_from_trash, ""),
    ("POST", "/purge", _purge, ""),
    ("POST", "", _create, ""),
    ("GET", "", _list, ""),
    ("DELETE", "", _delete_by_id, ""),
    ("GET", "/{name}", _info, ""),
    ("DELETE", "/{name}", _delete, ""),
    ("POST", "/{name}/rename", _rename, ""),
    ("POST", "/{name}/update-options", _update_options, ""),
    ("POST", "/{name}/clone", _clone, ""),
)
"""``(method, path below /folders, handler, "public"/"streaming" flags)``."""

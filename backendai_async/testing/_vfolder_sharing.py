"""The sharing and quota routes of the embedded manager: invitations, shares of project
folders, the shared list, leaving, quotas."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._manager import problem_response
from ._vfolder_params import (
    Bad,
    Checker,
    Problem,
    Route,
    already_exists,
    anything,
    forbidden,
    integer,
    invalid,
    me_of,
    not_found,
    optional,
    params_of,
    permission_value,
    ready,
    resolve,
    store_of,
    str_list,
    string,
    unauthorized,
    usage_of,
    uuid_hex,
)
from ._vfolder_store import (
    FakeVFolder,
    VFolderStore,
    live,
)

# -- sharing ----------------------------------------------------------------------------------


async def _invite(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    name = request.match_info["name"]
    c = Checker(await params_of(request))
    perm = c.get("perm", "permission", default="rw", check=permission_value)
    emails = c.get("emails", "user_ids", "userIDs", check=str_list)
    c.done()
    if name.startswith("."):
        raise forbidden("Cannot share private dot-prefixed vfolders.")
    folder = next(
        (f for f in store.folders.values() if f.user == me["uuid"] and f.name == name and live(f)),
        None,
    )
    if folder is None:
        raise not_found(None)
    invitees = [u for e in emails if (u := store.user_by_email(e)) and e != me["email"]]
    if not invitees:
        raise not_found(None, "vfolder invitation")
    if any((folder.id, u["uuid"]) in store.shares for u in invitees):
        raise already_exists()
    invited = []
    for user in invitees:
        pending = any(
            i["vfolder_id"] == folder.id
            and i["invitee"] == user["email"]
            and i["state"] == "pending"
            for i in store.invitations.values()
        )
        if pending:
            continue
        inv_id = str(uuid.uuid4())
        now = str(datetime.now(timezone.utc))
        store.invitations[inv_id] = {
            "id": inv_id,
            "inviter": me["email"],
            "invitee": user["email"],
            "perm": perm,
            "state": "pending",
            "created_at": now,
            "modified_at": now,
            "vfolder_id": folder.id,
        }
        invited.append(user["email"])
    return web.json_response({"invited_ids": invited}, status=201)


async def _invitations(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    rows = []
    for inv in store.invitations.values():
        folder = store.folders.get(inv["vfolder_id"])
        if inv["invitee"] == me["email"] and inv["state"] == "pending" and folder is not None:
            rows.append(
                {**inv, "vfolder_id": str(uuid.UUID(folder.id)), "vfolder_name": folder.name}
            )
    return web.json_response({"invitations": rows})


def _pending(store: VFolderStore, params: dict[str, Any]) -> dict[str, Any]:
    c = Checker(params)
    inv_id = c.get("inv_id", check=string)
    c.done()
    inv = store.invitations.get(inv_id)
    if inv is None or inv["state"] != "pending":
        raise not_found(None, "vfolder invitation")
    return inv


async def _accept(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    inv = _pending(store, await params_of(request))
    folder = store.folders.get(inv["vfolder_id"])
    if folder is None:
        raise not_found(None)
    if any(a.folder.name == folder.name for a in store.accessible(me)):
        raise already_exists()
    store.shares[(folder.id, me["uuid"])] = inv["perm"]
    inv["state"] = "accepted"
    return web.json_response({})


async def _delete_invitation(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    inv = _pending(store, await params_of(request))
    if me["email"] == inv["inviter"]:
        inv["state"] = "canceled"
    elif me["email"] == inv["invitee"]:
        inv["state"] = "rejected"
    else:
        raise forbidden("Cannot change other user's invitaiton")
    return web.json_response({})


async def _list_shared(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    c = Checker(await params_of(request))
    target = c.get("vfolder_id", "vfolderId", default=None, check=optional(uuid_hex))
    c.done()
    rows = []
    for (fid, user), perm in store.shares.items():
        folder = store.folders.get(fid)
        if folder is None or (target is not None and fid != target):
            continue
        email = store.email_of(user)
        rows.append(
            {
                "vfolder_id": str(uuid.UUID(fid)),
                "vfolder_name": folder.name,
                "status": folder.status,
                "owner": folder.group or folder.user,
                "type": "project" if folder.group else "user",
                "shared_to": {"uuid": user, "email": email},
                "perm": perm,
            }
        )
    return web.json_response({"shared": rows})


async def _update_shared(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    c = Checker(await params_of(request))
    fid = c.get("vfolder", check=uuid_hex)
    user = c.get("user", check=lambda v: str(uuid.UUID(uuid_hex(v))))
    perm = c.get("perm", "permission", check=optional(permission_value))
    c.done()
    if perm is None:
        store.shares.pop((fid, user), None)
    elif (fid, user) in store.shares:
        store.shares[(fid, user)] = perm
    return web.json_response({"msg": "shared vfolder permission updated"})


async def _leave(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    access = ready(resolve(request, "ro"))
    c = Checker(await params_of(request))
    c.get("shared_user_uuid", "sharedUserUuid", default=None, check=anything)
    c.done()
    if access.folder.group is not None:
        raise invalid("Cannot leave a group vfolder.")
    if access.is_owner:
        raise invalid("Cannot leave a vfolder owned by the requesting user.")
    store.shares.pop((access.folder.id, me["uuid"]), None)
    return web.json_response({"msg": "left the shared vfolder"})


def _project_folder(request: web.Request) -> FakeVFolder:
    me = me_of(request)
    if not me["is_admin"]:
        raise unauthorized()
    name = request.match_info["name"]
    found = [
        f for f in store_of(request).folders.values() if f.group and f.name == name and live(f)
    ]
    if not found:
        raise not_found(None)
    return found[0]


async def _share(request: web.Request) -> web.StreamResponse:
    store, me = store_of(request), me_of(request)
    folder = _project_folder(request)
    c = Checker(await params_of(request))
    perm = c.get("permission", default="rw", check=permission_value)
    emails = c.get("emails", check=str_list)
    c.done()
    members = [
        u
        for e in emails
        if (u := store.user_by_email(e)) and e != me["email"] and folder.group in u["groups"]
    ]
    if not members:
        raise not_found(None, "user")
    if len(members) < len(emails):
        missing = sorted(set(emails) - {u["email"] for u in members})
        raise Problem(
            problem_response(
                404,
                "object-not-found",
                "No such user.",
                f"Some users do not belong to folder's group: {','.join(missing)}",
            )
        )
    for user in members:
        store.shares[(folder.id, user["uuid"])] = perm
    return web.json_response({"shared_emails": [u["email"] for u in members]}, status=201)


async def _unshare(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    folder = _project_folder(request)
    c = Checker(await params_of(request))
    emails = c.get("emails", check=str_list)
    c.done()
    targets = [u for e in emails if (u := store.user_by_email(e))]
    if not targets:
        raise not_found(None, "user(s).")
    for user in targets:
        store.shares.pop((folder.id, user["uuid"]), None)
    return web.json_response({"unshared_emails": emails})


# -- quota -----------------------------------------------------------------------------------


def _quota_folder(
    request: web.Request, params: dict[str, Any], extra: tuple[str, ...] = ()
) -> tuple[FakeVFolder, dict[str, Any]]:
    store, me = store_of(request), me_of(request)
    c = Checker(params)
    c.get("folder_host", check=string)
    fid = c.get("id", check=uuid_hex)
    values = {key: c.get(key, check=anything) for key in extra}
    c.done()
    folder = store.folders.get(fid)
    if folder is None or not (
        me["is_superadmin"] or any(a.folder.id == fid for a in store.accessible(me))
    ):
        raise not_found(fid)
    return folder, values


async def _get_quota(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    folder, _ = _quota_folder(request, await params_of(request))
    _, used = await asyncio.to_thread(usage_of, store.directory(folder))
    return web.json_response({"used_bytes": used, "limit_bytes": folder.quota or 0})


async def _set_quota(request: web.Request) -> web.StreamResponse:
    folder, values = _quota_folder(request, await params_of(request), ("input",))
    given = values["input"]
    if not isinstance(given, dict) or "size_bytes" not in given:
        raise invalid(data={"input": "value is not a dict"})
    try:
        quota = integer(given["size_bytes"])
    except Bad as bad:
        raise invalid(data={"input": {"size_bytes": bad.data}}) from None
    folder.quota = quota
    folder.max_size = -(-quota // 2**20)
    return web.json_response({"size_bytes": quota})


ROUTES: tuple[Route, ...] = (
    ("GET", "/_/shared", _list_shared, ""),
    ("POST", "/_/shared", _update_shared, ""),
    ("GET", "/_/quota", _get_quota, ""),
    ("POST", "/_/quota", _set_quota, ""),
    ("GET", "/invitations/list", _invitations, ""),
    ("POST", "/invitations/accept", _accept, ""),
    ("DELETE", "/invitations/delete", _delete_invitation, ""),
    ("POST", "/{name}/invite", _invite, ""),
    ("POST", "/{name}/leave", _leave, ""),
    ("POST", "/{name}/share", _share, ""),
    ("DELETE", "/{name}/unshare", _unshare, ""),
)
"""``(method, path below /folders, handler, "public"/"streaming" flags)``."""

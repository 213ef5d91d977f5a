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
import json
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Final

from aiohttp import web

from ._manager import (
    DEFAULT_GROUP_ID,
    STATE_KEY,
    BackendAITestServer,
    Keypair,
    ServerState,
    problem_response,
)
from ._storage_proxy import FakeStorageProxy, serve_file
from ._users import users
from ._verify import parse_api_version

__all__ = [
    "DEFAULT_VFOLDER_HOST",
    "VFOLDERS_KEY",
    "FakeVFolder",
    "VFolderStore",
    "register_vfolder_routes",
    "vfolder_store",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_VFOLDER_HOST: Final = "local:volume1"
TRASH_BIN_SINCE: Final = (24, 3)
"""Manager releases with the trash bin (26.9's routes and answers)."""
_STORAGE_PROXY_SINCE = (6, "20200815")
_SLUG = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")
_PERMS = ("ro", "rw", "wd")
_RANK = {"ro": 1, "rw": 2, "wd": 3}
_USAGE_MODES = ("general", "model", "data")
_GROUP_NAMES = {DEFAULT_GROUP_ID: "default"}


@dataclass
class FakeVFolder:
    """One folder row; ``user`` (owner's uuid) or ``group`` (project id) is set."""

    id: str
    name: str
    host: str
    creator: str
    user: str | None = None
    group: str | None = None
    usage_mode: str = "general"
    permission: str = "rw"
    cloneable: bool = False
    status: str = "ready"
    max_size: int | None = None
    quota: int | None = None
    created_at: str = field(default_factory=lambda: str(datetime.now(timezone.utc)))

    @property
    def ownership_type(self) -> str:
        return "user" if self.user is not None else "group"

    @property
    def quota_scope_id(self) -> str:
        return f"user:{self.user}" if self.user is not None else f"project:{self.group}"


@dataclass
class _Access:
    """A folder as one user sees it (what ``query_accessible_vfolders`` returns)."""

    folder: FakeVFolder
    is_owner: bool
    permission: str


class VFolderStore:
    """All folder state of one fake manager; tests may read and change it.

    ``shares`` maps (folder id, user uuid) to a permission (invitations accepted, project
    folders shared); ``invitations`` maps an invitation id to its row.
    """

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self.hosts: list[str] = [DEFAULT_VFOLDER_HOST]
        self.default_host: str | None = DEFAULT_VFOLDER_HOST
        self.allowed_types: list[str] = ["group", "user"]
        self.folders: dict[str, FakeVFolder] = {}
        self.shares: dict[tuple[str, str], str] = {}
        self.invitations: dict[str, dict[str, Any]] = {}
        self.proxy = FakeStorageProxy()
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The temporary directory holding every folder's files (created on first use)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="backendai-test-vfolders-"))
        return self._root

    def cleanup(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def directory(self, folder: FakeVFolder) -> Path:
        """The local directory of a folder's files."""
        path = self.root / folder.id
        path.mkdir(exist_ok=True)
        return path

    def file(self, folder: FakeVFolder | str, relpath: str) -> Path:
        """The local path of ``relpath`` in a folder (or folder name); ValueError if it
        leaves the folder."""
        if isinstance(folder, str):
            named = self.by_name(folder)
            if named is None:
                raise KeyError(folder)
            folder = named
        base = self.directory(folder).resolve()
        target = (base / relpath).resolve()
        if target != base and base not in target.parents:
            raise ValueError(f"{relpath!r} leaves the folder")
        return target

    def by_name(self, name: str) -> FakeVFolder | None:
        """Any owner's live folder of that name (for tests)."""
        return next((f for f in self.folders.values() if f.name == name and _live(f)), None)

    # users

    def user_of(self, kp: Keypair) -> dict[str, Any]:
        row = users(self._state).get(kp.access_key, {})
        email = row.get("email") or f"{kp.access_key.lower()}@example.invalid"
        return {
            "uuid": row.get("uuid") or _uuid_of(email),
            "email": email,
            "role": kp.role,
            "groups": [g["id"] for g in row.get("groups", [])],
            "is_admin": kp.is_admin,
            "is_superadmin": kp.is_superadmin,
        }

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        for ak, row in users(self._state).items():
            if row.get("email") == email and row.get("is_active", True):
                kp = self._state.keypairs.get(ak)
                if kp is not None:
                    return self.user_of(kp)
        return None

    def accessible(self, me: dict[str, Any]) -> list[_Access]:
        """Own folders, folders shared with ``me``, then project folders (23.09's order)."""
        found: list[_Access] = []
        for f in self.folders.values():
            if f.user == me["uuid"]:
                found.append(_Access(f, True, f.permission))
        for (fid, user), perm in self.shares.items():
            shared = self.folders.get(fid)
            if user == me["uuid"] and shared is not None and shared.user is not None:
                found.append(_Access(shared, False, perm))
        for f in self.folders.values():
            if f.group is None:
                continue
            if me["is_superadmin"] or me["role"] == "admin" or f.group in me["groups"]:
                perm = self.shares.get((f.id, me["uuid"]), f.permission)
                found.append(_Access(f, me["is_admin"], perm))
        return [a for a in found if _live(a.folder)]


def _uuid_of(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "backendai-test:" + email))


def _live(folder: FakeVFolder) -> bool:
    return folder.status not in ("delete-complete", "delete-ongoing")


VFOLDERS_KEY = web.AppKey("backendai_testing.vfolders", VFolderStore)


def vfolder_store(server: BackendAITestServer | web.Application) -> VFolderStore:
    """The :class:`VFolderStore` of a server (or app)."""
    app = server if isinstance(server, web.Application) else server.app
    return app[VFOLDERS_KEY]


# -- answers -------------------------------------------------------------------------------


class _Problem(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _invalid(msg: str = "Input validation error", data: Any = None) -> _Problem:
    return _Problem(
        problem_response(400, "invalid-api-params", "Missing or invalid API parameters.", msg, data)
    )


def _not_found(name: Any, what: str = "virtual folder") -> _Problem:
    return _Problem(problem_response(404, "object-not-found", f"No such {what}.", data=name))


def _unauthorized() -> _Problem:
    """What 23.09's admin_required/superadmin_required answer (401, not 403)."""
    return _Problem(
        problem_response(
            401, "auth-failed", "Credential/signature mismatch.", "Unauthorized access"
        )
    )


def _forbidden(msg: str) -> _Problem:
    return _Problem(problem_response(403, "generic-forbidden", "Forbidden operation.", msg))


def _operation_failed() -> _Problem:
    return _Problem(
        problem_response(
            400,
            "vfolder-operation-failed",
            "Virtual folder operation has failed.",
            "Storage proxy responded with 500 Internal Server Error",
        )
    )


def _already_exists(name: str | None = None) -> _Problem:
    title = "The virtual folder already exists with the same name."
    return _Problem(problem_response(400, "vfolder-already-exists", title, data=name))


def _fs_error(msg: str, errno: int, path: str) -> _Problem:
    return _invalid(msg, {"errno": errno, "paths": [path]})


def _method_not_allowed(allow: str) -> _Problem:
    return _Problem(
        problem_response(
            405, "method-not-allowed", "HTTP Method Not Allowed.", headers={"Allow": allow}
        )
    )


def _unknown_url(request: web.Request) -> _Problem:
    return _Problem(problem_response(404, "url-not-found", "Unknown URL path.", data=request.path))


# -- request helpers ---------------------------------------------------------------------------


def _store(request: web.Request) -> VFolderStore:
    return request.app[VFOLDERS_KEY]


def _me(request: web.Request) -> dict[str, Any]:
    kp = request.app[STATE_KEY].keypair_of(request)
    assert kp is not None, "folder routes need an authenticated request"
    return _store(request).user_of(kp)


def _uses_proxy(request: web.Request) -> bool:
    version = parse_api_version(request.app[STATE_KEY].api_version) or (9, "99999999")
    return version >= _STORAGE_PROXY_SINCE


def _has_trash_bin(request: web.Request) -> bool:
    release = re.findall(r"\d+", request.app[STATE_KEY].manager_version)[:2]
    return tuple(int(p) for p in release) >= TRASH_BIN_SINCE


async def _params(request: web.Request) -> dict[str, Any]:
    """The JSON body if there is one, else the query (like ``check_api_params``)."""
    if request.body_exists:
        try:
            params = json.loads(await request.read())
        except ValueError:
            raise _invalid("Malformed body") from None
        if not isinstance(params, dict):
            raise _invalid(data="value is not a dict")
        return params
    return dict(request.query)


class _Bad(Exception):
    """A parameter the validator refuses; ``data`` is its entry in the error's ``data``."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.data = data


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "t", "yes", "y", "on", "1"):
            return True
        if word in ("false", "f", "no", "n", "off", "0", ""):
            return False
    raise _Bad("value can't be converted to Bool")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("value should be True or False")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("value is not a string")
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _anything(value: Any) -> Any:
    return value


def _slug(value: Any) -> str:
    text = _string(value)
    if not _SLUG.match(text[1:] if text.startswith(".") else text):
        raise _Bad("value must be a valid slug.")
    return text


def _enum(choices: tuple[str, ...], type_name: str) -> Callable[[Any], str | None]:
    """``tx.Enum(X) | t.Null``: None passes, anything else must be a member."""

    def check(value: Any) -> str | None:
        if value is not None and value not in choices:
            raise _Bad(
                {"0": f"value is not a valid member of {type_name}", "1": "value should be None"}
            )
        return None if value is None else str(value)

    return check


_USAGE_MODE = _enum(_USAGE_MODES, "VFolderUsageMode")
_PERMISSION = _enum(_PERMS, "VFolderPermission")


def _perm(value: Any) -> str:
    if value not in _PERMS:
        raise _Bad('one of "ro", "rw", or "wd" required')
    return str(value)


def _uuid(value: Any) -> str:
    try:
        return uuid.UUID(str(value)).hex
    except ValueError:
        raise _Bad("cannot convert value to UUID") from None


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("value is not a list")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("value can't be converted to int")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Bad("value can't be converted to int") from None


class _Checker:
    """The parts of trafaret's ``Dict`` the folder routes use: aliases, defaults, errors."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.errors: dict[str, Any] = {}
        self.used: set[str] = set()

    def get(self, *aliases: str, default: Any = ..., check: Callable[[Any], Any]) -> Any:
        for key in aliases:
            if key in self.params:
                self.used.add(key)
                try:
                    return check(self.params[key])
                except _Bad as bad:
                    self.errors[aliases[0]] = bad.data
                    return None
        if default is ...:
            self.errors[aliases[0]] = "is required"
        return None if default is ... else default

    def done(self) -> None:
        """Raise the 400 for every refused, missing or unknown key at once."""
        for key in self.params:
            if key not in self.used:
                self.errors[key] = f"{key} is not allowed key"
        if self.errors:
            raise _invalid(data=self.errors)


def _resolve(request: web.Request, need: str = "ro", name: str | None = None) -> _Access:
    """The folder of the URL as the requester may use it (``vfolder_permission_required``)."""
    store, me = _store(request), _me(request)
    name = request.match_info["name"] if name is None else name
    for access in store.accessible(me):
        folder = access.folder
        if folder.name != name and folder.id != name.replace("-", ""):
            continue
        if access.is_owner and folder.user == me["uuid"]:
            return access
        if folder.group is not None and me["is_admin"]:
            return access
        if _RANK[access.permission] >= _RANK[need]:
            return access
    raise _not_found(name)


def _ready(access: _Access) -> _Access:
    if access.folder.status not in ("ready", "mounted"):
        raise _Problem(
            problem_response(
                400, "vfolder-filter-status-failed", "Virtual folder status filtering has failed."
            )
        )
    return access


def _inside(store: VFolderStore, folder: FakeVFolder, relpath: str) -> Path:
    """A path in the folder; leaving it is what the storage proxy fails on (400 from 23.09)."""
    if PurePosixPath(relpath).is_absolute():
        raise _operation_failed()
    try:
        return store.file(folder, relpath)
    except ValueError:
        raise _operation_failed() from None


def _row(access: _Access, store: VFolderStore) -> dict[str, Any]:
    """A folder as ``GET /folders`` lists it."""
    f = access.folder
    owner = None
    if f.user is not None:
        owner = next(
            (
                store.user_of(kp)["email"]
                for kp in store._state.keypairs.values()
                if store.user_of(kp)["uuid"] == f.user
            ),
            None,
        )
    return {
        "name": f.name,
        "id": f.id,
        "quota_scope_id": f.quota_scope_id,
        "host": f.host,
        "status": f.status,
        "usage_mode": f.usage_mode,
        "created_at": f.created_at,
        "is_owner": access.is_owner,
        "permission": access.permission,
        "user": f.user,
        "group": f.group,
        "creator": f.creator,
        "user_email": owner,
        "group_name": _GROUP_NAMES.get(f.group or "") if f.group else None,
        "ownership_type": f.ownership_type,
        "type": f.ownership_type,
        "cloneable": f.cloneable,
        "max_files": 1000,
        "max_size": f.max_size,
        "cur_size": 0,
    }


def _created(folder: FakeVFolder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.name,
        "quota_scope_id": folder.quota_scope_id,
        "host": folder.host,
        "usage_mode": folder.usage_mode,
        "permission": folder.permission,
        "max_size": folder.max_size,
        "creator": folder.creator,
        "ownership_type": folder.ownership_type,
        "user": folder.user,
        "group": folder.group,
        "cloneable": folder.cloneable,
        "status": "ready",
    }


def _usage(directory: Path) -> tuple[int, int]:
    count = size = 0
    for path in directory.rglob("*"):
        count += 1
        if path.is_file():
            size += path.stat().st_size
    return count, size


def _group_of(value: str | None) -> str | None:
    """A project given by id or name, as its id (None: not found)."""
    if value is None:
        return None
    for gid, gname in _GROUP_NAMES.items():
        if value == gname:
            return gid
    try:
        gid = str(uuid.UUID(value))
    except ValueError:
        return None
    return gid if gid in _GROUP_NAMES else None


# -- folders -------------------------------------------------------------------------------


async def _create(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    c = _Checker(await _params(request))
    name = c.get("name", check=_slug)
    host = c.get("host", default=None, check=_optional(_string))
    usage_mode = c.get(
        "usage_mode", default="general", check=_enum(_USAGE_MODES, "VFolderUsageMode")
    )
    permission = c.get("permission", default="rw", check=_enum(_PERMS, "VFolderPermission"))
    c.get("unmanaged_path", "unmanagedPath", default=None, check=_anything)
    group = c.get("group", "groupId", "group_id", default=None, check=_optional(_string))
    c.get("quota", default=None, check=_anything)
    cloneable = c.get("cloneable", default=False, check=_bool)
    c.done()
    host = host or store.default_host
    if not host:
        raise _invalid(
            "You must specify the vfolder host because the default host is not configured."
        )
    if name.startswith(".") and name != ".local" and group is not None:
        raise _invalid("dot-prefixed vfolders cannot be a group folder.")
    group_id = None
    if group is not None:
        group_id = _group_of(group)
        if group_id is None:
            raise _not_found(group, "user group (or project)")
        if not me["is_admin"]:
            raise _forbidden("no permission")
    ownership = "group" if group_id else "user"
    if ownership not in store.allowed_types:
        raise _invalid(f"{ownership}-owned vfolder is not allowed in this cluster")
    if host not in store.hosts:
        raise _invalid(f"`create` Not allowed in vfolder host(`{host}`)")
    if any(a.folder.name == name for a in store.accessible(me)):
        raise _already_exists(name)
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
    return web.json_response(_created(folder), status=201)


async def _list(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    c = _Checker(await _params(request))
    if c.get("all", default=False, check=_to_bool):
        raise _invalid("Deprecated use of 'all' option")
    group_id = c.get("group_id", "groupId", default=None, check=_anything)
    email = c.get("owner_user_email", "ownerUserEmail", default=None, check=_optional(_string))
    c.done()
    if email is not None and email != me["email"]:
        if not me["is_admin"]:
            raise _Problem(
                problem_response(
                    403,
                    "generic-forbidden",
                    "Forbidden operation.",
                    "Only admins can query other users' vfolders",
                )
            )
        other = store.user_by_email(email)
        if other is None:
            raise _not_found(email, "user")
        me = other
    rows = [
        _row(a, store)
        for a in store.accessible(me)
        if group_id is None or a.folder.user is not None or a.folder.group == _group_of(group_id)
    ]
    return web.json_response(rows)


async def _info(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    access = _resolve(request)
    f = access.folder
    count, used = await asyncio.to_thread(_usage, store.directory(f))
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
    if _has_trash_bin(request):
        folder.status = "delete-pending"
        return
    store.folders.pop(folder.id, None)
    await asyncio.to_thread(shutil.rmtree, store.root / folder.id, True)


async def _delete(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    name = request.match_info["name"]
    matches = [a for a in store.accessible(me) if a.folder.name == name]
    if len(matches) > 1:
        raise _Problem(
            problem_response(404, "too-many-vfolders", "There are two or more matching vfolders.")
        )
    if not matches:
        raise _not_found(name)
    access = _ready(matches[0])
    if not access.is_owner and access.permission != "wd":
        raise _invalid("Cannot delete the vfolder that is not owned by myself.")
    await _remove(store, access.folder, request)
    return web.Response(status=204)


def _by_id(request: web.Request, params: dict[str, Any], *aliases: str) -> FakeVFolder:
    c = _Checker(params)
    fid = c.get(*aliases, check=_uuid)
    c.done()
    folder = _store(request).folders.get(fid)
    if folder is None:
        raise _not_found(str(uuid.UUID(fid)))
    return folder


async def _delete_by_id(request: web.Request) -> web.StreamResponse:
    me = _me(request)
    trash = _has_trash_bin(request)
    if not trash and not me["is_superadmin"]:
        raise _unauthorized()
    params = await _params(request)
    folder = (
        _by_id(request, params, "id", "vfolderId", "vfolder_id")
        if trash
        else _by_id(request, params, "id")
    )
    if trash and folder.user != me["uuid"] and not me["is_superadmin"]:
        raise _not_found(folder.id)
    await _remove(_store(request), folder, request)
    return web.Response(status=204)


def _trash_only(request: web.Request) -> None:
    if not _has_trash_bin(request):
        raise _method_not_allowed("DELETE,GET")


async def _restore(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    folder = _by_id(request, await _params(request), "id", "vfolderId", "vfolder_id")
    if folder.status != "delete-pending":
        raise _invalid("The vfolder is not in the trash bin.")
    folder.status = "ready"
    return web.Response(status=204)


async def _delete_from_trash(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    store = _store(request)
    folder = _by_id(request, await _params(request), "id", "vfolderId", "vfolder_id")
    if folder.status != "delete-pending":
        raise _invalid("The vfolder is not in the trash bin.")
    folder.status = "delete-complete"
    await asyncio.to_thread(shutil.rmtree, store.root / folder.id, True)
    return web.Response(status=204)


async def _purge(request: web.Request) -> web.StreamResponse:
    _trash_only(request)
    if not _me(request)["is_superadmin"]:
        raise _Problem(
            problem_response(
                403,
                "insufficient-privilege",
                "Insufficient privilege.",
                "You are not allowed to purge vfolders",
            )
        )
    folder = _by_id(request, await _params(request), "id", "vfolderId", "vfolder_id")
    if _live(folder):
        raise _invalid("Only deleted vfolders can be purged.")
    _store(request).folders.pop(folder.id, None)
    return web.Response(status=204)


async def _hosts(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    c = _Checker(await _params(request))
    c.get("group_id", "groupId", default=None, check=_anything)
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
    if not _me(request)["is_superadmin"]:
        raise _unauthorized()
    store = _store(request)
    default = store.default_host if store.default_host in store.hosts else None
    return web.json_response({"default": default, "allowed": sorted(store.hosts)})


async def _allowed_types(request: web.Request) -> web.StreamResponse:
    return web.json_response(_store(request).allowed_types)


async def _rename(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    access = _ready(_resolve(request, "wd"))
    c = _Checker(await _params(request))
    new_name = c.get("new_name", check=_slug)
    c.done()
    if any(a.folder.name == new_name for a in store.accessible(me)):
        raise _invalid("One of your accessible vfolders already has the name you requested.")
    if not access.is_owner:
        raise _invalid("Cannot change the name of a vfolder that is not owned by myself.")
    access.folder.name = new_name
    return web.Response(status=201)


async def _update_options(request: web.Request) -> web.StreamResponse:
    access = _ready(_resolve(request, "wd"))
    c = _Checker(await _params(request))
    cloneable = c.get("cloneable", default=None, check=_optional(_bool))
    permission = c.get("permission", default=None, check=_PERMISSION)
    c.done()
    if not access.is_owner:
        raise _invalid("Cannot change the options of a vfolder that is not owned by myself.")
    if cloneable is not None:
        access.folder.cloneable = cloneable
    if permission is not None:
        access.folder.permission = permission
    return web.Response(status=201)


async def _clone(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    access = _ready(_resolve(request, "ro"))
    c = _Checker(await _params(request))
    cloneable = c.get("cloneable", default=False, check=_bool)
    target_name = c.get("target_name", check=_slug)
    host = c.get("target_host", default=None, check=_optional(_string))
    usage_mode = c.get(
        "usage_mode", default="general", check=_enum(_USAGE_MODES, "VFolderUsageMode")
    )
    permission = c.get("permission", default="rw", check=_enum(_PERMS, "VFolderPermission"))
    c.done()
    if not access.folder.cloneable:
        raise _forbidden("The source vfolder is not permitted to be cloned.")
    host = host or store.default_host or access.folder.host
    if host not in store.hosts:
        raise _invalid(f"`create` Not allowed in vfolder host(`{host}`)")
    if any(a.folder.name == target_name for a in store.accessible(me)):
        raise _already_exists()
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
    body = {**_created(folder), "bgtask_id": str(uuid.uuid4())}
    body.pop("quota_scope_id")
    body.pop("max_size")
    body.pop("status")
    return web.json_response(body, status=201)


# -- files ----------------------------------------------------------------------------------


async def _mkdir(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    access = _ready(_resolve(request, "rw"))
    c = _Checker(await _params(request))
    path = c.get("path", check=_string)
    parents = c.get("parents", default=True, check=_to_bool)
    exist_ok = c.get("exist_ok", default=False, check=_to_bool)
    c.done()
    target = _inside(store, access.folder, path)
    try:
        await asyncio.to_thread(target.mkdir, parents=parents, exist_ok=exist_ok)
    except FileExistsError:
        raise _fs_error("File exists", 17, path) from None
    except FileNotFoundError:
        raise _fs_error("No such file or directory", 2, path) from None
    return web.Response(status=201)


async def _rename_file(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    access = _ready(_resolve(request, "rw"))
    c = _Checker(await _params(request))
    target_path = c.get("target_path", check=_string)
    new_name = c.get("new_name", check=_string)
    c.get("is_dir", default=False, check=_to_bool)
    c.done()
    source = _inside(store, access.folder, target_path)
    if "/" in new_name:
        raise _operation_failed()
    if not await asyncio.to_thread(source.exists):
        raise _fs_error("No such file or directory", 2, target_path)
    await asyncio.to_thread(source.rename, source.parent / new_name)
    return web.json_response({})


def _delete_paths(paths: list[Path], recursive: bool) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path) if recursive else path.rmdir()
        else:
            path.unlink()


async def _delete_files(request: web.Request) -> web.StreamResponse:
    if request.method == "POST" and not _has_trash_bin(request):
        raise _method_not_allowed("DELETE")
    store = _store(request)
    access = _ready(_resolve(request, "rw"))
    c = _Checker(await _params(request))
    files = c.get("files", check=_str_list)
    recursive = c.get("recursive", default=False, check=_to_bool)
    c.done()
    paths = [_inside(store, access.folder, f) for f in files]
    for rel, path in zip(files, paths, strict=True):
        if not await asyncio.to_thread(path.exists):
            raise _fs_error("No such file or directory", 2, rel)
        if not recursive and await asyncio.to_thread(path.is_dir):
            raise _fs_error("Is a directory", 21, rel)
    await asyncio.to_thread(_delete_paths, paths, recursive)
    return web.json_response({})


def _entries(directory: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``items`` as 23.09 lists them, and its legacy ``files`` list (sent as JSON text)."""
    items: list[dict[str, Any]] = []
    legacy: list[dict[str, Any]] = []
    for path in sorted(directory.iterdir()):
        st = path.lstat()
        kind = "SYMLINK" if path.is_symlink() else "DIRECTORY" if path.is_dir() else "FILE"
        items.append(
            {
                "name": path.name,
                "type": kind,
                "size": st.st_size,
                "mode": oct(st.st_mode)[2:][-3:],
                "created": datetime.fromtimestamp(st.st_ctime, timezone.utc).isoformat(),
                "modified": datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat(),
            }
        )
        legacy.append(
            {
                "filename": path.name,
                "size": st.st_size,
                "mode": stat.filemode(st.st_mode),
                "ctime": st.st_ctime,
                "atime": 0,
                "mtime": st.st_mtime,
            }
        )
    return items, legacy


async def _list_files(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    access = _ready(_resolve(request, "ro"))
    c = _Checker(await _params(request))
    path = c.get("path", default="", check=_string)
    c.done()
    directory = _inside(store, access.folder, path)
    if not await asyncio.to_thread(directory.is_dir):
        raise _operation_failed()
    items, legacy = await asyncio.to_thread(_entries, directory)
    return web.json_response({"items": items, "files": json.dumps(legacy)})


# -- transfers ------------------------------------------------------------------------------


async def _request_upload(request: web.Request) -> web.StreamResponse:
    legacy = request.path.endswith("/create_upload_session")
    if legacy == _uses_proxy(request):
        raise _unknown_url(request)
    store = _store(request)
    access = _ready(_resolve(request, "rw"))
    c = _Checker(await _params(request))
    path = c.get("path", check=_string)
    size = c.get("size", check=_int)
    c.done()
    target = _inside(store, access.folder, path)
    if size < 0:
        raise _operation_failed()
    token = store.proxy.issue_upload(target, path, size)
    if legacy:
        return web.json_response({"token": token})
    return web.json_response({"token": token, "url": str(store.proxy.url / "upload")})


async def _request_download(request: web.Request) -> web.StreamResponse:
    legacy = request.path.endswith("/request_download")
    if legacy == _uses_proxy(request):
        raise _unknown_url(request)
    store = _store(request)
    access = _ready(_resolve(request, "ro"))
    c = _Checker(await _params(request))
    path = (
        c.get("file", default=None, check=_string)
        if legacy
        else c.get("path", "file", check=_string)
    )
    archive = c.get("archive", default=False, check=_to_bool)
    c.done()
    token = store.proxy.issue_download(_inside(store, access.folder, path), path, archive)
    if legacy:
        return web.json_response({"token": token})
    return web.json_response({"token": token, "url": str(store.proxy.url / "download")})


async def _legacy_tus(request: web.Request) -> web.StreamResponse:
    if _uses_proxy(request):
        raise _unknown_url(request)
    if request.method == "OPTIONS":
        return web.Response(headers={"Tus-Resumable": "1.0.0", "Tus-Version": "1.0.0"})
    return await _store(request).proxy.tus(request, request.match_info["token"])


async def _download_with_token(request: web.Request) -> web.StreamResponse:
    if _uses_proxy(request):
        raise _unknown_url(request)
    grant = _store(request).proxy.downloads.get(request.query.get("token", ""))
    if grant is None:
        raise _invalid("Could not validate the download token.")
    return await serve_file(request, grant.path, archive=grant.archive, not_found="manager")


# -- sharing ----------------------------------------------------------------------------------


async def _invite(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    name = request.match_info["name"]
    c = _Checker(await _params(request))
    perm = c.get("perm", "permission", default="rw", check=_perm)
    emails = c.get("emails", "user_ids", "userIDs", check=_str_list)
    c.done()
    if name.startswith("."):
        raise _forbidden("Cannot share private dot-prefixed vfolders.")
    folder = next(
        (f for f in store.folders.values() if f.user == me["uuid"] and f.name == name and _live(f)),
        None,
    )
    if folder is None:
        raise _not_found(None)
    invitees = [u for e in emails if (u := store.user_by_email(e)) and e != me["email"]]
    if not invitees:
        raise _not_found(None, "vfolder invitation")
    if any((folder.id, u["uuid"]) in store.shares for u in invitees):
        raise _already_exists()
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
    store, me = _store(request), _me(request)
    rows = []
    for inv in store.invitations.values():
        folder = store.folders.get(inv["vfolder_id"])
        if inv["invitee"] == me["email"] and inv["state"] == "pending" and folder is not None:
            rows.append(
                {**inv, "vfolder_id": str(uuid.UUID(folder.id)), "vfolder_name": folder.name}
            )
    return web.json_response({"invitations": rows})


def _pending(store: VFolderStore, params: dict[str, Any]) -> dict[str, Any]:
    c = _Checker(params)
    inv_id = c.get("inv_id", check=_string)
    c.done()
    inv = store.invitations.get(inv_id)
    if inv is None or inv["state"] != "pending":
        raise _not_found(None, "vfolder invitation")
    return inv


async def _accept(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    inv = _pending(store, await _params(request))
    folder = store.folders.get(inv["vfolder_id"])
    if folder is None:
        raise _not_found(None)
    if any(a.folder.name == folder.name for a in store.accessible(me)):
        raise _already_exists()
    store.shares[(folder.id, me["uuid"])] = inv["perm"]
    inv["state"] = "accepted"
    return web.json_response({})


async def _delete_invitation(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    inv = _pending(store, await _params(request))
    if me["email"] == inv["inviter"]:
        inv["state"] = "canceled"
    elif me["email"] == inv["invitee"]:
        inv["state"] = "rejected"
    else:
        raise _forbidden("Cannot change other user's invitaiton")
    return web.json_response({})


async def _list_shared(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    c = _Checker(await _params(request))
    target = c.get("vfolder_id", "vfolderId", default=None, check=_optional(_uuid))
    c.done()
    rows = []
    for (fid, user), perm in store.shares.items():
        folder = store.folders.get(fid)
        if folder is None or (target is not None and fid != target):
            continue
        email = next(
            (
                store.user_of(kp)["email"]
                for kp in store._state.keypairs.values()
                if store.user_of(kp)["uuid"] == user
            ),
            None,
        )
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
    store = _store(request)
    c = _Checker(await _params(request))
    fid = c.get("vfolder", check=_uuid)
    user = c.get("user", check=lambda v: str(uuid.UUID(_uuid(v))))
    perm = c.get("perm", "permission", check=_optional(_perm))
    c.done()
    if perm is None:
        store.shares.pop((fid, user), None)
    elif (fid, user) in store.shares:
        store.shares[(fid, user)] = perm
    return web.json_response({"msg": "shared vfolder permission updated"})


async def _leave(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    access = _ready(_resolve(request, "ro"))
    c = _Checker(await _params(request))
    c.get("shared_user_uuid", "sharedUserUuid", default=None, check=_anything)
    c.done()
    if access.folder.group is not None:
        raise _invalid("Cannot leave a group vfolder.")
    if access.is_owner:
        raise _invalid("Cannot leave a vfolder owned by the requesting user.")
    store.shares.pop((access.folder.id, me["uuid"]), None)
    return web.json_response({"msg": "left the shared vfolder"})


def _project_folder(request: web.Request) -> FakeVFolder:
    me = _me(request)
    if not me["is_admin"]:
        raise _unauthorized()
    name = request.match_info["name"]
    found = [f for f in _store(request).folders.values() if f.group and f.name == name and _live(f)]
    if not found:
        raise _not_found(None)
    return found[0]


async def _share(request: web.Request) -> web.StreamResponse:
    store, me = _store(request), _me(request)
    folder = _project_folder(request)
    c = _Checker(await _params(request))
    perm = c.get("permission", default="rw", check=_perm)
    emails = c.get("emails", check=_str_list)
    c.done()
    members = [
        u
        for e in emails
        if (u := store.user_by_email(e)) and e != me["email"] and folder.group in u["groups"]
    ]
    if not members:
        raise _not_found(None, "user")
    if len(members) < len(emails):
        missing = sorted(set(emails) - {u["email"] for u in members})
        raise _Problem(
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
    store = _store(request)
    folder = _project_folder(request)
    c = _Checker(await _params(request))
    emails = c.get("emails", check=_str_list)
    c.done()
    targets = [u for e in emails if (u := store.user_by_email(e))]
    if not targets:
        raise _not_found(None, "user(s).")
    for user in targets:
        store.shares.pop((folder.id, user["uuid"]), None)
    return web.json_response({"unshared_emails": emails})


# -- quota -----------------------------------------------------------------------------------


def _quota_folder(
    request: web.Request, params: dict[str, Any], extra: tuple[str, ...] = ()
) -> tuple[FakeVFolder, dict[str, Any]]:
    store, me = _store(request), _me(request)
    c = _Checker(params)
    c.get("folder_host", check=_string)
    fid = c.get("id", check=_uuid)
    values = {key: c.get(key, check=_anything) for key in extra}
    c.done()
    folder = store.folders.get(fid)
    if folder is None or not (
        me["is_superadmin"] or any(a.folder.id == fid for a in store.accessible(me))
    ):
        raise _not_found(fid)
    return folder, values


async def _get_quota(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    folder, _ = _quota_folder(request, await _params(request))
    _, used = await asyncio.to_thread(_usage, store.directory(folder))
    return web.json_response({"used_bytes": used, "limit_bytes": folder.quota or 0})


async def _set_quota(request: web.Request) -> web.StreamResponse:
    folder, values = _quota_folder(request, await _params(request), ("input",))
    given = values["input"]
    if not isinstance(given, dict) or "size_bytes" not in given:
        raise _invalid(data={"input": "value is not a dict"})
    try:
        quota = _int(given["size_bytes"])
    except _Bad as bad:
        raise _invalid(data={"input": {"size_bytes": bad.data}}) from None
    folder.quota = quota
    folder.max_size = -(-quota // 2**20)
    return web.json_response({"size_bytes": quota})


# -- routing -------------------------------------------------------------------------------


def _wrap(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Problem as p:
            return p.response

    run.__name__ = handler.__name__
    return run


def _routes() -> Iterator[tuple[str, str, Handler]]:
    """``(method, path below /folders, handler)``, specific paths first."""
    yield "GET", "/_/hosts", _hosts
    yield "GET", "/_/all-hosts", _all_hosts
    yield "GET", "/_/all_hosts", _all_hosts
    yield "GET", "/_/allowed-types", _allowed_types
    yield "GET", "/_/allowed_types", _allowed_types
    yield "GET", "/_/shared", _list_shared
    yield "POST", "/_/shared", _update_shared
    yield "GET", "/_/quota", _get_quota
    yield "POST", "/_/quota", _set_quota
    yield "GET", "/_/download_with_token", _download_with_token
    yield "GET", "/invitations/list", _invitations
    yield "POST", "/invitations/accept", _accept
    yield "DELETE", "/invitations/delete", _delete_invitation
    yield "POST", "/restore-from-trash-bin", _restore
    yield "POST", "/delete-from-trash-bin", _delete_from_trash
    yield "POST", "/purge", _purge
    yield "POST", "", _create
    yield "GET", "", _list
    yield "DELETE", "", _delete_by_id
    yield "GET", "/{name}", _info
    yield "DELETE", "/{name}", _delete
    yield "POST", "/{name}/rename", _rename
    yield "POST", "/{name}/update-options", _update_options
    yield "POST", "/{name}/mkdir", _mkdir
    yield "POST", "/{name}/request-upload", _request_upload
    yield "POST", "/{name}/create_upload_session", _request_upload
    yield "POST", "/{name}/request-download", _request_download
    yield "POST", "/{name}/request_download", _request_download
    yield "POST", "/{name}/rename-file", _rename_file
    yield "POST", "/{name}/rename_file", _rename_file
    yield "DELETE", "/{name}/delete-files", _delete_files
    yield "POST", "/{name}/delete-files", _delete_files
    yield "DELETE", "/{name}/delete_files", _delete_files
    yield "GET", "/{name}/files", _list_files
    yield "POST", "/{name}/invite", _invite
    yield "POST", "/{name}/leave", _leave
    yield "POST", "/{name}/share", _share
    yield "DELETE", "/{name}/unshare", _unshare
    yield "POST", "/{name}/clone", _clone


def register_vfolder_routes(app: web.Application, state: ServerState) -> None:
    """Install the folder routes, their store and its storage proxy; a ``RouteInstaller``."""
    store = VFolderStore(state)
    app[VFOLDERS_KEY] = store
    state.companions.append(store.proxy)

    async def cleanup(_app: web.Application) -> None:
        await asyncio.to_thread(store.cleanup)

    app.on_cleanup.append(cleanup)
    router = app.router
    for method, path, handler in _routes():
        route = _wrap(handler)
        if handler is _download_with_token:
            state.public(route)
        router.add_route(method, "/folders" + path, route)
    for method in ("HEAD", "PATCH", "OPTIONS"):  # the manager's own tus route (before v6)
        route = state.streaming(state.public(_wrap(_legacy_tus)))
        router.add_route(method, "/folders/_/tus/upload/{token}", route)

"""What the folder routes share: the 23.09 manager's answers, its parameter checks
(trafaret's ``Dict`` as its handlers use it) and its permission rules."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any, Final

from aiohttp import web

from ._manager import STATE_KEY, problem_response
from ._sessions import _to_bool
from ._verify import parse_api_version
from ._vfolder_store import VFOLDERS_KEY, Access, FakeVFolder, VFolderStore

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler, str]
"""``(method, path below /folders, handler, flags)``: flags "public" (no signature),
"streaming" (the handler reads the body itself)."""
TRASH_BIN_SINCE: Final = (24, 3)
"""Manager releases with the trash bin (26.9's routes and answers)."""
STORAGE_PROXY_SINCE = (6, "20200815")
SLUG = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")
PERMS = ("ro", "rw", "wd")
RANK = {"ro": 1, "rw": 2, "wd": 3}
USAGE_MODES = ("general", "model", "data")


# -- answers -------------------------------------------------------------------------------


class Problem(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def invalid(msg: str = "Input validation error", data: Any = None) -> Problem:
    return Problem(
        problem_response(400, "invalid-api-params", "Missing or invalid API parameters.", msg, data)
    )


def not_found(name: Any, what: str = "virtual folder") -> Problem:
    return Problem(problem_response(404, "object-not-found", f"No such {what}.", data=name))


def unauthorized() -> Problem:
    """What 23.09's admin_required/superadmin_required answer (401, not 403)."""
    return Problem(
        problem_response(
            401, "auth-failed", "Credential/signature mismatch.", "Unauthorized access"
        )
    )


def forbidden(msg: str) -> Problem:
    return Problem(problem_response(403, "generic-forbidden", "Forbidden operation.", msg))


def operation_failed() -> Problem:
    return Problem(
        problem_response(
            400,
            "vfolder-operation-failed",
            "Virtual folder operation has failed.",
            "Storage proxy responded with 500 Internal Server Error",
        )
    )


def already_exists(name: str | None = None) -> Problem:
    title = "The virtual folder already exists with the same name."
    return Problem(problem_response(400, "vfolder-already-exists", title, data=name))


def fs_error(msg: str, errno: int, path: str) -> Problem:
    return invalid(msg, {"errno": errno, "paths": [path]})


def method_not_allowed(allow: str) -> Problem:
    return Problem(
        problem_response(
            405, "method-not-allowed", "HTTP Method Not Allowed.", headers={"Allow": allow}
        )
    )


def unknown_url(request: web.Request) -> Problem:
    return Problem(problem_response(404, "url-not-found", "Unknown URL path.", data=request.path))


# -- request helpers ---------------------------------------------------------------------------


def store_of(request: web.Request) -> VFolderStore:
    return request.app[VFOLDERS_KEY]


def me_of(request: web.Request) -> dict[str, Any]:
    kp = request.app[STATE_KEY].keypair_of(request)
    assert kp is not None, "folder routes need an authenticated request"
    return store_of(request).user_of(kp)


def uses_proxy(request: web.Request) -> bool:
    version = parse_api_version(request.app[STATE_KEY].api_version) or (9, "99999999")
    return version >= STORAGE_PROXY_SINCE


def has_trash_bin(request: web.Request) -> bool:
    release = re.findall(r"\d+", request.app[STATE_KEY].manager_version)[:2]
    return tuple(int(p) for p in release) >= TRASH_BIN_SINCE


async def params_of(request: web.Request) -> dict[str, Any]:
    """The JSON body if there is one, else the query (like ``check_api_params``)."""
    if request.body_exists:
        try:
            params = json.loads(await request.read())
        except ValueError:
            raise invalid("Malformed body") from None
        if not isinstance(params, dict):
            raise invalid(data="value is not a dict")
        return params
    return dict(request.query)


class Bad(Exception):
    """A parameter the validator refuses; ``data`` is its entry in the error's ``data``."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.data = data


def to_bool(value: Any) -> bool:
    """trafaret's ``ToBool``: bools, numbers and the usual words."""
    found = _to_bool(value)
    if found is None:
        raise Bad("value can't be converted to Bool")
    return found


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Bad("value should be True or False")
    return value


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad("value is not a string")
    return value


def optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def anything(value: Any) -> Any:
    return value


def slug(value: Any) -> str:
    text = string(value)
    if not SLUG.match(text[1:] if text.startswith(".") else text):
        raise Bad("value must be a valid slug.")
    return text


def enum_of(choices: tuple[str, ...], type_name: str) -> Callable[[Any], str | None]:
    """``tx.Enum(X) | t.Null``: None passes, anything else must be a member."""

    def check(value: Any) -> str | None:
        if value is not None and value not in choices:
            raise Bad(
                {"0": f"value is not a valid member of {type_name}", "1": "value should be None"}
            )
        return None if value is None else str(value)

    return check


USAGE_MODE = enum_of(USAGE_MODES, "VFolderUsageMode")
PERMISSION = enum_of(PERMS, "VFolderPermission")


def permission_value(value: Any) -> str:
    if value not in PERMS:
        raise Bad('one of "ro", "rw", or "wd" required')
    return str(value)


def uuid_hex(value: Any) -> str:
    try:
        return uuid.UUID(str(value)).hex
    except ValueError:
        raise Bad("cannot convert value to UUID") from None


def str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Bad("value is not a list")
    return value


def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise Bad("value can't be converted to int")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Bad("value can't be converted to int") from None


class Checker:
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
                except Bad as bad:
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
            raise invalid(data=self.errors)


def resolve(request: web.Request, need: str = "ro", name: str | None = None) -> Access:
    """The folder of the URL as the requester may use it (``vfolder_permission_required``)."""
    store, me = store_of(request), me_of(request)
    name = request.match_info["name"] if name is None else name
    for access in store.accessible(me):
        folder = access.folder
        if folder.name != name and folder.id != name.replace("-", ""):
            continue
        if access.is_owner and folder.user == me["uuid"]:
            return access
        if folder.group is not None and me["is_admin"]:
            return access
        if RANK[access.permission] >= RANK[need]:
            return access
    raise not_found(name)


def ready(access: Access) -> Access:
    if access.folder.status not in ("ready", "mounted"):
        raise Problem(
            problem_response(
                400, "vfolder-filter-status-failed", "Virtual folder status filtering has failed."
            )
        )
    return access


def inside(store: VFolderStore, folder: FakeVFolder, relpath: str) -> Path:
    """A path in the folder; leaving it is what the storage proxy fails on (400 from 23.09)."""
    if PurePosixPath(relpath).is_absolute():
        raise operation_failed()
    try:
        return store.file(folder, relpath)
    except ValueError:
        raise operation_failed() from None


def listed_row(access: Access, store: VFolderStore) -> dict[str, Any]:
    """A folder as ``GET /folders`` lists it."""
    f = access.folder
    owner = store.email_of(f.user) if f.user is not None else None
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
        "group_name": store.project_name(f.group),
        "ownership_type": f.ownership_type,
        "type": f.ownership_type,
        "cloneable": f.cloneable,
        "max_files": 1000,
        "max_size": f.max_size,
        "cur_size": 0,
    }


def created_row(folder: FakeVFolder) -> dict[str, Any]:
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


def usage_of(directory: Path) -> tuple[int, int]:
    count = size = 0
    for path in directory.rglob("*"):
        count += 1
        if path.is_file():
            size += path.stat().st_size
    return count, size

"""The fake manager's ``/user-config``: dotfiles and bootstrap scripts per keypair.

Fixtures are plain data: ``state.extras["dotfiles"]`` maps an access key to its list of
``{"path", "perm", "data"}`` entries (the manager's storage shape), and
``state.extras["bootstrap_scripts"]`` maps an access key to its script. Both start empty.
Parameters are read as 23.09 reads them (JSON body, else query string); a manager
announced as 26.x or later reads ``DELETE /user-config/dotfiles`` from the query only,
as the real 26.9 does.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response
from ._rest import (
    REQUIRED,
    Refusal,
    Spec,
    caller,
    invalid,
    manager_at_least,
    not_found,
    read_params,
    route,
)

__all__ = ["MAXIMUM_DOTFILE_SIZE", "MAX_DOTFILES", "register_user_config_routes"]

MAXIMUM_DOTFILE_SIZE = 64 * 1024
MAX_DOTFILES = 100
_PERMISSION = re.compile(r"^[0-7]{3}$", re.ASCII)
_DOTFILE: Spec = {
    "data": REQUIRED,
    "path": REQUIRED,
    "permission": REQUIRED,
    "owner_access_key": None,
}


def _owner(request: web.Request, owner: Any) -> str:
    """The access key acted on: the caller's, or (admins only) ``owner_access_key``'s."""
    keypair = caller(request)
    if owner is None or owner == keypair.access_key:
        return keypair.access_key
    if not keypair.is_admin:
        raise Refusal(
            problem_response(
                403,
                "generic-forbidden",
                "Forbidden operation.",
                "Only admins can access or control other users' resources.",
            )
        )
    if owner not in request.app[STATE_KEY].keypairs:
        raise invalid("Invalid owner access key")
    return str(owner)


def _files(state: ServerState, access_key: str) -> list[dict[str, str]]:
    dotfiles: dict[str, list[dict[str, str]]] = state.extras["dotfiles"]
    return dotfiles.setdefault(access_key, [])


def _checked(params: dict[str, Any]) -> dict[str, str]:
    errors = {}
    for name in ("data", "path"):
        if not isinstance(params[name], str):
            errors[name] = "value is not a string"
    if isinstance(params["data"], str) and len(params["data"]) > MAXIMUM_DOTFILE_SIZE:
        errors["data"] = f"String is longer than {MAXIMUM_DOTFILE_SIZE} characters"
    if not isinstance(params["permission"], str) or not _PERMISSION.match(params["permission"]):
        errors["permission"] = "does not match pattern ^[0-7]{3}$"
    if errors:
        raise invalid("Input validation error", errors)
    return {"path": params["path"], "perm": params["permission"], "data": params["data"]}


@route
async def _create(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, _DOTFILE)
    entry = _checked(params)
    files = _files(request.app[STATE_KEY], _owner(request, params["owner_access_key"]))
    if len(files) >= MAX_DOTFILES:
        raise invalid("Dotfile creation limit reached")
    if any(f["path"] == entry["path"] for f in files):
        raise Refusal(problem_response(400, "generic-bad-request", "Dotfile already exists."))
    files.append(entry)
    return web.json_response({})


@route
async def _list_or_get(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, {"path": None, "owner_access_key": None})
    state = request.app[STATE_KEY]
    if params["path"]:
        owner = _owner(request, params["owner_access_key"])
        for entry in _files(state, owner):
            if entry["path"] == params["path"]:
                return web.json_response(entry)
        raise not_found("dotfile")
    entries = _files(state, caller(request).access_key)  # 23.09 lists the caller's own
    return web.json_response(
        [{"path": e["path"], "permission": e["perm"], "data": e["data"]} for e in entries]
    )


@route
async def _update(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, _DOTFILE)
    entry = _checked(params)
    files = _files(request.app[STATE_KEY], _owner(request, params["owner_access_key"]))
    kept = [f for f in files if f["path"] != entry["path"]]
    if len(kept) == len(files):
        raise not_found("dotfile")
    files[:] = [*kept, entry]  # the manager appends the new version at the end
    return web.json_response({})


@route
async def _delete(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if manager_at_least(state, "26.0"):  # 26.x reads this call from the query string only
        query = request.query
        params = {"path": query.get("path"), "owner_access_key": query.get("owner_access_key")}
        if params["path"] is None:
            raise Refusal(
                problem_response(
                    400,
                    "generic-bad-request",
                    "Invalid or Missing API Parameters.",
                    "Schema validation failed: path: Field required",
                )
            )
    else:
        params = await read_params(request, {"path": REQUIRED, "owner_access_key": None})
    files = _files(state, _owner(request, params["owner_access_key"]))
    kept = [f for f in files if f["path"] != params["path"]]
    if len(kept) == len(files):
        raise not_found("dotfile")
    files[:] = kept
    return web.json_response({"success": True})


@route
async def _update_bootstrap_script(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, {"script": REQUIRED})
    script = params["script"]
    if not isinstance(script, str) or len(script) > MAXIMUM_DOTFILE_SIZE:
        raise invalid("Input validation error", {"script": "value is not a string up to 64 KiB"})
    scripts = request.app[STATE_KEY].extras["bootstrap_scripts"]
    scripts[caller(request).access_key] = script.strip()
    return web.json_response({})


@route
async def _get_bootstrap_script(request: web.Request) -> web.StreamResponse:
    scripts = request.app[STATE_KEY].extras["bootstrap_scripts"]
    return web.json_response(scripts.get(caller(request).access_key, ""))


def register_user_config_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/user-config/*``; a ``RouteInstaller``."""
    state.extras.setdefault("dotfiles", {})
    state.extras.setdefault("bootstrap_scripts", {})
    router = app.router
    router.add_route("POST", "/user-config/dotfiles", _create)
    router.add_route("GET", "/user-config/dotfiles", _list_or_get)
    router.add_route("PATCH", "/user-config/dotfiles", _update)
    router.add_route("DELETE", "/user-config/dotfiles", _delete)
    router.add_route("POST", "/user-config/bootstrap-script", _update_bootstrap_script)
    router.add_route("GET", "/user-config/bootstrap-script", _get_bootstrap_script)

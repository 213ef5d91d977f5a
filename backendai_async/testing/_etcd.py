"""The manager's ``/config`` app in the fake: resource slots and raw etcd access.

Fixtures are plain data: ``state.extras["etcd"]`` is the flat etcd key space (key -> text,
keys as the manager stores them: registry and image names percent-quoted, e.g.
``images/cr.backend.ai%3A5000/...``), seeded from :data:`EXAMPLE_ETCD`;
``state.extras["resource_slots"]`` is what ``GET /config/resource-slots`` answers.
``POST /config/get|set|delete`` are superadmin-only (others get 401 "Unauthorized access",
as from 23.09) and behave like 23.09's: ``prefix`` matches as a plain string prefix and
``get`` returns the tree below the key (unquoted names; a key that has both a value and
keys below it keeps the value under ``""``), a mapping value is stored flattened (at most
16 keys per call), values are stored as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from ._manager import STATE_KEY, ServerState
from ._rest import REQUIRED, invalid, read_params, route, superadmin

__all__ = ["EXAMPLE_ETCD", "EXAMPLE_RESOURCE_SLOTS", "etcd", "register_etcd_routes"]

EXAMPLE_RESOURCE_SLOTS: Mapping[str, str] = {"cpu": "count", "mem": "bytes"}
EXAMPLE_ETCD: Mapping[str, str] = {
    "config/docker/registry/cr.backend.ai": "https://cr.backend.ai",
    "config/docker/registry/cr.backend.ai/type": "harbor2",
    "config/docker/registry/cr.backend.ai/project": "stable",
    "config/docker/image/auto_pull": "digest",
}
MAX_KEYS_PER_SET = 16


def etcd(state: ServerState) -> dict[str, str]:
    """The etcd key space of a server (seeded from :data:`EXAMPLE_ETCD`)."""
    found: dict[str, str] = state.extras["etcd"]
    return found


def _tree(space: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """The manager's ``get_prefix``: keys below ``prefix`` nested by ``/``, unquoted.

    A key that holds a value and also has keys below it keeps the value under ``""``.
    """
    result: dict[str, Any] = {}
    for key in sorted(k for k in space if k.startswith(prefix)):
        parts = key[len(prefix) :].removeprefix("/").split("/")
        parent = result
        for part in parts[:-1]:
            name = unquote(part)
            child = parent.setdefault(name, {})
            if not isinstance(child, dict):
                child = parent[name] = {"": child}
            parent = child
        parent[unquote(parts[-1])] = space[key]
    return result


def _flatten(key: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            _flatten(key if name == "" else f"{key}/{name}", inner, into)
    else:
        into[key] = str(value)  # etcd holds text; the manager stores str(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid("Input validation error", {name: "value should be True or False"})
    return value


def _key(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("Input validation error", {"key": "value is not a string"})
    return value


@route
async def _resource_slots(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATE_KEY].extras["resource_slots"])


@route
async def _get(request: web.Request) -> web.StreamResponse:
    superadmin(request)
    params = await read_params(request, {"key": REQUIRED, "prefix": False})
    key, space = _key(params["key"]), etcd(request.app[STATE_KEY])
    if _flag(params["prefix"], "prefix"):
        return web.json_response({"result": _tree(space, key)})
    return web.json_response({"result": space.get(key)})


@route
async def _set(request: web.Request) -> web.StreamResponse:
    superadmin(request)
    params = await read_params(request, {"key": REQUIRED, "value": REQUIRED})
    updates: dict[str, str] = {}
    _flatten(_key(params["key"]), params["value"], updates)
    if isinstance(params["value"], Mapping) and len(updates) > MAX_KEYS_PER_SET:
        raise invalid("Too large update! Split into smaller key-value pair sets.")
    etcd(request.app[STATE_KEY]).update(updates)
    return web.json_response({"result": "ok"})


@route
async def _delete(request: web.Request) -> web.StreamResponse:
    superadmin(request)
    params = await read_params(request, {"key": REQUIRED, "prefix": False})
    key, space = _key(params["key"]), etcd(request.app[STATE_KEY])
    doomed = [k for k in space if k.startswith(key)] if _flag(params["prefix"], "prefix") else [key]
    for k in doomed:
        space.pop(k, None)
    return web.json_response({"result": "ok"})


def register_etcd_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/config/*`` (and the old ``/etcd/resource-slots``); a ``RouteInstaller``."""
    state.extras.setdefault("etcd", dict(EXAMPLE_ETCD))
    state.extras.setdefault("resource_slots", dict(EXAMPLE_RESOURCE_SLOTS))
    router = app.router
    router.add_route("GET", "/config/resource-slots", _resource_slots)
    router.add_route("GET", "/etcd/resource-slots", _resource_slots)
    router.add_route("POST", "/config/get", _get)
    router.add_route("POST", "/config/set", _set)
    router.add_route("POST", "/config/delete", _delete)

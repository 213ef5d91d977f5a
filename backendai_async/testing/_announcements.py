"""The fake manager's announcement: ``GET|POST /manager/announcement``.

Stored in the fake etcd (``state.extras["etcd"]``, see ``_etcd.py``) where the manager
keeps it. The behaviour follows the announced manager release: up to 26.8 (23.09's) the
text lives at ``manager/announcement`` and disabling deletes it, and an empty message is
refused; from 26.9 the text and the flag are kept apart (``…/message``, ``…/enabled``),
disabling keeps the text, and an empty message clears it.
"""

from __future__ import annotations

from aiohttp import web

from ._etcd import etcd
from ._manager import STATE_KEY, ServerState
from ._rest import invalid, manager_at_least, read_params, route, superadmin

__all__ = ["ANNOUNCEMENT_KEY", "register_announcement_routes"]

ANNOUNCEMENT_KEY = "manager/announcement"
SPLIT_KEYS_SINCE = "26.9"


def _split(state: ServerState) -> bool:
    return manager_at_least(state, SPLIT_KEYS_SINCE)


@route
async def _get(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    space = etcd(state)
    if _split(state):
        message = space.get(f"{ANNOUNCEMENT_KEY}/message", space.get(ANNOUNCEMENT_KEY))
        flag = space.get(f"{ANNOUNCEMENT_KEY}/enabled")
        enabled = flag == "true" if flag is not None else ANNOUNCEMENT_KEY in space
        return web.json_response({"enabled": enabled, "message": message or ""})
    message = space.get(ANNOUNCEMENT_KEY)
    return web.json_response({"enabled": message is not None, "message": message or ""})


def _enabled(value: object) -> bool:
    """The manager's ``ToBool``: booleans, and the texts and numbers that spell them."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes", "y", "on", "t"):
        return True
    if str(value).lower() in ("false", "0", "no", "n", "off", "f", ""):
        return False
    raise invalid("Input validation error", {"enabled": "value can't be converted to Bool"})


@route
async def _update(request: web.Request) -> web.StreamResponse:
    superadmin(request)
    state = request.app[STATE_KEY]
    params = await read_params(request, {"enabled": "false", "message": None})
    enabled, message = _enabled(params["enabled"]), params["message"]
    if message is not None and not isinstance(message, str):
        raise invalid("Input validation error", {"message": "value is not a string"})
    split = _split(state)
    if message == "" and not split:
        blank = {"0": "value should be None", "1": "blank value is not allowed"}
        raise invalid("Input validation error", {"message": blank})
    if enabled and not message:
        raise invalid("Empty message not allowed to enable announcement")
    space = etcd(state)
    if split:
        kept = space.get(f"{ANNOUNCEMENT_KEY}/message", space.get(ANNOUNCEMENT_KEY, ""))
        space.pop(ANNOUNCEMENT_KEY, None)
        space[f"{ANNOUNCEMENT_KEY}/message"] = kept if message is None else message
        space[f"{ANNOUNCEMENT_KEY}/enabled"] = "true" if enabled else "false"
    elif enabled:
        space[ANNOUNCEMENT_KEY] = str(message)
    else:
        space.pop(ANNOUNCEMENT_KEY, None)
    return web.Response(status=204)


def register_announcement_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/manager/announcement``; a ``RouteInstaller``."""
    app.router.add_route("GET", "/manager/announcement", _get)
    app.router.add_route("POST", "/manager/announcement", _update)

"""The manager's raw etcd access in the fake: ``POST /config/get``, ``/config/set``,
``/config/delete`` (superadmin; others get 401 "Unauthorized access", as from 23.09).

``state.extras["etcd"]`` is a flat dict of keys (``images/cr.backend.ai/...``) to string
values. ``get`` with ``prefix`` returns the tree below the key; ``set`` with a mapping
value writes its flattened keys (at most 16 at once, as the manager allows).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response

__all__ = ["etcd", "register_etcd_routes"]

MAX_UPDATE = 16


def etcd(state: ServerState) -> dict[str, str]:
    """The fake etcd: flat key -> value."""
    found: dict[str, str] = state.extras.setdefault("etcd", {})
    return found


ParamsHandler = Callable[[ServerState, dict[str, Any]], Any]


def _superadmin_call(handler: ParamsHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The manager's ``@superadmin_required`` and ``{"key", ...}`` check, then ``handler``."""

    async def route(request: web.Request) -> web.Response:
        state = request.app[STATE_KEY]
        kp = state.keypair_of(request)
        if kp is None or not kp.is_superadmin:
            return problem_response(
                401, "auth-failed", "Credential/signature mismatch.", "Unauthorized access"
            )
        params = json.loads(await request.read()) if request.body_exists else {}
        if not isinstance(params, dict) or not isinstance(params.get("key"), str):
            return problem_response(
                400, "invalid-api-params", "Missing or invalid API parameters.", "key: is required"
            )
        answer = handler(state, params)
        return answer if isinstance(answer, web.Response) else web.json_response(answer)

    return route


def _tree(flat: Mapping[str, str], prefix: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        if not key.startswith(prefix):
            continue
        parts = [p for p in key[len(prefix) :].split("/") if p]
        if not parts:
            continue
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def _get(state: ServerState, params: dict[str, Any]) -> Any:
    store, key = etcd(state), params["key"]
    return {"result": _tree(store, key) if params.get("prefix") else store.get(key)}


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(prefix if k == "" else f"{prefix}/{k}", v, into)
    else:
        into[prefix] = str(value)


def _set(state: ServerState, params: dict[str, Any]) -> Any:
    updates: dict[str, str] = {}
    _flatten(params["key"], params.get("value"), updates)
    if len(updates) > MAX_UPDATE:
        return problem_response(
            400,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            "Too large update! Split into smaller key-value pair sets.",
        )
    etcd(state).update(updates)
    return {"result": "ok"}


def _delete(state: ServerState, params: dict[str, Any]) -> Any:
    store, key = etcd(state), params["key"]
    for k in [k for k in store if k == key or (params.get("prefix") and k.startswith(key))]:
        del store[k]
    return {"result": "ok"}


def register_etcd_routes(app: web.Application, state: ServerState) -> None:
    for name, handler in (("get", _get), ("set", _set), ("delete", _delete)):
        app.router.add_route("POST", f"/config/{name}", _superadmin_call(handler))

"""The manager's raw etcd access in the fake: ``POST /config/get``, ``/config/set``,
``/config/delete`` (superadmin; others get 401 "Unauthorized access", as from 23.09).

``state.extras["etcd"]`` is a flat dict of keys (``images/cr.backend.ai/...``) to string
values. ``get`` with ``prefix`` returns the tree below the key; ``set`` with a mapping
value writes its flattened keys (at most 16 at once, as the manager allows).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response

__all__ = ["etcd", "register_etcd_routes"]

MAX_UPDATE = 16


def etcd(state: ServerState) -> dict[str, str]:
    """The fake etcd: flat key -> value."""
    found: dict[str, str] = state.extras.setdefault("etcd", {})
    return found


async def _params(request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
    kp = request.app[STATE_KEY].keypair_of(request)
    if kp is None or not kp.is_superadmin:
        refusal = problem_response(
            401, "auth-failed", "Credential/signature mismatch.", "Unauthorized access"
        )
        return None, refusal
    params = json.loads(await request.read()) if request.body_exists else {}
    if not isinstance(params, dict) or not isinstance(params.get("key"), str):
        bad = problem_response(
            400, "invalid-api-params", "Missing or invalid API parameters.", "key: is required"
        )
        return None, bad
    return params, None


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


async def _get(request: web.Request) -> web.StreamResponse:
    params, refusal = await _params(request)
    if params is None:
        assert refusal is not None
        return refusal
    store = etcd(request.app[STATE_KEY])
    key = params["key"]
    result = _tree(store, key) if params.get("prefix") else store.get(key)
    return web.json_response({"result": result})


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(prefix if k == "" else f"{prefix}/{k}", v, into)
    else:
        into[prefix] = str(value)


async def _set(request: web.Request) -> web.StreamResponse:
    params, refusal = await _params(request)
    if params is None:
        assert refusal is not None
        return refusal
    updates: dict[str, str] = {}
    _flatten(params["key"], params.get("value"), updates)
    if len(updates) > MAX_UPDATE:
        return problem_response(
            400,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            "Too large update! Split into smaller key-value pair sets.",
        )
    etcd(request.app[STATE_KEY]).update(updates)
    return web.json_response({"result": "ok"})


async def _delete(request: web.Request) -> web.StreamResponse:
    params, refusal = await _params(request)
    if params is None:
        assert refusal is not None
        return refusal
    store = etcd(request.app[STATE_KEY])
    key = params["key"]
    for k in [k for k in store if k == key or (params.get("prefix") and k.startswith(key))]:
        del store[k]
    return web.json_response({"result": "ok"})


def register_etcd_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_route("POST", "/config/get", _get)
    app.router.add_route("POST", "/config/set", _set)
    app.router.add_route("POST", "/config/delete", _delete)

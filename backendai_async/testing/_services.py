"""The fake manager's model serving: ``/services`` (list, create, info, delete, scale, sync,
routes, tokens, errors), as 23.09 answers them.

Fixtures are plain data: ``state.extras["model_folders"]`` maps a model folder id to
``{"name"}`` (seeded from :data:`EXAMPLE_MODEL_FOLDERS`; a service serves one of them, by
id or name), and ``state.extras["model_services"]`` maps a service id to its row
(``name``, ``owner`` access key, ``desired_session_count``, ``routes`` of ``{"route_id",
"session_id", "traffic_ratio", "status"}``, ``retries``, ``errors``, ``is_public`` …);
tests may add routes or errors there. Creating a service makes one HEALTHY route per
desired session at once (there is no scheduler). Managers announced before 23.03.11 have
no ``/services`` (404 url-not-found), like the real ones.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response
from ._rest import (
    REQUIRED,
    Handler,
    Refusal,
    Spec,
    caller,
    invalid,
    manager_at_least,
    not_found,
    pick,
    read_params,
    route,
)

__all__ = ["EXAMPLE_MODEL_FOLDERS", "MODEL_SERVING_SINCE", "register_service_routes"]

MODEL_SERVING_SINCE = "23.03.11"
EXAMPLE_MODEL_FOLDERS: Mapping[str, Mapping[str, str]] = {
    "5b3a8f64-2c1d-4e5f-9a7b-0c1d2e3f4a5b": {"name": "example-model"},
}
MAX_SESSIONS_PER_SERVICE = 10  # the keypair resource policy's max_session_count_per_model_session
_NAME = re.compile(r"^(?=.{4,24}$)\w[\w.-]*\w$", re.ASCII)
_CREATE: Spec = {
    ("name", "service_name", "clientSessionToken"): REQUIRED,
    ("desired_session_count", "desiredSessionCount"): REQUIRED,
    ("image", "lang"): REQUIRED,
    ("architecture", "arch"): "x86_64",
    ("group", "groupName", "group_name"): "default",
    ("domain", "domainName", "domain_name"): "default",
    ("cluster_size", "clusterSize"): 1,
    ("cluster_mode", "clusterMode"): "single-node",
    "tag": None,
    ("startup_command", "startupCommand"): None,
    ("bootstrap_script", "bootstrapScript"): None,
    ("callback_url", "callbackUrl", "callbackURL"): None,
    "owner_access_key": None,
    "open_to_public": False,
    "config": REQUIRED,
}
_CONFIG: Spec = {
    "model": REQUIRED,
    ("model_version", "modelVersion"): None,
    ("model_mount_destination", "modelMountDestination"): "/models",
    "environ": None,
    ("scaling_group", "scalingGroup"): None,
    "resources": None,
    ("resource_opts", "resourceOpts"): None,
}


def _services(state: ServerState) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = state.extras["model_services"]
    return found


def _folders(state: ServerState) -> dict[str, Mapping[str, str]]:
    found: dict[str, Mapping[str, str]] = state.extras["model_folders"]
    return found


def _uuid(request: web.Request, name: str) -> str:
    try:
        return str(uuid.UUID(request.match_info[name]))
    except ValueError:  # the manager parses it unchecked and fails with a 500
        raise Refusal(
            problem_response(500, "internal-server-error", "Internal server error.")
        ) from None


def _service(request: web.Request) -> dict[str, Any]:
    """The service of the path, if the caller may act on it (its owner, or an admin)."""
    state = request.app[STATE_KEY]
    row = _services(state).get(_uuid(request, "service_id"))
    if row is None:
        raise not_found("object")
    keypair = caller(request)
    if row["owner"] != keypair.access_key and not keypair.is_admin:
        raise Refusal(
            problem_response(
                403, "generic-forbidden", "Forbidden operation.", "Not the owner of this service."
            )
        )
    return row


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("Input validation error", {name: "value is not int"})
    return value


def _healthy(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in row["routes"] if r["status"] == "HEALTHY"]


def _new_route() -> dict[str, Any]:
    return {
        "route_id": str(uuid.uuid4()),
        "session_id": str(uuid.uuid4()),
        "traffic_ratio": 1.0,
        "status": "HEALTHY",
    }


def _gated(handler: Handler) -> Handler:
    """``handler``, or 404 url-not-found on managers released before model serving."""
    routed = route(handler)

    async def wrapped(request: web.Request) -> web.StreamResponse:
        if not manager_at_least(request.app[STATE_KEY], MODEL_SERVING_SINCE):
            return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
        return await routed(request)

    return wrapped


async def _list(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, {"name": None})
    me = caller(request).access_key
    return web.json_response(
        [
            {
                "id": service_id,
                "name": row["name"],
                "desired_session_count": row["desired_session_count"],
                "active_route_count": len(_healthy(row)),
                "service_endpoint": row["service_endpoint"],
                "is_public": row["is_public"],
            }
            for service_id, row in _services(request.app[STATE_KEY]).items()
            if row["owner"] == me and params["name"] in (None, row["name"])
        ]
    )


async def _create(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, _CREATE)
    if not isinstance(params["config"], dict):
        raise invalid("Input validation error", {"config": "value is not a dict"})
    config = pick(params["config"], _CONFIG, "config.")
    name = params["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise invalid("Input validation error", {"name": "does not match the service name rule"})
    wanted = _count(params["desired_session_count"], "desired_session_count")
    if wanted > MAX_SESSIONS_PER_SERVICE:
        raise invalid(
            f"Cannot spawn more than {MAX_SESSIONS_PER_SERVICE} sessions for a single service"
        )
    state = request.app[STATE_KEY]
    folders = _folders(state)
    model_id = next(
        (fid for fid, row in folders.items() if config["model"] in (fid, row.get("name"))), None
    )
    if model_id is None:
        raise Refusal(
            problem_response(
                404, "object-not-found", "No such virtual folder.", "Cannot find model folder"
            )
        )
    services = _services(state)
    if any(row["name"] == name for row in services.values()):
        raise invalid("Cannot create multiple services with same name")
    service_id = str(uuid.uuid4())
    services[service_id] = {
        "name": name,
        "owner": params["owner_access_key"] or caller(request).access_key,
        "desired_session_count": wanted,
        "routes": [_new_route() for _ in range(wanted)],
        "service_endpoint": None,
        "is_public": bool(params["open_to_public"]),
        "retries": 0,
        "errors": [],
        "image": params["image"],
        "model_id": model_id,
        "config": config,
    }
    return web.json_response({"endpoint_id": service_id})


async def _info(request: web.Request) -> web.StreamResponse:
    row = _service(request)
    return web.json_response(
        {
            "endpoint_id": request.match_info["service_id"],
            "name": row["name"],
            "desired_session_count": row["desired_session_count"],
            "active_routes": [
                {k: r[k] for k in ("route_id", "session_id", "traffic_ratio")}
                for r in _healthy(row)
            ],
            "service_endpoint": row["service_endpoint"],
            "is_public": row["is_public"],
        }
    )


async def _delete(request: web.Request) -> web.StreamResponse:
    _service(request)
    del _services(request.app[STATE_KEY])[_uuid(request, "service_id")]
    return web.json_response({"success": True})


async def _sync(request: web.Request) -> web.StreamResponse:
    _service(request)
    return web.json_response({"success": True})


async def _scale(request: web.Request) -> web.StreamResponse:
    row = _service(request)
    to = _count((await read_params(request, {"to": REQUIRED}))["to"], "to")
    if to < 0:
        raise invalid("Amount of desired session count cannot be a negative number")
    if to > MAX_SESSIONS_PER_SERVICE:
        raise invalid(
            f"Cannot spawn more than {MAX_SESSIONS_PER_SERVICE} sessions for a single service"
        )
    current = len(row["routes"])
    row["desired_session_count"] = to
    row["routes"] = row["routes"][:to] + [_new_route() for _ in range(to - current)]
    return web.json_response({"current_route_count": current, "target_count": to})


def _route_of(request: web.Request, row: dict[str, Any]) -> dict[str, Any]:
    route_id = _uuid(request, "route_id")
    routes: list[dict[str, Any]] = row["routes"]
    for found in routes:
        if found["route_id"] == route_id:
            return found
    raise not_found("object")


async def _update_route(request: web.Request) -> web.StreamResponse:
    found = _route_of(request, _service(request))
    ratio = (await read_params(request, {"traffic_ratio": REQUIRED}))["traffic_ratio"]
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio < 0:
        raise invalid("Input validation error", {"traffic_ratio": "value is less than 0"})
    found["traffic_ratio"] = float(ratio)
    return web.json_response({"success": True})


async def _delete_route(request: web.Request) -> web.StreamResponse:
    row = _service(request)
    found = _route_of(request, row)
    if found["status"] == "PROVISIONING":
        raise invalid("Cannot remove route in PROVISIONING status")
    row["routes"].remove(found)
    return web.json_response({"success": True})


async def _token(request: web.Request) -> web.StreamResponse:
    _service(request)
    params = await read_params(request, {"duration": None, "valid_until": None})
    if params["valid_until"] is None and params["duration"] is None:
        raise invalid("valid_until and duration can't be both unspecified")
    return web.json_response({"token": secrets.token_urlsafe(32)})


async def _errors(request: web.Request) -> web.StreamResponse:
    row = _service(request)
    return web.json_response({"errors": row["errors"], "retries": row["retries"]})


async def _clear_errors(request: web.Request) -> web.StreamResponse:
    row = _service(request)
    row["errors"], row["retries"] = [], 0
    row["routes"] = [r for r in row["routes"] if r["status"] != "FAILED_TO_START"]
    return web.Response(status=204)


def register_service_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/services``; a ``RouteInstaller``."""
    state.extras.setdefault("model_services", {})
    state.extras.setdefault("model_folders", {k: dict(v) for k, v in EXAMPLE_MODEL_FOLDERS.items()})
    add = app.router.add_route
    add("GET", "/services", _gated(_list))
    add("POST", "/services", _gated(_create))
    add("GET", "/services/{service_id}", _gated(_info))
    add("DELETE", "/services/{service_id}", _gated(_delete))
    add("GET", "/services/{service_id}/errors", _gated(_errors))
    add("POST", "/services/{service_id}/errors/clear", _gated(_clear_errors))
    add("POST", "/services/{service_id}/scale", _gated(_scale))
    add("POST", "/services/{service_id}/sync", _gated(_sync))
    add("PUT", "/services/{service_id}/routings/{route_id}", _gated(_update_route))
    add("DELETE", "/services/{service_id}/routings/{route_id}", _gated(_delete_route))
    add("POST", "/services/{service_id}/token", _gated(_token))

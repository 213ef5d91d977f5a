"""The fake manager's session templates: ``/template/session`` (create, list, get, put, delete).

Fixtures are plain data: ``state.extras["session_templates"]`` maps a template id (hex) to
``{"name", "template", "user_uuid", "group_id", "domain_name", "owner", "created_at",
"is_active"}`` (``owner`` is the creator's access key). It starts empty. As on 23.09 any
keypair lists every active template (``is_owner`` tells which are its own), and a
missing template reads as ``{}``. Payloads are JSON text (the fake has no YAML reader).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._manager import DEFAULT_GROUP_ID, STATE_KEY, ServerState
from ._rest import (
    REQUIRED,
    Refusal,
    Spec,
    caller,
    invalid,
    not_found,
    read_params,
    route,
    user_uuid,
)
from ._users import users

__all__ = ["register_template_routes", "templates"]

_WRITE: Spec = {
    "group": "default",
    "domain": "default",
    "owner_access_key": None,
    "payload": REQUIRED,
}
_KINDS = ("taskTemplate", "task_template")


def templates(state: ServerState) -> dict[str, dict[str, Any]]:
    """The session templates of a server (empty at first)."""
    found: dict[str, dict[str, Any]] = state.extras["session_templates"]
    return found


def _items(payload: Any) -> list[dict[str, Any]]:
    """The payload's items, each with a task template the manager's schema accepts."""
    if not isinstance(payload, str):
        raise invalid("Input validation error", {"payload": "value is not a string"})
    try:
        items = json.loads(payload)
    except ValueError:
        raise invalid("Malformed payload") from None
    if not isinstance(items, list):
        raise invalid("Malformed payload", "the payload must be a list of template items")
    for item in items:
        template = item.get("template") if isinstance(item, dict) else None
        spec = template.get("spec") if isinstance(template, dict) else None
        kernel = spec.get("kernel") if isinstance(spec, dict) else None
        if (
            not isinstance(template, dict)
            or template.get("kind") not in _KINDS
            or not isinstance(template.get("api_version", template.get("apiVersion")), str)
            or not isinstance((template.get("metadata") or {}).get("name"), str)
            or not isinstance(kernel, dict)
            or not isinstance(kernel.get("image"), str)
        ):
            raise invalid(
                "Input validation error",
                "each item needs a task template: apiVersion, kind taskTemplate, "
                "metadata.name, spec.kernel.image",
            )
    return items


def _group_id(group: Any) -> str:
    if group in ("default", DEFAULT_GROUP_ID):
        return DEFAULT_GROUP_ID
    raise invalid(f"Invalid group: {group!r}")


def _row(item: dict[str, Any], group_id: str, owner_uuid: str) -> dict[str, Any]:
    template = item["template"]
    return {
        "name": item.get("name") or template["metadata"]["name"],
        "template": template,
        "user_uuid": item.get("user_uuid") or owner_uuid,
        "group_id": item.get("group_id") or group_id,
    }


def _owner(request: web.Request, params: dict[str, Any]) -> str:
    owner = params.get("owner_access_key")
    return owner if isinstance(owner, str) and owner else caller(request).access_key


def _active(state: ServerState, request: web.Request) -> tuple[str, dict[str, Any]]:
    template_id = request.match_info["template_id"].replace("-", "")
    row = templates(state).get(template_id)
    if row is None or not row["is_active"]:
        raise not_found("task template")
    return template_id, row


@route
async def _create(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, _WRITE)
    state, owner = request.app[STATE_KEY], _owner(request, params)
    group_id = _group_id(params["group"])
    created = []
    for item in _items(params["payload"]):
        template_id = uuid.uuid4().hex
        templates(state)[template_id] = {
            **_row(item, group_id, user_uuid(state, owner)),
            "domain_name": params["domain"],
            "owner": owner,
            "created_at": datetime.now(timezone.utc).isoformat(),
            "is_active": True,
        }
        created.append({"id": template_id, "user": uuid.UUID(user_uuid(state, owner)).hex})
    return web.json_response(created)


@route
async def _list(request: web.Request) -> web.StreamResponse:
    await read_params(request, {"all": False, "group_id": None, "groupId": None})
    state = request.app[STATE_KEY]
    me = user_uuid(state, caller(request).access_key)
    emails = {str(row.get("uuid")): row.get("email") for row in users(state).values()}
    return web.json_response(
        [
            {
                "name": row["name"],
                "id": template_id,
                "created_at": row["created_at"],
                "is_owner": row["user_uuid"] == me,
                "user": row["user_uuid"],
                "group": row["group_id"],
                "user_email": emails.get(row["user_uuid"]),
                "group_name": "default" if row["group_id"] == DEFAULT_GROUP_ID else None,
                "domain_name": row["domain_name"],
                "type": "TASK",
                "template": row["template"],
            }
            for template_id, row in templates(state).items()
            if row["is_active"]
        ]
    )


@route
async def _get(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, {"format": "json", "owner_access_key": None})
    if params["format"] not in ("yaml", "json"):
        raise invalid('format should be "yaml" or "json"')
    try:
        _, row = _active(request.app[STATE_KEY], request)
    except Refusal:
        return web.json_response({})  # 23.09 answers an unknown id with an empty object
    return web.json_response(
        {key: row[key] for key in ("template", "name", "user_uuid", "group_id", "domain_name")}
    )


@route
async def _put(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, _WRITE)
    state = request.app[STATE_KEY]
    _, row = _active(state, request)
    group_id = _group_id(params["group"])
    for item in _items(params["payload"]):
        row.update(_row(item, group_id, user_uuid(state, _owner(request, params))))
    return web.json_response({"success": True})


@route
async def _delete(request: web.Request) -> web.StreamResponse:
    await read_params(request, {"owner_access_key": None})
    _, row = _active(request.app[STATE_KEY], request)
    row["is_active"] = False
    return web.json_response({"success": True})


def register_template_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/template/session``; a ``RouteInstaller``."""
    state.extras.setdefault("session_templates", {})
    router = app.router
    router.add_route("POST", "/template/session", _create)
    router.add_route("GET", "/template/session", _list)
    router.add_route("GET", "/template/session/{template_id}", _get)
    router.add_route("PUT", "/template/session/{template_id}", _put)
    router.add_route("DELETE", "/template/session/{template_id}", _delete)

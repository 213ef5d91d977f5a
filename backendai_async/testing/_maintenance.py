"""The fake manager's maintenance calls: usage recalculation and the image rescan mutation.

``POST /resource/recalculate-usage`` (superadmin) counts its calls in
``state.extras["usage_recalculations"]``; the GraphQL mutation ``rescan_images`` (admins)
records each scan in ``state.extras["image_rescans"]`` (``{"registry", "project",
"task_id"}``) and answers with the id of a new background task that reports progress on
``/events/background-task`` (``_events.start_background_task``), as the manager does. Its
``project`` argument exists from manager 25.1.0; older releases refuse it.

A normal user's ``rescan_images`` is refused inside the data (``ok: false``, "no
permission to execute rescan_images"), as 26.9 answers and as 23.09's mutation role check
means to: on the real 23.09 that check never fires (it measures ``info.path`` as if it
were a list), so a user's rescan runs there.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._events import start_background_task
from ._graphql import GraphQLContext, GraphQLField, GraphQLFieldError, register_graphql_field
from ._manager import STATE_KEY, ServerState
from ._rest import manager_at_least, route, superadmin

__all__ = ["register_maintenance_routes"]


@route
async def _recalculate_usage(request: web.Request) -> web.StreamResponse:
    superadmin(request)
    extras = request.app[STATE_KEY].extras
    extras["usage_recalculations"] += 1
    return web.json_response({})


def _rescan_images(ctx: GraphQLContext) -> dict[str, Any]:
    if not ctx.keypair.is_admin:
        return {"ok": False, "msg": "no permission to execute rescan_images", "task_id": None}
    if "project" in ctx.args and not manager_at_least(ctx.state, "25.1.0"):
        raise GraphQLFieldError('Unknown argument "project" on field "rescan_images".')
    task_id = start_background_task(ctx.state, ctx.keypair.access_key)
    scans: list[dict[str, Any]] = ctx.state.extras["image_rescans"]
    scans.append(
        {
            "registry": ctx.args.get("registry"),
            "project": ctx.args.get("project"),
            "task_id": task_id,
        }
    )
    return {"ok": True, "msg": "", "task_id": task_id}


def register_maintenance_routes(app: web.Application, state: ServerState) -> None:
    """Install recalculate-usage and the ``rescan_images`` mutation; a ``RouteInstaller``."""
    state.extras.setdefault("usage_recalculations", 0)
    state.extras.setdefault("image_rescans", [])
    app.router.add_route("POST", "/resource/recalculate-usage", _recalculate_usage)
    register_graphql_field(state, GraphQLField("rescan_images", _rescan_images, mutation=True))

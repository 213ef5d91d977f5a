"""Plugin routes the open-source manager lacks: ``/totp``, ``/license``, ``/cloud``, ``/eduapp``.

By default each answers 404 ``url-not-found``, exactly as 23.09 and 26.9 answer any
unknown path. To play an enterprise or cloud deployment, put answers in
``state.extras["plugin_answers"]``: ``"METHOD /path"`` -> the JSON to answer with, e.g.
``{"GET /license": {"status": "valid", "certificate": {...}}}``, or a ``(status, JSON)``
pair. Requests are recorded like any other, so tests can read what was sent.
"""

from __future__ import annotations

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response

__all__ = ["PLUGIN_PREFIXES", "register_plugin_routes"]

PLUGIN_PREFIXES = ("/totp", "/license", "/cloud", "/eduapp")


async def _plugin(request: web.Request) -> web.StreamResponse:
    answers = request.app[STATE_KEY].extras["plugin_answers"]
    key = f"{request.method} {request.path}"
    if key not in answers:
        return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
    answer = answers[key]
    status, body = answer if isinstance(answer, tuple) else (200, answer)
    if status == 204 or body is None:
        return web.Response(status=status)
    return web.json_response(body, status=status)


def register_plugin_routes(app: web.Application, state: ServerState) -> None:
    """Install the plugin prefixes (answering 404 unless told otherwise); a ``RouteInstaller``."""
    state.extras.setdefault("plugin_answers", {})
    for prefix in PLUGIN_PREFIXES:
        app.router.add_route("*", prefix, _plugin)
        app.router.add_route("*", prefix + "/{tail:.*}", _plugin)

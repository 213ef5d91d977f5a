"""Committing sessions in the fake manager: ``/session/{name}/commit`` and ``/imagify``.

As the real managers answer (23.09 and 26.9 were asked): ``GET .../commit`` gives
``{"status", "kernel"}`` for any session (``"ready"`` until a commit ran); ``POST
.../commit`` needs a RUNNING session (else 400 "Unable to commit since kernel … is currently
not RUNNING.") and answers 201 with the agent's ``{"bgtask_id", "kernel", "path"}``;
``POST .../imagify`` ``{"image_name"}`` exists from manager 24.03 (the JS SDK's
``user-committed-image`` flag; 23.09 answers 404) and answers ``{"task_id"}``.
``state.extras[COMMITS_KEY]`` (kernel id → status) is plain data tests may set.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

from aiohttp import web

from ._manager import STATE_KEY, ServerState, problem_response
from ._sessions import SESSIONS_KEY, _api_params, _invalid, _session_of, _wrap

__all__ = ["COMMITS_KEY", "register_commit_routes"]

COMMITS_KEY: Final = "session_commits"
"""``state.extras[COMMITS_KEY]``: kernel id → commit status (``"ready"`` when absent)."""
_IMAGIFY_SINCE: Final = (24, 3)
_IMAGE_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")


def _commits(state: ServerState) -> dict[str, str]:
    found: dict[str, str] = state.extras.setdefault(COMMITS_KEY, {})
    return found


async def _commit_status(request: web.Request) -> web.StreamResponse:
    session = _session_of(request)
    status = _commits(request.app[STATE_KEY]).get(session.kernel_id, "ready")
    return web.json_response({"status": status, "kernel": session.kernel_id})


async def _commit(request: web.Request) -> web.StreamResponse:
    session = _session_of(request)
    if session.status != "RUNNING":
        return _invalid(
            f"Unable to commit since kernel(id: {session.kernel_id}) of session(id: "
            f"{session.id}) is currently not RUNNING."
        )
    _commits(request.app[STATE_KEY])[session.kernel_id] = "ongoing"
    return web.json_response(
        {"bgtask_id": str(uuid.uuid4()), "kernel": session.kernel_id, "path": None}, status=201
    )


async def _imagify(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    release = tuple(int(p) for p in re.findall(r"\d+", state.manager_version)[:2])
    if release < _IMAGIFY_SINCE:
        return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
    params = await _api_params(request)
    name = params.get("image_name")
    if not isinstance(name, str) or not _IMAGE_NAME.match(name):
        return _invalid(data={"image_name": "is required" if name is None else "is invalid"})
    session = _session_of(request)
    if session.status != "RUNNING":
        return _invalid(f"Session {session.name} is not RUNNING.")
    _commits(state)[session.kernel_id] = "ongoing"
    return web.json_response({"task_id": str(uuid.uuid4())})


def register_commit_routes(app: web.Application, state: ServerState) -> None:
    """The commit routes (``/session`` layout only: they came after v5); a ``RouteInstaller``."""
    app[SESSIONS_KEY]
    router = app.router
    router.add_route("GET", "/session/{session_name}/commit", _wrap("/session", _commit_status))
    router.add_route("POST", "/session/{session_name}/commit", _wrap("/session", _commit))
    router.add_route("POST", "/session/{session_name}/imagify", _wrap("/session", _imagify))

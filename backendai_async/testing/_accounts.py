"""The account routes of the fake manager: ``/auth/update-full-name``, ``/auth/update-password``
and ``/auth/signout``, with the 23.09 manager's checks and answers.

Fixtures are plain data: the users of :mod:`._users` (``state.extras["users"]``, by e-mail,
each keypair's owner found through ``state.extras["keypairs"]``) and their passwords in
``state.extras["passwords"]`` (by e-mail; a user without an entry has the example
convention's password, the secret key of the keypair that signed the request). A signout
marks the user ``inactive``; unlike the real manager it does not disable the keypair.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._admin_keypairs import keypairs
from ._manager import STATE_KEY, Keypair, ServerState, problem_response
from ._users import users

__all__ = ["password_of", "register_account_routes"]


def password_of(state: ServerState, email: str, keypair: Keypair) -> str:
    """The current password of the user ``email`` (who owns ``keypair``)."""
    passwords: dict[str, str] = state.extras.setdefault("passwords", {})
    return passwords.get(email, keypair.secret_key)


def _invalid(data: Any) -> web.Response:
    return problem_response(
        400,
        "invalid-api-params",
        "Missing or invalid API parameters.",
        "Input validation error",
        data,
    )


async def _checked(request: web.Request, keys: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``t.Dict`` of ``t.String`` keys (with aliases), as the manager's validator reads it."""
    try:
        params = json.loads(await request.read()) if request.body_exists else {}
    except ValueError:
        raise _Refused(_invalid("Malformed body")) from None
    if not isinstance(params, dict):
        raise _Refused(_invalid("value is not a dict"))
    found: dict[str, str] = {}
    errors: dict[str, str] = {}
    known = {alias for aliases in keys.values() for alias in aliases}
    for name, aliases in keys.items():
        present = [a for a in aliases if a in params]
        if not present:
            errors[name] = "is required"
            continue
        value = params[present[0]]
        if not isinstance(value, str):
            errors[name] = "value is not a string"
        elif not value and not _blank_allowed(request):
            errors[name] = "blank value is not allowed"
        else:
            found[name] = value
    errors.update({k: f"{k} is not allowed key" for k in params if k not in known})
    if errors:
        raise _Refused(_invalid(errors))
    return found


def _blank_allowed(request: web.Request) -> bool:
    """23.09 refuses empty strings (trafaret ``String``); 26.9 (pydantic) takes them."""
    release = request.app[STATE_KEY].manager_version.split(".")[0]
    return release.isdigit() and int(release) >= 26


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _me(request: web.Request) -> tuple[ServerState, Keypair, dict[str, Any]]:
    """The server state, the signing keypair and its owner's user row."""
    state = request.app[STATE_KEY]
    keypair = state.keypair_of(request)
    assert keypair is not None, "account routes need a signed request"
    email = keypairs(state)[keypair.access_key]["user_id"]
    row = users(state).setdefault(email, {"email": email})
    return state, keypair, row


async def _update_full_name(request: web.Request) -> web.StreamResponse:
    try:
        params = await _checked(request, {"email": ("email",), "full_name": ("full_name",)})
    except _Refused as refused:
        return refused.response
    _, _, row = _me(request)  # like the manager: the caller's own account, whatever "email" says
    row["full_name"] = params["full_name"]
    return web.json_response({})


async def _update_password(request: web.Request) -> web.StreamResponse:
    keys = {k: (k,) for k in ("old_password", "new_password", "new_password2")}
    try:
        params = await _checked(request, keys)
    except _Refused as refused:
        return refused.response
    state, keypair, row = _me(request)
    if params["old_password"] != password_of(state, row["email"], keypair):
        return problem_response(
            401, "auth-failed", "Credential/signature mismatch.", "Old password mismatch"
        )
    if params["new_password"] != params["new_password2"]:
        return web.json_response({"error_msg": "new password mismatch"}, status=400)
    state.extras.setdefault("passwords", {})[row["email"]] = params["new_password"]
    return web.json_response({})


async def _signout(request: web.Request) -> web.StreamResponse:
    try:
        params = await _checked(
            request, {"email": ("email", "username"), "password": ("password",)}
        )
    except _Refused as refused:
        return refused.response
    state, keypair, row = _me(request)
    if params["email"] != row.get("email"):
        return problem_response(
            403, "generic-forbidden", "Forbidden operation.", "Not the account owner"
        )
    if params["password"] != password_of(state, row["email"], keypair):
        return problem_response(
            400, "generic-bad-request", "Bad request.", "Invalid email and/or password"
        )
    row.update(status="inactive", is_active=False)
    return web.json_response({})


def register_account_routes(app: web.Application, state: ServerState) -> None:
    app.router.add_post("/auth/update-full-name", _update_full_name)
    app.router.add_post("/auth/update-password", _update_password)
    app.router.add_post("/auth/signout", _signout)

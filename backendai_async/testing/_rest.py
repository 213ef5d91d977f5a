"""What the fake manager's REST route modules share: parameters, refusals, release checks.

Handlers read their parameters the way the manager's ``check_api_params`` does (the JSON
body when there is one, else the query string; unknown keys refused) and refuse with the
manager's problem answers by raising :class:`Refusal`; :func:`route` turns it into the
response. Nothing here imports the SDK.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, Keypair, ServerState, problem_response

__all__ = [
    "REQUIRED",
    "Handler",
    "Refusal",
    "Spec",
    "caller",
    "invalid",
    "manager_at_least",
    "not_found",
    "pick",
    "read_params",
    "route",
    "superadmin",
    "user_uuid",
]

REQUIRED: Any = object()
"""A :func:`read_params` spec value: the parameter has no default."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RELEASE_PART = re.compile(r"\d+")


class Refusal(Exception):
    """Raised by a handler: ``response`` is the manager's answer to send instead."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def route(handler: Handler) -> Handler:
    """The handler, answering a :class:`Refusal` with its response."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            return refusal.response

    return wrapped


def invalid(msg: str, data: Any = None) -> Refusal:
    """400 ``invalid-api-params`` (the manager's ``InvalidAPIParameters``)."""
    return Refusal(
        problem_response(400, "invalid-api-params", "Missing or invalid API parameters.", msg, data)
    )


def not_found(what: str, msg: str | None = None) -> Refusal:
    """404 ``object-not-found``: ``No such <what>.``."""
    return Refusal(problem_response(404, "object-not-found", f"No such {what}.", msg))


def caller(request: web.Request) -> Keypair:
    """The keypair that signed the request."""
    keypair = request.app[STATE_KEY].keypair_of(request)
    assert keypair is not None  # every route here requires a signature
    return keypair


def superadmin(request: web.Request) -> Keypair:
    """The caller, if a superadmin; else 23.09's refusal: 401 "Unauthorized access"."""
    keypair = caller(request)
    if not keypair.is_superadmin:
        raise Refusal(
            problem_response(
                401, "auth-failed", "Credential/signature mismatch.", "Unauthorized access"
            )
        )
    return keypair


Spec = Mapping[str | tuple[str, ...], Any]


def pick(given: Mapping[str, Any], spec: Spec, where: str = "") -> dict[str, Any]:
    """The parameters ``spec`` names, checked like the manager's trafaret ``Dict``.

    ``spec`` maps a name (or a tuple of aliases, the first being the name the result
    uses) to its default, or :data:`REQUIRED`. Unknown and missing keys are refused in
    the manager's words (``where`` prefixes the key names of a nested mapping).
    """
    names = {
        alias: (key if isinstance(key, str) else key[0])
        for key in spec
        for alias in ((key,) if isinstance(key, str) else key)
    }
    errors = {f"{where}{k}": f"{k} is not allowed key" for k in given if k not in names}
    result: dict[str, Any] = {}
    for key, default in spec.items():
        aliases = (key,) if isinstance(key, str) else key
        found = [a for a in aliases if a in given]
        if found:
            result[aliases[0]] = given[found[0]]
        elif default is REQUIRED:
            errors[f"{where}{aliases[0]}"] = "is required"
        else:
            result[aliases[0]] = default
    if errors:
        raise invalid("Input validation error", errors)
    return result


async def read_params(request: web.Request, spec: Spec) -> dict[str, Any]:
    """:func:`pick` over the request's parameters: its JSON body if it has one, else the
    query string, as the 23.09 manager reads them."""
    if request.body_exists:
        try:
            given = json.loads(await request.read())
        except ValueError:
            raise invalid("Malformed body") from None
        if not isinstance(given, dict):
            raise invalid("Input validation error", "value is not a dict")
    else:
        given = dict(request.query)
    return pick(given, spec)


def manager_at_least(state: ServerState, release: str) -> bool:
    """Whether the fake announces a manager release of at least ``release`` (numeric parts)."""

    def key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in _RELEASE_PART.findall(text)[:3])

    return key(state.manager_version) >= key(release)


def user_uuid(state: ServerState, access_key: str) -> str:
    """The id of the user who owns ``access_key`` (its keypair's user in the fixtures)."""
    from ._admin_keypairs import keypairs  # these import _manager: import lazily
    from ._users import users

    row = keypairs(state).get(access_key)
    user = users(state).get(row["user_id"]) if row else None
    if user and user.get("uuid"):
        return str(user["uuid"])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"backendai-testing:{access_key}"))

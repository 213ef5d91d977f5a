"""The fake manager's ``/auth/ssh-keypair``: the SSH keypair mounted into a keypair's sessions.

Fixtures are plain data: ``state.extras["ssh_keypairs"]`` maps an access key to
``{"ssh_public_key", "ssh_private_key"}``; a keypair without an entry has none yet (its
public key reads as ``None``, as on 23.09). Generated keys are random text shaped like
OpenSSH keys, not real keys.
"""

from __future__ import annotations

import base64
import secrets

from aiohttp import web

from ._manager import STATE_KEY, ServerState
from ._rest import REQUIRED, caller, invalid, read_params, route

__all__ = ["register_ssh_keypair_routes"]


def _store(request: web.Request) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = request.app[STATE_KEY].extras["ssh_keypairs"]
    return found


def _generated() -> dict[str, str]:
    blob = base64.b64encode(secrets.token_bytes(48)).decode()
    return {
        "ssh_public_key": f"ssh-rsa AAAAB3NzaC1yc2E{blob} backendai-testing\n",
        "ssh_private_key": (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            f"{base64.b64encode(secrets.token_bytes(96)).decode()}\n"
            "-----END RSA PRIVATE KEY-----\n"
        ),
    }


@route
async def _get(request: web.Request) -> web.StreamResponse:
    stored = _store(request).get(caller(request).access_key)
    return web.json_response({"ssh_public_key": stored["ssh_public_key"] if stored else None})


@route
async def _refresh(request: web.Request) -> web.StreamResponse:
    pair = _store(request)[caller(request).access_key] = _generated()
    return web.json_response(pair)


@route
async def _upload(request: web.Request) -> web.StreamResponse:
    params = await read_params(request, {"pubkey": REQUIRED, "privkey": REQUIRED})
    if not all(isinstance(params[k], str) for k in ("pubkey", "privkey")):
        raise invalid("Input validation error", "pubkey and privkey must be strings")
    pair = {
        "ssh_public_key": params["pubkey"].rstrip() + "\n",
        "ssh_private_key": params["privkey"].rstrip() + "\n",
    }
    _store(request)[caller(request).access_key] = pair
    return web.json_response(pair)


def register_ssh_keypair_routes(app: web.Application, state: ServerState) -> None:
    """Install ``/auth/ssh-keypair`` (GET, PATCH, POST); a ``RouteInstaller``."""
    state.extras.setdefault("ssh_keypairs", {})
    app.router.add_route("GET", "/auth/ssh-keypair", _get)
    app.router.add_route("PATCH", "/auth/ssh-keypair", _refresh)
    app.router.add_route("POST", "/auth/ssh-keypair", _upload)

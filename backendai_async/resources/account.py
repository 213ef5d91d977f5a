"""The JS SDK's client-level account calls: ``client.account`` and their names on ``Client``.

Resource slots, the caller's SSH keypair, two-factor authentication (TOTP) and the
``slugify`` helper. In the JS SDK these are methods of the client itself; here they live in
one small namespace, and :class:`AccountAliases` gives them their JS names on ``Client``
(``client.fetch_ssh_keypair()`` is ``client.account.fetch_ssh_keypair()``).

TOTP is an enterprise plugin of the manager: open-source managers (23.09, 26.9 included)
answer every ``/totp`` call with 404. :meth:`Account.is_manager_supporting_totp` tells.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._aliases import AccountAliases
from ._args import check_text, optional
from ._base import Resource, answers

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat

__all__ = ["Account", "AccountAliases", "SSHKeypair", "SSHPublicKey"]

Timeout = float | UseDefault | None

_SLUG_FROM = "àáäâèéëêìíïîòóöôùúüûñçßÿœæŕśńṕẃǵǹḿǘẍźḧ·/_,:;"
_SLUG_TO = "aaaaeeeeiiiioooouuuuncsyoarsnpwgnmuxzh------"
_SLUG_TABLE = str.maketrans(_SLUG_FROM, _SLUG_TO)
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w-]+", re.ASCII)
_DASHES = re.compile(r"--+")


class SSHPublicKey(TypedDict):
    """``fetch_ssh_keypair()``: the public half only (None or "" until one is made)."""

    ssh_public_key: str | None


class SSHKeypair(TypedDict):
    """``refresh_ssh_keypair()``/``post_ssh_keypair()``: both halves, as stored."""

    ssh_public_key: str
    ssh_private_key: str


def _resource_slots_path(compat: Compat) -> str:
    return compat.resource_slots_path


class Account(Resource):
    """``client.account``: what the caller's own keypair sees and owns.

    Every method takes ``timeout=`` (seconds for the whole call) and ``signal=``.
    """

    __slots__ = ()

    async def get_resource_slots(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> dict[str, str]:
        """The slot types the cluster knows and their units: ``{"cpu": "count", "mem": "bytes"}``.

        ``GET /config/resource-slots`` (``/etcd/resource-slots`` before v4.20190601).
        """
        result: dict[str, str] = await self._api.send(
            "GET", _resource_slots_path, timeout=timeout, signal=signal
        )
        return result

    async def fetch_ssh_keypair(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> SSHPublicKey:
        """The public key of the SSH keypair mounted into the caller's sessions."""
        result: SSHPublicKey = await self._api.send(
            "GET", "/auth/ssh-keypair", timeout=timeout, signal=signal
        )
        return result

    async def refresh_ssh_keypair(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> SSHKeypair:
        """Replace the SSH keypair by a new random one; the answer has the private key."""
        result: SSHKeypair = await self._api.send(
            "PATCH", "/auth/ssh-keypair", timeout=timeout, signal=signal
        )
        return result

    async def post_ssh_keypair(
        self,
        param: Mapping[str, str],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> SSHKeypair:
        """Store your own SSH keypair: ``param`` is ``{"pubkey": ..., "privkey": ...}``."""
        if not isinstance(param, Mapping):
            raise ValueError(f"param must be a mapping with pubkey and privkey, got {param!r}")
        unknown = set(param) - {"pubkey", "privkey"}
        if unknown:
            raise ValueError(f"param has unknown keys {sorted(unknown)}: only pubkey, privkey")
        body = {
            "pubkey": check_text(param.get("pubkey"), "param['pubkey']"),
            "privkey": check_text(param.get("privkey"), "param['privkey']"),
        }
        result: SSHKeypair = await self._api.send(
            "POST", "/auth/ssh-keypair", json=body, timeout=timeout, signal=signal
        )
        return result

    # -- two-factor authentication (an enterprise plugin) ------------------------------

    async def is_manager_supporting_totp(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> bool:
        """Whether the manager has the TOTP plugin (``GET /totp``).

        Only a 404 means "no": any other failure (unreachable, 401, 500) raises, so a
        broken server is not mistaken for one without two-factor authentication.
        """
        return await answers(self._api.send("GET", "/totp", timeout=timeout, signal=signal))

    async def initialize_totp(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Start registering a TOTP device for the caller (``POST /totp``)."""
        return await self._api.send("POST", "/totp", json={}, timeout=timeout, signal=signal)

    async def initialize_totp_anon(
        self,
        registration_token: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Start registering TOTP with the token a login that requires it handed out."""
        body = {"registration_token": check_text(registration_token, "registration_token")}
        return await self._api.send("POST", "/totp/anon", json=body, timeout=timeout, signal=signal)

    async def activate_totp(
        self, otp: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Confirm the registration with a first one-time password (``POST /totp/verify``)."""
        body = {"otp": check_text(otp, "otp")}
        return await self._api.send(
            "POST", "/totp/verify", json=body, timeout=timeout, signal=signal
        )

    async def activate_totp_anon(
        self,
        otp: str,
        registration_token: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Confirm an anonymous registration (``POST /totp/anon/verify``)."""
        body = {
            "otp": check_text(otp, "otp"),
            "registration_token": check_text(registration_token, "registration_token"),
        }
        return await self._api.send(
            "POST", "/totp/anon/verify", json=body, timeout=timeout, signal=signal
        )

    async def remove_totp(
        self,
        email: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Remove the caller's TOTP device, or (an admin's call) the one of ``email``."""
        email = optional(check_text, email, "email")
        return await self._api.send(
            "DELETE",
            "/totp",
            params={"email": email} if email is not None else None,
            json={},
            timeout=timeout,
            signal=signal,
        )

    # -- local -------------------------------------------------------------------------

    @staticmethod
    def slugify(text: str) -> str:
        """``text`` as a lowercase URL slug: ``"Hello, World"`` → ``"hello-world"``.

        The JS SDK's rule exactly (so slugs match the Web UI's): the accented letters of its
        table become plain ones, ``&`` becomes ``-and-``, and anything else that is not an
        ASCII letter, digit, ``_`` or ``-`` is dropped.
        """
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {text!r}")
        slug = _SPACES.sub("-", text.lower()).translate(_SLUG_TABLE).replace("&", "-and-")
        slug = _DASHES.sub("-", _NOT_WORD.sub("", slug))
        return slug.strip("-")

"""``client.keypair``: access keys (the JS SDK's ``Keypair``), over the manager's GraphQL.

Who may see or change what is the server's business: a normal user reads their own
keypairs, an admin everyone's; a refusal arrives as :class:`~backendai_async.GraphQLError`
with the server's reason. Default field lists leave ``secret_key`` out (ask for it with
``fields=``); :meth:`KeyPairs.add` returns the new key pair, secret included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_flag, check_int, check_text, optional
from ._base import Resource
from ._graphql import (
    Fields,
    Timeout,
    Var,
    collect,
    fields_or,
    mutate_data,
    paginate,
    select_data,
    target,
)

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .admin_types import KeyPair, MutationResult

__all__ = ["KEYPAIR_FIELDS", "KeyPairs"]

KEYPAIR_FIELDS = (
    "access_key",
    "is_active",
    "is_admin",
    "user_id",
    "created_at",
    "last_used",
    "concurrency_limit",
    "concurrency_used",
    "rate_limit",
    "num_queries",
    "resource_policy",
)
_CREATED = (
    "ok",
    "msg",
    "keypair { access_key secret_key is_active is_admin resource_policy "
    "concurrency_limit rate_limit }",
)
MODIFY_KEYPAIR_INPUT = InputSpec.of(
    "ModifyKeyPairInput", "is_active is_admin resource_policy concurrency_limit rate_limit"
)


class KeyPairs(Resource):
    """Keypairs: ``info``, ``list``/``iter``, ``add``, ``mutate``, ``delete``."""

    async def info(
        self,
        access_key: str,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, KeyPair]:
        """``{"keypair": {...}}`` for ``access_key`` (your own, or anyone's for an admin)."""
        args = {"access_key": Var("String", check_text(access_key, "access_key"))}
        wanted = fields_or(fields, KEYPAIR_FIELDS)
        return await select_data(self._api, "keypair", args, wanted, timeout=timeout, signal=signal)

    def iter(
        self,
        user_id: str | None = None,
        fields: Fields | None = None,
        is_active: bool | None = True,
        *,
        page_size: int = 100,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[KeyPair]:
        """Every keypair (of ``user_id``, an email, if given), page by page, no cap."""
        args = {
            "email": Var("String", optional(check_text, user_id, "user_id")),
            "is_active": Var("Boolean", optional(check_flag, is_active, "is_active")),
        }
        wanted = fields_or(fields, (*KEYPAIR_FIELDS,))
        return paginate(
            self._api,
            "keypair_list",
            args,
            wanted,
            page_size=page_size,
            timeout=timeout,
            signal=signal,
        )

    async def list(
        self,
        user_id: str | None = None,
        fields: Fields | None = None,
        is_active: bool | None = True,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[KeyPair]]:
        """``{"keypairs": [...]}``: all of them (the JS SDK stops at 1,000), see :meth:`iter`.

        Without ``user_id`` an admin gets every keypair, a user their own.
        """
        items = self.iter(user_id, fields, is_active, timeout=timeout, signal=signal)
        return await collect("keypairs", items)

    async def add(
        self,
        user_id: str,
        is_active: bool = True,
        is_admin: bool = False,
        resource_policy: str = "default",
        rate_limit: int = 1000,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a keypair for the user ``user_id`` (an email); the answer has its keys."""
        props = {
            "is_active": check_flag(is_active, "is_active"),
            "is_admin": check_flag(is_admin, "is_admin"),
            "resource_policy": check_text(resource_policy, "resource_policy"),
            "rate_limit": check_int(rate_limit, "rate_limit"),
        }
        args = {
            "user_id": Var("String!", check_text(user_id, "user_id")),
            "props": Var("KeyPairInput!", props),
        }
        return await mutate_data(
            self._api, "create_keypair", args, _CREATED, timeout=timeout, signal=signal
        )

    async def mutate(
        self,
        access_key: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a keypair (``ModifyKeyPairInput``: is_active, is_admin, resource_policy …)."""
        args = target("access_key", access_key, MODIFY_KEYPAIR_INPUT, input)
        return await mutate_data(self._api, "modify_keypair", args, timeout=timeout, signal=signal)

    async def delete(
        self,
        access_key: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Delete a keypair."""
        args = target("access_key", access_key)
        return await mutate_data(self._api, "delete_keypair", args, timeout=timeout, signal=signal)

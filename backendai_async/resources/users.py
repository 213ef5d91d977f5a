"""``client.user``: user accounts (the JS SDK's ``User``), over the manager's GraphQL.

Default field lists have no ``password`` (no manager has such a field; the JS SDK's
default asks for it). A normal user may read their own account; listing and changing
accounts is for admins, and the server says so (:class:`~backendai_async.GraphQLError`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_flag, check_text
from ._base import Resource
from ._graphql import (
    Fields,
    Gated,
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
    from .admin_types import MutationResult, User

__all__ = ["USER_FIELDS", "USER_LIST_FIELDS", "Users"]

USER_FIELDS = (
    "email",
    "username",
    "need_password_change",
    "full_name",
    "description",
    "is_active",
    "domain_name",
    "role",
    "groups { id name }",
)
USER_LIST_FIELDS = (*USER_FIELDS, "status", Gated("main_access_key", "main-access-key"))
_USER_KEYS = (
    "username password need_password_change full_name description is_active status "
    "domain_name role group_ids allowed_client_ip totp_activated resource_policy "
    "sudo_session_enabled container_uid container_main_gid container_gids"
)
USER_INPUT = InputSpec.of(
    "UserInput", _USER_KEYS, required="username password need_password_change domain_name"
)
MODIFY_USER_INPUT = InputSpec.of("ModifyUserInput", _USER_KEYS + " main_access_key")
_CREATED = ("ok", "msg", "user { uuid email username role domain_name status }")
PURGE_USER_INPUT = InputSpec.of(
    "PurgeUserInput", "purge_shared_vfolders delegate_endpoint_ownership"
)


class Users(Resource):
    """Users: ``list``/``iter``, ``get``, ``create``, ``update``, ``delete``, ``purge``."""

    def iter(
        self,
        is_active: bool | None = True,
        fields: Fields | None = None,
        *,
        page_size: int = 100,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[User]:
        """Every user (active ones by default; ``None`` for all), page by page, no cap."""
        flag = None if is_active is None else check_flag(is_active, "is_active")
        wanted = fields_or(fields, USER_LIST_FIELDS)
        return paginate(
            self._api,
            "user_list",
            {"is_active": Var("Boolean", flag)},
            wanted,
            page_size=page_size,
            timeout=timeout,
            signal=signal,
        )

    async def list(
        self,
        is_active: bool | None = True,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, list[User]]:
        """``{"users": [...]}``: all of them (the JS SDK stops at 1,000), see :meth:`iter`."""
        return await collect("users", self.iter(is_active, fields, timeout=timeout, signal=signal))

    async def get(
        self,
        email: str,
        fields: Fields | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, User]:
        """``{"user": {...}}`` for ``email`` (yourself, or anyone for an admin)."""
        args = {"email": Var("String", check_text(email, "email"))}
        wanted = fields_or(fields, USER_FIELDS)
        return await select_data(self._api, "user", args, wanted, timeout=timeout, signal=signal)

    async def create(
        self,
        email: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Create a user (``UserInput``: username, password, need_password_change, domain_name
        are required); the answer has the new user's uuid."""
        args = target("email", email, USER_INPUT, input)
        return await mutate_data(
            self._api, "create_user", args, _CREATED, timeout=timeout, signal=signal
        )

    async def update(
        self,
        email: str,
        input: Mapping[str, Any],
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Change a user (``ModifyUserInput``)."""
        args = target("email", email, MODIFY_USER_INPUT, input)
        return await mutate_data(self._api, "modify_user", args, timeout=timeout, signal=signal)

    async def delete(
        self,
        email: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Delete a user: the manager marks it ``deleted`` and deactivates its keypairs."""
        args = target("email", email)
        return await mutate_data(self._api, "delete_user", args, timeout=timeout, signal=signal)

    async def purge(
        self,
        email: str,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, MutationResult]:
        """Remove a user for good, keypairs and folders included (``purge_user``; not in the
        JS SDK). ``input``: ``PurgeUserInput`` (``purge_shared_vfolders`` …)."""
        args = target("email", email, PURGE_USER_INPUT, input or {})
        return await mutate_data(self._api, "purge_user", args, timeout=timeout, signal=signal)

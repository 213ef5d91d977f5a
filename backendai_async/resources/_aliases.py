"""The JS SDK's client-level names (``client.create_if_not_exists``, ``client.login`` …).

Each is an :class:`~._base.Alias` of a namespace method. They are defined here, apart from
the namespaces, so that creating the ``Client`` class imports none of them: a namespace's
module loads on its first use. At run time an alias needs only the method's name, which is
what ``Sessions.get_info`` gives below (type checkers see the real classes and signatures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._base import Alias

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from ..timeouts import UseDefault
    from ..types import ExecuteResult
    from .account import Account
    from .auth import Auth
    from .events import Events
    from .sessions import Sessions, _Download, _DownloadSingle
    from .streams import Streams

    Timeout = float | UseDefault | None
else:

    class _MethodNames:
        """``Sessions.get_info`` -> ``"get_info"``: all an alias needs at run time."""

        def __getattr__(self, name: str) -> str:
            if name.startswith("__"):
                raise AttributeError(name)
            return name

    Account = Auth = Events = Sessions = Streams = _MethodNames()
    Timeout = Any

__all__ = ["AccountAliases", "AuthAliases", "Events", "SessionAliases", "Streams"]


class SessionAliases:
    """JS SDK names on the client itself (``client.create_if_not_exists`` …), one line each."""

    __slots__ = ()
    sessions: Sessions

    create_if_not_exists = Alias("sessions", Sessions.create_if_not_exists)
    create_session_from_template = Alias("sessions", Sessions.create_session_from_template)
    get_info = Alias("sessions", Sessions.get_info)
    get_direct_access_info = Alias("sessions", Sessions.get_direct_access_info)
    get_logs = Alias("sessions", Sessions.get_logs)
    get_task_logs = Alias("sessions", Sessions.get_task_logs)
    destroy = Alias("sessions", Sessions.destroy)
    restart = Alias("sessions", Sessions.restart)
    execute = Alias("sessions", Sessions.execute)
    interrupt = Alias("sessions", Sessions.interrupt)
    shutdown_service = Alias("sessions", Sessions.shutdown_service)
    upload = Alias("sessions", Sessions.upload)
    list_files = Alias("sessions", Sessions.list_files)
    rename_session = Alias("sessions", Sessions.rename_session)
    start_service = Alias("sessions", Sessions.start_service)
    generate_session_id = Alias("sessions", Sessions.generate_session_id)
    # Legacy JS names.
    create_kernel = Alias("sessions", Sessions.create_if_not_exists)
    destroy_kernel = Alias("sessions", Sessions.destroy)
    refresh_kernel = Alias("sessions", Sessions.restart)

    @property
    def download(self) -> _Download:
        return self.sessions.download

    @property
    def download_single(self) -> _DownloadSingle:
        return self.sessions.download_single

    async def run_code(
        self,
        code: str,
        session_id: str,
        run_id: str | None,
        mode: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ExecuteResult:
        """Legacy JS ``runCode(code, sessionId, runId, mode)``: :meth:`execute` reordered."""
        return await self.sessions.execute(
            session_id, run_id, mode, code, {}, timeout, signal=signal
        )


class AuthAliases:
    """JS SDK names on the client itself (``client.login``, ``client.check_login`` …)."""

    __slots__ = ()
    auth: Auth

    login = Alias("auth", Auth.login)
    token_login = Alias("auth", Auth.token_login)
    check_login = Alias("auth", Auth.check_login)
    logout = Alias("auth", Auth.logout)
    export_session = Alias("auth", Auth.export_session)
    import_session = Alias("auth", Auth.import_session)
    signout = Alias("auth", Auth.signout)
    update_password = Alias("auth", Auth.update_password)
    update_full_name = Alias("auth", Auth.update_full_name)


class AccountAliases:
    """The JS SDK's client-level names for ``client.account`` (one line each)."""

    __slots__ = ()
    account: Account

    get_resource_slots = Alias("account", Account.get_resource_slots)
    fetch_ssh_keypair = Alias("account", Account.fetch_ssh_keypair)
    refresh_ssh_keypair = Alias("account", Account.refresh_ssh_keypair)
    post_ssh_keypair = Alias("account", Account.post_ssh_keypair)
    is_manager_supporting_totp = Alias("account", Account.is_manager_supporting_totp)
    initialize_totp = Alias("account", Account.initialize_totp)
    initialize_totp_anon = Alias("account", Account.initialize_totp_anon)
    activate_totp = Alias("account", Account.activate_totp)
    activate_totp_anon = Alias("account", Account.activate_totp_anon)
    remove_totp = Alias("account", Account.remove_totp)

    @staticmethod
    def slugify(text: str) -> str:
        """``Account.slugify``: ``text`` as a lowercase URL slug (the JS SDK's rule)."""
        from .account import Account as _Account

        return _Account.slugify(text)

"""Backend.AI Cloud's sign-up plugin: ``client.cloud`` (404 on other managers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..timeouts import USE_DEFAULT
from ._args import check_text
from ._plugin import Plugin, Timeout

if TYPE_CHECKING:
    from .._abort import AbortSignal

__all__ = ["Cloud"]


class Cloud(Plugin):
    """``client.cloud``: e-mail verification and password reset of Backend.AI Cloud."""

    __slots__ = ()
    _prefix = "/cloud"

    async def verify_email(
        self, token: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Confirm a sign-up with the code (``token``) the verification e-mail carried."""
        body = {"verification_code": check_text(token, "token")}
        return await self._post("verify-email", body, timeout, signal)

    async def send_verification_email(
        self, email: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Send (again) the sign-up verification e-mail to ``email``."""
        return await self._post(
            "send-verification-email", {"email": check_text(email, "email")}, timeout, signal
        )

    async def send_password_change_email(
        self, email: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Send a password-reset e-mail to ``email``."""
        body = {"email": check_text(email, "email")}
        return await self._post("send-password-change-email", body, timeout, signal)

    async def change_password(
        self,
        email: str,
        password: str,
        token: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Set a new ``password`` with the ``token`` of a password-reset e-mail."""
        body = {
            "email": check_text(email, "email"),
            "password": check_text(password, "password"),
            "token": check_text(token, "token"),
        }
        return await self._post("change-password", body, timeout, signal)

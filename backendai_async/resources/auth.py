"""Login and account calls (issue 4): ``client.auth`` and the JS-named aliases on ``Client``.

SESSION mode logs in to the webserver (``/server/*``) and then every call goes through its
``/func`` proxy with the webserver's cookie (or the ``X-BackendAI-SessionID`` header). The
SDK never logs in again by itself: an expired login surfaces as ``check_login() == False``
and as ``AuthenticationError`` (status 401) from other calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._login import (
    MONITOR_REFUSED,
    LoginResult,
    LoginState,
    jar_cookies,
    read_login_answer,
    restore_cookies,
)
from ..errors import (
    AuthenticationError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
)
from ..timeouts import USE_DEFAULT, UseDefault
from ._base import Alias, Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from ..client import Client

__all__ = ["Auth", "AuthAliases"]

_log = logging.getLogger("backendai_async")
Timeout = float | UseDefault | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _check_str(name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value):
        raise ValueError(f"{name} must be a non-empty string, got {type(value).__name__}")
    return value


class _Deadline:
    """One deadline over the several requests of a composite call (login = POST + check)."""

    __slots__ = ("_at", "_total", "_what")

    def __init__(self, client: Client, timeout: Timeout, what: str) -> None:
        total = client.config.timeouts.total if timeout is USE_DEFAULT else timeout
        if total is not None and (
            isinstance(total, bool) or not isinstance(total, (int, float)) or not total > 0
        ):
            raise ValueError(f"timeout must be a positive number of seconds or None, got {total!r}")
        self._total = total
        self._what = what
        self._at = None if total is None else asyncio.get_running_loop().time() + total

    def left(self) -> float | None:
        """Seconds left for the next request; raises ``RequestTimeoutError`` when none are."""
        if self._at is None:
            return None
        remaining = self._at - asyncio.get_running_loop().time()
        if remaining <= 0:
            err = RequestTimeoutError(
                f"request timed out: {self._what} exceeded its deadline of {self._total:g} s",
                title="Request timeout",
                status=408,
                status_text="Timeout exceeded",
            )
            err.limit = self._total
            raise err
        return remaining


class Auth(Resource):
    """``client.auth``: webserver login/logout (SESSION mode) and account updates (both modes).

    Every method takes ``timeout=`` (seconds for the whole method, ``None`` = no limit) and
    ``signal=`` (an ``AbortSignal``).
    """

    __slots__ = ()

    # -- SESSION mode: the webserver's /server/* routes --------------------------------

    async def login(
        self,
        otp: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> LoginResult:
        """Log in with the config's user id and password; falsy result when refused.

        A refusal (wrong password, 2FA needed: see ``needs_otp``) is a falsy
        :class:`LoginResult` with ``fail_reason``; a ``monitor`` account is logged out
        again (the JS SDK's rule). On success the API version is negotiated and the login
        is confirmed with ``check_login()``. Raises ``ServerError`` (429) after too many
        failed attempts and ``RequestError`` naming the endpoint when it is unreachable.
        """
        client = self._session_client("login")
        if otp is not None:
            _check_str("otp", otp)
        cfg = client.config
        body = {"username": cfg.user_id, "password": cfg.password}
        if otp is not None:
            body["otp"] = otp
        deadline = _Deadline(client, timeout, "login()")
        answer = await self._server_call("/server/login", body, deadline, signal)
        return await self._finish_login(answer, deadline, signal)

    async def token_login(
        self,
        token: str | None = None,
        *,
        extra_params: Mapping[str, Any] | None = None,
        token_name: str = "sToken",
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> LoginResult:
        """Log in with a webserver auth token instead of a password (``POST /server/token-login``).

        Without ``token`` the webserver reads its token cookie (``sToken``), e.g. one
        restored with ``import_session()``. The result is handled like ``login()``'s.
        """
        client = self._session_client("token_login")
        _check_str("token_name", token_name)
        if extra_params is not None and not isinstance(extra_params, Mapping):
            raise ValueError("extra_params must be a mapping")
        body: dict[str, Any] = dict(extra_params or {})
        if token is not None:
            body[token_name] = _check_str("token", token)
        deadline = _Deadline(client, timeout, "token_login()")
        answer = await self._server_call("/server/token-login", body, deadline, signal)
        return await self._finish_login(answer, deadline, signal)

    async def login_status(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> LoginResult:
        """Ask the webserver who is logged in (``POST /server/login-check``).

        Both a 401 and a 200 saying ``authenticated: false`` mean "not logged in" (falsy
        result); any other failure raises, so a down webserver is not mistaken for a logout.
        """
        client = self._session_client("check_login")
        try:
            body = await self._server_call(
                "/server/login-check", None, _Deadline(client, timeout, "check_login()"), signal
            )
        except AuthenticationError as err:
            return LoginResult(False, fail_reason=err.description or "not logged in")
        if not isinstance(body, dict) or not isinstance(body.get("authenticated"), bool):
            raise ResponseError(
                f"unexpected login-check answer from the webserver: {body!r:.200}",
                title="Unexpected login-check answer",
                body=body,
            )
        if not body["authenticated"]:
            return LoginResult(False, fail_reason="not logged in (no login, or it has expired)")
        session_id = _text(body.get("session_id"))
        if session_id is not None and session_id != client._login_session_id:
            client._set_login_session_id(session_id)
        data = body.get("data")
        return LoginResult(True, data=data if isinstance(data, dict) else None)

    async def check_login(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> bool:
        """True when the webserver says this client is logged in (see ``login_status()``)."""
        return bool(await self.login_status(timeout=timeout, signal=signal))

    async def logout(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> None:
        """End the webserver login (``POST /server/logout``; its empty 201 is a success)."""
        client = self._session_client("logout")
        await self._server_call(
            "/server/logout", None, _Deadline(client, timeout, "logout()"), signal
        )
        client._set_login_session_id(None)

    # -- a login as data -----------------------------------------------------------------

    def export_session(self) -> LoginState:
        """This client's login (session id and endpoint cookies) as a :class:`LoginState`.

        In memory only; persisting it is the caller's choice. Restore it with
        ``Client(config, login_state=state)`` or ``import_session(state)``.
        """
        client = self._session_client("export_session")
        endpoint = client.config.endpoint
        session = client.session
        if session is not None and not session.closed:
            cookies = jar_cookies(session.cookie_jar, endpoint)
        else:
            cookies = dict(client._pending_cookies)
        return LoginState(str(endpoint), client._login_session_id, cookies)

    def import_session(self, state: LoginState | Mapping[str, Any]) -> None:
        """Adopt a saved login: later calls carry its session id and cookies. No request is sent.

        Whether the login is still alive is the webserver's answer to ``check_login()``.
        Cookies go into the client's own cookie jar; with a ``session=`` you passed in, only
        the ``X-BackendAI-SessionID`` header carries the login (your jar is left alone).
        """
        client = self._session_client("import_session")
        if not isinstance(state, LoginState):
            state = LoginState.from_dict(state)
        endpoint = client.config.endpoint
        if state.endpoint.rstrip("/") != str(endpoint).rstrip("/"):
            raise ValueError(
                f"this login state belongs to {state.endpoint!r}, not to this client's "
                f"endpoint {str(endpoint)!r}"
            )
        client._set_login_session_id(state.session_id)
        if not client._owns_session:
            return
        session = client.session
        if session is not None and not session.closed:
            restore_cookies(session.cookie_jar, endpoint, state.cookies)
        else:
            client._pending_cookies = dict(state.cookies)

    # -- account calls (both modes; plain API calls) -----------------------------------

    async def signout(
        self,
        user_id: str,
        password: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Deactivate your own account (``POST /auth/signout``). Irreversible for you."""
        body = {
            "username": _check_str("user_id", user_id),
            "password": _check_str("password", password),
        }
        return await self._client._send(
            "POST", "/auth/signout", json=body, timeout=timeout, signal=signal
        )

    async def update_password(
        self,
        old_password: str,
        new_password: str,
        new_password2: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Change your password (``POST /auth/update-password``); the two new ones must match."""
        body = {
            "old_password": _check_str("old_password", old_password),
            "new_password": _check_str("new_password", new_password),
            "new_password2": _check_str("new_password2", new_password2),
        }
        if new_password != new_password2:
            raise ValueError("new_password and new_password2 differ")
        return await self._client._send(
            "POST", "/auth/update-password", json=body, timeout=timeout, signal=signal
        )

    async def update_full_name(
        self,
        email: str,
        full_name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Change the full name of your account (``POST /auth/update-full-name``)."""
        body = {
            "email": _check_str("email", email),
            "full_name": _check_str("full_name", full_name, allow_empty=True),
        }
        return await self._client._send(
            "POST", "/auth/update-full-name", json=body, timeout=timeout, signal=signal
        )

    # -- internals -------------------------------------------------------------------------

    def _session_client(self, what: str) -> Client:
        client = self._client
        if not client._session_mode:
            raise ValueError(
                f"{what}() needs a SESSION-mode client: ClientConfig(user_id, password, "
                f"webserver_endpoint, 'SESSION'); this client is in API mode and signs every "
                f"call with its keypair instead"
            )
        return client

    async def _server_call(
        self,
        path: str,
        body: Mapping[str, Any] | None,
        deadline: _Deadline,
        signal: AbortSignal | None,
    ) -> Any:
        """One ``/server/*`` request; an unreachable webserver or a 429 gets a clear message."""
        client = self._client
        reader = read_login_answer if path in ("/server/login", "/server/token-login") else None
        try:
            await client._ensure_negotiated(deadline.left(), signal)
            if reader is None:
                return await client._send(
                    "POST", path, json=body, timeout=deadline.left(), signal=signal
                )
            return await client._send(
                "POST", path, json=body, timeout=deadline.left(), signal=signal, reader=reader
            )
        except RequestError as err:
            endpoint = str(client.config.endpoint)
            unreachable = RequestError(
                f"cannot reach the Backend.AI webserver at {endpoint}: {err.description}",
                title="Webserver unreachable",
                description=err.description,
                request_method=err.request_method,
                request_url=err.request_url,
                request_parameters=err.request_parameters,
                attempts=err.attempts,
            )
            unreachable.sent, unreachable.retryable = err.sent, err.retryable
            raise unreachable from err
        except ServerError as err:
            if err.status != 429:
                raise
            blocked = ServerError(
                "too many failed login attempts: the webserver blocks logins for this account "
                "for a while (429 Too Many Requests); wait before trying again",
                title=err.title,
                description=err.description,
                problem_type=err.problem_type,
                status=429,
                status_text=err.status_text,
                request_method=err.request_method,
                request_url=err.request_url,
                request_parameters=err.request_parameters,
                body=err.body,
                error_code=err.error_code,
                attempts=err.attempts,
            )
            blocked.retry_after = err.retry_after
            raise blocked from err

    async def _finish_login(
        self, answer: tuple[Any, str | None], deadline: _Deadline, signal: AbortSignal | None
    ) -> LoginResult:
        client = self._client
        body, header_session_id = answer
        if not isinstance(body, dict) or not isinstance(body.get("authenticated"), bool):
            raise ResponseError(
                f"unexpected login answer from the webserver: {body!r:.200}",
                title="Unexpected login answer",
                body=body,
            )
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        if not body["authenticated"]:
            client._set_login_session_id(None)
            problem = data or {}
            reason = _text(problem.get("details")) or _text(problem.get("title"))
            _log.debug("webserver login refused: %s", reason)
            return LoginResult(
                False,
                fail_reason=reason or "the webserver refused the login without a reason",
                fail_type=_text(problem.get("type")),
                data=data,
            )
        if header_session_id:
            client._set_login_session_id(header_session_id)
        if (data or {}).get("role") == "monitor":
            await self.logout(timeout=deadline.left(), signal=signal)
            return LoginResult(False, fail_reason=MONITOR_REFUSED, data=data)
        await client._ensure_negotiated(deadline.left(), signal)
        status = await self.login_status(timeout=deadline.left(), signal=signal)
        if not status:
            return LoginResult(
                False,
                fail_reason=(
                    "the webserver accepted the login but login-check does not see it "
                    "(the session cookie was dropped and no session id was sent)"
                ),
                data=data,
            )
        _log.debug("logged in to the webserver as role %s", status.role)
        return status


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

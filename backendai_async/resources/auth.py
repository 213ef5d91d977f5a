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
    read_login_answer,
)
from ..errors import (
    MASK,
    AuthenticationError,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
    mask_secrets,
)
from ..timeouts import USE_DEFAULT, UseDefault
from ._aliases import AuthAliases
from ._base import LoginApi, Resource

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from ..config import ClientConfig

__all__ = ["Auth", "AuthAliases"]

_log = logging.getLogger("backendai_async")
Timeout = float | UseDefault | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _masked(body: Any, fields: tuple[str, ...] = ()) -> Any:
    """``body`` for an error object: secret-looking fields, login ids and ``fields`` masked."""
    if isinstance(body, Mapping):
        hidden = {"session_id", "sessionId", *fields}
        body = {k: (MASK if k in hidden else v) for k, v in body.items()}
    return mask_secrets(body)


def _shape(body: Any) -> str:
    """What an unexpected answer looks like, without its values (they may be secrets)."""
    if isinstance(body, dict):
        return "a JSON object with keys " + ", ".join(sorted(map(str, body))[:10])
    return "null" if body is None else f"a {type(body).__name__}"


def _check_str(name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value):
        raise ValueError(f"{name} must be a non-empty string, got {type(value).__name__}")
    return value


def _is_refusal(err: ServerError) -> bool:
    """A login refused for its credentials, as 26.x webservers answer it.

    They relay the manager's status (401, or 403 for an inactive account) with the body a
    23.09 webserver sends as a 200: ``{"authenticated": false, "data": {problem}}``. That is
    a falsy ``LoginResult``, not an error; a 429 (blocked), a 5xx or any other body is not.
    """
    body = err.body
    return (
        err.status is not None
        and 400 <= err.status < 500
        and err.status != 429
        and isinstance(body, dict)
        and body.get("authenticated") is False
    )


class _Deadline:
    """One deadline over the several requests of a composite call (login = POST + check)."""

    __slots__ = ("_at", "_total", "_what")

    def __init__(self, config: ClientConfig, timeout: Timeout, what: str) -> None:
        total = config.timeouts.total if timeout is USE_DEFAULT else timeout
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
    _api: LoginApi

    def __init__(self, api: LoginApi) -> None:
        super().__init__(api)

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
        :class:`LoginResult` with ``fail_reason``, whether the webserver answers it with 200
        (23.09) or with the manager's 401 (26.x); a ``monitor`` account is logged out
        again (the JS SDK's rule). On success the API version is negotiated and the login
        is confirmed with ``check_login()``. Raises ``ServerError`` (429) after too many
        failed attempts and ``RequestError`` naming the endpoint when it is unreachable.
        """
        api = self._session_api("login")
        if otp is not None:
            _check_str("otp", otp)
        cfg = api.config
        body = {"username": cfg.user_id, "password": cfg.password}
        if otp is not None:
            body["otp"] = otp
        deadline = _Deadline(cfg, timeout, "login()")
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
        api = self._session_api("token_login")
        _check_str("token_name", token_name)
        if extra_params is not None and not isinstance(extra_params, Mapping):
            raise ValueError("extra_params must be a mapping")
        body: dict[str, Any] = dict(extra_params or {})
        if token is not None:
            body[token_name] = _check_str("token", token)
        deadline = _Deadline(api.config, timeout, "token_login()")
        answer = await self._server_call(
            "/server/token-login", body, deadline, signal, secret_fields=(token_name,)
        )
        return await self._finish_login(answer, deadline, signal)

    async def login_status(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> LoginResult:
        """Ask the webserver who is logged in (``POST /server/login-check``).

        Both a 401 and a 200 saying ``authenticated: false`` mean "not logged in" (falsy
        result); any other failure raises, so a down webserver is not mistaken for a logout.
        """
        api = self._session_api("check_login")
        try:
            body = await self._server_call(
                "/server/login-check", None, _Deadline(api.config, timeout, "check_login()"), signal
            )
        except AuthenticationError as err:
            return LoginResult(False, fail_reason=err.description or "not logged in")
        if not isinstance(body, dict) or not isinstance(body.get("authenticated"), bool):
            raise ResponseError(
                f"unexpected login-check answer from the webserver: {_shape(body)}",
                title="Unexpected login-check answer",
                body=_masked(body),
            )
        if not body["authenticated"]:
            return LoginResult(False, fail_reason="not logged in (no login, or it has expired)")
        session_id = _text(body.get("session_id"))
        if session_id is not None and session_id != api.login_session_id:
            api.login_session_id = session_id
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
        """End the webserver login (``POST /server/logout``; its empty 201/200 is a success)."""
        api = self._session_api("logout")
        await self._server_call(
            "/server/logout", None, _Deadline(api.config, timeout, "logout()"), signal
        )
        api.login_session_id = None

    # -- a login as data -----------------------------------------------------------------

    def export_session(self) -> LoginState:
        """This client's login (session id and endpoint cookies) as a :class:`LoginState`.

        In memory only; persisting it is the caller's choice. Restore it with
        ``Client(config, login_state=state)`` or ``import_session(state)``.
        """
        api = self._session_api("export_session")
        return LoginState(str(api.config.endpoint), api.login_session_id, api.export_cookies())

    def import_session(self, state: LoginState | Mapping[str, Any]) -> None:
        """Adopt a saved login: later calls carry its session id and cookies. No request is sent.

        Whether the login is still alive is the webserver's answer to ``check_login()``.
        Cookies go into the client's own cookie jar; with a ``session=`` you passed in, only
        the ``X-BackendAI-SessionID`` header carries the login (your jar is left alone).
        """
        api = self._session_api("import_session")
        if not isinstance(state, LoginState):
            state = LoginState.from_dict(state)
        endpoint = api.config.endpoint
        if state.endpoint.rstrip("/") != str(endpoint).rstrip("/"):
            raise ValueError(
                f"this login state belongs to {state.endpoint!r}, not to this client's "
                f"endpoint {str(endpoint)!r}"
            )
        api.login_session_id = state.session_id
        api.import_cookies(state.cookies)

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
        return await self._api.send(
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
        return await self._api.send(
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
        return await self._api.send(
            "POST", "/auth/update-full-name", json=body, timeout=timeout, signal=signal
        )

    # -- internals -------------------------------------------------------------------------

    def _session_api(self, what: str) -> LoginApi:
        api = self._api
        if not api.session_mode:
            raise ValueError(
                f"{what}() needs a SESSION-mode client: ClientConfig(user_id, password, "
                f"webserver_endpoint, 'SESSION'); this client is in API mode and signs every "
                f"call with its keypair instead"
            )
        return api

    async def _server_call(
        self,
        path: str,
        body: Mapping[str, Any] | None,
        deadline: _Deadline,
        signal: AbortSignal | None,
        *,
        secret_fields: tuple[str, ...] = (),
    ) -> Any:
        """One ``/server/*`` request; an unreachable webserver or a 429 gets a clear message."""
        reader = read_login_answer if path in ("/server/login", "/server/token-login") else None
        try:
            return await self._api.send(
                "POST",
                path,
                json=body,
                timeout=deadline.left(),
                signal=signal,
                reader=reader,
                parameters=_masked(body, secret_fields) if body else None,
            )
        except RequestError as err:
            endpoint = self._api.config.endpoint_shown
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
            if reader is not None and _is_refusal(err):
                return err.body, None  # 26.x: a wrong password is a 401 with the usual body
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
        api = self._api
        body, header_session_id = answer
        if not isinstance(body, dict) or not isinstance(body.get("authenticated"), bool):
            raise ResponseError(
                f"unexpected login answer from the webserver: {_shape(body)}",
                title="Unexpected login answer",
                body=_masked(body),
            )
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        if not body["authenticated"]:
            api.login_session_id = None
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
            api.login_session_id = header_session_id
        if (data or {}).get("role") == "monitor":
            await self.logout(timeout=deadline.left(), signal=signal)
            return LoginResult(False, fail_reason=MONITOR_REFUSED, data=data)
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

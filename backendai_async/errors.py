"""The error model: JS SDK error codes, one exception class per code.

Every failure of a call surfaces as a :class:`ClientError` subclass, chosen by the phase in
which it happened (see ``docs/errors.md``). ``asyncio.CancelledError`` is never converted.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, ClassVar

from ._secrets import MASK, mask_secrets

__all__ = [
    "MASK",
    "PROBLEM_BASE",
    "AbortError",
    "AuthenticationError",
    "ClientClosedError",
    "ClientError",
    "ErrorType",
    "GraphQLError",
    "RequestError",
    "RequestTimeoutError",
    "ResponseError",
    "ServerError",
    "SessionStateError",
    "UnderlyingError",
    "UnknownError",
    "UnsupportedFeatureError",
    "WebSocketClosedError",
    "graphql_message",
    "mask_secrets",
]

PROBLEM_BASE = "https://api.backend.ai/probs/"


class ErrorType(enum.IntEnum):
    """The JS SDK's error codes, with the same numbers."""

    ERR_SERVER = 0
    ERR_RESPONSE = 1
    ERR_REQUEST = 2
    ERR_ABORT = 3
    ERR_TIMEOUT = 4
    ERR_UNKNOWN = 99


class ClientError(Exception):
    """Base of every error a call raises; ``type`` says which phase failed.

    Attributes mirror the JS SDK's rejection object (``to_dict()`` gives that shape), plus
    ``problem_type`` (the server's own RFC 7807 ``type`` URL, which the JS SDK loses),
    ``body`` (the parsed error body) and ``error_code`` (when the server sends one).
    """

    type: ErrorType = ErrorType.ERR_UNKNOWN
    default_problem: ClassVar[str] = PROBLEM_BASE + "client-unknown-error"

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        description: str | None = None,
        problem_type: str | None = None,
        status: int | None = None,
        status_text: str | None = None,
        request_method: str | None = None,
        request_url: str | None = None,
        request_parameters: Any = None,
        body: Any = None,
        error_code: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = title if title is not None else message
        self.description = description if description is not None else message
        self.problem_type = problem_type or self.default_problem
        self.status = status
        self.status_text = status_text
        self.request_method = request_method
        self.request_url = request_url
        self.request_parameters = mask_secrets(request_parameters)
        self.body = body
        self.error_code = error_code
        self.attempts = attempts
        self.timestamp = datetime.now(timezone.utc)

    def __str__(self) -> str:
        if self.request_method and self.request_url:
            return f"{self.message} [{self.request_method} {self.request_url}]"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(type={self.type.name}, status={self.status}, "
            f"problem_type={self.problem_type!r}, message={self.message!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JS SDK's rejection object, plus ``problemType``/``errorCode``/``body``."""
        return {
            "isError": True,
            "timestamp": formatdate(self.timestamp.timestamp(), usegmt=True),
            "type": int(self.type),
            "problemType": self.problem_type,
            "requestUrl": self.request_url,
            "requestMethod": self.request_method,
            "requestParameters": self.request_parameters,
            "statusCode": self.status,
            "statusText": self.status_text,
            "title": self.title,
            "message": self.message,
            "description": self.description,
            "errorCode": self.error_code,
            "body": mask_secrets(self.body),
        }


class ServerError(ClientError):
    """The server answered with a status >= 400 (HTML, text and empty bodies included)."""

    type = ErrorType.ERR_SERVER
    default_problem = PROBLEM_BASE + "server-error"
    retry_after: float | None = None  # seconds, from a Retry-After header


class AuthenticationError(ServerError):
    """A 401: wrong key or signature, an expired login, or a clock too far off."""


class WebSocketClosedError(ServerError):
    """The server closed a WebSocket with a code other than 1000/1001 (``close_code``).

    For example 1011 (internal error), 1013 (try again later: a proxied app refused the
    connection) or an application code 4000-4999; ``close_reason`` is the server's text.
    """

    default_problem = PROBLEM_BASE + "client-websocket-closed"
    close_code: int | None = None
    close_reason: str | None = None


class GraphQLError(ServerError):
    """GraphQL ``errors``: in a 200 answer of ``/admin/gql`` or a 400 ``graphql-error``.

    ``errors`` is the server's list (each a dict with ``message`` and, when present,
    ``path``, ``locations``, ``extensions``); ``data`` is the partial data, if any (only a
    200 answer carries it). ``message`` is :func:`graphql_message` of the list in both forms;
    ``status`` tells them apart.
    """

    default_problem = PROBLEM_BASE + "graphql-error"

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.errors: list[dict[str, Any]] = list(errors or [])
        self.data = data

    @property
    def code(self) -> str | None:
        """The first error's ``extensions.code`` (26.x managers send one), e.g.
        ``"backendai_generic_forbidden"``; None when the server gives none."""
        for error in self.errors:
            extensions = error.get("extensions")
            if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
                return str(extensions["code"])
        return None


def graphql_message(errors: list[dict[str, Any]]) -> str:
    """``GraphQL error: <the first error's message> (and N more)``, for either answer form."""
    first = errors[0].get("message") if errors else None
    text = first if isinstance(first, str) and first else "GraphQL error"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"GraphQL error: {text}{more}"


class SessionStateError(ClientError):
    """A session ended in a state other than the one waited for (``sessions.wait``).

    ``state`` is where it ended (``ERROR``, ``CANCELLED``, ``TERMINATED``), ``expected`` the
    statuses waited for, ``info`` the last session info seen (None if there was none).
    """

    type = ErrorType.ERR_SERVER
    default_problem = PROBLEM_BASE + "client-session-state-error"
    state: str = ""
    expected: tuple[str, ...] = ()
    info: Any = None


class ResponseError(ClientError):
    """A status line arrived but the body could not be read or decoded."""

    type = ErrorType.ERR_RESPONSE
    default_problem = PROBLEM_BASE + "client-response-error"


class RequestError(ClientError):
    """No status line arrived: refused, DNS, TLS, reset or closed before the answer.

    ``sent`` is False when the request provably never left this process (the connection
    was never established), which is what makes a retry of a POST safe.
    """

    type = ErrorType.ERR_REQUEST
    default_problem = PROBLEM_BASE + "client-request-error"
    sent: bool = True
    retryable: bool = True  # False for failures that a retry cannot fix (TLS verification)


class ClientClosedError(RequestError, RuntimeError):
    """A call was made on a client that is closed (or whose own aiohttp session is).

    Nothing was sent. Calls already in flight when ``close()`` ran raise ``AbortError``.
    """

    sent = False
    retryable = False


class AbortError(ClientError):
    """The call was aborted through an ``AbortSignal``, ``client.abort()`` or ``close()``."""

    type = ErrorType.ERR_ABORT
    default_problem = PROBLEM_BASE + "request-abort-error"


class RequestTimeoutError(ClientError):
    """The call's deadline (or a connect/idle-read limit) expired; ``phase`` says which."""

    type = ErrorType.ERR_TIMEOUT
    default_problem = PROBLEM_BASE + "request-timeout-error"
    phase: str = "total"
    limit: float | None = None

    @classmethod
    def expired(
        cls, what: str, phase: str, limit: float | None, **fields: Any
    ) -> RequestTimeoutError:
        """The error for a limit of a stream (``what`` expired: "no event arrived …")."""
        err = cls(
            f"request timed out: {what}",
            title="Request timeout",
            status=408,
            status_text="Timeout exceeded",
            **fields,
        )
        err.phase, err.limit = phase, limit
        return err


class UnsupportedFeatureError(ClientError):
    """The negotiated server is too old for the call (its manager release lacks the API).

    Raised after version negotiation and before the call's own request is sent, so the
    server saw nothing of it; ``message`` names the feature and the release it needs.
    """

    type = ErrorType.ERR_REQUEST
    default_problem = PROBLEM_BASE + "client-unsupported-feature"


class UnknownError(ClientError):
    """Anything that fits no other phase (a bug, most likely: please report it)."""

    type = ErrorType.ERR_UNKNOWN


class UnderlyingError(Exception):
    """The ``__cause__`` of a translated error: the low-level exception, secrets masked.

    aiohttp's exceptions can carry the request's URL (with tokens in its query) and its
    headers (with the signature); this stand-in keeps the exception's type (``exc_type``),
    its masked text and its traceback, and drops the rest.
    """

    def __init__(self, exc_type: type[BaseException], text: str) -> None:
        super().__init__(f"{exc_type.__module__}.{exc_type.__qualname__}: {text}")
        self.exc_type = exc_type

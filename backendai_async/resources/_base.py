"""What every namespace is built on: the narrow client interface, the base class, aliases.

A namespace method reads as: validate the arguments, describe the request, return the
call::

    async def get_info(self, session_id: str, *, timeout=USE_DEFAULT, signal=None) -> Any:
        ref = segment(session_id)
        return await self._api.send(
            "GET", lambda c: f"{c.session_prefix}/{ref}", timeout=timeout, signal=signal
        )

Everything that depends on the negotiated version (a path, a JSON body, a GraphQL
document) may be a function of the :class:`~backendai_async._compat.Compat` row; it is
resolved in one place, after negotiation, inside the call's deadline. Retries are data
(``retry=`` a count or a :class:`~backendai_async._retry.RetryPolicy`); the one sender runs
the loop. Namespaces never import aiohttp, build headers or translate errors.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from ..errors import ServerError

if TYPE_CHECKING:
    from yarl import URL

    from .._abort import AbortSignal
    from .._compat import Compat
    from .._http import ResponseReader
    from .._retry import RetryPolicy
    from .._websocket import WebSocket
    from ..config import ClientConfig
    from ..timeouts import UseDefault

__all__ = ["Alias", "Api", "LoginApi", "Namespace", "Resource", "answers", "none_if_absent"]

NS = TypeVar("NS")
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class Api(Protocol):
    """The client as a namespace sees it: send a request, run GraphQL, read the version."""

    config: ClientConfig
    session_mode: bool

    def send(
        self,
        method: str,
        path: str | Callable[[Compat], str] | URL,
        *,
        params: Any = ...,
        json: Any = ...,
        data: Any = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: float | UseDefault | None = ...,
        signal: AbortSignal | None = ...,
        retry: int | RetryPolicy = ...,
        reader: ResponseReader | None = ...,
        idle_timeout: float | UseDefault | None = ...,
        parameters: Any = ...,
        versioned: bool = ...,
        explain: Mapping[int, str] | None = ...,
        unknown_outcome: str | None = ...,
    ) -> Awaitable[Any]:
        """One call through the client's transport (see ``Transport.call``)."""
        ...

    def scoped(
        self,
        work: Callable[[float | None], Awaitable[T]],
        *,
        method: str,
        path: str | Callable[[Compat], str] | URL,
        timeout: float | UseDefault | None = ...,
        signal: AbortSignal | None = ...,
    ) -> Awaitable[T]:
        """Run ``work(deadline)`` as ONE call: the requests it sends share its deadline,
        ``signal`` and ``client.abort()`` (for operations made of several requests, such as
        a transfer through a storage proxy). ``method``/``path`` name it in errors."""
        ...

    def query(
        self,
        q: str | Callable[[Compat], str],
        variables: Mapping[str, Any] | None = ...,
        *,
        signal: AbortSignal | None = ...,
        timeout: float | UseDefault | None = ...,
        retry: int = ...,
        mutation: bool | None = ...,
    ) -> Awaitable[dict[str, Any]]:
        """``Client.query``: a GraphQL document's ``data``; errors raise ``GraphQLError``."""
        ...

    def compat(self) -> Compat | None:
        """The negotiated version's row of the compatibility table (None before)."""
        ...

    def supports(self, feature: str) -> bool:
        """``Client.supports`` (after negotiation)."""
        ...

    def websocket(
        self,
        path: str | Callable[[Compat], str],
        *,
        params: Any = ...,
        timeout: float | UseDefault | None = ...,
        signal: AbortSignal | None = ...,
        heartbeat: float | None = ...,
        max_msg_size: int = ...,
        first_frame_timeout: float | None = ...,
        idle_timeout: float | None = ...,
    ) -> Awaitable[WebSocket]:
        """Open a WebSocket through the client's session and signer (``_websocket.py``)."""
        ...


class LoginApi(Api, Protocol):
    """What ``client.auth`` needs beyond :class:`Api`: the SESSION-mode login state."""

    login_session_id: str | None

    def export_cookies(self) -> dict[str, str]: ...

    def import_cookies(self, cookies: Mapping[str, str]) -> None: ...


class Resource:
    """A namespace of API methods; it describes requests and leaves sending to ``_api``."""

    __slots__ = ("_api",)

    def __init__(self, api: Api) -> None:
        self._api = api

    def __repr__(self) -> str:
        return f"<{type(self).__name__} namespace>"


class Namespace(Generic[T]):
    """``client.<name>``: the namespace object, imported and created on first access.

    Lazy so that importing the package and constructing a client stay cheap however many
    namespaces there are. The instance is cached in the client's ``__dict__``.
    """

    def __init__(self, module: str, class_name: str) -> None:
        self._module = module
        self._class_name = class_name
        self._attr = ""
        self._class: Any = None  # imported on first access

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._attr = name

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Namespace[T]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        cls = self._class
        if cls is None:
            module = importlib.import_module(self._module, __package__)
            cls = self._class = getattr(module, self._class_name)
        namespace = cls(obj._api)  # type: ignore[attr-defined]
        obj.__dict__[self._attr] = namespace
        return namespace


class Alias(Generic[NS, P, R]):
    """``client.<name>`` → the bound ``client.<namespace>.<name>``: one implementation, two names.

    A descriptor rather than a wrapper method, so the alias keeps the method's exact
    signature for type checkers and costs one attribute lookup at call time.
    """

    def __init__(self, namespace: str, method: Callable[Concatenate[NS, P], R]) -> None:
        self._namespace = namespace
        if isinstance(method, str):  # just the name (resources/_aliases.py): no import
            self._name: str = method
            self.__doc__ = f"Alias of ``client.{namespace}.{method}()``."
            return
        self._name = method.__name__
        self.__doc__ = f"Alias of ``client.{namespace}.{self._name}()``. {method.__doc__ or ''}"

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Alias[NS, P, R]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None) -> Callable[P, R]: ...

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self._namespace), self._name)


async def none_if_absent(call: Awaitable[T]) -> T | None:
    """``await call``, or None when the server answered 404.

    For endpoints that only some deployments have (enterprise plugins such as ``/license``
    or ``/totp``): their absence is an answer, not an error. Every other failure raises.
    """
    try:
        return await call
    except ServerError as err:
        if err.status == 404:
            return None
        raise


async def answers(call: Awaitable[Any]) -> bool:
    """True when ``call`` succeeds (whatever its body), False when the server answers 404."""

    async def done() -> bool:
        await call
        return True

    return await none_if_absent(done()) is not None

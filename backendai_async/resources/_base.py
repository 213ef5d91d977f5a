"""The base of every resource namespace: a back-reference to the client, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["Alias", "Resource"]

NS = TypeVar("NS")
P = ParamSpec("P")
R = TypeVar("R")


class Resource:
    """A namespace of API methods; it describes requests and leaves sending to the client."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


class Alias(Generic[NS, P, R]):
    """``client.<name>`` → the bound ``client.<namespace>.<name>``: one implementation, two names.

    A descriptor rather than a wrapper method, so the alias keeps the method's exact
    signature for type checkers and costs one attribute lookup at call time.
    """

    def __init__(self, namespace: str, method: Callable[Concatenate[NS, P], R]) -> None:
        self._namespace = namespace
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

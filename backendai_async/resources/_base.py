"""The base of every resource namespace: a back-reference to the client, nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["Resource"]


class Resource:
    """A namespace of API methods; it describes requests and leaves sending to the client."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

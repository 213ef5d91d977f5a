"""Compute sessions (issue 3): ``client.sessions`` and the JS-named aliases on ``Client``."""

from __future__ import annotations

from ._base import Resource

__all__ = ["SessionAliases", "Sessions"]


class Sessions(Resource):
    """``client.sessions``: create, inspect, execute in, transfer files to and destroy sessions."""

    __slots__ = ()


class SessionAliases:
    """JS SDK names on the client itself (``client.create_if_not_exists`` …), one line each."""

    __slots__ = ()

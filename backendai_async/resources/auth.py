"""Login and account calls (issue 4): ``client.auth`` and the JS-named aliases on ``Client``."""

from __future__ import annotations

from ._base import Resource

__all__ = ["Auth", "AuthAliases"]


class Auth(Resource):
    """``client.auth``: webserver login/logout (SESSION mode) and account updates."""

    __slots__ = ()


class AuthAliases:
    """JS SDK names on the client itself (``client.login``, ``client.check_login`` …)."""

    __slots__ = ()

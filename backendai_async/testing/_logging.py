"""The embedded servers' logger: a client that hangs up is routine in tests, not an ERROR.

aiohttp's request handler logs an exception raised by a route as ``ERROR "Error handling
request"`` with a traceback, also when the exception only says that the client went away
(``ConnectionResetError`` while writing a body, ``CancelledError``). Tests cancel and abort
on purpose, so those records are logged at DEBUG here; every other error keeps its level.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

__all__ = ["is_disconnect", "server_logger"]


def is_disconnect(exc_info: Any) -> bool:
    """Whether a record's ``exc_info`` is a client hanging up (reset, broken pipe, cancel)."""
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    return isinstance(exc, (ConnectionError, asyncio.CancelledError))


class _DisconnectsAtDebug(logging.LoggerAdapter):  # type: ignore[type-arg]
    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level > logging.DEBUG and is_disconnect(kwargs.get("exc_info")):
            level = logging.DEBUG
        super().log(level, msg, *args, **kwargs)


def server_logger(name: str = "aiohttp.server") -> Any:
    """The ``logger=`` for an embedded server's ``AppRunner`` (records still go to ``name``)."""
    return _DisconnectsAtDebug(logging.getLogger(name), {})

"""Timeouts: what limits a call, and the only conversion into aiohttp's ``ClientTimeout``.

``total`` is one deadline for the whole call (retries and backoff included); ``connect``
bounds establishing a connection; ``read`` bounds the silence between two reads of the body
(the limit that suits long transfers). ``None`` disables a limit. ``USE_DEFAULT`` tells a
per-call "use the client's setting" apart from an explicit ``None``.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, replace
from typing import Final, Literal

import aiohttp

__all__ = ["USE_DEFAULT", "Timeouts", "UseDefault"]


class UseDefault(enum.Enum):
    """Sentinel type: "use the client's default" (distinct from ``None`` = no limit)."""

    USE_DEFAULT = enum.auto()

    def __repr__(self) -> str:
        return "USE_DEFAULT"


USE_DEFAULT: Final = UseDefault.USE_DEFAULT
UseDefaultT = Literal[UseDefault.USE_DEFAULT]


def _check(name: str, value: float | None) -> None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise ValueError(f"timeout {name!r} must be a positive number of seconds or None")


@dataclass(frozen=True)
class Timeouts:
    """Limits in seconds. Defaults: 30 s per call, 10 s to connect, no idle-read limit."""

    total: float | None = 30.0
    connect: float | None = 10.0
    read: float | None = None

    def __post_init__(self) -> None:
        _check("total", self.total)
        _check("connect", self.connect)
        _check("read", self.read)

    def with_total(self, total: float | None) -> Timeouts:
        """A copy whose whole-call deadline is ``total``."""
        return replace(self, total=total)

    def with_read(self, read: float | None) -> Timeouts:
        """A copy whose idle-read limit is ``read`` (transfers set their own)."""
        return self if read == self.read else replace(self, read=read)

    def to_aiohttp(self, total: float | None) -> aiohttp.ClientTimeout:
        """aiohttp's view of one attempt; ``total`` is what remains of the call's deadline."""
        return _client_timeout(total, self.connect, self.read)


@functools.lru_cache(maxsize=64)
def _client_timeout(
    total: float | None, connect: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """One (immutable) ``ClientTimeout`` per distinct set of limits, process-wide."""
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)

"""The integration tier: the REAL Backend.AI 23.09.10 of ../shared/real-backend on loopback.

``make test-real`` runs ``up.sh`` first. Tests here use the public API only. When the
server is not reachable they fail (CI must not pass silently without it) unless
BACKENDAI_REAL_OPTIONAL=1 is set, in which case they are skipped.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator

import pytest

from backendai_async import Client, ClientConfig

MANAGER = os.environ.get("BACKENDAI_REAL_MANAGER", "http://127.0.0.1:8081")
WEBSERVER = os.environ.get("BACKENDAI_REAL_WEBSERVER", "http://127.0.0.1:8090")
ADMIN = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
USER = ("AKIANABBDUSEREXAMPLE", "C8qnIo29EZvXkPK_MXcuAakYTy4NYrxwmCEyNPlf")
USER_EMAIL = "user@lablup.com"
IMAGE = "cr.backend.ai/stable/python:3.9-ubuntu20.04"


def _reachable(url: str) -> bool:
    from yarl import URL

    u = URL(url)
    try:
        with socket.create_connection((u.host or "127.0.0.1", u.port or 80), timeout=2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)
    if not _reachable(MANAGER):
        reason = f"the real Backend.AI manager is not reachable at {MANAGER} (run make test-real)"
        if os.environ.get("BACKENDAI_REAL_OPTIONAL") == "1":
            for item in items:
                item.add_marker(pytest.mark.skip(reason=reason))
        else:
            raise pytest.UsageError(reason)


@pytest.fixture
async def admin() -> AsyncIterator[Client]:
    async with Client(ClientConfig(*ADMIN, MANAGER), agent_signature="backendai_async-tests") as c:
        yield c


@pytest.fixture
async def user() -> AsyncIterator[Client]:
    async with Client(ClientConfig(*USER, MANAGER)) as c:
        yield c

"""The documentation blocks marked ``<!-- needs: real-server -->``, run against the real
manager and webserver (see tests/test_docs.py for the conventions; the fast tier runs all
the other blocks against the embedded servers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ..docblocks import DocBlock, Target, check_expected_errors, collect, run_block
from .conftest import MANAGER, USER, USER_EMAIL, WEBSERVER

pytestmark = pytest.mark.integration

REAL = [b for b in collect() if "real-server" in b.needs]


@pytest.mark.parametrize("block", REAL, ids=[b.id for b in REAL])
async def test_the_block_runs_on_the_real_server(
    block: DocBlock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = block.missing_imports()
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which is not installed")
    target = Target(
        manager=MANAGER,
        webserver=WEBSERVER,
        api_keys=USER,
        web_login=(USER_EMAIL, USER[1]),  # the example convention: password = secret key
    )
    env = target.env(block)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    run = await asyncio.to_thread(run_block, block, target, env)
    check_expected_errors(block, run)

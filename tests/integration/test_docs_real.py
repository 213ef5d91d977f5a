"""examples/quickstart.py and the documentation blocks marked ``<!-- needs: real-server -->``
or ``<!-- also: real-server -->``, run against each real manager and webserver of the tier
(tests/test_docs.py has the conventions; the fast tier runs the other blocks against the
embedded servers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..docblocks import ROOT, DocBlock, Servers, collect, run_in_tier
from .conftest import Real

pytestmark = pytest.mark.integration

REAL = [b for b in collect() if b.real]


@pytest.mark.parametrize("block", REAL, ids=[b.id for b in REAL])
async def test_the_block_runs_on_the_real_server(
    real: Real, block: DocBlock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = real.target
    servers = Servers(
        manager=target.manager,
        webserver=target.webserver,
        api_keys=target.user,
        web_login=(target.user_email, target.user_password),
    )
    await run_in_tier(block, servers, tmp_path, monkeypatch)


def test_the_quickstart_example_runs_against_the_real_manager(real: Real) -> None:
    access, secret = real.target.user
    env = {
        **os.environ,
        "BACKEND_ACCESS_KEY": access,
        "BACKEND_SECRET_KEY": secret,
        "BACKEND_ENDPOINT": real.target.manager,
    }
    proc = subprocess.run(
        [sys.executable, "examples/quickstart.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "images [" in proc.stdout

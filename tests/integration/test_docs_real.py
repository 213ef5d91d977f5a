"""examples/quickstart.py and the documentation blocks marked ``<!-- needs: real-server -->``,
run against the real manager and webserver (see tests/test_docs.py for the conventions; the
fast tier runs all the other blocks against the embedded servers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..docblocks import ROOT, DocBlock, Target, collect, run_in_tier
from .conftest import MANAGER, USER, USER_EMAIL, WEBSERVER

pytestmark = pytest.mark.integration

REAL = [b for b in collect() if "real-server" in b.needs]


@pytest.mark.parametrize("block", REAL, ids=[b.id for b in REAL])
async def test_the_block_runs_on_the_real_server(
    block: DocBlock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Target(
        manager=MANAGER,
        webserver=WEBSERVER,
        api_keys=USER,
        web_login=(USER_EMAIL, USER[1]),  # the example convention: password = secret key
    )
    await run_in_tier(block, target, tmp_path, monkeypatch)


def test_the_quickstart_example_runs_against_the_real_manager() -> None:
    env = {
        **os.environ,
        "BACKEND_ACCESS_KEY": USER[0],
        "BACKEND_SECRET_KEY": USER[1],
        "BACKEND_ENDPOINT": MANAGER,
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

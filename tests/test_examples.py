"""``make demo`` keeps working: examples/demo.py runs to the end against the embedded servers
(its chapters are examples/sessions.py and examples/session_mode.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_runs_to_the_end() -> None:
    proc = subprocess.run(
        [sys.executable, "examples/demo.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    for chapter in ("=== API mode", "=== compute sessions", "=== SESSION mode"):
        assert chapter in proc.stdout
    assert "user admin@lablup.com, role superadmin" in proc.stdout  # GraphQL via query()
    assert "Traceback" not in proc.stderr

"""The typed answers catch wrong keys: a snippet is type-checked with ``mypy --strict``.

The README's old quick start read ``result["console"]``, a ``KeyError`` at run time (the
console is under ``result["result"]``). With the ``TypedDict`` return types mypy reports
exactly the wrong lines of the snippet below, and accepts the right ones.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import backendai_async
from backendai_async import types

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """\
from backendai_async import Client, ServicePort


async def use(client: Client) -> None:
    result = await client.execute("s", None, "query", "print(1)")
    ok1: list[list[object]] = result["result"]["console"]
    bad1 = result["console"]  # BAD: the console is under result["result"]
    created = await client.create_if_not_exists("python", "sess-01")
    ok2: list[ServicePort] = created["servicePorts"]
    ok3: str = created["sessionId"]
    bad2 = created["service_ports"]  # BAD: normalised to servicePorts
    info = await client.sessions.get_info("sess-01")
    ok4: str = info["status"]
    bad3 = info["Status"]  # BAD: keys are camelCase as the manager sends them
    version = await client.get_server_version()
    ok5: str = version["manager"]
    logs = await client.get_logs("sess-01")
    ok6: str = logs["result"]["logs"]
    again = await client.run_code("print(2)", "sess-01", None, "query")
    ok7 = again["result"].get("exitCode")
    print(ok1, ok2, ok3, ok4, ok5, ok6, ok7, bad1, bad2, bad3)
"""


def test_mypy_flags_exactly_the_wrong_keys() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "-c", SNIPPET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    lines = {int(m.group(1)) for e in errors if (m := re.match(r"<string>:(\d+):", e))}
    bad = {n for n, text in enumerate(SNIPPET.splitlines(), 1) if "# BAD" in text}
    assert lines == bad, proc.stdout + proc.stderr
    assert 'TypedDict "ExecuteResult" has no key "console"' in proc.stdout
    assert 'TypedDict "SessionCreated" has no key "service_ports"' in proc.stdout
    assert proc.returncode == 1


def test_the_types_are_public_and_plain_dicts_at_run_time() -> None:
    for name in types.__all__:
        assert getattr(backendai_async, name) is getattr(types, name)
        assert name in backendai_async.__all__
    assert types.SessionCreated.__required_keys__ == {
        "sessionId",
        "sessionName",
        "status",
        "servicePorts",
        "created",
        "raw",
    }
    assert types.SessionInfo.__required_keys__ == frozenset()  # managers vary: all optional

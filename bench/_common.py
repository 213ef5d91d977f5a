"""Small helpers shared by every bench process: memory figures, CPU pinning, constants.

Imports only the standard library, so that importing it costs the baseline nothing.
"""

from __future__ import annotations

import os
import resource
import sys

__all__ = [
    "BENCH_IMAGE",
    "BENCH_SESSION",
    "MIB",
    "child_env",
    "current_rss_kib",
    "peak_rss_kib",
    "pin_to_cpu",
    "reset_peak_rss",
]

MIB = 1024 * 1024
BENCH_IMAGE = "cr.backend.ai/stable/python:3.9-ubuntu20.04"
"""An image the embedded server knows (its ``DEFAULT_IMAGE``)."""
BENCH_SESSION = "bench-reuse-1"
"""One name for every call: the first creates the session, the rest reuse it."""


def child_env() -> dict[str, str]:
    """The environment for bench child processes: ``bench`` importable from any directory.

    The repository root is appended to ``PYTHONPATH`` (after any entries already there), so
    ``python -m bench.scenarios`` works whatever the current directory is.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        paths.append(root)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def current_rss_kib() -> int:
    """Resident set size now, in KiB (0 where /proc is missing)."""
    return _status_kib("VmRSS:") or 0


def peak_rss_kib() -> int:
    """Peak resident set size of this process, in KiB (VmHWM, else ``ru_maxrss``)."""
    hwm = _status_kib("VmHWM:")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` 5); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


def pin_to_cpu(cpu: int | None) -> None:
    """Run this process on one CPU only (no-op where unsupported or ``cpu`` is None)."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass

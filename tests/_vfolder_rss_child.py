"""Child process of ``test_vfolders_memory``: one upload and one download, memory measured.

Reads ``{"endpoint", "access_key", "secret_key", "folder", "source", "dest"}`` as JSON on
stdin, prints one JSON line: the peak RSS growth (VmHWM after the transfers minus VmRSS
before, with the peak reset first) and the seconds each transfer took. Only this process's
memory is measured: the embedded server runs in the parent.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    from backendai_async import Client, ClientConfig

    config = ClientConfig(spec["access_key"], spec["secret_key"], spec["endpoint"])
    async with Client(config) as client:
        await client.vfolder.list_allowed_types()  # negotiated, pool warm
        gc.collect()
        before = _status_kib("VmRSS:") or 0
        reset = _reset_peak()
        started = time.perf_counter()
        await client.vfolder.upload_file(spec["folder"], spec["source"], "big.bin")
        uploaded = time.perf_counter()
        await client.vfolder.download_file(spec["folder"], "big.bin", spec["dest"])
        done = time.perf_counter()
        peak = _status_kib("VmHWM:") or 0
    return {
        "growth_kib": peak - before,
        "peak_reset": reset,
        "up_s": uploaded - started,
        "down_s": done - uploaded,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.stdin.read())))), flush=True)

"""Child process of ``test_vfolders_memory``: one upload and one download, memory measured.

Run as ``python -m tests._vfolder_rss_child`` from the repository root (it reuses the
benchmarks' memory figures, ``bench/_common.py``).

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


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    from backendai_async import Client, ClientConfig
    from bench._common import current_rss_kib, peak_rss_kib, reset_peak_rss

    config = ClientConfig(spec["access_key"], spec["secret_key"], spec["endpoint"])
    async with Client(config) as client:
        await client.vfolder.list_allowed_types()  # negotiated, pool warm
        gc.collect()
        before = current_rss_kib()
        reset = reset_peak_rss()
        started = time.perf_counter()
        await client.vfolder.upload_file(spec["folder"], spec["source"], "big.bin")
        uploaded = time.perf_counter()
        await client.vfolder.download_file(spec["folder"], "big.bin", spec["dest"])
        done = time.perf_counter()
        peak = peak_rss_kib()
    return {
        "growth_kib": peak - before,
        "peak_reset": reset,
        "up_s": uploaded - started,
        "down_s": done - uploaded,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.stdin.read())))), flush=True)

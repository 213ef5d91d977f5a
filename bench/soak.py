"""``python -m bench.soak``: 100,000 SDK calls at 200 concurrency; zero errors, flat memory.

The embedded server runs in its own process. RSS is sampled every 1,000 completed calls;
the drift is the mean of the last quarter's samples over the mean of the second quarter's
(the first quarter is warm-up: pools, caches, allocator arenas). Passes when every call
succeeded, the drift is under 5% and no connection is left acquired. Exit status 0 on pass.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

from ._common import BENCH_IMAGE, BENCH_SESSION, current_rss_kib, peak_rss_kib, pin_to_cpu
from .server import ServerInfo, ServerProcess

__all__ = ["main", "soak"]

SAMPLE_EVERY = 1_000
DRIFT_LIMIT = 0.05


async def soak(server: ServerInfo, calls: int, concurrency: int) -> dict[str, Any]:
    """Run the soak against ``server``; return its figures."""
    from backendai_async import Client, ClientConfig

    cfg = ClientConfig(server.access_key, server.secret_key, server.endpoint, limit=concurrency)
    samples: list[tuple[int, int]] = []
    errors: list[str] = []
    done = 0
    per_task, extra = divmod(calls, concurrency)

    async with Client(cfg) as client:
        await client.create_if_not_exists(BENCH_IMAGE, BENCH_SESSION)

        async def worker(count: int) -> None:
            nonlocal done
            for _ in range(count):
                try:
                    await client.create_if_not_exists(BENCH_IMAGE, BENCH_SESSION)
                except Exception as exc:
                    if len(errors) < 5:
                        errors.append(repr(exc)[:300])
                    else:
                        errors.append("")
                done += 1
                if done % SAMPLE_EVERY == 0:
                    samples.append((done, current_rss_kib()))

        started = time.perf_counter()
        await asyncio.gather(
            *(worker(per_task + (1 if i < extra else 0)) for i in range(concurrency))
        )
        elapsed = time.perf_counter() - started
        session = client.session
        connector = session.connector if session is not None else None
        acquired = len(getattr(connector, "_acquired", ())) if connector is not None else 0

    def quarter_mean(q: int) -> float:
        lo, hi = calls * (q - 1) / 4, calls * q / 4
        values = [rss for n, rss in samples if lo < n <= hi]
        return statistics.fmean(values) if values else float("nan")

    q2, q4 = quarter_mean(2), quarter_mean(4)
    return {
        "calls": calls,
        "concurrency": concurrency,
        "elapsed": elapsed,
        "errors": len(errors),
        "first_errors": [e for e in errors if e][:5],
        "q_mib": [quarter_mean(q) / 1024 for q in (1, 2, 3, 4)],
        "drift": (q4 - q2) / q2,
        "peak_mib": peak_rss_kib() / 1024,
        "acquired_after": acquired,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    args = parser.parse_args(argv)
    if args.calls < 4 * SAMPLE_EVERY or args.concurrency < 1:
        parser.error(f"--calls must be at least {4 * SAMPLE_EVERY}; --concurrency at least 1")
    pin = not args.no_pin
    with ServerProcess(cpu=0 if pin else None) as server:
        pin_to_cpu(1 if pin else None)
        r = asyncio.run(soak(server, args.calls, args.concurrency))
    ok = r["errors"] == 0 and r["drift"] < DRIFT_LIMIT and r["acquired_after"] == 0
    print(f"soak: {r['calls']:,} calls at concurrency {r['concurrency']} against {server.endpoint}")
    print(f"  elapsed      {r['elapsed']:.1f} s ({r['calls'] / r['elapsed']:,.0f} calls/s)")
    print(f"  errors       {r['errors']}" + "".join(f"\n    {e}" for e in r["first_errors"]))
    print("  RSS by quarter (mean of samples, MiB): " + ", ".join(f"{v:.1f}" for v in r["q_mib"]))
    print(f"  drift Q4/Q2  {r['drift'] * 100:+.2f}% (limit {DRIFT_LIMIT * 100:.0f}%)")
    print(f"  peak RSS     {r['peak_mib']:.1f} MiB")
    print(f"  connections still acquired after close: {r['acquired_after']}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.profile``: where the opcodes of one call (or cold cycle) go.

Starts the bench server in its own process, opens the side(s) asked for in this process,
warms them up, then counts the bytecodes executed per call with ``sys.settrace`` (the same
counter as the ``Python opcodes/call`` row of ``python -m bench``), broken down by module
group (SDK, aiohttp, asyncio, ...) and by function. Deterministic: use it to check that a
change to the hot path really removed work.

    python -m bench.profile                       # seq, both sides, 50 calls
    python -m bench.profile --scenario cold --side sdk --top 60
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
from typing import Any

from . import scenarios
from .server import ServerInfo, ServerProcess

_GROUPS = (
    ("backendai_async", f"{os.sep}backendai_async{os.sep}"),
    ("aiohttp", f"{os.sep}aiohttp{os.sep}"),
    ("yarl", f"{os.sep}yarl{os.sep}"),
    ("multidict", f"{os.sep}multidict{os.sep}"),
    ("asyncio", f"{os.sep}asyncio{os.sep}"),
    ("bench", f"{os.sep}bench{os.sep}"),
)


def _group(filename: str) -> str:
    for name, marker in _GROUPS:
        if marker in filename:
            return name
    return "stdlib/other"


def _short(filename: str) -> str:
    for name, marker in _GROUPS:
        at = filename.rfind(marker)
        if at >= 0:
            return name + "/" + filename[at + len(marker) :]
    return os.path.basename(filename)


async def _count(call: Any, n: int) -> collections.Counter[tuple[str, int, str]]:
    counts: collections.Counter[tuple[str, int, str]] = collections.Counter()

    def count(frame: Any) -> None:
        code = frame.f_code
        counts[(code.co_filename, code.co_firstlineno, code.co_name)] += 1

    await scenarios.trace_opcodes(call, n, count)
    return counts


def _report(side: str, counts: collections.Counter[tuple[str, int, str]], n: int, top: int) -> None:
    total = sum(counts.values())
    print(f"\n== {side}: {total / n:,.1f} opcodes per unit ({n} traced)")
    groups: collections.Counter[str] = collections.Counter()
    for (filename, _, _), c in counts.items():
        groups[_group(filename)] += c
    for name, c in groups.most_common():
        print(f"  {c / n:9,.1f}  {name}")
    print(f"  -- top {top} functions")
    for (filename, line, name), c in counts.most_common(top):
        print(f"  {c / n:9,.1f}  {_short(filename)}:{line} {name}")


async def _run(info: ServerInfo, scenario: str, sides: list[str], n: int, top: int) -> None:
    spec = {
        "endpoint": info.endpoint,
        "access_key": info.access_key,
        "secret_key": info.secret_key,
    }
    for side in sides:
        opener = scenarios.OPENERS[side]
        if scenario == "cold":
            block = scenarios._cold_block(opener, spec)
            for _ in range(5):
                await block()
            _report(side, await _count(block, n), n, top)
            continue
        async with opener(spec) as (_, call):
            for _ in range(200):
                await call()
            _report(side, await _count(call, n), n, top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--scenario", choices=("seq", "cold"), default="seq")
    parser.add_argument("--side", choices=("sdk", "base", "both"), default="both")
    parser.add_argument("--n", type=int, default=50, help="calls (or cycles) traced")
    parser.add_argument("--top", type=int, default=40, help="functions listed per side")
    args = parser.parse_args(argv)
    sides = ["sdk", "base"] if args.side == "both" else [args.side]
    if "sdk" in sides:
        import backendai_async  # noqa: F401
    with ServerProcess() as info, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(info, args.scenario, sides, args.n, args.top))


if __name__ == "__main__":
    main()

"""Event-stream scenarios: throughput through the SDK vs a raw aiohttp reader, and many
subscriptions on one client. Run inside ``python -m bench.scenarios`` (see there).

* ``events`` (both sides in one process, blocks alternated ABBA): each block opens a stream
  of the bench session, asks the server for ``n`` events and reads them; the time runs from
  the first event to the last, so the request that publishes them is not counted. The SDK
  side iterates ``client.session_events(...)`` (typed ``SessionEvent``s); the baseline
  reads the same stream with a hand-written parser and ``json.loads`` per event.
* ``subs`` (one side per process): ``n`` concurrent subscriptions on one client, opened in
  two steps (a tenth, then the rest) with the RSS measured after each, so that the memory
  per subscription of both steps can be compared (flat = the same); then one event is
  published and every subscription must receive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp

from ._common import BENCH_IMAGE, BENCH_SESSION, current_rss_kib

__all__ = ["events", "subs"]

Spec = dict[str, Any]
Reader = Callable[[int], Awaitable[tuple[float, float]]]
"""Reads one block of ``n`` events; returns (seconds, CPU seconds) from first to last."""
EVENT_SIZE = 200
"""Bytes of the ``reason`` field: events about the size of a real session event."""


async def _publish(endpoint: str, n: int) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{endpoint}/_bench/publish?n={n}&size={EVENT_SIZE}"
        async with http.post(url) as resp:
            if resp.status != 200:
                raise RuntimeError(f"publish: {resp.status} {await resp.text()}")


@contextlib.asynccontextmanager
async def _sdk(spec: Spec, limit: int = 100) -> AsyncIterator[Any]:
    from backendai_async import Client, ClientConfig

    cfg = ClientConfig(spec["access_key"], spec["secret_key"], spec["endpoint"], limit=limit)
    async with Client(cfg) as client:
        await client.create_if_not_exists(BENCH_IMAGE, BENCH_SESSION)
        yield client


@contextlib.asynccontextmanager
async def _base(spec: Spec, limit: int = 100) -> AsyncIterator[Any]:
    from .baseline import BaselineClient

    async with BaselineClient(
        spec["endpoint"], spec["access_key"], spec["secret_key"], limit=limit
    ) as client:
        await client.hello()
        await client.create_if_not_exists(BENCH_IMAGE, BENCH_SESSION)
        yield client


def _sdk_reader(client: Any, endpoint: str) -> Reader:
    async def read(n: int) -> tuple[float, float]:
        async with client.session_events(BENCH_SESSION) as stream:
            await _publish(endpoint, n)
            count = 0
            async for _event in stream:
                count += 1
                if count == 1:
                    started, cpu = time.perf_counter(), time.process_time()
                elif count == n:
                    break
        return time.perf_counter() - started, time.process_time() - cpu

    return read


def _base_reader(client: Any, endpoint: str) -> Reader:
    async def read(n: int) -> tuple[float, float]:
        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        stream = client.session_events({"sessionName": BENCH_SESSION}, opened)
        count = 0
        try:
            first = asyncio.ensure_future(stream.__anext__())
            await opened
            await _publish(endpoint, n)
            await first
            started, cpu = time.perf_counter(), time.process_time()
            count = 1
            async for _event in stream:
                count += 1
                if count == n:
                    break
        finally:
            await stream.aclose()
        return time.perf_counter() - started, time.process_time() - cpu

    return read


async def events(spec: Spec) -> dict[str, Any]:
    """Events per second and client CPU per event, SDK and baseline alternated ABBA."""
    n, count = spec["n"], spec["blocks"]
    async with _sdk(spec) as sdk, _base(spec) as base:
        readers = {
            "sdk": _sdk_reader(sdk, spec["endpoint"]),
            "base": _base_reader(base, spec["endpoint"]),
        }
        for read in readers.values():
            await read(max(n // 10, 2))  # warm-up
        times: dict[str, list[float]] = {"sdk": [], "base": []}
        cpus: dict[str, list[float]] = {"sdk": [], "base": []}
        gc.collect()
        for i in range(count):
            for side in ("sdk", "base") if i % 2 == 0 else ("base", "sdk"):
                elapsed, cpu = await readers[side](n)
                times[side].append(elapsed)
                cpus[side].append(cpu)
    units = n - 1  # timed from the first event to the last
    result: dict[str, Any] = {
        side: {
            "value": units * count / sum(times[side]),
            "elapsed": sum(times[side]),
            "cpu_us": sum(cpus[side]) / (units * count) * 1e6,
            "errors": 0,
        }
        for side in times
    }
    result["ratio"] = statistics.median(
        b / s for s, b in zip(times["sdk"], times["base"], strict=True)
    )
    result["cpu_ratio"] = statistics.median(
        s / b for s, b in zip(cpus["sdk"], cpus["base"], strict=True) if b
    )
    result["errors"] = 0
    return result


async def subs(spec: Spec) -> dict[str, Any]:
    """``n`` subscriptions on one client (one side): RSS per subscription, then delivery."""
    n, side = spec["n"], spec["side"]
    first_step = max(n // 10, 1)
    opener = _sdk if side == "sdk" else _base
    async with opener(spec, limit=0) as client, contextlib.AsyncExitStack() as stack:
        waits: list[asyncio.Future[Any]] = []

        async def open_many(count: int) -> None:
            if side == "sdk":
                streams = [
                    await stack.enter_async_context(client.session_events(BENCH_SESSION))
                    for _ in range(count)
                ]
                waits.extend(asyncio.ensure_future(s.__anext__()) for s in streams)
                return
            for _ in range(count):
                opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                stream = client.session_events({"sessionName": BENCH_SESSION}, opened)
                stack.push_async_callback(stream.aclose)
                waits.append(asyncio.ensure_future(stream.__anext__()))
                await opened

        gc.collect()
        rss0 = current_rss_kib()
        await open_many(first_step)
        gc.collect()
        rss1 = current_rss_kib()
        await open_many(n - first_step)
        gc.collect()
        rss2 = current_rss_kib()
        started = time.perf_counter()
        await _publish(spec["endpoint"], 1)
        done, pending = await asyncio.wait(waits, timeout=60)
        delivery = time.perf_counter() - started
        for task in pending:
            task.cancel()
        delivered = sum(1 for task in done if task.exception() is None)
    first = (rss1 - rss0) / first_step
    rest = (rss2 - rss1) / max(n - first_step, 1)
    return {
        "value": (rss2 - rss0) / n,  # KiB per subscription
        "first_kib": first,
        "rest_kib": rest,
        "delivered": delivered,
        "delivery_s": delivery,
        "errors": n - delivered,
    }

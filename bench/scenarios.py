"""Measurements, each run in a fresh process: ``python -m bench.scenarios`` < JSON spec.

The spec (``{"scenario", "side", "endpoint", "access_key", "secret_key", ...sizes}``) comes
on stdin; one JSON line with the figures goes to stdout.

Two kinds of measurement:

* ``side: "both"`` (``seq``, ``conc``, ``cold``, ``sign``): one process holds a warmed-up SDK
  client and a warmed-up baseline client and alternates them block by block (ABBA order),
  timing each block. Neighbouring blocks see the same machine, so the median of the
  per-block ratios stays meaningful on a shared, noisy machine where run-to-run spread is
  far larger than the difference being measured.
* ``side: "sdk"`` or ``"base"`` (everything, and the only kind for ``transfer`` and
  ``scale``): one side alone, so that its peak memory (VmHWM) is its own.

``sdk`` imports ``backendai_async``; ``base`` imports only aiohttp and :mod:`bench.baseline`.
Imports are lazy so that neither side pays for the other's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from . import streams
from ._common import (
    BENCH_IMAGE,
    BENCH_SESSION,
    current_rss_kib,
    peak_rss_kib,
    pin_to_cpu,
    reset_peak_rss,
)

__all__ = ["SCENARIOS", "run_spec"]

Call = Callable[[], Awaitable[Any]]
Block = Callable[[], Awaitable[int]]
"""Runs one timed block of work; returns how many of its calls failed."""
Spec = dict[str, Any]
Opener = Callable[..., contextlib.AbstractAsyncContextManager[tuple[Any, Call]]]
TRANSFER_CHUNK = 256 * 1024
"""Chunk size of both sides' transfers (the SDK's ``CHUNK_SIZE``)."""
HOST = "127.0.0.1:8081"
VERSION = "v6.20230315"


# --- the two sides ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _open_sdk(spec: Spec, limit: int = 100) -> AsyncIterator[tuple[Any, Call]]:
    """An SDK client and its ``create_if_not_exists`` call (negotiates on the first call)."""
    from backendai_async import Client, ClientConfig

    cfg = ClientConfig(spec["access_key"], spec["secret_key"], spec["endpoint"], limit=limit)
    async with Client(cfg) as client:
        yield client, _sdk_call(client)


def _sdk_call(client: Any) -> Call:
    """``create_if_not_exists(image, name)``: the same name every time, so it is reused."""
    create = client.create_if_not_exists

    def call() -> Awaitable[Any]:
        return create(BENCH_IMAGE, BENCH_SESSION)  # type: ignore[no-any-return]

    return call


@contextlib.asynccontextmanager
async def _open_base(spec: Spec, limit: int = 100) -> AsyncIterator[tuple[Any, Call]]:
    """A hand-written client that fetched the version (``GET /``) and its create call."""
    from .baseline import BaselineClient

    async with BaselineClient(
        spec["endpoint"], spec["access_key"], spec["secret_key"], limit=limit
    ) as client:
        await client.hello()

        def call() -> Awaitable[Any]:
            return client.create_if_not_exists(BENCH_IMAGE, BENCH_SESSION)

        yield client, call


OPENERS: dict[str, Opener] = {"sdk": _open_sdk, "base": _open_base}


async def _check(result: Any) -> None:
    if not isinstance(result, dict) or "sessionId" not in result:
        raise RuntimeError(f"unexpected answer: {result!r:.200}")


# --- building blocks ----------------------------------------------------------------------


def _figures(n: int, elapsed: float, cpu: float, errors: int) -> dict[str, Any]:
    """Units per second, and the client process's CPU time per unit in microseconds."""
    return {"value": n / elapsed, "elapsed": elapsed, "cpu_us": cpu / n * 1e6, "errors": errors}


async def _gather_calls(call: Call, total: int, tasks: int) -> int:
    """``total`` calls from ``tasks`` concurrent tasks (each a bounded loop); errors count."""
    per_task, extra = divmod(total, tasks)

    async def worker(count: int) -> int:
        errors = 0
        for _ in range(count):
            try:
                await call()
            except Exception:
                errors += 1
        return errors

    counts = [per_task + (1 if i < extra else 0) for i in range(tasks)]
    return sum(await asyncio.gather(*(worker(c) for c in counts if c)))


def _seq_block(call: Call, n: int) -> Block:
    async def block() -> int:
        for _ in range(n):
            await call()
        return 0

    return block


def _conc_block(call: Call, n: int, tasks: int) -> Block:
    async def block() -> int:
        return await _gather_calls(call, n, tasks)

    return block


def _cold_block(opener: Opener, spec: Spec) -> Block:
    async def block() -> int:
        async with opener(spec) as (_, call):
            await _check(await call())
        return 0

    return block


async def _alternate(blocks: dict[str, Block], count: int, units: int) -> dict[str, Any]:
    """Run ``count`` blocks per side, alternating ABBA; ``units`` calls (or cycles) per block.

    ``ratio`` is the median over block pairs of baseline time / SDK time: the SDK's speed
    relative to the baseline's (1.0 = as fast; above = faster).
    """
    times: dict[str, list[float]] = {side: [] for side in blocks}
    cpus: dict[str, list[float]] = {side: [] for side in blocks}
    errors = 0
    sides = list(blocks)
    gc.collect()
    for i in range(count):
        for side in sides if i % 2 == 0 else sides[::-1]:
            cpu, started = time.process_time(), time.perf_counter()
            errors += await blocks[side]()
            times[side].append(time.perf_counter() - started)
            cpus[side].append(time.process_time() - cpu)
    ratios = [b / s for s, b in zip(times["sdk"], times["base"], strict=True)]
    result: dict[str, Any] = {
        side: _figures(count * units, sum(times[side]), sum(cpus[side]), 0) for side in sides
    }
    result["ratio"] = statistics.median(ratios)
    result["cpu_ratio"] = statistics.median(
        s / b for s, b in zip(cpus["sdk"], cpus["base"], strict=True) if b
    )
    result["errors"] = errors
    return result


# --- scenarios ----------------------------------------------------------------------------


async def trace_opcodes(call: Call, n: int, on_opcode: Callable[[Any], object]) -> None:
    """Run ``call`` ``n`` times with ``on_opcode(frame)`` called for every Python bytecode
    executed (every module: SDK, aiohttp, asyncio, stdlib)."""

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if event == "call":
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            on_opcode(frame)
        return tracer

    sys.settrace(tracer)
    try:
        for _ in range(n):
            await call()
    finally:
        sys.settrace(None)


async def _opcodes_per_call(call: Call, n: int) -> float:
    """Python bytecodes executed per call.

    Deterministic, unlike any timing on a shared machine: a change to the SDK's own code
    shows up here exactly. C code (json, hmac, sockets) is not counted; it is the same
    work on both sides.
    """
    executed = 0

    def count(_frame: Any) -> None:
        nonlocal executed
        executed += 1

    await trace_opcodes(call, n, count)
    return executed / n


async def seq(spec: Spec) -> dict[str, Any]:
    """Sequential calls on warmed-up clients: calls per second (and opcodes per call)."""
    n, warmup, count = spec["n"], spec["warmup"], spec["blocks"]
    async with contextlib.AsyncExitStack() as stack:
        blocks: dict[str, Block] = {}
        calls: dict[str, Call] = {}
        for side in _sides(spec):
            _, call = await stack.enter_async_context(OPENERS[side](spec))
            await _check(await call())
            await _seq_block(call, warmup)()
            blocks[side] = _seq_block(call, n // count)
            calls[side] = call
        result = await _measure(blocks, count, n // count)
        if len(calls) == 2 and spec.get("trace", 0):
            for side, call in calls.items():
                result[side]["opcodes"] = await _opcodes_per_call(call, spec["trace"])
        return result


async def conc(spec: Spec) -> dict[str, Any]:
    """Calls from ``tasks`` concurrent tasks on warmed-up clients: calls per second."""
    n, tasks, count = spec["n"], spec["tasks"], spec["blocks"]
    async with contextlib.AsyncExitStack() as stack:
        blocks: dict[str, Block] = {}
        for side in _sides(spec):
            _, call = await stack.enter_async_context(OPENERS[side](spec))
            await _check(await call())
            await _conc_block(call, spec["warmup"], tasks)()  # fills the pool
            blocks[side] = _conc_block(call, n // count, tasks)
        return await _measure(blocks, count, n // count)


async def cold(spec: Spec) -> dict[str, Any]:
    """``n`` cycles of: new client, version probe, one signed call, close. Cycles per second
    (and, with ``trace``, opcodes per cycle, counted after the timed cycles)."""
    blocks = {side: _cold_block(OPENERS[side], spec) for side in _sides(spec)}
    for block in blocks.values():  # untimed: the modules a first cycle imports (the SDK's load
        await block()  # lazily) would otherwise count as one very slow cycle
    result = await _measure(blocks, spec["n"], 1)
    if len(blocks) == 2 and spec.get("trace", 0):
        for side, block in blocks.items():
            result[side]["opcodes"] = await _opcodes_per_call(block, spec["trace"])
    return result


def _sides(spec: Spec) -> tuple[str, ...]:
    return ("sdk", "base") if spec["side"] == "both" else (spec["side"],)


async def _measure(blocks: dict[str, Block], count: int, units: int) -> dict[str, Any]:
    """Alternate both sides, or time one side alone (then figures at the top level)."""
    if len(blocks) == 2:
        return await _alternate(blocks, count, units)
    (block,) = blocks.values()
    gc.collect()
    errors = 0
    cpu, started = time.process_time(), time.perf_counter()
    for _ in range(count):
        errors += await block()
    elapsed = time.perf_counter() - started
    return _figures(count * units, elapsed, time.process_time() - cpu, errors)


async def scale(spec: Spec) -> dict[str, Any]:
    """``n`` calls started at once through a pool of ``limit`` connections (one side)."""
    async with OPENERS[spec["side"]](spec, limit=spec["limit"]) as (_, call):
        await _check(await call())

        async def one() -> None:  # keeps no answer: 10,000 dicts would dwarf the clients
            await call()

        gc.collect()
        cpu, started = time.process_time(), time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(spec["n"])), return_exceptions=True)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    failed = [r for r in results if isinstance(r, BaseException)]
    figures = _figures(spec["n"], elapsed, cpu, len(failed))
    figures["succeeded"] = len(results) - len(failed)
    figures["first_error"] = repr(failed[0])[:300] if failed else None
    return figures


async def _blocks(size: int) -> AsyncIterator[bytes]:
    """``size`` bytes in ``TRANSFER_CHUNK`` pieces of one preallocated block (no copies)."""
    block = b"\xa5" * TRANSFER_CHUNK
    sent = 0
    while sent < size:
        piece = block if size - sent >= TRANSFER_CHUNK else block[: size - sent]
        yield piece
        sent += len(piece)


def blob_name(size: int) -> str:
    """The file both sides upload (and then download)."""
    return f"blob-{size}"


async def _timed_move(size: int, move: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    """Run one transfer of ``size`` bytes (``move()`` returns the bytes moved): MiB/s, CPU
    per MiB and the peak RSS growth during it."""
    gc.collect()
    rss_before = current_rss_kib()
    reset = reset_peak_rss()
    peak_before = peak_rss_kib()
    cpu, started = time.process_time(), time.perf_counter()
    moved = await move()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak_after = peak_rss_kib()
    if moved != size:
        raise RuntimeError(f"received {moved} bytes of {size}")
    growth = peak_after - (rss_before if reset else peak_before)
    return {
        "value": size / elapsed / (1024 * 1024),
        "elapsed": elapsed,
        "cpu_us": cpu / (size / (1024 * 1024)) * 1e6,  # per MiB
        "errors": 0,
        "growth_kib": max(growth, 0),
        "peak_reset": reset,
    }


async def transfer(spec: Spec) -> dict[str, Any]:
    """One streamed upload or download of ``size`` bytes (one side): MiB/s, RSS growth."""
    size: int = spec["size"]
    side: str = spec["side"]
    async with OPENERS[side](spec) as (client, call):
        await _check(await call())

        async def move() -> int:
            if spec["direction"] == "down":
                return await _download(side, client, size)
            await client.upload(BENCH_SESSION, blob_name(size), _blocks(size))
            return size

        return await _timed_move(size, move)


async def _range(start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes ``start..end`` of the same endless pattern ``_blocks`` gives (no copies)."""
    async for piece in _blocks(end - start):
        yield piece


VFOLDER = "bench-vfolder"
VFOLDER_PATCH = 64 * 1024 * 1024
"""Bytes per tus PATCH on both sides (the SDK's default ``chunk_size``)."""


async def _vfolder_move(spec: Spec, side: str, client: Any) -> int:
    size: int = spec["size"]
    name = blob_name(size)
    if spec["direction"] == "up":
        if side == "sdk":
            await client.vfolder.upload_file(VFOLDER, _blocks(size), name, size=size)
        else:
            await client.vfolder_upload(VFOLDER, name, size, _range, VFOLDER_PATCH)
        return size
    moved = 0
    if side == "sdk":
        async with await client.vfolder.download_file(VFOLDER, name) as stream:
            async for chunk in stream:
                moved += len(chunk)
    else:
        async for chunk in client.vfolder_download_chunks(VFOLDER, name, TRANSFER_CHUNK):
            moved += len(chunk)
    return moved


async def vfolder(spec: Spec) -> dict[str, Any]:
    """One folder upload (tus PATCHes to the storage proxy) or download, one side."""
    side: str = spec["side"]
    async with OPENERS[side](spec) as (client, _call):
        if side == "sdk":
            try:
                await client.vfolder.create(VFOLDER)
            except Exception as exc:
                if "already-exists" not in getattr(exc, "problem_type", ""):
                    raise
        else:
            await client.vfolder_create(VFOLDER)
        return await _timed_move(spec["size"], lambda: _vfolder_move(spec, side, client))


async def _download(side: str, client: Any, size: int) -> int:
    received = 0
    if side == "sdk":
        stream = await client.download_single(BENCH_SESSION, blob_name(size))
        async with stream:
            async for chunk in stream:
                received += len(chunk)
    else:
        async for chunk in client.download_chunks(BENCH_SESSION, blob_name(size), TRANSFER_CHUNK):
            received += len(chunk)
    return received


def _sdk_signer(access_key: str, secret_key: str) -> Callable[[], str]:
    from backendai_async.signing import SigningKeys, authorization_header, make_sign_string, sign

    keys = SigningKeys(secret_key)

    def one() -> str:
        date, day = keys.now()
        text = make_sign_string("POST", "/session", date, HOST, "application/json", VERSION)
        return authorization_header(access_key, sign(keys.key(day, HOST), text))

    return one


def _naive_signer(access_key: str, secret_key: str) -> Callable[[], str]:
    from .baseline import NaiveSigner

    naive = NaiveSigner(access_key, secret_key)

    def one() -> str:
        return naive.authorization("POST", "/session", HOST, "application/json", VERSION)[1]

    return one


async def sign(spec: Spec) -> dict[str, Any]:
    """Signatures per second: the SDK's signing functions vs the naive way, no I/O."""
    makers = {"sdk": _sdk_signer, "base": _naive_signer}
    n, count = spec["n"], spec["blocks"]
    per_block = n // count
    blocks: dict[str, Block] = {}
    for side in _sides(spec):
        one = makers[side](spec["access_key"], spec["secret_key"])

        async def block(one: Callable[[], str] = one) -> int:
            for _ in range(per_block):
                one()
            return 0

        blocks[side] = block
    return await _measure(blocks, count, per_block)


SCENARIOS: dict[str, Callable[[Spec], Coroutine[Any, Any, dict[str, Any]]]] = {
    "seq": seq,
    "conc": conc,
    "cold": cold,
    "scale": scale,
    "transfer": transfer,
    "vfolder": vfolder,
    "sign": sign,
    "events": streams.events,
    "subs": streams.subs,
}


def _preimport(side: str) -> None:
    """Import the side's library before any clock starts (``import`` measures that)."""
    if side in ("sdk", "both"):
        import backendai_async  # noqa: F401
    if side in ("base", "both"):
        from . import baseline  # noqa: F401


def run_spec(spec: Spec) -> dict[str, Any]:
    """Run one measurement in this process; add memory figures to its result."""
    pin_to_cpu(spec.get("cpu"))
    _preimport(spec["side"])
    rss_start = current_rss_kib()
    result = asyncio.run(SCENARIOS[spec["scenario"]](spec))
    result["rss_start_kib"] = rss_start
    result["peak_kib"] = peak_rss_kib()
    return result


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        result = run_spec(spec)
    except Exception as exc:
        result = {"failed": f"{type(exc).__name__}: {exc}"[:2000]}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

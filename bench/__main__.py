"""``python -m bench``: every scenario, SDK vs hand-written aiohttp, as one table.

The embedded test server runs in its own process pinned to CPU 0; every measurement runs in
a fresh process pinned to CPU 1. Throughput scenarios (``seq``, ``conc``, ``cold``,
``sign``) hold both clients in one process and alternate them block by block (ABBA), so
the two sides always see the same machine; the ratio column is the median over repetitions
of each repetition's median block ratio, with the min–max over repetitions. Memory
(``rss``), ``transfer``, ``vfolder`` (tus through the storage proxy) and ``scale`` run each
side in its own process (alternating which goes first), so peaks are each side's own.
``import`` times whole ``python -c`` processes.

Every ratio is SDK / baseline of the metric in its row: above 1 is better for rates
(calls/s, MiB/s), worse for costs (CPU, memory, milliseconds).

``--smoke`` runs every scenario tiny, once, to prove the scripts work (no timing checks);
``--only seq,conc`` selects scenarios; ``--json FILE`` keeps the raw figures. Exit status 1
when a target is missed (never with ``--smoke``), 2 when a measurement failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._common import MIB, child_env
from .scenarios import blob_name
from .server import ServerInfo, ServerProcess

ALL = (
    "seq",
    "conc",
    "cold",
    "import",
    "rss",
    "transfer",
    "vfolder",
    "scale",
    "sign",
    "events",
    "subs",
)
GIB = 1024 * MIB
Result = dict[str, Any]
Pair = tuple[Result, Result]


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does (the full run, or the tiny ``--smoke`` one)."""

    reps: int  # processes per interleaved scenario
    seq_n: int  # calls per side per process
    seq_blocks: int
    seq_warmup: int
    seq_trace: int  # calls traced for the opcode count
    conc_n: int  # calls per block (from conc_tasks tasks)
    conc_blocks: int  # blocks per side per process
    conc_tasks: int
    conc_warmup: int
    cold_n: int  # cycles per side per process
    cold_trace: int  # cycles traced for the opcode count
    sign_n: int
    sign_blocks: int
    import_runs: int
    import_instructions: bool  # also count instructions under callgrind (if installed)
    rss_reps: int  # pairs of single-side processes per scenario
    transfer_size: int
    transfer_reps: int
    scale_n: int
    scale_limit: int
    scale_reps: int
    events_n: int  # events per block
    events_blocks: int  # blocks per side per process
    subs_n: int  # concurrent subscriptions on one client
    subs_reps: int
    timeout: float  # seconds, per worker process


FULL = Sizes(
    reps=5,
    seq_n=2_000,
    seq_blocks=10,
    seq_warmup=200,
    seq_trace=50,
    conc_n=2_000,
    conc_blocks=4,
    conc_tasks=100,
    conc_warmup=400,
    cold_n=50,
    cold_trace=5,
    sign_n=200_000,
    sign_blocks=10,
    import_runs=21,
    import_instructions=True,
    rss_reps=2,
    transfer_size=GIB,
    transfer_reps=5,
    scale_n=10_000,
    scale_limit=100,
    scale_reps=3,
    events_n=50_000,
    events_blocks=6,
    subs_n=1000,
    subs_reps=2,
    timeout=600.0,
)
SMOKE = Sizes(
    reps=1,
    seq_n=40,
    seq_blocks=2,
    seq_warmup=5,
    seq_trace=5,
    conc_n=100,
    conc_blocks=1,
    conc_tasks=10,
    conc_warmup=20,
    cold_n=2,
    cold_trace=1,
    sign_n=2_000,
    sign_blocks=2,
    import_runs=1,
    import_instructions=False,
    rss_reps=1,
    transfer_size=8 * MIB,
    transfer_reps=1,
    scale_n=300,
    scale_limit=100,
    scale_reps=1,
    events_n=500,
    events_blocks=2,
    subs_n=40,
    subs_reps=1,
    timeout=60.0,
)


@dataclass
class Row:
    """One line of the table: a metric of both sides, their ratio, and the target."""

    scenario: str
    metric: str
    sdk: list[float]
    base: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    note: str = ""

    def judge(self, op: str, limit: float) -> Row:
        """Mark the row against ``ratio op limit`` (the median ratio)."""
        med = statistics.median(self.ratios)
        self.target = f"{op} {limit:g}"
        self.met = med >= limit if op == ">=" else med <= limit
        return self


# --- running workers -------------------------------------------------------------------------


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


_BUFFER_HEAVY = frozenset({"transfer", "vfolder"})
"""Scenarios that allocate a fresh 256 KiB buffer per chunk, on both sides."""


def _allocator_pinned(env: dict[str, str]) -> dict[str, str]:
    """The same glibc allocator thresholds for both sides of a transfer scenario.

    With glibc's adaptive thresholds a process lands, by the heap's state at start, either
    in a mode that reuses freed chunk buffers or in one that returns them to the kernel and
    page-faults the next one in (~190 faults/MiB, about twice the CPU per MiB); which mode
    varies per process on both sides and made the throughput ratio swing 0.6-1.8. Pinned
    thresholds keep every process in the first mode; both sides get the same environment.
    """
    return {**env, "MALLOC_MMAP_THRESHOLD_": str(4 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}


class Runner:
    """Runs measurements in worker processes against one server; keeps the raw results."""

    def __init__(self, server: ServerInfo, sizes: Sizes, client_cpu: int | None) -> None:
        self.server = server
        self.sizes = sizes
        self.cpu = client_cpu
        self.raw: list[Result] = []

    def measure(self, scenario: str, side: str, **params: Any) -> Result:
        spec = {
            "scenario": scenario,
            "side": side,
            "endpoint": self.server.endpoint,
            "access_key": self.server.access_key,
            "secret_key": self.server.secret_key,
            "cpu": self.cpu,
            **params,
        }
        proc = subprocess.run(
            [sys.executable, "-m", "bench.scenarios"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            timeout=self.sizes.timeout,
            check=False,
            env=_allocator_pinned(child_env()) if scenario in _BUFFER_HEAVY else child_env(),
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{scenario}/{side} exited {proc.returncode}: {proc.stderr[-2000:]}")
        result: Result = json.loads(lines[-1])
        if "failed" in result:
            raise RuntimeError(f"{scenario}/{side} failed: {result['failed']}")
        if result.get("errors"):
            raise RuntimeError(f"{scenario}/{side}: {result['errors']} calls failed: {result}")
        self.raw.append({"scenario": scenario, "side": side, "params": params, **result})
        return result

    def interleaved(self, scenario: str, **params: Any) -> list[Result]:
        """``reps`` processes, each alternating both sides block by block."""
        out = []
        for rep in range(self.sizes.reps):
            out.append(self.measure(scenario, "both", **params))
            _progress(f"{scenario} {rep + 1}/{self.sizes.reps}")
        return out

    def pairs(self, scenario: str, reps: int, label: str = "", **params: Any) -> list[Pair]:
        """``reps`` (sdk, base) single-side results, alternating which side runs first."""
        out = []
        for rep in range(reps):
            order = ("sdk", "base") if rep % 2 == 0 else ("base", "sdk")
            got = {side: self.measure(scenario, side, **params) for side in order}
            out.append((got["sdk"], got["base"]))
            _progress(f"{label or scenario} {rep + 1}/{reps}")
        return out


# --- rows ---------------------------------------------------------------------------------


def _interleaved_rows(scenario: str, results: list[Result], unit: str) -> list[Row]:
    rate = Row(
        scenario,
        f"{unit}/s",
        [r["sdk"]["value"] for r in results],
        [r["base"]["value"] for r in results],
        [r["ratio"] for r in results],
    )
    cpu = Row(
        scenario,
        f"client CPU µs/{unit.rstrip('s')}",
        [r["sdk"]["cpu_us"] for r in results],
        [r["base"]["cpu_us"] for r in results],
        [r["cpu_ratio"] for r in results],
    )
    return [rate, cpu]


def _pair_row(scenario: str, metric: str, pairs: list[Pair], key: Callable[[Result], float]) -> Row:
    sdk = [key(s) for s, _ in pairs]
    base = [key(b) for _, b in pairs]
    ratios = [s / b for s, b in zip(sdk, base, strict=True) if b]
    return Row(scenario, metric, sdk, base, ratios)


def _peak_mib(result: Result) -> float:
    return float(result["peak_kib"]) / 1024


def _import_rows(runner: Runner) -> list[Row]:
    """Whole-process ``python -c "import X"``: CPU and wall time, alternating, per-pair ratios.

    The target is judged on the child's CPU time (user + sys, from ``RUSAGE_CHILDREN``):
    on a shared two-core machine the wall time also measures whoever else is running.
    Both sides run from cached bytecode, as after ``pip install`` (which compiles): the
    caches go to a temporary ``PYTHONPYCACHEPREFIX``, filled by warm-up runs, so neither a
    ``PYTHONDONTWRITEBYTECODE`` environment nor an editable install tilts the comparison.
    """
    cpu = runner.cpu

    def pin() -> None:
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {cpu})

    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as prefix:
        env = {k: v for k, v in child_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = prefix

        def once(module: str) -> Result:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", _import_code(module)],
                check=True,
                timeout=60,
                env=env,
                preexec_fn=pin,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return {"cpu": used * 1000, "wall": wall * 1000}

        for _ in range(2):  # compile into the cache, and warm the page cache
            once("aiohttp"), once(SDK_IMPORT)
        pairs: list[Pair] = []
        for rep in range(runner.sizes.import_runs):
            if rep % 2 == 0:
                sdk, base = once(SDK_IMPORT), once("aiohttp")
            else:
                base, sdk = once("aiohttp"), once(SDK_IMPORT)
            pairs.append((sdk, base))
    _progress(f"import {runner.sizes.import_runs} runs")
    cpu_row = _pair_row("import", "CPU ms per process", pairs, lambda r: r["cpu"])
    cpu_row.judge("<=", 1.10)
    cpu_row.note = (
        f"python -c '{_import_code(SDK_IMPORT)}' vs python -c 'import aiohttp', both from cached "
        "bytecode; judged on CPU time (user+sys of the process)"
    )
    wall_row = _pair_row("import", "wall ms per process", pairs, lambda r: r["wall"])
    rows = [cpu_row, wall_row]
    if runner.sizes.import_instructions and shutil.which("valgrind"):
        rows.append(_import_instructions(env_base=child_env()))
    return rows


SDK_IMPORT = "backendai_async:Client,ClientConfig"
"""What a user's program imports: the package's names load lazily (PEP 562), so a bare
``import backendai_async`` would measure almost nothing."""


def _import_code(module: str) -> str:
    """``import pkg``, or ``from pkg import a,b`` for ``"pkg:a,b"``."""
    package, _, names = module.partition(":")
    return f"from {package} import {names}" if names else f"import {package}"


_CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


def _import_instructions(env_base: dict[str, str]) -> Row:
    """Machine instructions of each whole import process under callgrind: deterministic.

    Wall and CPU time on a shared machine swing by tens of percent between runs; the
    instruction count does not, so this row tells whether a change to the import really
    helped. (Instructions are not time: cache misses are not counted.)
    """
    counts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as prefix:
        env = {k: v for k, v in env_base.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = prefix
        for module in ("aiohttp", SDK_IMPORT):
            code = _import_code(module)
            subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
            proc = subprocess.run(
                [*_CALLGRIND, sys.executable, "-c", code],
                capture_output=True,
                text=True,
                timeout=600,
                env=env,
                check=True,
            )
            found = re.search(r"Collected : (\d+)", proc.stderr)
            if found is None:
                raise RuntimeError(f"callgrind gave no count: {proc.stderr[-500:]}")
            counts[module] = int(found.group(1)) / 1e6
    _progress("import instructions (callgrind)")
    row = Row(
        "import",
        "M instructions (callgrind)",
        [counts[SDK_IMPORT]],
        [counts["aiohttp"]],
        [counts[SDK_IMPORT] / counts["aiohttp"]],
    )
    row.note = "instructions of the whole import process under valgrind: no noise, not time"
    return row.judge("<=", 1.05)


def _subs_rows(pairs: list[Pair], n: int) -> list[Row]:
    """Memory per subscription with ``n`` open on one client, its flatness, delivery."""
    name = f"subs {n:,}"
    per = _pair_row(name, "KiB/subscription", pairs, lambda r: r["value"])
    per.note = "RSS growth with all subscriptions open, divided by their number"
    flat = _pair_row(name, "KiB/sub, rest vs first tenth", pairs, lambda r: r["rest_kib"])
    flat.ratios = [s["rest_kib"] / s["first_kib"] for s, _ in pairs if s["first_kib"] > 0]
    worst = max(flat.ratios, default=0.0)
    flat.target, flat.met = "SDK <= 1.5", worst <= 1.5
    flat.note = (
        "per-subscription RSS of the last nine tenths vs the first tenth (1.0 = flat); "
        "ratio column: SDK rest/first"
    )
    ok = _pair_row(name, "received the event", pairs, lambda r: r["delivered"])
    ok.ratios = []
    ok.target, ok.met = f"all {n:,}", all(s["delivered"] == n for s, _ in pairs)
    return [per, flat, ok]


def _opcode_row(scenario: str, unit: str, results: list[Result]) -> Row:
    """Bytecodes executed per call (or cycle) on each side, traced after the timed blocks."""
    return Row(
        scenario,
        f"Python opcodes/{unit}",
        [r["sdk"]["opcodes"] for r in results],
        [r["base"]["opcodes"] for r in results],
        [r["sdk"]["opcodes"] / r["base"]["opcodes"] for r in results],
    )


def run_all(runner: Runner, only: Sequence[str]) -> list[Row]:
    s = runner.sizes
    rows: list[Row] = []
    need = set(only)
    if "seq" in need:
        res = runner.interleaved(
            "seq", n=s.seq_n, blocks=s.seq_blocks, warmup=s.seq_warmup, trace=s.seq_trace
        )
        rate, cpu = _interleaved_rows("seq", res, "calls")
        opcodes = _opcode_row("seq", "call", res)
        opcodes.note = (
            "bytecodes executed per call in every module, counted with sys.settrace: "
            "deterministic, so it shows the SDK's own overhead whatever the machine's load"
        )
        rows += [rate.judge(">=", 0.97), cpu, opcodes.judge("<=", 1.05)]
    if "conc" in need:
        res = runner.interleaved(
            "conc",
            n=s.conc_n * s.conc_blocks,
            blocks=s.conc_blocks,
            tasks=s.conc_tasks,
            warmup=s.conc_warmup,
        )
        rate, cpu = _interleaved_rows("conc", res, "calls")
        rows += [rate.judge(">=", 0.97), cpu]
    if "cold" in need:
        res = runner.interleaved("cold", n=s.cold_n, trace=s.cold_trace)
        rate, cpu = _interleaved_rows("cold", res, "cycles")
        rows += [rate.judge(">=", 0.95), cpu, _opcode_row("cold", "cycle", res).judge("<=", 1.10)]
    if "import" in need:
        rows += _import_rows(runner)
    conc_peaks: list[Pair] = []
    if "rss" in need or "scale" in need:
        conc_peaks = runner.pairs(
            "conc",
            s.rss_reps,
            "rss conc",
            n=s.conc_n,
            blocks=1,
            tasks=s.conc_tasks,
            warmup=s.conc_warmup,
        )
    if "rss" in need:
        seq_peaks = runner.pairs(
            "seq", s.rss_reps, "rss seq", n=s.seq_n, blocks=1, warmup=s.seq_warmup
        )
        cold_peaks = runner.pairs("cold", s.rss_reps, "rss cold", n=s.cold_n)
        for name, pairs in (("seq", seq_peaks), ("conc", conc_peaks), ("cold", cold_peaks)):
            rows.append(_pair_row(f"rss {name}", "peak MiB", pairs, _peak_mib).judge("<=", 1.15))
    for scenario in ("transfer", "vfolder"):
        if scenario not in need:
            continue
        for direction in ("up", "down"):  # the upload leaves the file the download fetches
            name = f"{scenario} {direction}"
            pairs = runner.pairs(
                scenario, s.transfer_reps, name, size=s.transfer_size, direction=direction
            )
            rows.append(_pair_row(name, "MiB/s", pairs, lambda r: r["value"]).judge(">=", 0.90))
            growth = _pair_row(name, "peak RSS growth MiB", pairs, lambda r: r["growth_kib"] / 1024)
            worst = max(growth.sdk)
            growth.target, growth.met = "SDK < 32", worst < 32
            growth.note = f"worst SDK run {worst:.1f} MiB (peak during the transfer − RSS before)"
            rows.append(growth)
            rows.append(_pair_row(name, "client CPU µs/MiB", pairs, lambda r: r["cpu_us"]))
    if "scale" in need:
        pairs = runner.pairs("scale", s.scale_reps, n=s.scale_n, limit=s.scale_limit)
        rows.append(_pair_row("scale", "calls/s", pairs, lambda r: r["value"]))
        ok = _pair_row("scale", "calls succeeded", pairs, lambda r: r["succeeded"])
        ok.ratios = []
        ok.target, ok.met = f"all {s.scale_n:,}", all(v == s.scale_n for v in ok.sdk)
        rows.append(ok)
        mem = _pair_row("scale", "peak MiB", pairs, _peak_mib)
        conc_sdk = statistics.median(_peak_mib(sdk) for sdk, _ in conc_peaks)
        conc_base = statistics.median(_peak_mib(base) for _, base in conc_peaks)
        factor = statistics.median(mem.sdk) / conc_sdk
        mem.target, mem.met = "SDK < 2x conc", factor < 2
        mem.note = (
            f"scale/conc peak: SDK {factor:.2f}x, baseline "
            f"{statistics.median(mem.base) / conc_base:.2f}x (conc peaks from the rss runs)"
        )
        rows.append(mem)
    if "events" in need:
        res = runner.interleaved("events", n=s.events_n, blocks=s.events_blocks)
        rate, cpu = _interleaved_rows("events", res, "events")
        rate.note = (
            "client.session_events() (typed SessionEvent) vs a hand-written SSE reader "
            "(line split + json.loads) of the same stream, timed first event to last"
        )
        rows += [rate.judge(">=", 0.90), cpu]
    if "subs" in need:
        rows += _subs_rows(runner.pairs("subs", s.subs_reps, n=s.subs_n), s.subs_n)
    if "sign" in need:
        res = runner.interleaved("sign", n=s.sign_n, blocks=s.sign_blocks)
        rate, _ = _interleaved_rows("sign", res, "signatures")
        rate.note = "baseline = the same signature done naively (datetime, both HMACs per call)"
        rows.append(rate)
    return rows


# --- output -------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _spread(values: Sequence[float], fmt: Callable[[float], str] = _fmt) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}–{fmt(max(values))}]"


def render(rows: Sequence[Row]) -> str:
    """The table, then the notes."""
    header = (
        "scenario",
        "metric",
        "SDK median [min–max]",
        "baseline median [min–max]",
        "SDK/base [min–max]",
        "target",
        "result",
    )
    table = [header]
    for r in rows:
        table.append(
            (
                r.scenario,
                r.metric,
                _spread(r.sdk),
                _spread(r.base),
                _spread(r.ratios, lambda v: f"{v:.2f}"),
                r.target or "(info)",
                "" if r.met is None else ("met" if r.met else "MISSED"),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    out = []
    for i, line in enumerate(table):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.scenario} / {r.metric}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def _load() -> str:
    try:
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average unknown"


def _machine() -> str:
    import aiohttp

    return (
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--only", default=",".join(ALL), help=f"subset of {','.join(ALL)}")
    parser.add_argument("--reps", type=int, default=None, help="processes per scenario")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--json", default=None, help="write the raw figures to this file")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    sizes = SMOKE if args.smoke else FULL
    if args.reps is not None:
        if args.reps < 1:
            parser.error("--reps must be at least 1")
        sizes = dataclasses.replace(sizes, reps=args.reps)
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    started = time.perf_counter()
    print("$ python -m bench" + "".join(" " + shlex.quote(a) for a in sys.argv[1:]))
    print(_machine() + (", server on CPU 0, clients on CPU 1" if pin else ", not pinned"))
    print(f"at start: {_load()}")
    with ServerProcess(cpu=0 if pin else None) as server:
        print(
            f"server: embedded BackendAITestServer at {server.endpoint} "
            f"(transfer file {blob_name(sizes.transfer_size)})"
        )
        runner = Runner(server, sizes, 1 if pin else None)
        try:
            rows = run_all(runner, only)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"\nbench FAILED: {exc}")
            return 2
    print()
    print(render(rows))
    print(f"\nat end: {_load()}; total {time.perf_counter() - started:.0f} s")
    if args.smoke:
        print("(smoke: tiny sizes, one repetition; the timings mean nothing)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"sizes": dataclasses.asdict(sizes), "raw": runner.raw}, f, indent=1)
    missed = [r for r in rows if r.met is False]
    return 1 if missed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())

"""The embedded test server in its own process, so its CPU never shares the client's loop.

``python -m bench.server --port 0`` prints one JSON line (``{"port", "access_key",
"secret_key"}``) once it listens on 127.0.0.1, then serves until SIGINT/SIGTERM
(or, with ``--watch-stdin``, until its stdin closes: a parent that dies takes it along).
The benchmarks use :class:`ServerProcess`, which starts and always stops it. The server has
the compute-session routes (always installed) and forgets its request log every half second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from types import TracebackType
from typing import Any

__all__ = ["ServerInfo", "ServerProcess", "main"]

_CHUNK = 256 * 1024
_CLEAR_EVERY = 0.5
"""Seconds between two purges of the server's request log (keeps its memory flat)."""


# --- inside the server process ----------------------------------------------------------


def _purge_log(app: Any, state: Any) -> None:
    """Forget recorded requests every half second: a bench sends millions of them."""

    async def purge(_app: Any) -> Any:
        async def loop() -> None:
            while True:
                await asyncio.sleep(_CLEAR_EVERY)
                state.requests.clear()

        task = asyncio.get_running_loop().create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(purge)


def _publish_route(app: Any, state: Any) -> None:
    """``POST /_bench/publish?n=&size=`` (unsigned): ``n`` session events of ``size`` bytes
    for the bench session, to every stream following it (the event scenarios)."""
    from aiohttp import web

    from backendai_async.testing import event_hub, session_store

    from ._common import BENCH_SESSION

    async def publish(request: web.Request) -> web.StreamResponse:
        session = session_store(request.app).by_name(BENCH_SESSION)
        if session is None:
            return web.json_response({"error": "create the bench session first"}, status=404)
        n, size = int(request.query["n"]), int(request.query.get("size", "0"))
        hub = event_hub(request.app)
        for i in range(n):
            hub.session_event(session, "session_started", reason=f"{i:08d}".ljust(size, "x"))
        return web.json_response({"published": n, "streams": hub.subscribers})

    app.router.add_route("POST", "/_bench/publish", state.public(publish))


async def _serve(port: int, watch_stdin: bool) -> None:
    from backendai_async.testing import BackendAITestServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        fd = sys.stdin.fileno()

        def on_stdin() -> None:
            if not os.read(fd, 4096):  # EOF: the parent closed the pipe or died
                loop.remove_reader(fd)
                stop.set()

        loop.add_reader(fd, on_stdin)
    routes = [_purge_log, _publish_route]
    async with BackendAITestServer(host="127.0.0.1", port=port, extra_routes=routes) as srv:
        info = {
            "port": srv.endpoint.port,
            "access_key": srv.access_key,
            "secret_key": srv.secret_key,
        }
        print(json.dumps(info), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 = an ephemeral port")
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    from ._common import pin_to_cpu

    pin_to_cpu(args.cpu)
    asyncio.run(_serve(args.port, args.watch_stdin))


# --- in the parent ----------------------------------------------------------------------


class ServerInfo:
    """Where the server listens and the keypair it accepts."""

    __slots__ = ("access_key", "endpoint", "port", "secret_key")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.port: int = int(raw["port"])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.access_key: str = raw["access_key"]
        self.secret_key: str = raw["secret_key"]


class ServerProcess:
    """``with ServerProcess(cpu=0) as info:`` runs ``bench.server`` and always stops it."""

    def __init__(self, cpu: int | None = None, start_timeout: float = 30.0) -> None:
        self._cpu = cpu
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerInfo:
        from ._common import child_env

        cmd = [sys.executable, "-m", "bench.server", "--port", "0", "--watch-stdin"]
        if self._cpu is not None:
            cmd += ["--cpu", str(self._cpu)]
        proc = self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env()
        )
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], self._start_timeout)
            line = proc.stdout.readline() if ready else ""
            if not line:
                raise RuntimeError(f"bench.server did not start (exit code {proc.poll()})")
            return ServerInfo(json.loads(line))
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Close its stdin (it exits), then SIGTERM, then SIGKILL; each bounded."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        for escalate in (None, proc.terminate, proc.kill):
            if escalate is not None:
                escalate()
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    main()

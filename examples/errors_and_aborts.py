"""Errors, deadlines, retries and aborts, shown against the embedded test server."""

from __future__ import annotations

import asyncio

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientConfig,
    RequestTimeoutError,
    ServerError,
)
from backendai_async.testing import BackendAITestServer, Fault


async def main() -> None:
    async with BackendAITestServer() as server:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg) as client:
            missing = (404, "object-not-found", "Nope", None)
            server.add_fault(Fault(path="/auth/role", problem=missing))
            try:
                await client.request("GET", "/auth/role")
            except ServerError as e:
                print("server error:", e.status, e.problem_type)

            server.add_fault(Fault(path="/auth/role", delay=10))
            try:
                await client.request("GET", "/auth/role", timeout=0.5)
            except RequestTimeoutError as e:
                print("timeout:", e.phase, e.limit, "s")

            server.add_fault(Fault(path="/auth/role", status=503, headers={"Retry-After": "0.1"}))
            role = await client.request("GET", "/auth/role", retry=2)
            print("retried GET succeeded:", role["global_role"])

            server.add_fault(Fault(path="/auth/role", delay=10))
            ctl = AbortController()
            call = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
            await server.state.wait_for_request("GET", "/auth/role", 5)
            ctl.abort("stop button")
            try:
                await call
            except AbortError as e:
                print("aborted:", e.message, e.to_dict()["type"])


if __name__ == "__main__":
    asyncio.run(main())

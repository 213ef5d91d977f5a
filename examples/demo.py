"""The main job of `make demo`: a short tour of the SDK against the embedded test server.

It starts a fake Backend.AI manager on 127.0.0.1 (an ephemeral port), then talks to it
exactly as it would to a real one, printing each step.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

# The two other runnable examples of this folder, reused as chapters of the tour.
from session_mode import scenario as session_mode_scenario  # type: ignore[import-not-found]
from sessions import tour as sessions_tour  # type: ignore[import-not-found]

from backendai_async import (
    AbortController,
    AbortError,
    Client,
    ClientConfig,
    ClientError,
    RequestTimeoutError,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    Fault,
)


def step(text: str) -> None:
    print(f"--> {text}")


async def api_mode(server: BackendAITestServer) -> None:
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    print(f"config: {cfg}")
    async with Client(cfg, agent_signature="demo") as client:
        step("GET / (unauthenticated server version)")
        print("   ", await client.get_server_version())
        step("negotiate the API version")
        print(f"    manager {await client.get_manager_version()}, speaking {client.api_version}")
        print(f"    supports multi-container: {client.supports('multi-container')}")
        step("signed GET /auth/role")
        print("   ", await client.request("GET", "/auth/role"))
        step("GraphQL: client.query() returns the answer's data")
        me = (await client.query("{ user { email role } }"))["user"]
        print(f"    user {me['email']}, role {me['role']}")
        step("a 2-second stall with a 0.5 s deadline")
        server.add_fault(Fault(path="/auth/role", delay=2))
        try:
            await client.request("GET", "/auth/role", timeout=0.5)
        except RequestTimeoutError as e:
            print(f"    {type(e).__name__} ({e.type.name}): {e.message}")
        step("aborting a call in flight")
        server.add_fault(Fault(path="/auth/role", delay=2))
        ctl = AbortController()
        call = asyncio.create_task(client.request("GET", "/auth/role", signal=ctl.signal))
        await server.state.wait_for_request("GET", "/auth/role", 3)
        ctl.abort("demo abort")
        try:
            await call
        except AbortError as e:
            print(f"    {type(e).__name__} ({e.type.name}): {e.message}")
    step("a wrong secret key")
    bad = ClientConfig(server.access_key, "not-the-secret", str(server.endpoint))
    async with Client(bad) as client:
        try:
            await client.request("GET", "/auth/role")
        except ClientError as e:
            print(f"    {type(e).__name__} {e.status}: {e.message} ({e.problem_type})")


def chapter(title: str) -> None:
    print(f"\n=== {title} ===")


async def main() -> None:
    async with BackendAITestServer() as server:
        chapter("API mode: signed calls, negotiation, errors, deadlines, aborts")
        print(f"embedded Backend.AI test server at {server.endpoint}")
        await api_mode(server)
        chapter("compute sessions: create, run code, upload, download, destroy")
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        with tempfile.TemporaryDirectory() as tmp:
            async with Client(cfg, agent_signature="demo") as client:
                await sessions_tour(client, Path(tmp))
        print(
            f"the server received {len(server.requests)} requests and checked every signature "
            "with its own verifier"
        )
    chapter("SESSION mode: log in to the webserver, call through /func, log out")
    user = next(u for u in EXAMPLE_WEB_USERS if u.email == "user@lablup.com")
    async with BackendAITestWebserver() as webserver:
        print(f"embedded webserver at {webserver.endpoint}")
        await session_mode_scenario(str(webserver.endpoint), user.email, user.password)


if __name__ == "__main__":
    asyncio.run(main())

"""Compute sessions end to end, against the embedded test server (no Backend.AI needed).

It starts a fake manager with the session routes on 127.0.0.1, creates a session, runs code
in it, uploads and downloads a file (streamed), and destroys it, printing each step. Point
``ClientConfig`` at a real manager to do the same there.

    python examples/sessions.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from backendai_async import Client, ClientConfig, ExecuteResult, ServerError
from backendai_async.resources.sessions import SessionResources
from backendai_async.testing import BackendAITestServer, register_session_routes

IMAGE = "cr.backend.ai/stable/python:3.9-ubuntu20.04"


def step(text: str) -> None:
    print(f"--> {text}")


def show_console(result: ExecuteResult) -> None:
    run = result["result"]
    for stream, text in run["console"]:
        print(f"    [{stream}] {text.rstrip()}")
    print(f"    status={run['status']} exitCode={run['exitCode']}")


async def tour(client: Client, workdir: Path) -> None:
    step("create a session (or reuse the one of that name)")
    resources = SessionResources(cpu=1, mem="1g", env={"GREETING": "hello"})
    created = await client.create_if_not_exists(IMAGE, "demo-session", resources)
    print(f"    {created['sessionName']} {created['sessionId']} {created['status']}")
    print(f"    created={created['created']}")
    again = await client.create_if_not_exists(IMAGE, "demo-session")
    same = again["sessionId"] == created["sessionId"]
    print(f"    asked again: created={again['created']} (same id: {same})")

    step("session info")
    info = await client.get_info("demo-session")
    print(f"    status={info['status']} image={info['image']}")

    step("run code (query mode)")
    show_console(
        await client.execute(
            "demo-session", None, "query", "print('hello from the session')\nprint(6 * 7)"
        )
    )

    step("a run that asks for input, answered with mode 'input'")
    waiting = await client.execute(
        "demo-session", "demo-run-1", "query", "input('your name? ')\nprint('bye')"
    )
    show_console(waiting)
    show_console(await client.execute("demo-session", "demo-run-1", "input", "Ada"))

    step("upload a file (streamed; progress reported per chunk)")
    local = workdir / "numbers.csv"
    local.write_text("".join(f"{i},{i * i}\n" for i in range(50_000)))
    size = local.stat().st_size
    await client.upload(
        "demo-session",
        "data/numbers.csv",
        local,
        progress=lambda sent, total: (
            print(f"    sent {sent:>7} / {total} bytes") if sent == total else None
        ),
    )
    listing = await client.list_files("demo-session", "data")
    print(f"    the session now has: {listing['abspath']} -> {listing['files'][:80]}...")

    step("download it again, to a file (written atomically)")
    copy = await client.download_single("demo-session", "data/numbers.csv", workdir / "copy.csv")
    identical = copy.read_bytes() == local.read_bytes()
    print(f"    {copy} ({copy.stat().st_size} bytes, identical: {identical})")

    step("or as a stream of chunks")
    async with await client.download_single("demo-session", "data/numbers.csv") as stream:
        chunks = [len(chunk) async for chunk in stream]
    print(f"    {len(chunks)} chunks, {sum(chunks)} bytes of {size}")

    step("destroy the session")
    print(f"    {await client.destroy('demo-session', forced=True)}")
    try:
        await client.get_info("demo-session")
    except ServerError as e:
        print(f"    afterwards: {e.status} {e.problem_type}")


async def main() -> None:
    async with BackendAITestServer(extra_routes=[register_session_routes]) as server:
        print(f"embedded manager at {server.endpoint}")
        config = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        with tempfile.TemporaryDirectory() as tmp:
            async with Client(config) as client:
                await tour(client, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())

"""Quick start against a real Backend.AI manager (keys from the environment).

    BACKEND_ACCESS_KEY=... BACKEND_SECRET_KEY=... BACKEND_ENDPOINT=http://127.0.0.1:8081 \
        python examples/quickstart.py
"""

from __future__ import annotations

import asyncio

from backendai_async import Client, ClientConfig


async def main() -> None:
    async with Client(ClientConfig.from_env(), agent_signature="quickstart") as client:
        print("manager", await client.get_manager_version(), "speaking", client.api_version)
        print("role", await client.request("GET", "/auth/role"))
        data = await client.query("{ images { name tag } }")
        print("images", data["images"])


if __name__ == "__main__":
    asyncio.run(main())

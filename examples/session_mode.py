"""SESSION mode end to end: log in to a webserver, call the API through it, log out.

Runs against the embedded fake webserver (in front of the embedded fake manager):

    python examples/session_mode.py

Against a real webserver, pass its URL and an account instead:

    python examples/session_mode.py http://127.0.0.1:8090 user@lablup.com 'PASSWORD'
"""

from __future__ import annotations

import asyncio
import json
import sys

from backendai_async import AuthenticationError, Client, ClientConfig
from backendai_async.testing import EXAMPLE_WEB_USERS, BackendAITestWebserver


async def scenario(endpoint: str, email: str, password: str) -> None:
    cfg = ClientConfig(email, password, endpoint, "SESSION")
    print(f"config: {cfg!r}")  # the password is shown as ********
    async with Client(cfg, agent_signature="session-mode-example") as client:
        print("logged in already?", await client.check_login())
        result = await client.login()
        if not result:
            print("login refused:", result.fail_reason)
            return
        print(f"logged in as {result.role} with access key {result.access_key}")
        print("manager", await client.get_manager_version(), "speaking", client.api_version)
        role = await client.request("GET", "/auth/role")  # sent as /func/auth/role
        print("role through /func:", role)

        saved = json.dumps(client.export_session().to_dict())  # e.g. into your own store
        print("saved login:", client.export_session())  # the session id is masked
        async with Client(cfg, login_state=json.loads(saved)) as restored:
            print("restored client logged in?", await restored.check_login())

        await client.logout()
        print("after logout, logged in?", await client.check_login())
        try:
            await client.request("GET", "/auth/role")
        except AuthenticationError as err:
            print("a call after logout:", err.type.name, err.status, err.message)


async def main() -> None:
    if len(sys.argv) == 4:
        await scenario(*sys.argv[1:4])
        return
    user = next(u for u in EXAMPLE_WEB_USERS if u.email == "user@lablup.com")
    async with BackendAITestWebserver() as webserver:
        print(
            f"embedded webserver at {webserver.endpoint}, manager at {webserver.manager.endpoint}"
        )
        await scenario(str(webserver.endpoint), user.email, user.password)
        wrong = Client(
            ClientConfig(user.email, "a-wrong-password", str(webserver.endpoint), "SESSION")
        )
        async with wrong:
            refused = await wrong.login()
            print("wrong password ->", bool(refused), "-", refused.fail_reason)
        reached = [(r.method, r.path, r.access_key) for r in webserver.manager.requests]
        print("the manager received:", reached)


if __name__ == "__main__":
    asyncio.run(main())

"""client.user_config: dotfiles and the bootstrap script of the caller's keypair."""

from __future__ import annotations

import pytest

from backendai_async import Client, ClientConfig, ServerError
from backendai_async.testing import BackendAITestServer

from ._admin_rest import ADMIN_AK, USER_AK, last, refused_before_sending, user_config


async def test_dotfile_round_trip(client: Client, server: BackendAITestServer) -> None:
    assert await client.user_config.get() == []
    await client.user_config.create("alias ll='ls -l'\n", ".bashrc")
    assert last(server, "POST", "/user-config/dotfiles").json == {
        "path": ".bashrc",
        "data": "alias ll='ls -l'\n",
        "permission": "644",
    }
    await client.user_config.create("", ".vimrc", permission="600")
    await client.user_config.update("set nu\n", ".vimrc", permission="640")
    assert await client.user_config.get() == [
        {"path": ".bashrc", "permission": "644", "data": "alias ll='ls -l'\n"},
        {"path": ".vimrc", "permission": "640", "data": "set nu\n"},
    ]
    assert await client.user_config.delete(".bashrc") == {"success": True}
    sent = last(server, "DELETE", "/user-config/dotfiles")
    assert sent.raw_path == "/user-config/dotfiles?path=.bashrc"
    assert sent.body == b""
    assert [f["path"] for f in await client.user_config.get()] == [".vimrc"]


async def test_the_server_refuses_duplicates_and_missing_dotfiles(client: Client) -> None:
    await client.user_config.create("x", ".profile")
    with pytest.raises(ServerError) as dup:
        await client.user_config.create("y", ".profile")
    assert (dup.value.status, dup.value.title) == (400, "400 Bad Request - Dotfile already exists.")
    for call in (client.user_config.update("z", ".nope"), client.user_config.delete(".nope")):
        with pytest.raises(ServerError) as missing:
            await call
        assert missing.value.status == 404


async def test_delete_works_on_26_9_which_reads_only_the_query() -> None:
    async with BackendAITestServer(manager_version="26.9.6") as server:
        cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
        async with Client(cfg) as client:
            await client.user_config.create("x", ".zshrc")
            assert await client.user_config.delete(".zshrc") == {"success": True}
            with pytest.raises(ServerError) as body_only:  # what the JS SDK sends
                await client.request("DELETE", "/user-config/dotfiles", json={"path": ".zshrc"})
    assert body_only.value.status == 400


async def test_dotfiles_belong_to_the_calling_keypair(server: BackendAITestServer) -> None:
    async with Client(user_config(server)) as user:
        await user.user_config.create("u", ".userrc")
        with pytest.raises(ServerError) as refused:
            await user.user_config.create("x", ".evil", owner_access_key=ADMIN_AK)
    assert refused.value.status == 403
    assert [f["path"] for f in server.state.extras["dotfiles"][USER_AK]] == [".userrc"]
    assert server.state.extras["dotfiles"].get(ADMIN_AK, []) == []


async def test_bootstrap_script(client: Client, server: BackendAITestServer) -> None:
    assert await client.user_config.get_bootstrap_script() == ""
    await client.user_config.update_bootstrap_script("  pip install rich\n")
    assert last(server, "POST", "/user-config/bootstrap-script").json == {
        "script": "  pip install rich\n"
    }
    assert await client.user_config.get_bootstrap_script() == "pip install rich"
    await client.user_config.update_bootstrap_script("")
    assert await client.user_config.get_bootstrap_script() == ""


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.user_config.create("x", ""), "path"),
        (lambda c: c.user_config.create(None, ".a"), "data"),
        (lambda c: c.user_config.create("x", ".a", permission="888"), "permission"),
        (lambda c: c.user_config.update("x", ".a", permission=644), "permission"),
        (lambda c: c.user_config.delete(""), "path"),
        (lambda c: c.user_config.update_bootstrap_script(None), "script"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, call: object, words: str
) -> None:
    await refused_before_sending(server, call(client), words, "/user-config")  # type: ignore[operator]

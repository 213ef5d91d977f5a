"""Client-level account calls (resource slots, SSH keypair, TOTP, slugify, direct access)."""

from __future__ import annotations

import pytest

from backendai_async import Client, ServerError
from backendai_async.resources.account import Account
from backendai_async.testing import BackendAITestServer, session_store

from ._admin_rest import ADMIN_AK, last, user_config


async def test_resource_slots_use_the_path_of_the_negotiated_version(
    client: Client, server: BackendAITestServer
) -> None:
    assert await client.get_resource_slots() == {"cpu": "count", "mem": "bytes"}
    assert last(server, "GET", "/config/resource-slots").auth_ok
    async with BackendAITestServer(api_version="v4.20190315") as old:
        async with Client(user_config(old)) as c:
            assert await c.get_resource_slots() == {"cpu": "count", "mem": "bytes"}
        assert [r.path for r in old.requests if r.path != "/"] == ["/etcd/resource-slots"]


async def test_ssh_keypair_fetch_refresh_and_post(
    client: Client, server: BackendAITestServer
) -> None:
    assert await client.fetch_ssh_keypair() == {"ssh_public_key": None}
    fresh = await client.refresh_ssh_keypair()
    assert fresh["ssh_private_key"].startswith("-----BEGIN")
    assert await client.fetch_ssh_keypair() == {"ssh_public_key": fresh["ssh_public_key"]}
    assert last(server, "PATCH", "/auth/ssh-keypair").body == b""
    mine = await client.post_ssh_keypair({"pubkey": "ssh-ed25519 AAAA me", "privkey": "PRIV"})
    assert mine == {"ssh_public_key": "ssh-ed25519 AAAA me\n", "ssh_private_key": "PRIV\n"}
    assert last(server, "POST", "/auth/ssh-keypair").json == {
        "pubkey": "ssh-ed25519 AAAA me",
        "privkey": "PRIV",
    }
    assert server.state.extras["ssh_keypairs"][ADMIN_AK] == mine


async def test_a_refused_ssh_upload_does_not_show_the_private_key(
    client: Client, server: BackendAITestServer
) -> None:
    from backendai_async.testing import Fault

    server.add_fault(Fault(path="/auth/ssh-keypair", status=500, before_auth=False))
    secret = "-----BEGIN PRIVATE KEY----- abcdefghijklmnop"
    with pytest.raises(ServerError) as info:
        await client.post_ssh_keypair({"pubkey": "pk", "privkey": secret})
    err = info.value
    assert err.request_parameters == {"pubkey": "pk", "privkey": "********"}
    assert secret not in repr(err.to_dict())
    assert secret not in str(err)


@pytest.mark.parametrize(
    ("param", "words"),
    [
        ("pk", "mapping"),
        ({"pubkey": "pk"}, "privkey"),
        ({"pubkey": "", "privkey": "x"}, "pubkey"),
        ({"pubkey": "a", "privkey": "b", "extra": 1}, "unknown keys"),
    ],
)
async def test_bad_ssh_keypairs_are_refused_before_sending(
    client: Client, server: BackendAITestServer, param: object, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        await client.post_ssh_keypair(param)  # type: ignore[arg-type]
    assert server.count("POST", "/auth/ssh-keypair") == 0


async def test_totp_probe_is_false_only_on_404(client: Client, server: BackendAITestServer) -> None:
    assert await client.is_manager_supporting_totp() is False  # open source: 404
    server.state.extras["plugin_answers"] = {"GET /totp": None}  # 200 with an empty body
    assert await client.is_manager_supporting_totp() is True
    server.state.extras["plugin_answers"] = {"GET /totp": (500, {"title": "boom"})}
    with pytest.raises(ServerError) as info:
        await client.is_manager_supporting_totp()
    assert info.value.status == 500


async def test_totp_calls_send_what_the_plugin_reads(
    client: Client, server: BackendAITestServer
) -> None:
    answers = {
        "POST /totp": {"totp_key": "K", "totp_uri": "otpauth://x"},
        "POST /totp/anon": {"totp_key": "K2"},
        "POST /totp/verify": {},
        "POST /totp/anon/verify": {},
        "DELETE /totp": {},
    }
    server.state.extras["plugin_answers"] = answers
    assert (await client.initialize_totp())["totp_uri"] == "otpauth://x"
    assert await client.initialize_totp_anon("reg-token-123") == {"totp_key": "K2"}
    await client.activate_totp("123456")
    await client.activate_totp_anon("654321", registration_token="reg-token-123")
    await client.remove_totp()
    await client.remove_totp("user@lablup.com")
    sent = [(r.method, r.raw_path, r.json) for r in server.requests if r.path.startswith("/totp")]
    assert sent == [
        ("POST", "/totp", {}),
        ("POST", "/totp/anon", {"registration_token": "reg-token-123"}),
        ("POST", "/totp/verify", {"otp": "123456"}),
        ("POST", "/totp/anon/verify", {"otp": "654321", "registration_token": "reg-token-123"}),
        ("DELETE", "/totp", {}),
        ("DELETE", "/totp?email=user@lablup.com", {}),
    ]
    with pytest.raises(ValueError, match="otp"):
        await client.activate_totp("")


async def test_direct_access_info_of_a_system_session(
    client: Client, server: BackendAITestServer
) -> None:
    await client.create_if_not_exists("python", "plain-sess")
    await client.create_if_not_exists("python", "sftp-sess")
    assert await client.get_direct_access_info("plain-sess") == {}
    session = session_store(server).find("sftp-sess", ADMIN_AK)
    assert session is not None
    session.kernel_role = "SYSTEM"
    session.service_ports = [{"name": "sftpd", "protocol": "tcp", "host_ports": [30022]}]
    info = await client.sessions.get_direct_access_info("sftp-sess")
    assert info == {"kernel_role": "SYSTEM", "public_host": "127.0.0.1", "sshd_ports": [30022]}
    with pytest.raises(ServerError) as missing:
        await client.get_direct_access_info("no-such-session")
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello, World", "hello-world"),
        ("  Crème brûlée & Co  ", "creme-brulee-and-co"),
        ("a__b//c", "a-b-c"),
        ("Ünïcode Test!!", "unicode-test"),
        ("--x--", "x"),
        ("日本", ""),
    ],
)
def test_slugify_matches_the_js_rule(text: str, slug: str) -> None:
    assert Account.slugify(text) == slug
    assert Client.slugify(text) == slug


def test_client_level_names_keep_the_namespace_signatures() -> None:
    import inspect

    for name in (
        "get_resource_slots",
        "fetch_ssh_keypair",
        "refresh_ssh_keypair",
        "post_ssh_keypair",
        "is_manager_supporting_totp",
        "initialize_totp",
        "initialize_totp_anon",
        "activate_totp",
        "activate_totp_anon",
        "remove_totp",
    ):
        alias = getattr(Client, name)
        assert alias.__doc__.startswith("Alias of ``client.account."), name
        params = list(inspect.signature(getattr(Account, name)).parameters)
        assert params[0] == "self"

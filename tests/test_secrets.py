"""Secrets (secret key, password, signatures) never reach reprs, logs or error objects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from backendai_async import Client, ClientConfig, ClientError, ErrorType
from backendai_async._secrets import redact
from backendai_async.errors import mask_secrets
from backendai_async.middleware import HmacSigner
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import error_graph_texts


async def test_debug_logs_and_errors_carry_no_secret_or_signature(
    server: BackendAITestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = ClientConfig(server.access_key, server.secret_key, str(server.endpoint))
    texts: list[str] = [repr(cfg), str(cfg)]
    async with Client(cfg) as client:
        texts.append(repr(client))
        await client.request("POST", "/_test/echo/x", json={"echo": "x", "password": "pw-123456"})
        server.add_fault(Fault(path="/auth", status=500, body="boom", times=None))
        with pytest.raises(ClientError) as info:
            await client.request(
                "POST", "/auth", json={"password": "pw-123456", "secret_key": server.secret_key}
            )
        err = info.value
        texts += [repr(err), str(err), repr(err.to_dict()), repr(err.request_parameters)]
    signatures = [
        r.headers["Authorization"].rsplit(":", 1)[1]
        for r in server.requests
        if "Authorization" in r.headers
    ]
    assert signatures
    texts.append(caplog.text)
    assert "POST" in caplog.text  # the log does say what happened
    blob = "\n".join(texts)
    for secret in (server.secret_key, "pw-123456", *signatures):
        assert secret not in blob
    assert err.request_parameters == {"password": "********", "secret_key": "********"}


def test_signer_repr_hides_the_secret() -> None:
    signer = HmacSigner("AK", "very-secret")
    assert "very-secret" not in repr(signer)


def test_mask_secrets_is_recursive() -> None:
    masked = mask_secrets({"a": [{"Token": "t"}, {"ok": 1}], "nested": {"passwd": "x"}})
    assert masked == {"a": [{"Token": "********"}, {"ok": 1}], "nested": {"passwd": "********"}}


# -- the whole error graph: str, repr, to_dict, traceback, __cause__/__context__ ------------


@contextlib.asynccontextmanager
async def _raw_server(answer: bytes) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A loopback server that records each request head and answers ``answer`` verbatim."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], heads
    finally:
        server.close()
        await server.wait_closed()


def _signature_of(head: bytes) -> str:
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("authorization:"):
            return line.rsplit(":", 1)[1]
    raise AssertionError("no Authorization header sent")


def _leaked(err: BaseException, secrets: list[str]) -> list[str]:
    blob = "\n".join(error_graph_texts(err))
    return [s for s in secrets if s in blob]


BAD_ANSWERS = {
    "bad header after status": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad Header\r\n\r\n{}",
    "bad status line": b"HTTP/1.1 2x0 Nope\r\n\r\n",
    "truncated chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: /x?token=tok-in-location\r\n"
    b"Content-Length: 0\r\n\r\n",
}


@pytest.mark.parametrize("answer", list(BAD_ANSWERS.values()), ids=list(BAD_ANSWERS))
async def test_no_secret_is_reachable_from_an_error_of_a_broken_answer(answer: bytes) -> None:
    secret_key = "very-secret-key-123"
    token = "tok-secret-in-query-456"
    async with _raw_server(answer) as (port, heads):
        cfg = ClientConfig("AKTEST", secret_key, f"http://127.0.0.1:{port}")
        async with Client(cfg) as client:
            client._apply_server_version({"version": "v6.20230315", "manager": "23.09.10"})
            with pytest.raises(ClientError) as info:
                await client.request("GET", "/folders", params={"token": token, "x": "1"})
    assert heads, "the request reached the server"
    expected = (
        ErrorType.ERR_SERVER if answer.startswith(b"HTTP/1.1 302") else ErrorType.ERR_RESPONSE
    )
    assert info.value.type is expected  # a status line arrived: never ERR_REQUEST/UNKNOWN
    secrets = [secret_key, token, _signature_of(heads[0]), "tok-in-location"]
    assert _leaked(info.value, secrets) == []
    assert "x=1" in info.value.request_url or info.value.request_url.endswith("/folders")


async def test_no_secret_leaks_through_a_proxy_or_an_endpoint_with_user_info(
    free_port: int,
) -> None:
    async with _raw_server(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n") as (port, _):
        cfg = ClientConfig(
            "AKTEST",
            "very-secret-key-123",
            f"http://me:endpoint-pw-789@127.0.0.1:{free_port}",
            proxy=f"http://u:proxy-pw-789@127.0.0.1:{port}",
        )
        async with Client(cfg) as client:
            client._apply_server_version({"version": "v6.20230315", "manager": "23.09.10"})
            with pytest.raises(ClientError) as info:
                await client.request("GET", "/folders")
    assert _leaked(info.value, ["endpoint-pw-789", "proxy-pw-789", "very-secret-key-123"]) == []


def test_redact_masks_what_errors_could_carry() -> None:
    text = (
        "url='http://u:pw-123456@h/x?a=1&sToken=abcdefgh123&token=zz' "
        "headers={'Authorization': 'BackendAI signMethod=HMAC-SHA256, credential=AK:0123abcd', "
        "'Cookie': 'AIOHTTP_SESSION=abcdef123456', 'X-BackendAI-SessionID': 'sid-123456'} "
        "known-secret-value"
    )
    masked = redact(text, ["known-secret-value"])
    for secret in (
        "pw-123456",
        "abcdefgh123",
        "0123abcd",
        "abcdef123456",
        "sid-123456",
        "known-secret-value",
    ):
        assert secret not in masked
    assert "a=1" in masked

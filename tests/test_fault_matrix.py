"""The fault matrix: every fault × a JSON call, a streamed download and a streamed upload.

For each cell: the ErrorType (or success where the fault cannot matter), a message that says
what happened, no connection left acquired, no pending task, no unclosed-resource warning
(the autouse fixture of conftest.py), no partial download left behind, and no resend of a
request that must not be repeated.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme

from backendai_async import Client, ClientConfig, ClientError, ErrorType, Timeouts
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import acquired_connections
from .rawhttp import compress, zero_bomb

SESSION = "matrix-sess"
FILE = "data.bin"
FILE_BYTES = bytes(range(256)) * 256  # 64 KiB
BASE = f"/session/{SESSION}"
PATHS = {"json": BASE, "download": f"{BASE}/download_single", "upload": f"{BASE}/upload"}
OPS = ("json", "download", "upload")
LIMIT = 0.4  # seconds: the deadline (JSON) or the idle-read limit (transfers)

REQ, RESP, SERVER, TIMEOUT = (
    ErrorType.ERR_REQUEST,
    ErrorType.ERR_RESPONSE,
    ErrorType.ERR_SERVER,
    ErrorType.ERR_TIMEOUT,
)
OK = None  # the call succeeds: the fault does not touch what it needs


@dataclass
class Case:
    """One fault and what each operation must give, with a word its message must contain."""

    name: str
    expect: dict[str, ErrorType | None]
    words: dict[str, str] = field(default_factory=dict)
    fault: Callable[[str], Fault] | None = None
    network: str | None = None  # refused | dns | tls: no server-side fault, a broken network
    setup: Callable[[BackendAITestServer], None] | None = None
    max_size: int | None = None


def _all(kind: ErrorType | None, word: str = "") -> dict[str, ErrorType | None]:
    return dict.fromkeys(OPS, kind)


CASES = [
    Case("connection refused", _all(REQ), dict.fromkeys(OPS, "cannot connect"), network="refused"),
    Case("unresolvable host", _all(REQ), dict.fromkeys(OPS, "cannot resolve"), network="dns"),
    Case("TLS verification failure", _all(REQ), dict.fromkeys(OPS, "TLS"), network="tls"),
    Case(
        "closed before the status line",
        _all(REQ),
        dict.fromkeys(OPS, "connection"),
        lambda p: Fault(path=p, drop=True, times=None),
    ),
    Case(
        "reset mid-body",
        _all(RESP),
        dict.fromkeys(OPS, "reading response has failed"),
        lambda p: Fault(path=p, reset_mid_body=True, body_size=100_000, times=None),
    ),
    Case(
        "stall before headers",
        _all(TIMEOUT),
        dict.fromkeys(OPS, "timed out"),
        lambda p: Fault(path=p, delay=60, times=None),
    ),
    Case(
        "stall mid-body",
        _all(TIMEOUT),
        dict.fromkeys(OPS, "timed out"),
        lambda p: Fault(path=p, stall_mid_body=60, body_size=100_000, times=None),
    ),
    Case(
        "500 HTML page",
        _all(SERVER),
        dict.fromkeys(OPS, "500 Internal Server Error"),
        lambda p: Fault(path=p, status=500, body="<html>oops</html>", content_type="text/html"),
    ),
    Case(
        "502 empty body",
        _all(SERVER),
        dict.fromkeys(OPS, "502 Bad Gateway"),
        lambda p: Fault(path=p, status=502, body=b""),
    ),
    Case(
        "503 with Retry-After",
        _all(SERVER),
        dict.fromkeys(OPS, "503"),
        lambda p: Fault(path=p, status=503, body="busy", headers={"Retry-After": "1"}),
    ),
    Case(
        "429 with Retry-After",
        _all(SERVER),
        dict.fromkeys(OPS, "429"),
        lambda p: Fault(path=p, status=429, body="slow down", headers={"Retry-After": "1"}),
    ),
    Case(
        "2xx malformed JSON",
        {"json": RESP, "download": OK, "upload": OK},
        {"json": "unusable application/json body"},
        lambda p: Fault(path=p, malformed_json=True),
    ),
    Case(
        "2xx JSON null",
        {"json": RESP, "download": OK, "upload": OK},
        {"json": "expected a JSON object, got null"},
        lambda p: Fault(path=p, json_null=True),
    ),
    Case(
        "redirect to another host",
        _all(SERVER),
        dict.fromkeys(OPS, "not followed"),
        lambda p: Fault(path=p, redirect="http://127.0.0.2:9/elsewhere"),
    ),
    Case(
        "401/400 for clock skew",
        _all(SERVER),
        dict.fromkeys(OPS, "clock skew"),
        setup=lambda srv: setattr(srv, "clock_offset", 3600.0),
    ),
    Case(
        "gzip bomb over the configured limit",
        {"json": RESP, "download": OK, "upload": OK},
        {"json": "max_response_size"},
        lambda p: Fault(
            path=p,
            body=zero_bomb(8),  # 8 MiB of zeros in about 8 KiB of gzip
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        ),
        max_size=10_000,
    ),
    Case(
        "corrupt gzip body",
        {"json": RESP, "download": RESP, "upload": OK},
        {"json": "corrupt", "download": "corrupt"},
        lambda p: Fault(
            path=p,
            body=b"\x1f\x8b\x08\x00" + b"garbage" * 100,
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        ),
    ),
    Case(
        "truncated gzip body",
        {"json": RESP, "download": RESP, "upload": OK},
        {"json": "truncated", "download": "truncated"},
        lambda p: Fault(
            path=p,
            body=compress(b'{"k": "' + b"v" * 100_000 + b'"}', "gzip")[:-40],
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        ),
    ),
    Case(
        "encoding not asked for (br)",
        {"json": RESP, "download": RESP, "upload": OK},
        {"json": "does not decode", "download": "does not decode"},
        lambda p: Fault(
            path=p, body=b"{}", content_type="application/json", headers={"Content-Encoding": "br"}
        ),
    ),
    Case(
        "500 with a corrupt gzip body",
        _all(SERVER),
        dict.fromkeys(OPS, "500 Internal Server Error"),
        lambda p: Fault(
            path=p,
            status=500,
            body=b"\x1f\x8bnot gzip",
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        ),
    ),
    Case(
        "body over the configured limit",
        {"json": RESP, "download": OK, "upload": OK},
        {"json": "max_response_size"},
        lambda p: Fault(path=p, body_size=50_000),
        max_size=10_000,
    ),
]


class _NoDns(aiohttp.abc.AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> Any:
        raise OSError(-2, f"Name or service not known: {host}")

    async def close(self) -> None:
        return None


async def _operation(client: Client, op: str, tmp: Path) -> Any:
    if op == "json":
        return await client.get_info(SESSION, timeout=LIMIT)
    if op == "download":
        return await client.download_single(SESSION, FILE, tmp / "out.bin", idle_timeout=LIMIT)
    return await client.upload(SESSION, "up.bin", io.BytesIO(FILE_BYTES), idle_timeout=LIMIT)


@pytest.fixture
async def prepared(tmp_path: Path) -> AsyncIterator[BackendAITestServer]:
    """A server with the session and its file in place."""
    async with BackendAITestServer() as srv:
        cfg = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint))
        async with Client(cfg) as client:
            await client.create_if_not_exists("python", SESSION)
            await client.upload(SESSION, FILE, io.BytesIO(FILE_BYTES))
        srv.clear()
        yield srv


async def _broken_network_client(
    kind: str, srv: BackendAITestServer, stack: list[Callable[[], Awaitable[None]]], port: int
) -> Client:
    opts: dict[str, Any] = {}
    endpoint = str(srv.endpoint)
    if kind == "refused":
        endpoint = f"http://127.0.0.1:{port}"
    elif kind == "tls":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        trustme.CA().issue_cert("127.0.0.1").configure_cert(ctx)  # signed by nobody we trust
        tls = BackendAITestServer(ssl_context=ctx)
        await tls.start()
        stack.append(tls.close)
        endpoint = str(tls.endpoint)
    elif kind == "dns":
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_NoDns()))
        stack.append(session.close)
        opts["session"] = session
        endpoint = "http://backend.invalid:8081"
    client = Client(ClientConfig(srv.access_key, srv.secret_key, endpoint), **opts)
    # Negotiation cannot happen on a broken network: pin the version so that the failing
    # request is the operation's own.
    client._apply_server_version({"version": "v6.20230315", "manager": "23.09.10"})
    return client


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault_matrix(
    prepared: BackendAITestServer, tmp_path: Path, free_port: int, case: Case, op: str
) -> None:
    srv = prepared
    cleanups: list[Callable[[], Awaitable[None]]] = []
    tasks_before = asyncio.all_tasks()
    if case.network is not None:
        client = await _broken_network_client(case.network, srv, cleanups, free_port)
    else:
        cfg = ClientConfig(
            srv.access_key,
            srv.secret_key,
            str(srv.endpoint),
            max_response_size=case.max_size or 64 * 1024 * 1024,
            timeouts=Timeouts(total=30),
        )
        client = Client(cfg)
        await client.get_manager_version()
        if case.fault is not None:
            srv.add_fault(case.fault(PATHS[op]))
        if case.setup is not None:
            case.setup(srv)
    try:
        expected = case.expect[op]
        if expected is None:
            await _operation(client, op, tmp_path)
        else:
            with pytest.raises(ClientError) as info:
                await _operation(client, op, tmp_path)
            err = info.value
            assert err.type is expected, f"{case.name}/{op}: {err!r}"
            word = case.words.get(op, "")
            assert word in err.message, f"{case.name}/{op}: {err.message!r}"
            assert err.request_method in ("GET", "POST")
        assert acquired_connections(client) == 0
        assert len(client._in_flight) == 0
        # A failed download leaves nothing under its name, nor a temp file beside it.
        if op == "download" and expected is not None:
            assert os.listdir(tmp_path) == []
        # Nothing that must not be repeated was sent twice: the POST upload exactly once;
        # a GET at most twice (aiohttp's own single resend on a dropped keep-alive).
        sent = srv.count(path=PATHS[op])
        if case.network is None:
            assert sent == 1 if op == "upload" else 1 <= sent <= 2, sent
    finally:
        await client.close()
        for cleanup in reversed(cleanups):
            await cleanup()
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - tasks_before if _client_side(t)]
    assert not leftover, leftover


def _client_side(task: asyncio.Task[Any]) -> bool:
    """A pending task started by the SDK or aiohttp's client (not the test server's)."""
    if task.done() or task is asyncio.current_task():
        return False
    code = getattr(task.get_coro(), "cr_code", None)
    filename = code.co_filename if code is not None else ""
    in_sdk = "backendai_async" in filename and "testing" not in filename
    return in_sdk or ("aiohttp" in filename and "/web" not in filename)

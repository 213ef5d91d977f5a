"""Streamed uploads and downloads: flat memory, progress, atomic files, odd names, failures."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    ByteStream,
    Client,
    ClientConfig,
    ErrorType,
    RequestTimeoutError,
    ResponseError,
    ServerError,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    Fault,
    register_session_routes,
    session_store,
)

from .conftest import acquired_connections

MiB = 1024 * 1024
SESSION = "sess.with.dots"
SINGLE = f"/session/{SESSION}/download_single"


@pytest.fixture
async def server() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer(extra_routes=[register_session_routes]) as srv:
        yield srv


@pytest.fixture
async def session(client: Client) -> str:
    await client.create_if_not_exists("python", SESSION)
    return SESSION


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def make_file(path: Path, size: int) -> Path:
    """A file of pseudo-random content (one random MiB repeated, with a counter)."""
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for i in range(size // MiB):
            f.write(i.to_bytes(8, "big") + block[8:])
        f.write(block[: size % MiB])
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- the big round trip -------------------------------------------------------------------


@pytest.fixture
def big_dir(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path``, emptied afterwards (pytest keeps old temporary directories around)."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


async def test_a_200_mib_round_trip_keeps_memory_flat(
    client: Client, server: BackendAITestServer, session: str, big_dir: Path
) -> None:
    tmp_path = big_dir
    size = 200 * MiB
    source = await asyncio.to_thread(make_file, tmp_path / "big.bin", size)
    expected = await asyncio.to_thread(sha256_of, source)
    (tmp_path / "out").mkdir()
    sent: list[tuple[int, int | None]] = []
    received: list[tuple[int, int | None]] = []

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await client.upload(session, "data/big.bin", source, lambda n, t: sent.append((n, t)))
        single = await client.download_single(
            session,
            "data/big.bin",
            tmp_path / "single.bin",
            progress=lambda n, t: received.append((n, t)),
        )
        extracted = await client.download(session, "data/big.bin", tmp_path / "out")
        streamed = hashlib.sha256()
        async with await client.download_single(session, "data/big.bin") as stream:
            async for chunk in stream:
                streamed.update(chunk)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert peak < 50 * MiB, f"peak traced memory {peak / MiB:.1f} MiB above baseline"
    assert session_store(server).uploads[-1].size == size
    assert sent[-1] == (size, size)
    assert received[0] == (0, size)
    assert received[-1] == (size, size)
    assert stream.size == size
    assert streamed.hexdigest() == expected
    assert extracted == [tmp_path / "out" / "big.bin"]
    for path in (single, extracted[0]):
        assert path.stat().st_size == size
        assert await asyncio.to_thread(sha256_of, path) == expected
    assert leftovers(tmp_path) == ["big.bin", "out", "single.bin"]
    assert leftovers(tmp_path / "out") == ["big.bin"]


# -- upload sources and progress ----------------------------------------------------------


async def test_upload_sources_and_their_progress(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    store = session_store(server)
    seen: list[tuple[int, int | None]] = []

    await client.upload(session, "b.bin", b"x" * (600 * 1024), lambda n, t: seen.append((n, t)))
    assert seen == [(256 * 1024, 600 * 1024), (512 * 1024, 600 * 1024), (600 * 1024, 600 * 1024)]

    seen.clear()
    buffer = io.BytesIO(b"0123456789")
    buffer.seek(4)
    await client.upload(session, "f.bin", buffer, lambda n, t: seen.append((n, t)))
    assert seen == [(6, 6)]  # what is left from the current position
    assert not buffer.closed  # a caller's file object stays open

    seen.clear()

    async def produce() -> AsyncIterator[bytes]:
        for part in (b"ab", b"cd", b"ef"):
            yield part

    await client.upload(session, "g.bin", produce(), lambda n, t: seen.append((n, t)))
    assert seen == [(2, None), (4, None), (6, None)]  # chunked: no total

    path = tmp_path / "local.txt"
    path.write_bytes(b"local")
    await client.upload(session, "h.txt", str(path))
    names = {r.filename: r.size for r in store.uploads}
    assert names == {"b.bin": 600 * 1024, "f.bin": 6, "g.bin": 6, "h.txt": 5}
    sess = store.by_name(session)
    assert sess is not None
    assert store.file(sess, "f.bin").read_bytes() == b"456789"
    assert store.file(sess, "g.bin").read_bytes() == b"abcdef"


async def test_an_exception_from_the_progress_callback_propagates_unchanged(
    client: Client, session: str, tmp_path: Path
) -> None:
    class Stop(Exception):
        pass

    def stop(done: int, total: int | None) -> None:
        if done:
            raise Stop

    with pytest.raises(Stop):
        await client.upload(session, "x.bin", b"x" * MiB, stop)
    await client.upload(session, "y.bin", b"y" * MiB)
    with pytest.raises(Stop):
        await client.download_single(session, "y.bin", tmp_path / "y.bin", progress=stop)
    assert leftovers(tmp_path) == []


async def test_bad_sources_and_destinations_fail_before_sending(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    count = len(server.requests)
    with pytest.raises(FileNotFoundError):
        await client.upload(session, "a.txt", tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="binary mode"):
        await client.upload(session, "a.txt", io.StringIO("text"))
    with pytest.raises(TypeError, match="upload source must be"):
        await client.upload(session, "a.txt", 12345)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        await client.download(session, "a.txt", tmp_path / "no-such-dir")
    with pytest.raises(FileNotFoundError):
        await client.download_single(session, "a.txt", tmp_path / "no-such-dir" / "a.txt")
    assert len(server.requests) == count


async def test_an_upload_to_a_missing_session_closes_its_file(
    client: Client, server: BackendAITestServer, tmp_path: Path
) -> None:
    source = await asyncio.to_thread(make_file, tmp_path / "f.bin", 8 * MiB)
    with pytest.raises(ServerError) as info:
        await client.upload("no-such-session", "f.bin", source)
    assert info.value.status == 404
    assert acquired_connections(client) == 0  # and no ResourceWarning for an open file


# -- names --------------------------------------------------------------------------------

ODD_NAMES = [
    "데이터 파일.txt",
    "with space.txt",
    "semi;colon;s.txt",
    'quote"d.txt',
    "per%20cent+plus&amp=eq.txt",
    "dir with space/ünï code.txt",
]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_odd_file_names_arrive_and_return_unchanged(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path, name: str
) -> None:
    content = name.encode() * 3
    await client.upload(session, name, content)
    store = session_store(server)
    assert store.uploads[-1].filename == name  # as aiohttp's server parser read it
    sess = store.by_name(session)
    assert sess is not None
    assert store.file(sess, name).read_bytes() == content

    single = await client.download_single(session, name, tmp_path)
    assert single == tmp_path / name.rsplit("/", 1)[-1]
    assert single.read_bytes() == content
    (tmp_path / "many").mkdir()
    written = await client.download(session, [name], tmp_path / "many")
    assert written == [tmp_path / "many" / name.rsplit("/", 1)[-1]]
    assert written[0].read_bytes() == content


async def test_a_directory_downloads_as_a_tree(
    client: Client, session: str, tmp_path: Path
) -> None:
    await client.upload(session, "tree/a.txt", b"a")
    await client.upload(session, "tree/sub/b.txt", b"b")
    await client.upload(session, "other.txt", b"o")
    written = await client.download(session, ["tree", "other.txt"], tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "other.txt",
        "tree/a.txt",
        "tree/sub/b.txt",
    ]
    assert (tmp_path / "tree" / "sub" / "b.txt").read_bytes() == b"b"
    assert leftovers(tmp_path) == ["other.txt", "tree"]  # no staging directory left


# -- failed and cancelled downloads -------------------------------------------------------


async def test_a_cancelled_download_leaves_no_file(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    dest = tmp_path / "file.bin"
    dest_before = b"old content"
    dest.write_bytes(dest_before)
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=4 * MiB,
            content_type="application/octet-stream",
        )
    )
    started = asyncio.Event()

    def progress(done: int, total: int | None) -> None:
        if done:
            started.set()

    task = asyncio.create_task(client.download_single(session, "f.bin", dest, progress=progress))
    await started.wait()  # half the body has been written to the temporary file
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(tmp_path) == ["file.bin"]
    assert dest.read_bytes() == dest_before  # the old file was never touched


async def test_a_broken_download_leaves_no_file(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            reset_mid_body=True,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    with pytest.raises(ResponseError) as info:
        await client.download_single(session, "f.bin", tmp_path / "f.bin")
    assert info.value.type is ErrorType.ERR_RESPONSE
    assert "not completed" in info.value.message
    assert leftovers(tmp_path) == []


async def test_a_stalled_download_hits_the_idle_limit_not_a_deadline(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    with pytest.raises(RequestTimeoutError) as info:
        await client.download_single(session, "f.bin", tmp_path / "f.bin", idle_timeout=0.3)
    assert info.value.phase == "read"
    assert leftovers(tmp_path) == []


async def test_an_aborted_download_is_an_abort_error_and_leaves_no_file(
    client: Client, server: BackendAITestServer, session: str, tmp_path: Path
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    controller = AbortController()
    started = asyncio.Event()
    task = asyncio.create_task(
        client.download_single(
            session,
            "f.bin",
            tmp_path / "f.bin",
            signal=controller.signal,
            progress=lambda done, total: started.set() if done else None,
        )
    )
    await started.wait()
    controller.abort("user pressed stop")
    with pytest.raises(AbortError, match="user pressed stop"):
        await task
    assert leftovers(tmp_path) == []


async def test_a_missing_file_is_the_servers_400_and_leaves_no_file(
    client: Client, session: str, tmp_path: Path
) -> None:
    with pytest.raises(ServerError) as info:
        await client.download_single(session, "nope.txt", tmp_path / "nope.txt")
    assert info.value.status == 400
    assert info.value.description == "The file is not found."
    assert leftovers(tmp_path) == []


# -- downloads as async iterators ---------------------------------------------------------


async def test_a_byte_stream_yields_the_file_and_releases_the_connection(
    client: Client, session: str
) -> None:
    content = os.urandom(3 * MiB + 5)
    await client.upload(session, "s.bin", content)
    seen: list[int] = []
    stream = await client.download_single(session, "s.bin", progress=lambda n, t: seen.append(n))
    assert stream.size == len(content)
    assert await stream.read() == content
    assert seen[-1] == len(content)
    assert acquired_connections(client) == 0


async def test_stopping_a_byte_stream_early_releases_the_connection(
    client: Client, session: str
) -> None:
    await client.upload(session, "s.bin", b"z" * (4 * MiB))
    async with await client.download_single(session, "s.bin") as stream:
        async for chunk in stream:
            assert chunk
            break
    assert acquired_connections(client) == 0
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_a_byte_stream_reports_errors_at_open_and_while_reading(
    client: Client, server: BackendAITestServer, session: str
) -> None:
    with pytest.raises(ServerError) as info:
        await client.download_single(session, "missing.bin")
    assert info.value.status == 400

    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            reset_mid_body=True,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    stream = await client.download_single(session, "f.bin")
    with pytest.raises(ResponseError):
        async for _ in stream:
            pass
    assert acquired_connections(client) == 0


async def test_aborting_or_closing_ends_a_byte_stream(
    make_client: Any, server: BackendAITestServer, session: str
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=2 * MiB,
            content_type="application/octet-stream",
            times=2,
        )
    )
    client = make_client()
    controller = AbortController()
    stream = await client.download_single(session, "f.bin", signal=controller.signal)
    first = await stream.__anext__()
    assert first
    controller.abort()
    with pytest.raises(AbortError):
        async for _ in stream:
            pass

    other = await client.download_single(session, "f.bin")
    await other.__anext__()
    await client.close()
    with pytest.raises(AbortError):
        async for _ in other:
            pass


async def _blocked_read(stream: ByteStream, sent: int = MiB) -> asyncio.Task[bytes]:
    """A read of ``stream`` in its own task that surely waits: the ``sent`` bytes the fake
    sends before its stall (half the body) are read first, so the server sends nothing more.
    (Whether a read is merely slow cannot be told by loop turns: on Python 3.10 with
    aiohttp 3.12 the first half arrives over several.)"""
    while stream.received < sent:
        assert await stream.__anext__()
    assert stream.received == sent
    read = asyncio.create_task(stream.__anext__())
    await asyncio.sleep(0)  # the read starts, and has nothing to take
    assert not read.done()
    return read


async def test_a_read_waiting_on_a_stalled_stream_ends_with_the_abort_or_the_deadline(
    client: Client, server: BackendAITestServer, session: str
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=2 * MiB,
            content_type="application/octet-stream",
            times=2,
        )
    )
    controller = AbortController()
    stream = await client.download_single(session, "f.bin", signal=controller.signal)
    read = await _blocked_read(stream)
    controller.abort()
    with pytest.raises(AbortError):
        await read
    assert acquired_connections(client) == 0
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()

    stream = await client.download_single(session, "f.bin", timeout=0.3)
    read = await _blocked_read(stream)
    with pytest.raises(RequestTimeoutError) as info:
        await read
    assert info.value.phase == "total"
    assert acquired_connections(client) == 0


async def test_a_second_reader_is_refused_and_the_first_reads_on(
    client: Client, server: BackendAITestServer, session: str
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=0.2,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    async with await client.download_single(session, "f.bin") as stream:
        read = await _blocked_read(stream)
        with pytest.raises(RuntimeError, match="already reading"):
            await stream.__anext__()
        await read
        async for _ in stream:
            pass
    assert stream.received == stream.size == 2 * MiB
    assert acquired_connections(client) == 0


async def test_closing_a_stream_from_another_task_ends_its_waiting_read(
    client: Client, server: BackendAITestServer, session: str
) -> None:
    server.add_fault(
        Fault(
            "GET",
            SINGLE,
            stall_mid_body=60.0,
            body_size=2 * MiB,
            content_type="application/octet-stream",
        )
    )
    stream = await client.download_single(session, "f.bin")
    read = await _blocked_read(stream)
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await read
    assert acquired_connections(client) == 0


async def test_a_download_of_several_files_as_a_raw_stream(client: Client, session: str) -> None:
    await client.upload(session, "one.txt", b"1")
    stream = await client.download(session, ["one.txt"])
    assert stream.content_type is not None
    assert stream.content_type.startswith("multipart/mixed; boundary=")
    raw = await stream.read()
    assert b"one.txt" in raw  # the tar header of the one part


async def test_a_client_from_another_config_cannot_see_the_session(
    server: BackendAITestServer, session: str
) -> None:
    second = list(server.state.keypairs.values())[1]
    async with Client(
        ClientConfig(second.access_key, second.secret_key, str(server.endpoint))
    ) as other:
        with pytest.raises(ServerError) as info:
            await other.get_info(session)
    assert info.value.status == 404


async def test_a_slow_consumer_does_not_trip_the_idle_limit(client: Client, session: str) -> None:
    await client.upload(session, "big.bin", os.urandom(16 * MiB))
    received = 0
    async with await client.download_single(session, "big.bin", idle_timeout=0.2) as stream:
        async for chunk in stream:
            received += len(chunk)
            if received <= 2 * MiB:
                await asyncio.sleep(0.3)  # a slow consumer (not synchronisation): reading pauses
    assert received == 16 * MiB


async def test_sessions_work_through_the_webserver_in_session_mode(
    server: BackendAITestServer, tmp_path: Path
) -> None:
    user = next(u for u in EXAMPLE_WEB_USERS if u.email == "user@lablup.com")
    async with BackendAITestWebserver(manager=server) as webserver:
        config = ClientConfig(user.email, user.password, str(webserver.endpoint), "SESSION")
        async with Client(config) as client:
            assert (await client.login()).authenticated
            await client.create_if_not_exists("python", SESSION)
            result = await client.execute(SESSION, None, "query", "print(1 + 1)")
            assert result["result"]["console"] == [["stdout", "2\n"]]
            await client.upload(SESSION, "a b ü.txt", b"via the webserver")
            path = await client.download_single(SESSION, "a b ü.txt", tmp_path)
            assert path.read_bytes() == b"via the webserver"
            await client.destroy(SESSION)
    paths = [(r.method, r.path) for r in server.requests if r.path != "/"]
    assert ("POST", f"/session/{SESSION}/upload") in paths
    assert ("GET", f"/session/{SESSION}/download_single") in paths

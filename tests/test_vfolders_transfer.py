"""Folder transfers through the fake storage proxy: tus uploads that resume from the
server's offset and send only the rest, downloads written atomically or streamed, every
wait inside the call's deadline and aborts, the managers' own routes before API v6."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backendai_async import (
    AbortController,
    AbortError,
    ByteStream,
    Client,
    ClientConfig,
    RequestError,
    RequestTimeoutError,
    ResponseError,
    ServerError,
)
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
    Fault,
    ProxyRequest,
    VFolderStore,
    vfolder_store,
)

from .conftest import ClientFactory, acquired_connections, error_graph_texts, watch_secrets

MiB = 1024 * 1024
FOLDER = "data"


@pytest.fixture
def store(server: BackendAITestServer) -> Iterator[VFolderStore]:
    found = vfolder_store(server)
    yield found
    watch_secrets(*found.proxy.tokens)


@pytest.fixture
async def folder(client: Client) -> str:
    await client.vfolder.create(FOLDER)
    return FOLDER


def patterned(size: int) -> bytes:
    """Bytes whose every MiB differs (a resume from the wrong offset shows in the digest)."""
    block = os.urandom(MiB)
    whole = b"".join(i.to_bytes(8, "big") + block[8:] for i in range(size // MiB + 1))
    return whole[:size]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def patches(store: VFolderStore) -> list[ProxyRequest]:
    return [r for r in store.proxy.requests if r.method == "PATCH"]


async def chunks_of(data: bytes, piece: int = 100_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        await asyncio.sleep(0)
        yield data[start : start + piece]


# -- uploads -----------------------------------------------------------------------------


async def test_an_upload_is_tus_patches_to_the_proxy_unsigned(
    client: Client, server: BackendAITestServer, store: VFolderStore, folder: str
) -> None:
    data = patterned(5 * MiB + 123)
    await client.vfolder.upload_file(folder, data, "in/a.bin", chunk_size=2 * MiB)

    asked = server.requests[-1]
    assert (asked.method, asked.raw_path) == ("POST", "/folders/data/request-upload")
    assert asked.json == {"path": "in/a.bin", "size": len(data)}
    sent = patches(store)
    assert [r.headers["Upload-Offset"] for r in sent] == ["0", str(2 * MiB), str(4 * MiB)]
    assert [r.body_size for r in sent] == [2 * MiB, 2 * MiB, MiB + 123]
    assert [r.status for r in sent] == [204, 204, 204]
    for r in sent:
        assert r.headers["Tus-Resumable"] == "1.0.0"
        assert r.headers["Content-Type"] == "application/offset+octet-stream"
        assert r.headers["Content-Length"] == str(r.body_size)
        assert not any(h.lower().startswith("x-backendai") for h in r.headers)
        assert "Authorization" not in r.headers  # another host: never our credentials
    assert store.file(folder, "in/a.bin").read_bytes() == data
    assert store.proxy.received_bytes == len(data)


async def test_sources_a_path_a_file_object_and_an_empty_file(
    client: Client, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    data = patterned(300_000)
    local = tmp_path / "local.bin"
    local.write_bytes(data)
    await client.vfolder.upload_file(folder, local, "from-path.bin")
    await client.vfolder.upload_file(folder, str(local), "from-str.bin")
    handle = io.BytesIO(b"skip" + data)
    handle.seek(4)  # a file object is sent from where it stands
    await client.vfolder.upload_file(folder, handle, "from-object.bin")
    await client.vfolder.upload_file(folder, b"", "empty.bin")
    for name in ("from-path.bin", "from-str.bin", "from-object.bin"):
        assert store.file(folder, name).read_bytes() == data
    assert store.file(folder, "empty.bin").read_bytes() == b""
    assert patches(store)[-1].headers["Upload-Offset"] == "0"  # one empty PATCH completes it


async def test_an_async_iterable_without_size_is_spooled_first(
    client: Client, server: BackendAITestServer, store: VFolderStore, folder: str
) -> None:
    data = patterned(3 * MiB + 7)
    await client.vfolder.upload_file(folder, chunks_of(data), "spooled.bin", chunk_size=MiB)
    assert server.requests[-1].json == {"path": "spooled.bin", "size": len(data)}
    assert store.file(folder, "spooled.bin").read_bytes() == data


async def test_an_async_iterable_with_size_streams_as_it_comes(
    client: Client, store: VFolderStore, folder: str
) -> None:
    data = patterned(2 * MiB + 5)
    await client.vfolder.upload_file(
        folder, chunks_of(data), "streamed.bin", size=len(data), chunk_size=MiB
    )
    assert store.file(folder, "streamed.bin").read_bytes() == data
    assert len(patches(store)) == 3


async def test_an_iterable_shorter_than_its_size_fails_and_nothing_appears(
    client: Client, store: VFolderStore, folder: str
) -> None:
    with pytest.raises(OSError, match="changed size"):
        await client.vfolder.upload_file(folder, chunks_of(b"x" * 10), "short.bin", size=20)
    assert not store.file(folder, "short.bin").exists()


async def test_progress_follows_the_bytes(client: Client, folder: str) -> None:
    seen: list[tuple[int, int | None]] = []
    data = patterned(2 * MiB)
    await client.vfolder.upload_file(
        folder, data, "p.bin", chunk_size=MiB, progress=lambda n, t: seen.append((n, t))
    )
    assert seen[-1] == (len(data), len(data))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    assert {t for _, t in seen} == {len(data)}


async def test_a_failing_progress_callback_is_raised_as_itself(client: Client, folder: str) -> None:
    def boom(done: int, total: int | None) -> None:
        raise KeyError("stop")

    with pytest.raises(KeyError, match="stop"):
        await client.vfolder.upload_file(folder, b"x" * 1000, "cb.bin", progress=boom)


# -- resuming ------------------------------------------------------------------------------


async def test_an_upload_cut_at_60_percent_resumes_and_sends_only_the_rest(
    client: Client, store: VFolderStore, folder: str
) -> None:
    data = patterned(20 * MiB)
    cut = len(data) * 6 // 10
    store.proxy.cut_upload_at = cut
    await client.vfolder.upload_file(folder, data, "resumed.bin")

    assert store.proxy.received_bytes == len(data)  # nothing sent twice
    methods = [(r.method, r.status) for r in store.proxy.requests]
    assert methods == [("PATCH", None), ("HEAD", 200), ("PATCH", 204)]
    assert patches(store)[1].headers["Upload-Offset"] == str(cut)
    assert patches(store)[1].body_size == len(data) - cut
    got = store.file(folder, "resumed.bin").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


async def test_on_a_26_9_proxy_a_cut_patch_is_sent_again_from_its_start(
    client: Client, store: VFolderStore, folder: str
) -> None:
    """26.9 keeps nothing of a PATCH that did not finish: the client resends that PATCH."""
    store.proxy.strict_offsets = True
    data = patterned(6 * MiB)
    store.proxy.cut_upload_at = 3 * MiB
    await client.vfolder.upload_file(folder, data, "strict.bin", chunk_size=2 * MiB)
    offsets = [r.headers["Upload-Offset"] for r in patches(store)]
    assert offsets == ["0", str(2 * MiB), str(2 * MiB), str(4 * MiB)]
    assert store.proxy.received_bytes == len(data) + MiB  # the lost half of one PATCH
    assert store.file(folder, "strict.bin").read_bytes() == data


async def test_a_409_offset_mismatch_resumes_from_the_servers_offset(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(
        Fault(
            method="PATCH",
            path="/upload",
            problem=(409, "storage/upload-offset-mismatch", "Upload Offset Mismatch", None),
        )
    )
    await client.vfolder.upload_file(folder, b"abc" * 1000, "m.bin")
    assert [r.method for r in store.proxy.requests] == ["PATCH", "HEAD", "PATCH"]
    assert store.file(folder, "m.bin").read_bytes() == b"abc" * 1000


async def test_a_lost_answer_to_the_last_patch_is_a_completed_upload(
    client: Client, store: VFolderStore, folder: str
) -> None:
    """The proxy stored everything but the answer was lost: HEAD says 404 (complete)."""
    store.proxy.lose_answers = 1
    await client.vfolder.upload_file(folder, b"done", "lost.bin")
    assert [(r.method, r.status) for r in store.proxy.requests] == [("PATCH", None), ("HEAD", 404)]
    assert store.file(folder, "lost.bin").read_bytes() == b"done"


async def test_a_lost_upload_session_is_the_original_failure(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.cut_upload_at = 1000
    store.proxy.faults.append(Fault(method="HEAD", path="/upload", status=404))
    with pytest.raises(RequestError) as caught:
        await client.vfolder.upload_file(folder, b"x" * 5000, "gone.bin")
    assert isinstance(caught.value.__cause__, ServerError)
    assert not store.file(folder, "gone.bin").exists()


async def test_resumes_stop_after_the_limit_without_progress(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(Fault(method="PATCH", path="/upload", drop=True, times=None))
    with pytest.raises(RequestError):
        await client.vfolder.upload_file(folder, b"x" * 5000, "never.bin", resumes=2)
    assert [r.method for r in store.proxy.requests] == ["PATCH", "HEAD"] * 2 + ["PATCH"]


async def test_an_iterable_with_size_cannot_resume(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.cut_upload_at = 1000
    with pytest.raises(RequestError):
        await client.vfolder.upload_file(folder, chunks_of(b"y" * 5000), "once.bin", size=5000)
    assert [r.method for r in store.proxy.requests] == ["PATCH"]


async def test_a_spooled_iterable_resumes(client: Client, store: VFolderStore, folder: str) -> None:
    data = patterned(MiB)
    store.proxy.cut_upload_at = len(data) // 2
    await client.vfolder.upload_file(folder, chunks_of(data), "spool-resume.bin")
    assert store.proxy.received_bytes == len(data)
    assert store.file(folder, "spool-resume.bin").read_bytes() == data


async def test_a_source_that_fails_to_read_is_raised_and_not_resumed(
    client: Client, store: VFolderStore, folder: str
) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 1000:
                raise OSError("disk on fire")
            return super().read(min(size or 100, 100) if size and size > 0 else 100)

    with pytest.raises(OSError, match="disk on fire"):
        await client.vfolder.upload_file(folder, Broken(b"z" * 5000), "broken.bin")
    assert [r.method for r in store.proxy.requests] == ["PATCH"]


async def test_a_failed_source_carries_no_upload_token_in_its_error_graph(
    client: Client, store: VFolderStore, folder: str
) -> None:
    """aiohttp's "Can not write request body for <url>" names the storage-proxy URL with
    its token; every error reachable from the raised one (causes and contexts) is masked."""

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire") as caught:
        await client.vfolder.upload_file(folder, Broken(b"z" * 5000), "broken.bin")
    tokens = store.proxy.tokens
    assert tokens, "the upload got a token"
    texts = "\n".join(error_graph_texts(caught.value))
    assert "Can not write request body" in texts or "disk on fire" in texts
    assert not [t for t in tokens if t in texts]


# -- deadlines and aborts ------------------------------------------------------------------


async def test_the_deadline_covers_the_whole_upload(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(Fault(method="PATCH", path="/upload", delay=30))
    with pytest.raises(RequestTimeoutError) as caught:
        await client.vfolder.upload_file(folder, b"x" * 5000, "slow.bin", timeout=0.5)
    assert caught.value.phase == "total"
    assert not store.file(folder, "slow.bin").exists()


async def test_an_idle_proxy_is_resumed_after_the_idle_limit(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(Fault(method="PATCH", path="/upload", delay=30))
    await client.vfolder.upload_file(folder, b"x" * 5000, "idle.bin", idle_timeout=0.3)
    assert [r.method for r in store.proxy.requests] == ["PATCH", "HEAD", "PATCH"]
    assert store.file(folder, "idle.bin").read_bytes() == b"x" * 5000


async def test_an_abort_stops_an_upload_at_once(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(Fault(method="PATCH", path="/upload", delay=30))
    controller = AbortController()
    task = asyncio.create_task(
        client.vfolder.upload_file(folder, b"x" * 5000, "aborted.bin", signal=controller.signal)
    )
    await store.proxy.wait_for_request("PATCH")
    controller.abort("user pressed stop")
    with pytest.raises(AbortError, match="user pressed stop"):
        await task
    assert [r.method for r in store.proxy.requests] == ["PATCH"]
    assert acquired_connections(client) == 0


async def test_client_abort_and_cancel_end_an_upload_without_leaks(
    client: Client, store: VFolderStore, folder: str
) -> None:
    store.proxy.faults.append(Fault(method="PATCH", path="/upload", delay=30, times=None))
    task = asyncio.create_task(client.vfolder.upload_file(folder, b"x" * 5000, "a.bin"))
    await store.proxy.wait_for_request("PATCH")
    client.abort()
    with pytest.raises(AbortError):
        await task
    task = asyncio.create_task(client.vfolder.upload_file(folder, b"x" * 5000, "b.bin"))
    await store.proxy.wait_for_request("PATCH", count=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired_connections(client) == 0


# -- downloads ---------------------------------------------------------------------------


async def test_download_to_a_file_a_directory_and_a_stream(
    client: Client, server: BackendAITestServer, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    data = patterned(3 * MiB + 1)
    await client.vfolder.upload_file(folder, data, "sub/b.bin")
    seen: list[tuple[int, int | None]] = []
    written = await client.vfolder.download_file(
        folder, "sub/b.bin", tmp_path / "out.bin", progress=lambda n, t: seen.append((n, t))
    )
    assert written == tmp_path / "out.bin"
    assert written.read_bytes() == data
    assert seen[0] == (0, len(data))
    assert seen[-1] == (len(data), len(data))
    asked = server.requests[-1]
    assert (asked.raw_path, asked.json) == (
        "/folders/data/request-download",
        {"path": "sub/b.bin", "archive": False},
    )
    get = store.proxy.requests[-1]
    assert (get.method, get.path, get.status) == ("GET", "/download", 200)
    assert "Authorization" not in get.headers

    into_dir = await client.vfolder.download_file(folder, "sub/b.bin", tmp_path)
    assert into_dir == tmp_path / "b.bin"
    assert into_dir.read_bytes() == data

    stream = await client.vfolder.download_file(folder, "sub/b.bin")
    assert isinstance(stream, ByteStream)
    async with stream:
        assert stream.size == len(data)
        assert await stream.read() == data
    assert leftovers(tmp_path) == ["b.bin", "out.bin"]


async def test_js_download_is_a_stream_with_no_cache(
    client: Client, store: VFolderStore, folder: str
) -> None:
    await client.vfolder.upload_file(folder, b"js", "j.txt")
    async with await client.vfolder.download("j.txt", folder, no_cache=True) as stream:
        assert await stream.read() == b"js"
    assert store.proxy.requests[-1].query["no_cache"] == "true"


async def test_a_directory_downloads_as_a_zip_with_archive(
    client: Client, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    await client.vfolder.upload_file(folder, b"one", "dir/1.txt")
    await client.vfolder.upload_file(folder, b"two", "dir/sub/2.txt")
    target = await client.vfolder.download_file(folder, "dir", tmp_path / "dir.zip", archive=True)
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == ["1.txt", "sub/2.txt"]
        assert zf.read("sub/2.txt") == b"two"
    assert store.proxy.requests[-1].query["archive"] == "true"


async def test_a_broken_download_leaves_no_file(
    client: Client, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    await client.vfolder.upload_file(folder, patterned(MiB), "c.bin")
    store.proxy.faults.append(
        Fault(method="GET", path="/download", reset_mid_body=True, body_size=MiB)
    )
    with pytest.raises((ResponseError, RequestError)):
        await client.vfolder.download_file(folder, "c.bin", tmp_path / "c.bin")
    assert leftovers(tmp_path) == []


async def test_a_missing_file_is_the_proxys_404_without_the_token(
    client: Client, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    with pytest.raises(ServerError) as caught:
        await client.vfolder.download_file(folder, "nope.bin", tmp_path / "nope.bin")
    assert caught.value.status == 404
    assert caught.value.problem_type.endswith("/storage/file-not-found")
    (token,) = store.proxy.downloads
    for text in (str(caught.value), repr(caught.value), repr(caught.value.to_dict())):
        assert token not in text
    assert "token=********" in str(caught.value.request_url)
    assert leftovers(tmp_path) == []


async def test_a_download_stream_honours_the_idle_limit(
    client: Client, store: VFolderStore, folder: str
) -> None:
    await client.vfolder.upload_file(folder, patterned(MiB), "s.bin")
    store.proxy.faults.append(
        Fault(method="GET", path="/download", stall_mid_body=30, body_size=MiB)
    )
    stream = await client.vfolder.download_file(folder, "s.bin", idle_timeout=0.3)
    with pytest.raises(RequestTimeoutError) as caught:
        async with stream:
            await stream.read()
    assert caught.value.phase == "read"


# -- directories ---------------------------------------------------------------------------


async def test_upload_dir_makes_the_directories_and_uploads_every_file(
    client: Client, store: VFolderStore, folder: str, tmp_path: Path
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "top.txt").write_bytes(b"top")
    (tmp_path / "a" / "b" / "deep.txt").write_bytes(b"deep")
    uploaded = await client.vfolder.upload_dir(folder, tmp_path, "copy")
    assert uploaded == ["copy/a/b/deep.txt", "copy/top.txt"]
    assert store.file(folder, "copy/a/b/deep.txt").read_bytes() == b"deep"
    assert store.file(folder, "copy/top.txt").read_bytes() == b"top"


# -- managers before API v6 serve transfers themselves -------------------------------------------


@pytest.fixture
def old_client(make_client: ClientFactory, server: BackendAITestServer) -> Client:
    server.api_version = "v5.20191215"
    server.manager_version = "20.03.11"
    return make_client()


async def test_before_v6_the_manager_serves_tus_and_downloads_itself(
    old_client: Client, server: BackendAITestServer, store: VFolderStore, tmp_path: Path
) -> None:
    await old_client.vfolder.create("old")
    data = patterned(2 * MiB + 3)
    store.proxy.cut_upload_at = MiB
    await old_client.vfolder.upload_file("old", data, "f.bin", chunk_size=MiB)
    paths = [(r.method, r.path.split("/upload/")[0]) for r in server.requests[2:]]
    assert paths[0] == ("POST", "/folders/old/create_upload_session")
    assert set(paths[1:]) == {("PATCH", "/folders/_/tus"), ("HEAD", "/folders/_/tus")}
    assert store.proxy.requests == []  # the proxy saw nothing
    assert store.file("old", "f.bin").read_bytes() == data

    out = await old_client.vfolder.download_file("old", "f.bin", tmp_path / "f.bin")
    assert out.read_bytes() == data
    token_req, get = server.requests[-2:]
    assert (token_req.raw_path, token_req.json) == (
        "/folders/old/request_download",
        {"file": "f.bin", "archive": False},
    )
    assert get.path == "/folders/_/download_with_token"
    token = await old_client.vfolder.request_download_token("f.bin", "old")
    assert set(token) == {"token"}
    async with await old_client.vfolder.download_with_token(token["token"]) as stream:
        assert await stream.read() == data


async def test_js_upload_and_upload_form_data_are_resumable_uploads(
    client: Client, server: BackendAITestServer, store: VFolderStore, folder: str
) -> None:
    await client.vfolder.upload("js/one.txt", b"one", folder)
    await client.vfolder.upload_form_data({"js/two.txt": b"two", "js/three.txt": b"3"}, folder)
    await client.vfolder.upload_form_data([("js/four.txt", b"4")], folder)
    asked = [r.json["path"] for r in server.requests if r.path.endswith("/request-upload")]
    assert asked == ["js/one.txt", "js/two.txt", "js/three.txt", "js/four.txt"]
    assert store.file(folder, "js/two.txt").read_bytes() == b"two"
    with pytest.raises(ValueError, match="leaves the folder"):
        await client.vfolder.upload_form_data({"ok.txt": b"1", "../bad.txt": b"2"}, folder)
    assert not store.file(folder, "ok.txt").exists()  # checked before anything is sent


async def test_in_session_mode_the_login_cookie_never_goes_to_the_proxy(
    server: BackendAITestServer, store: VFolderStore
) -> None:
    """Cookies ignore ports: the proxy shares the webserver's host, not its credentials."""
    web_user = next(u for u in EXAMPLE_WEB_USERS if u.email == "user@lablup.com")
    async with BackendAITestWebserver(manager=server) as web:
        config = ClientConfig(web_user.email, web_user.password, str(web.endpoint), "SESSION")
        async with Client(config) as client:
            await client.login()
            await client.vfolder.create("via-web")
            await client.vfolder.upload_file("via-web", b"hello", "a.txt")
            async with await client.vfolder.download_file("via-web", "a.txt") as stream:
                assert await stream.read() == b"hello"
            assert client.vfolder.get_download_url_with_token("t").startswith(
                f"{web.endpoint}/func/folders/_/download_with_token?token="
            )
    assert [r.method for r in store.proxy.requests] == ["PATCH", "GET"]
    for r in store.proxy.requests:
        sent = {h.lower() for h in r.headers}
        assert not sent & {"cookie", "authorization", "x-backendai-sessionid"}

"""Virtual folders on every real server, as the example user and as the superadmin: the
folder and file calls, a 64 MiB round trip through the real storage proxy (an upload that
resumes from the proxy's offset after a broken PATCH), the tus protocol as each proxy
speaks it, and the servers' refusals. Each test leaves the server as it found it (with a
trash bin, a deleted folder is also emptied from it and purged). What differs between the
releases is observed (``Real.observe``) and told in docs/vfolders.md."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from yarl import URL

from backendai_async import AuthenticationError, Client, ClientConfig, ServerError

from .conftest import Real, outcome, problem

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}


@pytest.fixture(params=["user", "admin"])
def who(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class Wiretap:
    """Records (method, path, status) of every answer; can break the ``n``-th PATCH once,
    before it is sent (as a connection reset would)."""

    def __init__(self) -> None:
        self.fail_patch: int | None = None
        self.seen: list[tuple[str, str, int]] = []
        self._patches = 0

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if request.method == "PATCH":
            self._patches += 1
            if self._patches == self.fail_patch:
                raise aiohttp.ClientOSError(104, "connection reset (injected by the test)")
        response = await handler(request)
        self.seen.append((request.method, request.url.path, response.status))
        return response

    def status(self, method: str, path: str) -> int:
        return next(s for m, p, s in reversed(self.seen) if (m, p) == (method, path))


@pytest.fixture
def tap() -> Wiretap:
    return Wiretap()


def keys(real: Real, who: str) -> tuple[str, str]:
    return real.target.admin if who == "admin" else real.target.user


@pytest.fixture
async def client(real: Real, who: str, tap: Wiretap) -> AsyncIterator[Client]:
    config = ClientConfig(*keys(real, who), real.target.manager)
    async with Client(config, middlewares=[tap]) as c:
        yield c


def has_trash_bin(real: Real) -> bool:
    """24.03 and later keep deleted folders in a trash bin (``delete-pending``)."""
    major, minor = (int(p) for p in real.facts.line.split("."))
    return (major, minor) >= (24, 3)


async def remove(client: Client, real: Real, name: str, folder_id: str) -> None:
    """Delete a folder; with a trash bin also empty it from there and purge it."""
    with contextlib.suppress(ServerError):
        await client.vfolder.delete(name)
    if has_trash_bin(real):
        with contextlib.suppress(ServerError):
            await client.vfolder.delete_from_trash_bin(folder_id)
        async with Client(ClientConfig(*real.target.admin, real.target.manager)) as admin:
            with contextlib.suppress(ServerError):
                await admin.vfolder.purge(folder_id)
    await until_unlisted(client, folder_id)


async def until_unlisted(client: Client, folder_id: str, limit: float = 30.0) -> None:
    """Until the folder is no longer listed: 23.09 answers DELETE with 204 at once and
    removes the files, then the row, in the background (``status`` "deleting" meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        statuses = [f.get("status") for f in await client.vfolder.list() if f["id"] == folder_id]
        if not statuses:
            return
        assert statuses == ["deleting"], f"the folder is still listed: {statuses}"
        assert loop.time() < deadline, f"the folder was still being deleted after {limit} s"
        await asyncio.sleep(0.2)  # the server's background task: nothing else to wait on


@dataclass
class Folder:
    name: str
    id: str


@pytest.fixture
async def folder(client: Client, real: Real) -> AsyncIterator[Folder]:
    """A fresh folder; removed afterwards under whatever name it has by then."""
    created = await client.vfolder.create(f"it-{secrets.token_hex(4)}")
    made = Folder(created["name"], created["id"])
    yield made
    for entry in await client.vfolder.list():
        if entry["id"] == made.id and entry.get("status") == "ready":
            made.name = entry["name"]
    await remove(client, real, made.name, made.id)


async def test_folder_and_file_calls(
    client: Client, real: Real, folder: Folder, tap: Wiretap
) -> None:
    listed = {f["id"]: f for f in await client.vfolder.list()}
    assert listed[folder.id]["name"] == folder.name
    assert listed[folder.id]["is_owner"] is True
    info = await client.vfolder.info(folder.name)
    assert info["id"] == folder.id
    assert info["status"] == "ready"

    made = await client.vfolder.mkdir("sub/deeper", folder.name)
    status = tap.status("POST", f"/folders/{folder.name}/mkdir")
    if made is None:
        real.observe("vfolder_mkdir", f"{status}, empty body")
    else:
        assert made["results"]["success"][0]["item"] == "sub/deeper"
        real.observe("vfolder_mkdir", f'{status} `{{"results": {{"success", "failed"}}}}`')
    await client.vfolder.upload_file(folder.name, b"hello", "sub/a.txt")
    listing = await client.vfolder.list_files("sub", folder.name)
    entries = {i["name"]: i for i in listing["items"]}
    assert (entries["a.txt"]["type"], entries["a.txt"]["size"]) == ("FILE", 5)
    assert entries["deeper"]["type"] == "DIRECTORY"
    mode = entries["deeper"]["mode"]
    legacy = " and the legacy `files` text" if "files" in listing else ""
    real.observe("vfolder_files_mode", f"`{json.dumps(mode)}`{legacy}")

    await client.vfolder.rename_file("sub/a.txt", "b.txt", folder.name)
    names = [i["name"] for i in (await client.vfolder.list_files("sub", folder.name))["items"]]
    assert sorted(names) == ["b.txt", "deeper"]
    await client.vfolder.delete_files(["sub/b.txt"], name=folder.name)
    assert tap.status("DELETE", f"/folders/{folder.name}/delete_files") == 200
    names = [i["name"] for i in (await client.vfolder.list_files("sub", folder.name))["items"]]
    assert names == ["deeper"]
    by_post = await outcome(
        client.request(
            "POST", f"/folders/{folder.name}/delete-files", json={"files": ["sub/deeper"]}
        )
    )
    post_status = tap.status("POST", f"/folders/{folder.name}/delete-files")
    assert (post_status == 405) == isinstance(by_post, ServerError)
    real.observe("vfolder_delete_files_post", str(post_status))

    renamed = folder.name + "-r"
    answer = await client.vfolder.rename(renamed, folder.name)
    real.observe(
        "vfolder_rename",
        f"{tap.status('POST', f'/folders/{folder.name}/rename')}"
        + (", empty body" if answer is None else f" `{json.dumps(answer)}`"),
    )
    folder.name = renamed
    assert (await client.vfolder.info(renamed))["name"] == renamed

    await client.vfolder.delete(renamed)
    after = [f.get("status") for f in await client.vfolder.list() if f["id"] == folder.id]
    assert after in ([], ["deleting"], ["delete-pending"])
    assert (after == ["delete-pending"]) == has_trash_bin(real)
    real.observe(
        "vfolder_delete",
        f"{tap.status('DELETE', f'/folders/{renamed}')}; "
        + (
            "listed `delete-pending` (trash bin)"
            if after == ["delete-pending"]
            else "removed in the background (listed `deleting` meanwhile)"
        ),
    )


async def test_a_64_mib_round_trip_through_the_real_storage_proxy(
    client: Client, folder: Folder, tap: Wiretap
) -> None:
    data = os.urandom(64 * MiB)
    tap.fail_patch = 2  # the second PATCH breaks: the upload resumes from HEAD's offset
    await client.vfolder.upload_file(folder.name, data, "big.bin", chunk_size=16 * MiB)
    tus = [(m, s) for m, p, s in tap.seen if p == "/upload"]
    assert tus == [("PATCH", 204), ("HEAD", 200), ("PATCH", 204), ("PATCH", 204), ("PATCH", 204)]

    digest = hashlib.sha256()
    async with await client.vfolder.download_file(folder.name, "big.bin") as stream:
        async for chunk in stream:
            digest.update(chunk)
    assert stream.size == len(data)
    assert digest.digest() == hashlib.sha256(data).digest()
    listing = await client.vfolder.list_files("", folder.name)
    assert [(i["name"], i["size"]) for i in listing["items"]] == [("big.bin", len(data))]


async def test_the_tus_protocol_as_the_real_proxy_speaks_it(
    client: Client, real: Real, folder: Folder
) -> None:
    """What the SDK's resume relies on: HEAD gives the offset until the upload completes,
    then 404; no creation POST; a wrong offset is 26.9's 409 but 23.09 appends anyway."""
    url = await client.vfolder.create_upload_session("t.bin", 6, folder.name)
    session = client.session
    assert session is not None
    first = {**TUS, "Upload-Offset": "0"}
    async with session.patch(URL(url), data=b"ab", headers=first) as r:
        assert (r.status, r.headers["Upload-Offset"]) == (204, "2")
    async with session.head(URL(url)) as r:
        assert (r.status, r.headers["Upload-Offset"]) == (200, "2")
    async with session.post(URL(url).with_query(None), data=b"") as r:
        real.observe("vfolder_tus_post", str(r.status))
    wrong = {**TUS, "Upload-Offset": "1"}
    async with session.patch(URL(url), data=b"cd", headers=wrong) as r:
        body = await r.json(content_type=None) if r.status >= 400 else None
        kind = f" `{body['type'].rsplit('/', 1)[-1]}`" if body else ""
        appended = " (appended at the server's offset)" if r.status == 204 else ""
        real.observe("vfolder_tus_wrong_offset", f"{r.status}{kind}{appended}")
    async with session.head(URL(url)) as r:
        offset = int(r.headers["Upload-Offset"])
    async with session.patch(
        URL(url), data=b"x" * (6 - offset), headers={**TUS, "Upload-Offset": str(offset)}
    ) as r:
        assert (r.status, r.headers["Upload-Offset"]) == (204, "6")
    async with session.head(URL(url)) as r:
        real.observe("vfolder_tus_head_done", str(r.status))


async def test_the_servers_refuse_what_a_normal_user_may_not_do(real: Real) -> None:
    async with (
        Client(ClientConfig(*real.target.user, real.target.manager)) as user,
        Client(ClientConfig(*real.target.admin, real.target.manager)) as admin,
    ):
        with pytest.raises(ServerError) as caught:
            await user.vfolder.list_all_hosts()
        err = caught.value
        assert err.status in (401, 403)
        assert isinstance(err, AuthenticationError) == (err.status == 401)
        real.observe("vfolder_all_hosts_user", f"{err.status} `{problem(err)}`")
        created = await admin.vfolder.create(f"it-{secrets.token_hex(4)}")
        try:
            with pytest.raises(ServerError) as caught:
                await user.vfolder.info(created["name"])  # someone else's folder
            assert caught.value.status == 404
        finally:
            await remove(admin, real, created["name"], created["id"])

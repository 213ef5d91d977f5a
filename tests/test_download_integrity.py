"""A download never reports success it did not have, and never writes outside its target.

Every broken answer (a 101, a truncated or corrupt compressed body, an encoding the SDK did
not ask for, fewer bytes than announced, a cut or invalid chunked stream, a bad header) is a
``ResponseError`` for every way of reading it (a JSON call, a file, a byte stream, an
archive extracted into a directory), and leaves no file behind. Archives never write
outside the destination, even through symlinks already there; broken archives are
``ResponseError``s, never raw ``tarfile`` errors.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backendai_async import Client, ClientError, ErrorType, ResponseError, ServerError, _archive
from backendai_async.testing import BackendAITestServer, Fault

from .conftest import acquired_connections
from .rawhttp import RawServer, answer, chunked, compress, names, sends

BOUNDARY = "xYz0123"
MULTIPART = f'multipart/mixed; boundary="{BOUNDARY}"'


def tar_of(*entries: tuple[str, bytes | None], **kinds: str) -> bytes:
    """A tar archive: (name, content) for files, (name, None) for directories; ``kinds``
    maps a name to ``symlink:<target>`` or ``hardlink:<target>``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            kind = kinds.get(name.replace("/", "_").replace(".", "_"), "")
            if kind.startswith("symlink:"):
                info.type, info.linkname = tarfile.SYMTYPE, kind[8:]
                archive.addfile(info)
            elif kind.startswith("hardlink:"):
                info.type, info.linkname = tarfile.LNKTYPE, kind[9:]
                archive.addfile(info)
            elif content is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def multipart(*parts: bytes, close: bool = True, lengths: bool = True) -> bytes:
    out = b""
    for part in parts:
        head = f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
        if lengths:
            head += f"Content-Length: {len(part)}\r\n"
        out += (head + "\r\n").encode() + part + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


JSON_BODY = json.dumps({"status": "RUNNING", "pad": "p" * 5000}).encode()
ARCHIVE_BODY = multipart(tar_of(("out.txt", b"x" * 5000)))


def broken(kind: str, body: bytes, content_type: str) -> bytes:
    """The answer ``kind`` breaks; ``body`` is what a whole answer would have carried."""
    ct = {"Content-Type": content_type}
    gz = compress(body, "gzip")
    if kind == "101 Switching Protocols":
        return answer(
            "101 Switching Protocols", {"Upgrade": "x", "Connection": "Upgrade"}, b"", False
        )
    if kind == "truncated gzip":
        return answer("200 OK", {**ct, "Content-Encoding": "gzip"}, gz[: len(gz) // 2])
    if kind == "corrupt gzip":
        middle = len(gz) // 2
        return answer(
            "200 OK",
            {**ct, "Content-Encoding": "gzip"},
            gz[:middle] + b"\xff" * 64 + gz[middle + 64 :],
        )
    if kind == "gzip checksum wrong":
        return answer("200 OK", {**ct, "Content-Encoding": "gzip"}, gz[:-8] + b"\0" * 8)
    if kind == "data after the deflate stream":
        return answer(
            "200 OK", {**ct, "Content-Encoding": "deflate"}, compress(body, "deflate") + b"junk"
        )
    if kind == "brotli not asked for":
        return answer("200 OK", {**ct, "Content-Encoding": "br"}, body)
    if kind == "two stacked codings":
        return answer("200 OK", {**ct, "Content-Encoding": "gzip, gzip"}, compress(gz, "gzip"))
    if kind == "fewer bytes than Content-Length":
        return answer("200 OK", {**ct, "Content-Length": str(len(body) + 1000)}, body, False) + body
    if kind == "truncated chunked stream":
        head = answer("200 OK", {**ct, "Transfer-Encoding": "chunked"}, b"", False)
        return head + chunked(body[:1000], body[1000:3000], end=False)
    if kind == "invalid chunk size":
        head = answer("200 OK", {**ct, "Transfer-Encoding": "chunked"}, b"", False)
        return head + chunked(body[:1000])[:-5] + b"zz\r\nbad\r\n0\r\n\r\n"
    if kind == "malformed header line":
        return answer("200 OK", ct, body).replace(
            b"\r\n\r\n", b"\r\nthis is not a header\r\n\r\n", 1
        )
    raise AssertionError(kind)


BROKEN = [
    "101 Switching Protocols",
    "truncated gzip",
    "corrupt gzip",
    "gzip checksum wrong",
    "data after the deflate stream",
    "brotli not asked for",
    "two stacked codings",
    "fewer bytes than Content-Length",
    "truncated chunked stream",
    "invalid chunk size",
    "malformed header line",
]
READERS = ["json", "file", "stream", "archive"]


async def _read(client: Client, reader: str, target: Path) -> Any:
    if reader == "json":
        return await client.get_info("sess", timeout=5)
    if reader == "file":
        return await client.download_single("sess", "out.txt", target / "out.txt", idle_timeout=5)
    if reader == "archive":
        return await client.download("sess", ["out.txt"], target, idle_timeout=5)
    async with await client.download_single("sess", "out.txt", idle_timeout=5) as stream:
        return await stream.read()


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", BROKEN)
async def test_a_broken_answer_is_a_response_error_and_leaves_nothing(
    kind: str, reader: str, tmp_path: Path
) -> None:
    body, ctype = (
        (ARCHIVE_BODY, MULTIPART) if reader == "archive" else (JSON_BODY, "application/json")
    )
    async with RawServer(sends(broken(kind, body, ctype))) as srv, srv.client() as client:
        await client.get_manager_version()
        with pytest.raises(ClientError) as info:
            await _read(client, reader, tmp_path)
        assert acquired_connections(client) == 0
        assert len(client._in_flight) == 0
    err = info.value
    assert isinstance(err, ResponseError), repr(err)
    assert err.type is ErrorType.ERR_RESPONSE
    assert err.message.startswith("reading response has failed"), err.message
    assert err.status in (None, 101, 200), err.status  # never aiohttp's internal 400
    assert names(tmp_path) == []  # no file, no temporary file, no staging directory


async def test_the_same_answers_whole_succeed_for_every_reader(tmp_path: Path) -> None:
    """The control: the bodies of the broken answers above, sent whole, are fine."""
    for reader in READERS:
        body, ctype = (
            (ARCHIVE_BODY, MULTIPART) if reader == "archive" else (JSON_BODY, "application/json")
        )
        data = answer(
            "200 OK", {"Content-Type": ctype, "Content-Encoding": "gzip"}, compress(body, "gzip")
        )
        target = tmp_path / reader
        target.mkdir()
        async with RawServer(sends(data)) as srv, srv.client() as client:
            result = await _read(client, reader, target)
        if reader == "json":
            assert result["status"] == "RUNNING"
        elif reader == "stream":
            assert result == JSON_BODY
        else:
            assert (target / "out.txt").read_bytes() == (
                b"x" * 5000 if reader == "archive" else JSON_BODY
            )


async def test_a_continue_before_the_answer_is_not_an_answer_but_the_final_one_is(
    tmp_path: Path,
) -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + answer(
        "200 OK", {"Content-Type": "text/plain"}, b"whole"
    )
    async with RawServer(sends(data)) as srv, srv.client() as client:
        path = await client.download_single("sess", "f.txt", tmp_path / "f.txt")
    assert path.read_bytes() == b"whole"


# -- the archive answer ---------------------------------------------------------------------

ARCHIVE_BREAKS: dict[str, Callable[[], bytes]] = {
    "no closing delimiter": lambda: multipart(tar_of(("a.txt", b"a")), close=False),
    "part shorter than its Content-Length": lambda: multipart(tar_of(("a.txt", b"a"))).replace(
        b"Content-Length: 10240", b"Content-Length: 10241"
    ),
    "not a tar archive": lambda: multipart(b"this is not a tar archive" * 50),
    "tar cut mid-file": lambda: multipart(tar_of(("a.txt", b"a" * 5000))[:2048]),
    "absolute member path": lambda: multipart(tar_of(("/etc/evil.txt", b"x"))),
    "member path with ..": lambda: multipart(tar_of(("sub/../../evil.txt", b"x"))),
    "nested multipart part": lambda: (
        f"--{BOUNDARY}\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
        f"--inner--\r\n\r\n--{BOUNDARY}--\r\n"
    ).encode(),
    "a file where the archive has a directory": lambda: multipart(
        tar_of(("d", b"file first"), ("d/x.txt", b"x"))
    ),
}


@pytest.fixture(params=["data filter", "real paths only"])
def extraction(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with the tarfile ``data`` filter, and as on Pythons without it."""
    if request.param == "real paths only":
        monkeypatch.setattr(_archive, "_DATA_FILTER", None)
    return str(request.param)


async def _download_answer(data: bytes, dest: Path, content_type: str = MULTIPART) -> Any:
    raw = answer("200 OK", {"Content-Type": content_type}, data)
    async with RawServer(sends(raw)) as srv, srv.client() as client:
        return await client.download("sess", ["a"], dest)


@pytest.mark.parametrize("name", list(ARCHIVE_BREAKS))
async def test_a_broken_or_unsafe_archive_is_a_response_error_and_writes_nothing(
    name: str, extraction: str, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "kept.txt").write_bytes(b"old")
    with pytest.raises(ClientError) as info:
        await _download_answer(ARCHIVE_BREAKS[name](), dest)
    assert isinstance(info.value, ResponseError), repr(info.value)
    assert not isinstance(info.value.__cause__, tarfile.TarError)
    assert names(dest) == ["kept.txt"]  # no staging left either
    assert (dest / "kept.txt").read_bytes() == b"old"
    assert names(tmp_path) == ["dest"]  # nothing went beside it


async def test_links_and_devices_in_an_archive_are_skipped(extraction: str, tmp_path: Path) -> None:
    tar = tar_of(
        ("real.txt", b"r"),
        ("link_to_passwd", b""),
        ("hard", b""),
        link_to_passwd="symlink:/etc/passwd",
        hard="hardlink:real.txt",
    )
    written = await _download_answer(multipart(tar), tmp_path)
    assert written == [tmp_path / "real.txt"]
    assert names(tmp_path) == ["real.txt"]


async def test_a_symlink_already_in_dest_is_not_followed_outside(
    extraction: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)  # dest/sub -> ../outside
    tar = tar_of(("sub", None), ("sub/evil.txt", b"escaped"), ("fine.txt", b"f"))
    with pytest.raises(ResponseError, match="outside"):
        await _download_answer(multipart(tar), dest)
    assert names(outside) == []
    assert names(dest) == ["sub"]  # fine.txt not moved either


async def test_a_symlink_in_dest_pointing_inside_it_is_fine(
    extraction: str, tmp_path: Path
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    written = await _download_answer(multipart(tar_of(("alias/x.txt", b"x"))), tmp_path)
    assert written == [tmp_path / "alias" / "x.txt"]
    assert (tmp_path / "real" / "x.txt").read_bytes() == b"x"


async def test_an_existing_symlink_file_in_dest_is_replaced_not_written_through(
    extraction: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "x.txt").symlink_to(victim)
    await _download_answer(multipart(tar_of(("x.txt", b"new"))), dest)
    assert victim.read_bytes() == b"untouched"
    assert not (dest / "x.txt").is_symlink()
    assert (dest / "x.txt").read_bytes() == b"new"


async def test_an_answer_that_is_not_multipart_is_a_response_error(tmp_path: Path) -> None:
    with pytest.raises(ResponseError, match="multipart"):
        await _download_answer(b"{}", tmp_path, "application/json")
    assert names(tmp_path) == []


async def test_parts_without_lengths_and_several_parts_extract(tmp_path: Path) -> None:
    data = multipart(
        tar_of(("a.txt", b"a"), ("d", None), ("d/b.txt", b"b")),
        tar_of(("c.txt", b"c")),
        lengths=False,
    )
    written = await _download_answer(b"preamble\r\n" + data + b"epilogue", tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "a.txt",
        "c.txt",
        "d/b.txt",
    ]


# -- destinations ---------------------------------------------------------------------------


async def test_a_destination_ending_with_a_slash_is_a_directory(
    client: Client, server: BackendAITestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.create_if_not_exists("python", "dest-sess")
    await client.upload("dest-sess", "out/model.bin", b"weights")
    monkeypatch.chdir(tmp_path)
    count = server.count()
    with pytest.raises(FileNotFoundError, match="models/"):
        await client.download_single("dest-sess", "out/model.bin", "models/")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        await client.download_single("dest-sess", "out/model.bin", "file/")
    with pytest.raises(NotADirectoryError):
        await client.download("dest-sess", "out/model.bin", "file")
    with pytest.raises(FileNotFoundError):
        await client.download("dest-sess", "out/model.bin", "models/")
    assert server.count() == count  # all refused before sending
    assert sorted(os.listdir(tmp_path)) == ["file"]  # never a file named "models"
    (tmp_path / "models").mkdir()
    path = await client.download_single("dest-sess", "out/model.bin", "models/")
    assert path == Path("models/model.bin")
    assert (tmp_path / "models" / "model.bin").read_bytes() == b"weights"


async def test_a_failed_download_keeps_the_old_file_and_adds_nothing(
    client: Client, server: BackendAITestServer, tmp_path: Path
) -> None:
    await client.create_if_not_exists("python", "keep-sess")
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    server.add_fault(
        Fault(
            path="/session/keep-sess/download_single",
            body=compress(b"n" * 100_000, "gzip")[:-20],
            headers={"Content-Encoding": "gzip"},
        )
    )
    with pytest.raises(ResponseError, match="truncated"):
        await client.download_single("keep-sess", "f.bin", target)
    assert os.listdir(tmp_path) == ["f.bin"]
    assert target.read_bytes() == b"old"


async def test_a_500_with_a_broken_body_stays_a_server_error(tmp_path: Path) -> None:
    data = answer(
        "500 Internal Server Error",
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        b"\x1f\x8b not gzip at all",
    )
    async with RawServer(sends(data)) as srv, srv.client() as client:
        with pytest.raises(ServerError) as info:
            await client.download_single("sess", "f", tmp_path / "f")
    assert info.value.status == 500
    assert names(tmp_path) == []

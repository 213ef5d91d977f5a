"""Memory stays bounded whatever the server sends: limits apply to decoded bytes.

A compression bomb (a small gzip/deflate body that inflates to hundreds of MiB) is refused
at ``max_response_size`` as a JSON answer and at the error-body cap as a 4xx/5xx body,
without the process ever holding more than the limit plus a constant; streamed downloads
of such a body stay flat. Peaks are measured with tracemalloc (server and client share the
process, so the server's own buffers are included in the figures).
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backendai_async import ResponseError, ServerError
from backendai_async._body import ERROR_BODY_LIMIT
from backendai_async._transfer import CHUNK_SIZE

from .conftest import acquired_connections
from .rawhttp import RawServer, answer, chunked, compress, names, sends, zero_bomb

MiB = 1 << 20
LIMIT = 1 * MiB
BOMB_MIB = 256  # inflated size of the bombs refused at a limit (about 260 KiB compressed)
STREAM_MIB = 48  # inflated size of the bombs streamed to the end
HEADER = {"gzip": "gzip", "deflate": "deflate", "raw-deflate": "deflate"}
PEAKS: dict[str, float] = {}  # the measured figures, printed at the end of the module


@contextmanager
def traced(name: str) -> Iterator[list[float]]:
    """Trace allocations; the peak above the starting point (bytes) is left in the list."""
    tracemalloc.start()
    result: list[float] = []
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1] - baseline)
        tracemalloc.stop()
        PEAKS[name] = result[0] / MiB


@pytest.fixture(scope="module", autouse=True)
def _report_peaks() -> Iterator[None]:
    yield
    if PEAKS:
        shown = ", ".join(f"{k}: {v:.2f} MiB" for k, v in sorted(PEAKS.items()))
        print(f"\ntracemalloc peaks: {shown}")


def framed(status: str, headers: dict[str, str], body: bytes, framing: str) -> bytes:
    if framing == "length":
        return answer(status, headers, body)
    pieces = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
    return answer(status, {**headers, "Transfer-Encoding": "chunked"}, chunked(*pieces), False)


@pytest.fixture
async def bomb_server(request: pytest.FixtureRequest) -> AsyncIterator[RawServer]:
    async with RawServer(sends(request.param)) as srv:
        yield srv


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_a_compression_bomb_as_a_json_answer_is_refused_at_the_limit(
    coding: str, framing: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": HEADER[coding]}
    data = framed("200 OK", headers, zero_bomb(BOMB_MIB, coding), framing)
    async with RawServer(sends(data)) as srv, srv.client(max_response_size=LIMIT) as client:
        await client.get_manager_version()
        with traced(f"json {coding}/{framing}") as peak, pytest.raises(ResponseError) as info:
            await client.request("GET", "/auth/role")
        assert acquired_connections(client) == 0
    assert "max_response_size" in info.value.message
    assert "decoded" in info.value.message
    assert info.value.status == 200
    assert peak[0] < LIMIT + 2 * MiB, f"peak {peak[0] / MiB:.1f} MiB for a {LIMIT / MiB} MiB limit"


@pytest.mark.parametrize("status", ["400 Bad Request", "500 Internal Server Error", "503 Busy"])
async def test_a_compression_bomb_as_an_error_body_keeps_the_status(status: str) -> None:
    headers = {"Content-Type": "application/problem+json", "Content-Encoding": "gzip"}
    data = answer(status, headers, zero_bomb(BOMB_MIB))
    async with RawServer(sends(data)) as srv, srv.client() as client:  # 64 MiB default limit
        await client.get_manager_version()
        with traced(f"error body {status[:3]}") as peak, pytest.raises(ServerError) as info:
            await client.request("GET", "/auth/role")
        assert acquired_connections(client) == 0
    assert info.value.status == int(status[:3])
    assert info.value.body is None  # too large once decoded: not kept, the status is the error
    assert peak[0] < ERROR_BODY_LIMIT + 2 * MiB, f"peak {peak[0] / MiB:.1f} MiB"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_a_streamed_download_of_a_bomb_stays_flat(coding: str, tmp_path: Path) -> None:
    headers = {"Content-Type": "application/octet-stream", "Content-Encoding": HEADER[coding]}
    data = answer("200 OK", headers, zero_bomb(STREAM_MIB, coding))
    sizes: list[int] = []
    async with RawServer(sends(data)) as srv, srv.client(max_response_size=LIMIT) as client:
        await client.get_manager_version()
        with traced(f"stream {coding}") as peak:
            async with await client.download_single("sess", "zeros.bin") as stream:
                assert stream.size is None  # the decoded size is not announced
                async for chunk in stream:
                    sizes.append(len(chunk))
        assert acquired_connections(client) == 0
    assert sum(sizes) == STREAM_MIB * MiB  # max_response_size does not apply to streams
    assert max(sizes) <= CHUNK_SIZE
    assert peak[0] < 4 * MiB, f"peak {peak[0] / MiB:.1f} MiB"


async def test_a_download_of_a_bomb_to_a_file_stays_flat(tmp_path: Path) -> None:
    headers = {"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}
    data = answer("200 OK", headers, zero_bomb(STREAM_MIB))
    async with RawServer(sends(data)) as srv, srv.client(max_response_size=LIMIT) as client:
        await client.get_manager_version()
        with traced("file gzip") as peak:
            path = await client.download_single("sess", "zeros.bin", tmp_path / "zeros.bin")
    assert path.stat().st_size == STREAM_MIB * MiB
    assert names(tmp_path) == ["zeros.bin"]
    assert peak[0] < 4 * MiB, f"peak {peak[0] / MiB:.1f} MiB"


def _tar_of_zeros(name: str, size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = size
        archive.addfile(info, io.BytesIO(bytes(size)))
    return buffer.getvalue()


async def test_a_gzip_encoded_archive_download_is_decoded_and_stays_flat(tmp_path: Path) -> None:
    size = 16 * MiB
    tar = _tar_of_zeros("zeros.bin", size)
    boundary = "b0undary"
    multipart = (
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(tar)}\r\n\r\n".encode()
        + tar
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Content-Type": f'multipart/mixed; boundary="{boundary}"',
        "Content-Encoding": "gzip",
    }
    data = answer("200 OK", headers, compress(multipart, "gzip"))
    del tar, multipart
    async with RawServer(sends(data)) as srv, srv.client(max_response_size=LIMIT) as client:
        await client.get_manager_version()
        with traced("archive gzip") as peak:
            written = await client.download("sess", ["zeros.bin"], tmp_path)
    assert written == [tmp_path / "zeros.bin"]
    assert written[0].stat().st_size == size
    assert names(tmp_path) == ["zeros.bin"]
    assert peak[0] < 6 * MiB, f"peak {peak[0] / MiB:.1f} MiB"


# -- decoding is right, and only what the SDK can decode is asked for ----------------------


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw-deflate", "identity"])
async def test_encoded_json_answers_decode(coding: str, framing: str) -> None:
    payload = b'{"role": "user", "pad": "' + b"ab" * 100_000 + b'"}'
    body = payload if coding == "identity" else compress(payload, coding.replace("x-", ""))
    headers = {"Content-Type": "application/json", "Content-Encoding": HEADER.get(coding, coding)}
    data = framed("200 OK", headers, body, framing)
    async with RawServer(sends(data)) as srv, srv.client() as client:
        result = await client.request("GET", "/auth/role")
    assert result == {"role": "user", "pad": "ab" * 100_000}
    for seen in srv.requests:  # the probe and the call ask only for what the SDK decodes
        assert seen.headers["accept-encoding"] == "gzip, deflate"


async def test_several_gzip_members_and_zero_padding_decode_as_one_body(tmp_path: Path) -> None:
    body = compress(b"first,", "gzip") + compress(b"second", "gzip") + b"\0" * 8
    headers = {"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}
    async with RawServer(sends(answer("200 OK", headers, body))) as srv, srv.client() as client:
        path = await client.download_single("sess", "f.bin", tmp_path / "f.bin")
    assert path.read_bytes() == b"first,second"


async def test_the_error_body_cap_applies_to_decoded_bytes_and_a_small_one_is_kept() -> None:
    detail = b'{"type": "https://api.backend.ai/probs/x", "title": "Nope", "msg": "why"}'
    headers = {"Content-Type": "application/problem+json", "Content-Encoding": "deflate"}
    data = answer("409 Conflict", headers, compress(detail, "deflate"))
    async with RawServer(sends(data)) as srv, srv.client() as client:
        with pytest.raises(ServerError) as info:
            await client.request("GET", "/auth/role")
    assert info.value.status == 409
    assert info.value.body["msg"] == "why"
    assert "why" in info.value.message


async def test_many_concurrent_bombs_stay_bounded() -> None:
    """Ten calls at once, each refused at its limit: the peak is ten limits, not ten bombs."""
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    data = answer("200 OK", headers, zero_bomb(BOMB_MIB))
    async with RawServer(sends(data)) as srv, srv.client(max_response_size=LIMIT) as client:
        await client.get_manager_version()
        with traced("10 concurrent json") as peak:
            results = await asyncio.gather(
                *(client.request("GET", "/auth/role") for _ in range(10)), return_exceptions=True
            )
    assert all(isinstance(r, ResponseError) for r in results), results
    assert peak[0] < 10 * (LIMIT + MiB) + 4 * MiB, f"peak {peak[0] / MiB:.1f} MiB"

"""A fake storage proxy: the client-facing API on its own loopback port, as the real one.

The manager's ``request-upload`` / ``request-download`` have the proxy issue a token
(:meth:`FakeStorageProxy.issue_upload` / :meth:`issue_download`, the fake's stand-in for
the proxy's manager-facing API); clients then talk to the proxy directly, unsigned:

* ``PATCH /upload?token=`` appends a tus chunk and answers 204 with ``Upload-Offset``;
  the file appears under its path once all bytes have arrived;
* ``HEAD /upload?token=`` gives the offset, or 404 once the upload is complete (or unknown);
* ``GET /download?token=`` streams the file (``archive=true``: a directory as a zip).

By default it behaves like the 23.09 proxy: ``Upload-Offset`` is not checked, bytes are
appended as they arrive, and the bytes of a ``PATCH`` cut off mid-way are kept.
``strict_offsets = True`` behaves like 26.9: a wrong offset is refused with 409 and a
``PATCH`` that does not finish keeps nothing. ``cut_upload_at = n`` cuts the connection of
the ``PATCH`` that reaches offset ``n`` of its upload, once (bytes up to ``n`` are kept in
the 23.09 mode), so that clients can be tested to resume. ``faults`` takes the same
:class:`Fault` objects as the manager. Every request is recorded in ``requests``, and
``received_bytes`` counts every body byte the proxy took from the network;
``lose_answers = n`` stores the next ``n`` PATCHes but cuts the connection instead of
answering (the client then has to ask where the upload stands).

Nothing here imports the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import ssl
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yarl
from aiohttp import web
from multidict import CIMultiDictProxy

from ._faults import Fault, apply_fault, pick_fault
from ._manager import serve
from ._sessions import _stream_file

__all__ = [
    "FakeStorageProxy",
    "ProxyDownload",
    "ProxyRequest",
    "ProxyUpload",
]

_CHUNK = 256 * 1024
_PROBLEM = "https://api.backend.ai/probs/"
_TUS_HEADERS = {
    "Tus-Resumable": "1.0.0",
    "Cache-Control": "no-store",
    "Access-Control-Allow-Origin": "*",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ProxyUpload:
    """One tus upload: where it goes, its size, and what has arrived so far."""

    token: str
    target: Path
    relpath: str
    size: int
    staging: Path
    offset: int = 0
    complete: bool = False
    patches: int = 0
    received: int = 0  # body bytes of every PATCH, including bytes later discarded


@dataclass
class ProxyDownload:
    """One download token: the file (or directory, with ``archive``) it gives."""

    token: str
    path: Path
    relpath: str
    archive: bool = False


@dataclass(frozen=True)
class ProxyRequest:
    """What the proxy received: method, path, headers, body size, and its answer's status."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDictProxy[str]
    body_size: int = 0
    status: int | None = None


def _problem(status: int, kind: str, title: str, msg: str | None = None) -> web.Response:
    body: dict[str, Any] = {"type": _PROBLEM + kind, "title": title}
    if msg is not None:
        body["msg"] = msg
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/problem+json"
    )


def _invalid(msg: str) -> web.Response:
    return _problem(400, "invalid-api-params", "Missing or invalid API parameters.", msg)


def _no_session() -> web.Response:
    return _problem(404, "storage/no-such-upload-session", "No such upload session")


@dataclass(eq=False)
class FakeStorageProxy:
    """The storage proxy's client-facing API; started and closed by the test server."""

    strict_offsets: bool = False
    cut_upload_at: int | None = None
    lose_answers: int = 0
    faults: list[Fault] = field(default_factory=list)
    requests: list[ProxyRequest] = field(default_factory=list)
    uploads: dict[str, ProxyUpload] = field(default_factory=dict)
    downloads: dict[str, ProxyDownload] = field(default_factory=dict)
    received_bytes: int = 0
    _url: yarl.URL | None = field(default=None, repr=False)
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _staging: Path | None = field(default=None, repr=False)
    _closing: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _arrival: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> yarl.URL:
        """``http://127.0.0.1:<port>`` once started."""
        if self._url is None:
            raise RuntimeError("the storage proxy is not started")
        return self._url

    async def start(self, host: str, ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application(middlewares=[self._record_mw])
        app.router.add_route("GET", "/", self._status)
        app.router.add_route("GET", "/download", self._download)
        for method in ("HEAD", "PATCH", "OPTIONS"):
            app.router.add_route(method, "/upload", self._upload)
        self._runner, self._url = await serve(app, host, 0, ssl_context)

    async def close(self) -> None:
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._staging is not None:
            await asyncio.to_thread(shutil.rmtree, self._staging, True)
            self._staging = None

    # -- the manager-facing side: tokens ------------------------------------------------------

    def issue_upload(self, target: Path, relpath: str, size: int) -> str:
        """Create an upload session (an empty staging file) and return its token."""
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="backendai-test-proxy-"))
        token = secrets.token_urlsafe(24)
        staging = self._staging / secrets.token_hex(8)
        staging.touch()
        self.uploads[token] = ProxyUpload(token, target, relpath, size, staging)
        return token

    def issue_download(self, path: Path, relpath: str, archive: bool = False) -> str:
        token = secrets.token_urlsafe(24)
        self.downloads[token] = ProxyDownload(token, path, relpath, archive)
        return token

    async def wait_for_request(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> ProxyRequest:
        """The ``count``-th request matching method/path, once it has arrived (its handler
        and any fault run right after: a test can wait for a request to reach a stall)."""

        async def wait() -> ProxyRequest:
            while True:
                arrival = self._arrival
                found = [
                    r
                    for r in self.requests
                    if (method is None or r.method == method) and (path is None or r.path == path)
                ]
                if len(found) >= count:
                    return found[count - 1]
                await arrival.wait()

        return await asyncio.wait_for(wait(), timeout)

    @property
    def tokens(self) -> list[str]:
        """Every token issued (tests add them to their secret checks)."""
        return [*self.uploads, *self.downloads]

    # -- recording and faults -----------------------------------------------------------------

    @web.middleware
    async def _record_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        index = len(self.requests)
        self.requests.append(
            ProxyRequest(request.method, request.path, dict(request.query), request.headers)
        )
        self._arrival.set()
        self._arrival = asyncio.Event()
        fault = pick_fault(self.faults, request.method, request.path, before_auth=True)
        if fault is not None:
            resp = await apply_fault(fault, request, self._closing)
            if resp is None:
                resp = await handler(request)
        else:
            resp = await handler(request)
        transport = request.transport
        cut = transport is None or transport.is_closing()
        old = self.requests[index]
        self.requests[index] = ProxyRequest(
            old.method,
            old.path,
            old.query,
            old.headers,
            request.get("body_size", 0),
            None if cut else resp.status,
        )
        return resp

    # -- handlers -----------------------------------------------------------------------------

    async def _status(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "type": "client-facing", "storage-proxy": "fake"})

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(headers={**_TUS_HEADERS, "Tus-Version": "1.0.0"})
        return await self.tus(request, request.query.get("token", ""))

    async def tus(self, request: web.Request, token: str) -> web.StreamResponse:
        """HEAD or PATCH of an upload (the manager's own tus route of old API versions too)."""
        upload = self.uploads.get(token)
        if upload is None or upload.complete:
            return _no_session()
        headers = {
            **_TUS_HEADERS,
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.size),
        }
        if request.method == "HEAD":
            return web.Response(headers=headers)
        claimed = request.headers.get("Upload-Offset")
        if self.strict_offsets:
            if claimed is None or not claimed.isdigit():
                return _problem(400, "invalid-api-params", "Missing or invalid API parameters.")
            if int(claimed) != upload.offset:
                return _problem(
                    409,
                    "storage/upload-offset-mismatch",
                    "Upload Offset Mismatch",
                    f"Upload offset mismatch: expected {upload.offset}, got {claimed}",
                )
        cut = await self._receive(request, upload)
        if cut:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        headers["Upload-Offset"] = str(upload.offset)
        if upload.offset >= upload.size:
            await asyncio.to_thread(_finish, upload)
            upload.complete = True
        if self.lose_answers > 0:  # stored, but the client never hears of it
            self.lose_answers -= 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        return web.Response(status=204, headers=headers)

    async def _receive(self, request: web.Request, upload: ProxyUpload) -> bool:
        """Append the PATCH body; True when the connection is (to be) cut."""
        start = upload.offset
        upload.patches += 1
        file = await asyncio.to_thread(open, upload.staging, "r+b")
        cut = False
        try:
            await asyncio.to_thread(file.truncate, start)  # what a cut 26.9 PATCH left
            await asyncio.to_thread(file.seek, start)
            while True:
                try:
                    chunk = await request.content.readany()
                except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                    cut = True
                    break
                except Exception:  # aiohttp's payload errors on a broken request
                    cut = True
                    break
                if not chunk:
                    break
                limit = self.cut_upload_at
                if limit is not None and upload.offset + len(chunk) >= limit > upload.offset:
                    chunk = chunk[: limit - upload.offset]
                    self.cut_upload_at = None
                    cut = True
                self.received_bytes += len(chunk)
                upload.received += len(chunk)
                request["body_size"] = request.get("body_size", 0) + len(chunk)
                await asyncio.to_thread(file.write, chunk)
                upload.offset += len(chunk)
                if cut:
                    break
        finally:
            if cut and self.strict_offsets:
                upload.offset = start
            file.close()
        return cut

    async def _download(self, request: web.Request) -> web.StreamResponse:
        grant = self.downloads.get(request.query.get("token", ""))
        if grant is None:
            return _problem(
                400,
                "invalid-api-params",
                "Missing or invalid API parameters.",
                "Input validation error",
            )
        return await serve_file(request, grant.path, archive=_truthy(request.query.get("archive")))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "t", "yes", "y", "on")


def _finish(upload: ProxyUpload) -> None:
    upload.target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(upload.staging, upload.target)


def _zip_into(directory: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for root, _dirs, files in os.walk(directory):
            for name in sorted(files):
                local = Path(root) / name
                zf.write(local, local.relative_to(directory).as_posix())


async def serve_file(
    request: web.Request,
    path: Path,
    *,
    archive: bool,
    not_found: Literal["proxy", "manager"] = "proxy",
) -> web.StreamResponse:
    """Stream a file (or a directory as a zip, with ``archive``) chunk by chunk."""
    exists = await asyncio.to_thread(path.exists)
    if not exists:
        if not_found == "manager":
            return _problem(
                400,
                "invalid-api-params",
                "Missing or invalid API parameters.",
                "The file is not found.",
            )
        return _problem(404, "storage/file-not-found", "File not found")
    zipped: Path | None = None
    if not await asyncio.to_thread(path.is_file):
        if not archive:
            return _problem(
                400,
                "invalid-api-params",
                "Missing or invalid API parameters.",
                "The file is not a regular file.",
            )
        fd, name = tempfile.mkstemp(prefix="backendai-test-zip-", suffix=".zip")
        os.close(fd)
        zipped = Path(name)
        await asyncio.to_thread(_zip_into, path, zipped)
    source = zipped or path
    try:
        filename = path.name + (".zip" if zipped else "")
        headers = {"Content-Disposition": f'attachment;filename="{filename}"'}
        if zipped:
            headers["Content-Type"] = "application/zip"
        if _truthy(request.query.get("no_cache")):
            headers["Cache-Control"] = "no-store"
        return await _stream_file(request, source, headers)
    finally:
        if zipped is not None:
            with contextlib.suppress(OSError):
                zipped.unlink()

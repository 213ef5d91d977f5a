"""The floor: hand-written Backend.AI calls on a plain ``aiohttp.ClientSession``.

What a competent user would write without an SDK: the same HMAC headers computed with
``hashlib``/``hmac`` (the derived key cached per day, the date computed per request), the
JSON body encoded per call, the answer read and decoded with ``json.loads``. No timeouts
beyond aiohttp's defaults, no error mapping, no abort tracking, no middlewares: nothing an
SDK could do for less.

Imports neither ``backendai_async`` nor anything of the bench that does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
from yarl import URL

__all__ = ["BaselineClient", "HandSigner", "NaiveSigner"]

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_JSON = "application/json"


class HandSigner:
    """Signs by hand; the derived key is cached per day (like any sane hand-written client)."""

    __slots__ = ("_access_key", "_day", "_host", "_key", "_secret")

    def __init__(self, access_key: str, secret_key: str, host: str) -> None:
        self._access_key = access_key
        self._secret = secret_key.encode()
        self._host = host
        self._day = ""
        self._key = b""

    def headers(
        self, method: str, path_qs: str, version: str, content_type: str = _JSON
    ) -> dict[str, str]:
        """The four signed headers for one request, dated now."""
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        day = date[0:4] + date[5:7] + date[8:10]
        if day != self._day:
            k1 = hmac.new(self._secret, day.encode(), hashlib.sha256).digest()
            self._key = hmac.new(k1, self._host.encode(), hashlib.sha256).digest()
            self._day = day
        media_type = content_type if content_type is _JSON else content_type.partition(";")[0]
        sign_string = (
            f"{method}\n{path_qs}\n{date}\nhost:{self._host}\ncontent-type:{media_type}\n"
            f"x-backendai-version:{version}\n{_EMPTY_SHA256}"
        )
        signature = hmac.new(self._key, sign_string.encode(), hashlib.sha256).hexdigest()
        return {
            "Content-Type": content_type,
            "X-BackendAI-Version": version,
            "X-BackendAI-Date": date,
            "Authorization": (
                f"BackendAI signMethod=HMAC-SHA256, credential={self._access_key}:{signature}"
            ),
        }


class NaiveSigner:
    """The same signature done naively: a timezone-aware datetime and both HMACs every time."""

    __slots__ = ("_access_key", "_secret")

    def __init__(self, access_key: str, secret_key: str) -> None:
        self._access_key = access_key
        self._secret = secret_key

    def authorization(
        self, method: str, path_qs: str, host: str, content_type: str, version: str
    ) -> tuple[str, str]:
        """``(date header, Authorization header)`` for one request."""
        now = datetime.now(timezone.utc)
        date = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        k1 = hmac.new(
            self._secret.encode("utf-8"), now.strftime("%Y%m%d").encode(), hashlib.sha256
        ).digest()
        key = hmac.new(k1, host.encode("utf-8"), hashlib.sha256).digest()
        body_hash = hashlib.sha256(b"").hexdigest()
        sign_string = "\n".join(
            [
                method,
                path_qs,
                date,
                "host:" + host,
                "content-type:" + content_type,
                "x-backendai-version:" + version,
                body_hash,
            ]
        )
        signature = hmac.new(key, sign_string.encode("utf-8"), hashlib.sha256).hexdigest()
        return date, (
            f"BackendAI signMethod=HMAC-SHA256, credential={self._access_key}:{signature}"
        )


class BaselineError(RuntimeError):
    """A call of the baseline got a status >= 300."""


class BaselineClient:
    """Hand-written calls to the manager on one ``aiohttp.ClientSession`` it owns."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        limit: int = 100,
    ) -> None:
        self._base = URL(endpoint)
        host = self._base.host_port_subcomponent
        assert host is not None
        self._signer = HandSigner(access_key, secret_key, host)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))
        self._url_session = self._base / "session"
        self.version = ""

    async def close(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> BaselineClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def hello(self) -> None:
        """``GET /`` once, as a client needs the version to sign (the SDK negotiates)."""
        async with self._session.get(self._base) as resp:
            info = json.loads(await resp.read())
        self.version = info["version"]

    async def create_if_not_exists(self, image: str, name: str) -> Any:
        """``POST /session`` with the session JSON, signed; the decoded answer."""
        body = json.dumps({"image": image, "name": name}, separators=(",", ":"))
        headers = self._signer.headers("POST", "/session", self.version)
        async with self._session.post(self._url_session, data=body.encode(), headers=headers) as r:
            raw = await r.read()
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {raw[:200]!r}")
            return json.loads(raw)

    async def download_chunks(self, session: str, file: str, chunk: int) -> AsyncIterator[bytes]:
        """``GET /session/{name}/download_single?file=`` (and the file in a JSON body, which
        is what the manager reads), streamed in ``chunk``-byte pieces."""
        url = (self._base / "session" / session / "download_single").with_query(file=file)
        body = json.dumps({"file": file}, separators=(",", ":")).encode()
        headers = self._signer.headers("GET", url.raw_path_qs, self.version)
        async with self._session.get(url, data=body, headers=headers, timeout=_NO_TOTAL) as r:
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {(await r.read())[:200]!r}")
            async for piece in r.content.iter_chunked(chunk):
                yield piece

    async def upload(self, session: str, path: str, source: AsyncIterator[bytes]) -> Any:
        """``POST /session/{name}/upload``: multipart, field ``src``, streamed from ``source``."""
        url = self._base / "session" / session / "upload"
        form = aiohttp.FormData()
        form.add_field("src", source, filename=path, content_type="application/octet-stream")
        payload = form()
        headers = self._signer.headers("POST", url.raw_path_qs, self.version, payload.content_type)
        async with self._session.post(url, data=payload, headers=headers, timeout=_NO_TOTAL) as r:
            raw = await r.read()
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {raw[:200]!r}")
            return json.loads(raw) if raw else None

    # -- virtual folders: the manager hands out a token, the bytes go to the storage proxy --

    async def _signed_json(self, method: str, path: str, body: dict[str, Any]) -> Any:
        headers = self._signer.headers(method, path, self.version)
        data = json.dumps(body, separators=(",", ":")).encode()
        async with self._session.request(
            method, self._base.with_path(path), data=data, headers=headers
        ) as r:
            raw = await r.read()
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {raw[:200]!r}")
            return json.loads(raw) if raw else None

    async def vfolder_create(self, name: str) -> None:
        """``POST /folders`` (an existing folder of that name is fine)."""
        try:
            await self._signed_json("POST", "/folders", {"name": name})
        except BaselineError as err:
            if "already-exists" not in str(err):
                raise

    async def vfolder_upload(
        self,
        folder: str,
        path: str,
        size: int,
        chunks: Callable[[int, int], AsyncIterator[bytes]],
        patch: int,
    ) -> None:
        """``request-upload``, then tus ``PATCH``es of ``patch`` bytes to the proxy's URL;
        ``chunks(start, end)`` gives each PATCH's bytes."""
        answer = await self._signed_json(
            "POST", f"/folders/{folder}/request-upload", {"path": path, "size": size}
        )
        url = URL(answer["url"]).with_query(token=answer["token"])
        offset = 0
        while True:
            end = min(offset + patch, size)
            headers = {
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(end - offset),
            }
            body = chunks(offset, end)
            async with self._session.patch(url, data=body, headers=headers, timeout=_NO_TOTAL) as r:
                await r.read()
                if r.status != 204:
                    raise BaselineError(f"PATCH {r.status}")
                offset = int(r.headers["Upload-Offset"])
            if offset >= size:
                return

    async def vfolder_download_chunks(
        self, folder: str, path: str, chunk: int
    ) -> AsyncIterator[bytes]:
        """``request-download``, then ``GET <url>?token=`` from the proxy, streamed."""
        answer = await self._signed_json(
            "POST", f"/folders/{folder}/request-download", {"path": path}
        )
        url = URL(answer["url"]).with_query(token=answer["token"])
        async with self._session.get(url, timeout=_NO_TOTAL) as r:
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {(await r.read())[:200]!r}")
            async for piece in r.content.iter_chunked(chunk):
                yield piece

    async def session_events(
        self, params: dict[str, str], opened: Any = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """``GET /events/session``, signed, read as a competent hand-written SSE reader does:
        chunks split into lines, ``event``/``data`` fields, JSON decoded per event."""
        url = (self._base / "events" / "session").with_query(params)
        headers = self._signer.headers("GET", url.raw_path_qs, self.version)
        async with self._session.get(url, headers=headers, timeout=_NO_TOTAL) as r:
            if r.status >= 300:
                raise BaselineError(f"{r.status}: {(await r.read())[:200]!r}")
            if opened is not None:
                opened.set_result(None)
            pending = b""
            event, data = "message", []
            async for chunk in r.content.iter_any():
                lines = (pending + chunk).split(b"\r\n")
                pending = lines.pop()
                for line in lines:
                    if not line:
                        if data:
                            yield event, json.loads(b"\n".join(data))
                        event, data = "message", []
                    elif line.startswith(b"data: "):
                        data.append(line[6:])
                    elif line.startswith(b"event: "):
                        event = line[7:].decode()


_NO_TOTAL = aiohttp.ClientTimeout(total=None, sock_read=60)

"""aiohttp client middlewares: the HMAC signer of API mode, the credentials guard of SESSION
mode.

A middleware sees the final ``ClientRequest`` (after aiohttp built the URL, the Host header
and the payload headers) and runs again on every redirect hop and every resend, so what it
signs is exactly what goes on the wire, with a fresh date each time.
"""

from __future__ import annotations

import functools
import hashlib
import time

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, hdrs
from yarl import URL

from .signing import (
    EMPTY_BODY_SHA256,
    authorization_header,
    cached_signing_key,
    format_date,
    make_sign_string,
    sign,
)

__all__ = ["VERSION_HEADER", "HmacSigner", "OwnOriginCredentials"]

VERSION_HEADER = "X-BackendAI-Version"
DATE_HEADER = "X-BackendAI-Date"
_BODY_SIGNED_BEFORE = "v4.20181215"  # the manager compares version strings, so do we
_JSON = "application/json"
_CONTENT_TYPE, _DATE, _HOST = hdrs.CONTENT_TYPE, hdrs.DATE, hdrs.HOST
_AUTHORIZATION = hdrs.AUTHORIZATION
_time = time.time


class HmacSigner:
    """Signs every request that carries ``X-BackendAI-Version`` (unsigned: the ``GET /`` probe).

    It sets ``Content-Type`` itself when absent (aiohttp would add a different default
    after the middlewares ran), removes any ``Date`` header (the manager would prefer it to
    ours) and signs the ``Host`` header aiohttp will send.
    """

    __slots__ = ("_access_key", "_credential", "_date", "_second", "_secret")

    def __init__(self, access_key: str, secret_key: str) -> None:
        self._access_key = access_key
        self._secret = secret_key
        self._credential = authorization_header(access_key, "")  # + the signature
        self._second = -1
        self._date = ("", "")

    def __repr__(self) -> str:
        return f"HmacSigner(access_key={self._access_key!r}, secret_key=********)"

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        headers = request.headers
        version = headers.get(VERSION_HEADER)
        if version is None:
            return await handler(request)
        content_type = headers.get(_CONTENT_TYPE)
        if content_type is None:
            content_type = headers[_CONTENT_TYPE] = _JSON
        media_type = _JSON if content_type == _JSON else _media_type(content_type)
        if _DATE in headers:
            del headers[_DATE]
        host = headers[_HOST]
        second = int(_time())
        if second != self._second:  # the date text changes once a second
            self._date = format_date(second)
            self._second = second
        date, day = self._date
        headers[DATE_HEADER] = date
        body_hash = EMPTY_BODY_SHA256
        if version < _BODY_SIGNED_BEFORE and media_type != "multipart/form-data":
            body = request.body
            raw = body if isinstance(body, bytes) else await body.as_bytes()
            body_hash = hashlib.sha256(raw).hexdigest()
        sign_string = make_sign_string(
            request.method, request.url.raw_path_qs, date, host, media_type, version, body_hash
        )
        signature = sign(cached_signing_key(self._secret, day, host), sign_string)
        headers[_AUTHORIZATION] = self._credential + signature
        return await handler(request)


@functools.lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """The media type the manager signs: the Content-Type's ``type/subtype``, lower case."""
    return content_type.partition(";")[0].strip().lower()


class OwnOriginCredentials:
    """Keeps the endpoint's credentials to the endpoint: a request to any other origin (a
    storage proxy named by the manager) goes without ``Cookie``, ``Authorization`` or
    ``X-BackendAI-SessionID``.

    Cookies ignore ports: without this, a storage proxy on the webserver's host would get
    the SESSION-mode login cookie with every upload and download.
    """

    __slots__ = ("_origin",)

    def __init__(self, endpoint: URL) -> None:
        self._origin = endpoint.origin()

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if request.url.origin() != self._origin:
            headers = request.headers
            for name in (hdrs.COOKIE, hdrs.AUTHORIZATION, "X-BackendAI-SessionID"):
                headers.popall(name, None)
        return await handler(request)

"""Fault injection: make the test server misbehave the way real networks and proxies do.

A :class:`Fault` is plain data matched per request; :func:`apply_fault` turns it into
wire behaviour (stalls, dropped or truncated connections, odd bodies). Every wait ends
early when the server closes, so a test's teardown never hangs on a stall.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from ._verify import PROBLEM_BASE

__all__ = ["Fault", "apply_fault", "pick_fault"]

_CHUNK = 64 * 1024
_DEFAULT_BODY_SIZE = 256 * 1024
"""Body size sent by reset_mid_body/stall_mid_body faults that name no body of their own."""


@dataclass(eq=False)
class Fault:
    """One misbehaviour, applied to matching requests ``times`` times (None: forever).

    ``method`` None matches any method; ``path`` None matches any path, a path ending in
    ``*`` is a prefix, anything else must equal the URL path (without query). Only the first
    matching live fault applies to a request. A fault that names neither a response nor a
    connection failure (only ``delay`` and/or ``headers``) lets the real handler answer,
    after the delay and with the extra headers. ``before_auth=False`` applies the fault only
    after the request passed version/date/signature checks.
    """

    method: str | None = None
    path: str | None = None
    times: int | None = 1
    delay: float = 0.0
    status: int | None = None
    body: bytes | str | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    problem: tuple[int, str, str, str | None] | None = None
    drop: bool = False
    reset_mid_body: bool = False
    stall_mid_body: float = 0.0
    malformed_json: bool = False
    json_null: bool = False
    redirect: str | None = None
    body_size: int | None = None
    before_auth: bool = True
    hits: int = field(default=0, init=False)
    """How many requests this fault has been applied to so far."""

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.delay < 0 or self.stall_mid_body < 0:
            raise ValueError("delay and stall_mid_body must be >= 0")
        if self.body_size is not None and self.body_size < 0:
            raise ValueError("body_size must be >= 0")
        if self.drop and (self.reset_mid_body or self.stall_mid_body):
            raise ValueError("drop cannot be combined with reset_mid_body/stall_mid_body")

    @property
    def remaining(self) -> int | None:
        """Applications left (None: unlimited)."""
        return None if self.times is None else max(self.times - self.hits, 0)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault is live and selects a request with this method and URL path."""
        if self.remaining == 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    @property
    def replaces_response(self) -> bool:
        """True when the handler must not run (the fault answers or breaks the connection)."""
        return bool(
            self.drop
            or self.reset_mid_body
            or self.stall_mid_body
            or self.malformed_json
            or self.json_null
            or self.status is not None
            or self.body is not None
            or self.problem is not None
            or self.redirect is not None
            or self.body_size is not None
        )


def pick_fault(
    faults: Sequence[Fault], method: str, path: str, *, before_auth: bool
) -> Fault | None:
    """Take the first live fault of this phase matching the request, counting it down."""
    for fault in faults:
        if fault.before_auth == before_auth and fault.matches(method, path):
            fault.hits += 1
            return fault
    return None


async def _pause(seconds: float, closing: asyncio.Event) -> bool:
    """Sleep up to ``seconds``; True if the server started closing meanwhile."""
    if closing.is_set():
        return True
    try:
        await asyncio.wait_for(closing.wait(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


def _cut(request: web.BaseRequest, resp: web.StreamResponse | None = None) -> web.StreamResponse:
    """Close the connection now; aiohttp then finds nothing more it can write."""
    if request.transport is not None:
        request.transport.abort()
    return resp if resp is not None else web.Response()


async def _flush(request: web.BaseRequest) -> None:
    """Wait (bounded) until what was written left the process, so a cut cannot discard it."""
    transport = request.transport
    for _ in range(2000):
        if transport is None or transport.is_closing() or not transport.get_write_buffer_size():
            return
        await asyncio.sleep(0.001)


def _payload(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body that the fault answers with."""
    headers = dict(fault.headers)
    status = fault.status or 200
    ctype = fault.content_type
    if fault.redirect is not None:
        status = fault.status or 307
        headers["Location"] = fault.redirect
        body = b""
    elif fault.problem is not None:
        status, kind, title, msg = fault.problem
        problem = {"type": kind if "://" in kind else PROBLEM_BASE + kind, "title": title}
        if msg is not None:
            problem["msg"] = msg
        body = json.dumps(problem).encode()
        ctype = ctype or "application/problem+json; charset=utf-8"
    elif fault.body is not None:
        is_text = isinstance(fault.body, str)
        body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        ctype = ctype or ("text/plain; charset=utf-8" if is_text else "application/octet-stream")
    elif fault.malformed_json:
        body, ctype = b'{"truncated": [1, 2', ctype or "application/json"
    elif fault.json_null:
        body, ctype = b"null", ctype or "application/json"
    elif fault.body_size is not None or fault.reset_mid_body or fault.stall_mid_body:
        size = _DEFAULT_BODY_SIZE if fault.body_size is None else fault.body_size
        if fault.body_size is None:
            ctype = ctype or "application/json"
        ctype = ctype or "application/octet-stream"
        quote = b'"' if "json" in ctype and size >= 2 else b""
        body = quote + b"x" * (size - 2 * len(quote)) + quote
    else:
        body = b""
    if ctype is not None:
        headers["Content-Type"] = ctype
    return status, headers, body


async def _write(resp: web.StreamResponse, data: bytes) -> None:
    for start in range(0, len(data), _CHUNK):
        await resp.write(data[start : start + _CHUNK])


async def _drain(request: web.Request) -> None:
    """Consume what is left of the request body (nothing if it was already read)."""
    if request.body_exists:
        while await request.content.readany():
            pass


async def apply_fault(
    fault: Fault, request: web.Request, closing: asyncio.Event
) -> web.StreamResponse | None:
    """Act out ``fault`` for ``request``; None means "now let the real handler answer"."""
    if fault.drop:
        return _cut(request)
    if fault.replaces_response:
        # Read the request first, as a server does before it answers: misbehaving while the
        # client is still sending an upload would make the outcome a race, not the fault.
        await _drain(request)
    if fault.delay and await _pause(fault.delay, closing):
        return _cut(request)
    if not fault.replaces_response:
        return None
    status, headers, body = _payload(fault)
    if not (fault.reset_mid_body or fault.stall_mid_body):
        return web.Response(status=status, body=body, headers=headers)
    resp = web.StreamResponse(status=status, headers=headers)
    resp.content_length = len(body)
    half = len(body) // 2
    try:
        await resp.prepare(request)
        await _write(resp, body[:half])
        await _flush(request)
        if fault.reset_mid_body or await _pause(fault.stall_mid_body, closing):
            return _cut(request, resp)
        await _write(resp, body[half:])
        await resp.write_eof()
    except ConnectionError:  # the client left meanwhile: nothing to finish
        return _cut(request, resp)
    return resp

"""Stateful compute-session routes for the embedded test manager.

    async with BackendAITestServer(extra_routes=[register_session_routes]) as server:
        store = session_store(server)

The routes follow the real manager (23.09): ``/session/...`` when the server announces API
v5 or later, ``/kernel/...`` (creation at ``POST /kernel/create``) before; the other layout
answers 404. Parameters are read the way the manager reads them (a JSON body if there is
one, else the query), and answers and problems have the manager's shapes, including its
quirks (a reused session answers 201 with the kernel's rows as ``"service_ports"``, null while
PENDING, and also as ``"servicePorts"`` from 26.x; kernel operations on a PENDING session fail
with 500; ``get_logs`` takes ``kernel_id`` from manager 24.03.7). Files live in a temporary
directory per session, streamed to and from disk, so uploads and downloads of any size keep
memory flat. Code execution is a tiny deterministic fake: see :func:`run_fake_code`.

Nothing here imports the SDK, so the server checks the SDK rather than mirroring it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import tarfile
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Final

from aiohttp import BodyPartReader, web

from ._manager import STATE_KEY, BackendAITestServer, Keypair, ServerState, problem_response
from ._verify import parse_api_version

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_TEMPLATE_ID",
    "SESSIONS_KEY",
    "FakeSession",
    "SessionStore",
    "UploadRecord",
    "register_session_routes",
    "run_fake_code",
    "session_store",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_IMAGE: Final = "cr.backend.ai/stable/python:3.9-ubuntu20.04"
DEFAULT_TEMPLATE_ID: Final = "c1b8441a-ba46-4a83-8727-de6645f521b4"
POST_DOWNLOADS_SINCE: Final = (24, 3)
"""Managers from this release take downloads by POST and answer GET with 400 "deprecated"
(the exact release is an assumption; clients should go by the answer, not the version)."""
NO_RESTART_SINCE: Final = (26, 0)
"""Managers from this release answer a restart with 501 (seen on a real 26.9.6)."""
QUERY_DOWNLOADS_SINCE: Final = (26, 0)
"""Managers from this release (seen on a real 26.9.6) have no GET download route (405) and
read ``file``/``files`` of the POST from the query string only (a JSON body is ignored)."""

_CHUNK = 256 * 1024
_NAME_PATTERN = r"^(?=.{4,64}$)\w[\w.-]*\w$"
_NAME = re.compile(_NAME_PATTERN, re.ASCII)
_UUID_ERROR = "cannot convert value to UUID"
_MAX_UPLOAD_FILES = 20
_MAX_DOWNLOAD_FILES = 5
_WORK = "/home/work"
PER_KERNEL_LOGS_SINCE: Final = (24, 3, 7)  # the first manager release taking kernel_id for logs
_DEFAULT_PORTS: Final = (
    {"name": "jupyter", "protocol": "http", "container_ports": [8081], "host_ports": [30001]},
    {"name": "ttyd", "protocol": "http", "container_ports": [7681], "host_ports": [30002]},
    {"name": "sshd", "protocol": "tcp", "container_ports": [2200], "host_ports": [30003]},
)


@dataclass
class _Run:
    """A run of ``execute`` waiting for ``continue`` or ``input``."""

    remaining: list[str]


@dataclass
class FakeSession:
    """One compute session of the fake manager."""

    id: str
    kernel_id: str
    name: str
    access_key: str
    image: str
    architecture: str
    session_type: str
    status: str
    group: str
    domain: str
    config: dict[str, Any]
    directory: Path
    tag: str | None = None
    cluster_mode: str = "single-node"
    cluster_size: int = 1
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    terminated_at: datetime | None = None
    service_ports: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    runs: dict[str, _Run] = field(default_factory=dict)
    num_queries: int = 0
    started_services: set[str] = field(default_factory=set)
    restarts: int = 0
    interrupts: int = 0
    kernel_role: str = "COMPUTE"  # "SYSTEM" for an SFTP session (direct access)


@dataclass(frozen=True)
class UploadRecord:
    """A file the fake manager received: session name, file name as parsed, size."""

    session: str
    filename: str
    size: int


StatusListener = Callable[[FakeSession, "str | None", str, str], None]


class SessionStore:
    """All session state of one fake manager; tests may inspect and change it.

    ``images`` maps every accepted image name and alias to the canonical name;
    ``templates`` maps template ids to ``{"image", "type", ...}``; ``auto_start`` False
    leaves new sessions PENDING (as ``enqueueOnly`` does). ``ended`` keeps destroyed
    sessions (CANCELLED when they never ran, else TERMINATED): the manager still lists them.
    """

    def __init__(self) -> None:
        self.sessions: dict[str, FakeSession] = {}
        self.ended: list[FakeSession] = []
        self.images: dict[str, str] = {DEFAULT_IMAGE: DEFAULT_IMAGE, "python": DEFAULT_IMAGE}
        self.templates: dict[str, dict[str, Any]] = {
            DEFAULT_TEMPLATE_ID: {"image": DEFAULT_IMAGE, "type": "interactive"}
        }
        self.groups: set[str] = {"default"}
        self.auto_start = True
        self.uploads: list[UploadRecord] = []
        self.listeners: list[StatusListener] = []
        """Called as ``listener(session, old_status, new_status, reason)`` on every change
        (``old_status`` None for a new session); the event streams follow them."""
        self._root: Path | None = None

    def set_status(self, session: FakeSession, status: str, reason: str = "") -> None:
        """Move a session to ``status`` (tests drive the lifecycle: PENDING -> RUNNING ...).

        A session reaching RUNNING gets its service ports and start log, as on creation.
        """
        old = session.status
        session.status = status
        if status == "RUNNING" and old != "RUNNING":
            session.service_ports = [dict(p) for p in _DEFAULT_PORTS]
            session.logs.append(f"session {session.name} started\n")
        self.notify(session, old, status, reason)

    def notify(self, session: FakeSession, old: str | None, new: str, reason: str = "") -> None:
        for listener in list(self.listeners):
            listener(session, old, new, reason)

    @property
    def root(self) -> Path:
        """The temporary directory holding every session's files (created on first use)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="backendai-test-sessions-"))
        return self._root

    def cleanup(self) -> None:
        """Delete all files (the server does this when it stops)."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def find(self, ref: str, access_key: str) -> FakeSession | None:
        """A live session of ``access_key`` by name, id, or unique id prefix (like the manager)."""
        mine = [s for s in self.sessions.values() if s.access_key == access_key]
        for session in mine:
            if session.name == ref or session.id == ref:
                return session
        matches = [s for s in mine if len(ref) >= 4 and s.id.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def by_name(self, name: str) -> FakeSession | None:
        """Any owner's session of that name (for tests)."""
        return next((s for s in self.sessions.values() if s.name == name), None)

    def file(self, session: FakeSession, relpath: str) -> Path:
        """The local path of a file in the session's working directory."""
        return _resolve(session, relpath)


SESSIONS_KEY = web.AppKey("backendai_testing.sessions", SessionStore)


def session_store(server: BackendAITestServer | web.Application) -> SessionStore:
    """The :class:`SessionStore` of a server (or app) built with the session routes."""
    app = server if isinstance(server, web.Application) else server.app
    return app[SESSIONS_KEY]


# -- small helpers ------------------------------------------------------------------------


def _invalid(msg: str = "Input validation error", data: Any = None) -> web.Response:
    return problem_response(
        400, "invalid-api-params", "Missing or invalid API parameters.", msg, data
    )


def _internal() -> web.Response:
    return problem_response(500, "internal-server-error", "Internal server error.")


def _no_session(ref: str) -> web.Response:
    return problem_response(
        404, "object-not-found", "No such session.", f"Session (id={ref}) does not exist."
    )


class _Problem(Exception):
    """Raised by helpers to answer with ``response`` at once."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _major(state: ServerState) -> tuple[int, str]:
    return parse_api_version(state.api_version) or (9, "99999999")


def _request_version(request: web.Request, state: ServerState) -> tuple[int, str]:
    header = request.headers.get("X-BackendAI-Version", "")
    return parse_api_version(header) or _major(state)


def _manager_release(state: ServerState) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", state.manager_version)[:3])


def _to_bool(value: Any) -> bool | None:
    """trafaret's ToBool: bools, numbers and the usual words; None when unparsable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "t", "yes", "y", "on", "1"):
            return True
        if word in ("false", "f", "no", "n", "off", "0", ""):
            return False
    return None


async def _api_params(request: web.Request) -> dict[str, Any]:
    """Like the manager's ``check_api_params``: the JSON body if any, else the query."""
    if request.body_exists:
        try:
            params = json.loads(await request.read())
        except ValueError:
            raise _Problem(_invalid("Malformed body")) from None
        if not isinstance(params, dict):
            raise _Problem(_invalid(data="value is not a dict"))
        return params
    return dict(request.query)  # like the manager: a repeated key keeps its first value


def _pick(params: dict[str, Any], aliases: tuple[str, ...]) -> tuple[bool, Any]:
    for alias in aliases:
        if alias in params:
            return True, params[alias]
    return False, None


def _keypair(request: web.Request) -> Keypair:
    kp = request.app[STATE_KEY].keypair_of(request)
    assert kp is not None, "session routes need an authenticated request"
    return kp


def _owner(request: web.Request, params: Mapping[str, Any]) -> str:
    """The access key a request acts for: itself, or ``owner_access_key`` for admins."""
    kp = _keypair(request)
    owner = params.get("owner_access_key")
    if owner is None or owner == kp.access_key:
        return kp.access_key
    if not isinstance(owner, str) or owner not in request.app[STATE_KEY].keypairs:
        raise _Problem(_invalid(f"Unknown owner access key: {owner!r}"))
    if not kp.is_admin:
        raise _Problem(
            problem_response(
                403,
                "generic-forbidden",
                "Forbidden operation.",
                "Only admins may act on behalf of another access key.",
            )
        )
    return owner


def _session_of(request: web.Request, owner: str | None = None) -> FakeSession:
    store = request.app[SESSIONS_KEY]
    ref = request.match_info["session_name"]
    session = store.find(ref, owner or _keypair(request).access_key)
    if session is None:
        raise _Problem(_no_session(ref))
    return session


def _running(session: FakeSession) -> FakeSession:
    """Kernel operations need a kernel: on a PENDING session the manager fails with 500."""
    if session.status != "RUNNING":
        raise _Problem(_internal())
    return session


def _resolve(session: FakeSession, relpath: str) -> Path:
    """A path inside the session's working directory (``/home/work`` in the container)."""
    text = relpath
    if text == _WORK or text.startswith(_WORK + "/"):
        text = text[len(_WORK) :]
    parts = [p for p in PurePosixPath(text.lstrip("/")).parts if p not in ("", ".")]
    if ".." in parts or "\x00" in text:
        raise ValueError(f"path leaves the working directory: {relpath!r}")
    return session.directory.joinpath(*parts)


def _wrap(prefix: str, handler: Handler) -> Handler:
    """Serve ``handler`` only in the layout of the announced version; 404 in the other."""

    async def route(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        layout = "/session" if _major(state) >= (5, "") else "/kernel"
        if layout != prefix:
            return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
        try:
            return await handler(request)
        except _Problem as problem:
            return problem.response

    route.__name__ = handler.__name__
    return route


# -- creation -----------------------------------------------------------------------------

_CREATE_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name", "session_name", "clientSessionToken"),
    "image": ("image", "lang"),
    "architecture": ("arch", "architecture"),
    "type": ("type", "sessionType"),
    "group": ("group", "groupName", "group_name"),
    "domain": ("domain", "domainName", "domain_name"),
    "cluster_size": ("cluster_size", "clusterSize"),
    "cluster_mode": ("cluster_mode", "clusterMode"),
    "config": ("config",),
    "tag": ("tag",),
    "enqueueOnly": ("enqueueOnly",),
    "maxWaitSeconds": ("maxWaitSeconds",),
    "starts_at": ("starts_at", "startsAt"),
    "reuseIfExists": ("reuseIfExists",),
    "startupCommand": ("startupCommand",),
    "bootstrap_script": ("bootstrap_script", "bootstrapScript"),
    "dependencies": ("dependencies",),
    "callback_url": ("callback_url", "callbackUrl", "callbackURL"),
    "owner_access_key": ("owner_access_key",),
}
_CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "mounts": ("mounts",),
    "mount_map": ("mount_map", "mountMap"),
    "environ": ("environ",),
    "scaling_group": ("scaling_group", "scalingGroup"),
    "resources": ("resources",),
    "resource_opts": ("resource_opts", "resourceOpts"),
    "preopen_ports": ("preopen_ports", "preopenPorts"),
    "agent_list": ("agent_list", "agentList"),
    "cluster_size": ("cluster_size", "clusterSize"),
}


def _create_schema(version: tuple[int, str]) -> dict[str, tuple[str, ...]]:
    """Top-level keys a manager of this API version accepts on session creation."""
    keys = dict(_CREATE_KEYS)
    if version < (6, "20200815"):
        del keys["cluster_size"], keys["cluster_mode"]  # they live in "config" before v6
    if version < (5, ""):
        keys["name"] = ("clientSessionToken",)
    return keys


def _config_schema(version: tuple[int, str]) -> dict[str, tuple[str, ...]]:
    keys = dict(_CONFIG_KEYS)
    if version >= (6, ""):
        del keys["cluster_size"]
    else:
        del keys["agent_list"]
    if version < (5, ""):
        del keys["mount_map"], keys["preopen_ports"]
    return keys


def _check_create(params: dict[str, Any], version: tuple[int, str]) -> dict[str, Any]:
    """Validate like the manager's trafaret schema; raises a 400 (or 500 for a bad config)."""
    schema = _create_schema(version)
    known = {alias for aliases in schema.values() for alias in aliases}
    errors: dict[str, str] = {k: f"{k} is not allowed key" for k in params if k not in known}
    out: dict[str, Any] = {}
    for key, aliases in schema.items():
        found, value = _pick(params, aliases)
        out[key] = value if found else None
        out[f"{key}?"] = found
    name, image = out["name"], out["image"]
    if not out["name?"]:
        errors[schema["name"][0]] = "is required"
    elif not isinstance(name, str) or not _NAME.match(name):
        errors[schema["name"][0]] = f"does not match pattern {_NAME_PATTERN}"
    if not out["image?"]:
        errors["image"] = "is required"
    elif not isinstance(image, str):
        errors["image"] = "value is not a string"
    if out["type"] is None:
        out["type"] = "interactive"
    elif out["type"] not in ("interactive", "batch", "inference"):
        errors["type"] = "value doesn't match any variant"
    if out.get("cluster_mode") is None:
        out["cluster_mode"] = "single-node"
    elif out["cluster_mode"] not in ("single-node", "multi-node"):
        errors["cluster_mode"] = "value doesn't match any variant"
    size = out.get("cluster_size")
    if size is None:
        out["cluster_size"] = 1
    elif isinstance(size, bool) or not isinstance(size, (int, str)) or not str(size).isdigit():
        errors["cluster_size"] = "value can't be converted to int"
    elif int(size) < 1:
        errors["cluster_size"] = "value is less than 1"
    else:
        out["cluster_size"] = int(size)
    for key in ("enqueueOnly", "reuseIfExists"):
        if out[key] is None:
            out[key] = key == "reuseIfExists"
        elif _to_bool(out[key]) is None:
            errors[key] = "value can't be converted to Bool"
        else:
            out[key] = _to_bool(out[key])
    wait = out["maxWaitSeconds"]
    if wait is None:
        out["maxWaitSeconds"] = 0
    elif isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
        errors["maxWaitSeconds"] = "value should be a non-negative int"
    for key in ("tag", "starts_at", "startupCommand", "bootstrap_script", "owner_access_key"):
        if out[key] is not None and not isinstance(out[key], str):
            errors[key] = "value is not a string"
    for key in ("group", "domain", "architecture"):
        if out[key] is None:
            out[key] = "x86_64" if key == "architecture" else "default"
        elif not isinstance(out[key], str):
            errors[key] = "value is not a string"
    config = out["config"]
    if config is None:
        out["config"] = {}
    elif not isinstance(config, dict):
        errors["config"] = "value is not a dict"
    if errors:
        raise _Problem(_invalid(data=errors))
    if name == "from-template":
        raise _Problem(_invalid(f"Requested session ID {name} is reserved word"))
    out["config"] = _check_config(out["config"], version)
    return out


def _check_config(config: dict[str, Any], version: tuple[int, str]) -> dict[str, Any]:
    schema = _config_schema(version)
    known = {alias for aliases in schema.values() for alias in aliases}
    if any(k not in known for k in config):
        raise _Problem(_internal())  # the manager checks "config" outside its validator: 500
    checked: dict[str, Any] = {}
    for key, aliases in schema.items():
        found, value = _pick(config, aliases)
        if found:
            checked[key] = value
    resources = checked.get("resources")
    if resources is not None:
        if not isinstance(resources, dict):
            raise _Problem(_internal())
        for slot, amount in resources.items():
            try:
                number = float(amount) if not isinstance(amount, str) else _size(amount)
            except (TypeError, ValueError):
                raise _Problem(
                    _invalid(f"Invalid resource allocation: {slot}={amount!r}")
                ) from None
            if number < 0:
                raise _Problem(_invalid(f"Invalid resource allocation: {slot}={amount!r}"))
    return checked


def _size(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)i?b?\s*", text, re.IGNORECASE)
    if m is None:
        raise ValueError(text)
    power = "_kmgtpe".index(m.group(2).lower() or "_")
    return float(m.group(1)) * float(1024**power)


def _image_ref(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first):
        return image
    return "index.docker.io/lablup/" + image


async def _create_session(request: web.Request, params: dict[str, Any]) -> web.Response:
    """The common tail of both creation routes (``params`` already checked)."""
    store = request.app[SESSIONS_KEY]
    state = request.app[STATE_KEY]
    owner = _owner(request, params)
    image = store.images.get(params["image"])
    if image is None:
        return problem_response(
            404,
            "object-not-found",
            "No such environment image.",
            f"Unknown image references: ref:'{_image_ref(params['image'])}', "
            f"alias:'{params['image']}'",
        )
    if params["group"] not in store.groups:
        return _invalid("Invalid group")
    existing = store.find(params["name"], owner)
    if existing is not None and existing.name == params["name"]:
        if existing.image != image or not params["reuseIfExists"]:
            return problem_response(
                400,
                "session-already-exists",
                "The session already exists but you requested not to reuse existing one.",
                data={"existingSessionId": existing.id},
            )
        # A reuse answers the kernel's own rows (null while PENDING) as "service_ports";
        # 26.x sends them under both spellings.
        ports = None if existing.status == "PENDING" else existing.service_ports
        reused: dict[str, Any] = {
            "sessionId": existing.id,
            "sessionName": existing.name,
            "status": existing.status,
            "service_ports": ports,
        }
        if _manager_release(state) >= (26,):
            reused["servicePorts"] = ports
        reused["created"] = False
        return web.json_response(reused, status=201)
    session_id = str(uuid.uuid4())
    running = store.auto_start and not params["enqueueOnly"]
    directory = store.root / session_id
    await asyncio.to_thread(directory.mkdir, parents=True)
    session = FakeSession(
        id=session_id,
        kernel_id=str(uuid.uuid4()),
        name=params["name"],
        access_key=owner,
        image=image,
        architecture=params["architecture"],
        session_type=params["type"],
        status="RUNNING" if running else "PENDING",
        group=params["group"],
        domain=params["domain"],
        config=params["config"],
        directory=directory,
        tag=params["tag"],
        cluster_mode=params.get("cluster_mode") or "single-node",
        cluster_size=params["config"].get("cluster_size") or params.get("cluster_size") or 1,
        service_ports=[dict(p) for p in _DEFAULT_PORTS] if running else [],
        logs=[f"session {params['name']} started\n"] if running else [],
    )
    store.sessions[session_id] = session
    store.notify(session, None, session.status)
    return web.json_response(
        {
            "sessionId": session.id,
            "sessionName": session.name,
            "status": session.status,
            "servicePorts": [_announced_port(p) for p in session.service_ports],
            "created": True,
        },
        status=201,
    )


def _announced_port(row: Mapping[str, Any]) -> dict[str, Any]:
    """A creation answer lists ``name``/``protocol``/``ports``, not the kernel's own row."""
    return {"name": row["name"], "protocol": row["protocol"], "ports": row["container_ports"]}


async def _create(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    params = await _api_params(request)
    checked = _check_create(params, _request_version(request, state))
    return await _create_session(request, checked)


async def _create_from_template(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    store = request.app[SESSIONS_KEY]
    params = await _api_params(request)
    found, template_id = _pick(params, ("template_id", "templateId"))
    if not found:
        return _invalid(data={"template_id": "is required"})
    try:
        template_id = str(uuid.UUID(str(template_id)))
    except ValueError:
        return _invalid(data={"template_id": _UUID_ERROR})
    template = store.templates.get(template_id)
    if template is None:
        return problem_response(404, "object-not-found", "No such task template.")
    merged = {k: v for k, v in template.items() if k != "config"}
    merged["config"] = {**template.get("config", {}), **params.get("config", {})}
    rest = {k: v for k, v in params.items() if k not in ("template_id", "templateId", "config")}
    for key in list(merged):  # an override under any alias replaces the template's value
        aliases = _CREATE_KEYS.get(key, (key,))
        if any(a in rest for a in aliases):
            del merged[key]
    merged.update(rest)
    if not any(a in merged for a in _CREATE_KEYS["name"]):
        return _invalid("Error while validating template")
    checked = _check_create(merged, _request_version(request, state))
    return await _create_session(request, checked)


# -- inspection and lifecycle ---------------------------------------------------------------


async def _get_info(request: web.Request) -> web.StreamResponse:
    s = _session_of(request)  # like the manager, get_info ignores owner_access_key
    state = request.app[STATE_KEY]
    slots = s.config.get("resources") or {}
    age = datetime.now(timezone.utc) - s.created_at
    return web.json_response(
        {
            "domainName": s.domain,
            "groupId": next(iter(state.groups), None),
            "userId": str(uuid.uuid5(uuid.NAMESPACE_OID, s.access_key)),
            "lang": s.image,
            "image": s.image,
            "architecture": s.architecture,
            "registry": s.image.split("/", 1)[0],
            "tag": s.tag,
            "containerId": "None" if s.status == "PENDING" else s.kernel_id.replace("-", ""),
            "occupiedSlots": str(slots),
            "occupyingSlots": str(slots if s.status == "RUNNING" else {}),
            "requestedSlots": str(slots),
            "occupiedShares": "{}",
            "environ": str(s.config.get("environ") or {}),
            "resourceOpts": str(s.config.get("resource_opts") or {}),
            "status": s.status,
            "statusInfo": "None",
            "statusData": None,
            "age": int(age.total_seconds() * 1000),
            "creationTime": str(s.created_at),
            "terminationTime": None,
            "numQueriesExecuted": s.num_queries,
            "lastStat": None,
            "idleChecks": {},
        }
    )


async def _get_logs(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    allowed = {"owner_access_key"}
    if _manager_release(request.app[STATE_KEY]) >= PER_KERNEL_LOGS_SINCE:
        allowed.add("kernel_id")  # 24.03.7 added per-kernel logs
    unknown = {k: f"{k} is not allowed key" for k in params if k not in allowed}
    if unknown:
        return _invalid(data=unknown)
    session = _running(_session_of(request, _owner(request, params)))
    kernel = params.get("kernel_id")
    if kernel is not None:
        try:
            kernel = str(uuid.UUID(str(kernel)))
        except ValueError:
            return _invalid(data={"kernel_id": _UUID_ERROR})
        if kernel != session.kernel_id:
            return problem_response(
                404,
                "object-not-found",
                "No such kernel.",
                f"Session has no such kernel (sid:{session.id}, kid:{kernel})",
            )
    return web.json_response({"result": {"logs": "".join(session.logs)}})


async def _get_task_logs(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    found, value = _pick(params, ("session_name", "sessionName", "task_id", "taskId"))
    if not found:
        return _invalid(data={"session_name": "is required"})
    try:
        wanted = str(uuid.UUID(str(value)))
    except ValueError:
        return _invalid(data={"session_name": _UUID_ERROR})
    store = request.app[SESSIONS_KEY]
    me = _keypair(request).access_key
    for s in store.sessions.values():
        if s.access_key == me and wanted in (s.id, s.kernel_id):
            return web.Response(text="".join(s.logs), content_type="text/plain")
    return problem_response(404, "object-not-found", "No such session.")


async def _destroy(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    for key in ("forced", "recursive"):
        if key in params and _to_bool(params[key]) is None:
            return _invalid(data={key: "value can't be converted to Bool"})
    session = _session_of(request, _owner(request, params))
    store = request.app[SESSIONS_KEY]
    ended = "CANCELLED" if session.status == "PENDING" else "TERMINATED"
    forced = _to_bool(params.get("forced", False))
    store.set_status(session, ended, "force-terminated" if forced else "user-requested")
    store.sessions.pop(session.id, None)
    session.terminated_at = datetime.now(timezone.utc)
    store.ended.append(session)
    await asyncio.to_thread(shutil.rmtree, session.directory, True)
    return web.json_response({"stats": {"status": "terminated"}})


async def _restart(request: web.Request) -> web.StreamResponse:
    if _manager_release(request.app[STATE_KEY]) >= NO_RESTART_SINCE:
        return problem_response(
            501,
            "not-implemented",
            "This API is not implemented.",
            "Session restart is no longer supported. "
            "Terminate the session and enqueue a new one instead.",
        )
    params = await _api_params(request)
    session = _session_of(request, _owner(request, params))
    session.restarts += 1
    session.runs.clear()
    return web.Response(status=204)


async def _rename(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    found, name = _pick(params, ("name", "session_name", "clientSessionToken"))
    if not found:
        return _invalid(data={"name": "is required"})
    if not isinstance(name, str) or not _NAME.match(name):
        return _invalid(data={"name": f"does not match pattern {_NAME_PATTERN}"})
    session = _session_of(request)
    if session.status != "RUNNING":
        return _invalid("Can't change name of not running session")
    session.name = name
    return web.Response(status=204)


async def _interrupt(request: web.Request) -> web.StreamResponse:
    session = _running(_session_of(request))
    session.interrupts += 1
    session.runs.clear()
    return web.Response(status=204)


# -- code execution -------------------------------------------------------------------------


def run_fake_code(lines: list[str]) -> tuple[list[list[str]], str, int | None, list[str]]:
    """The fake interpreter: ``(console, status, exit_code, remaining_lines)``.

    Understood, one statement per line: ``print(<literal or arithmetic>)`` writes the value;
    ``raise Name(<literal>)`` ends the run with exit code 1 and ``Name: value`` on stderr;
    ``input(<literal>)`` shows the prompt and waits (status ``waiting-input``); and
    ``sleep(<n>)``/``time.sleep(<n>)`` pauses the run (status ``continued``) until a
    ``continue`` call. Every other line runs silently.
    """
    console: list[list[str]] = []
    pending = list(lines)
    while pending:
        line = pending.pop(0).strip()
        call = re.fullmatch(r"(print|input|(?:time\.)?sleep)\((.*)\)", line)
        error = re.fullmatch(r"raise\s+(\w+)\((.*)\)", line)
        if call is not None:
            func, arg = call.groups()
            value = _literal(arg)
            if func == "print":
                console.append(["stdout", f"{'' if value is None else value}\n"])
            elif func == "input":
                if value is not None:
                    console.append(["stdout", str(value)])
                return console, "waiting-input", None, pending
            else:
                return console, "continued", None, pending
        elif error is not None:
            name, arg = error.groups()
            value = _literal(arg)
            message = f"{name}: {value}" if value is not None else name
            console.append(["stderr", f"Traceback (most recent call last):\n{message}\n"])
            return console, "finished", 1, []
    return console, "finished", 0, []


_ARITHMETIC: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.USub: lambda a: -a,
    ast.UAdd: lambda a: +a,
}


def _evaluate(node: ast.AST) -> Any:
    """Literals and + - * / // % on numbers; anything else is a ValueError."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_evaluate(node.operand))
    return ast.literal_eval(node)


def _literal(text: str) -> Any:
    """The value of ``text`` if it is a literal or simple arithmetic, else the text itself."""
    if not text.strip():
        return None
    try:
        return _evaluate(ast.parse(text.strip(), mode="eval").body)
    except (ValueError, TypeError, SyntaxError, ArithmeticError):
        return text


async def _execute(request: web.Request) -> web.StreamResponse:
    session = _session_of(request)
    try:
        params = json.loads(await request.read())
    except ValueError:
        return problem_response(400, "invalid-api-params", "Missing or invalid API parameters.")
    if not isinstance(params, dict):
        return _invalid("runId is missing!")
    if "runId" not in params:
        return _invalid("runId is missing!")
    mode = params.get("mode")
    if not mode:
        return _invalid("mode is missing or empty!")
    if mode not in ("query", "batch", "complete", "continue", "input"):
        return _invalid("mode has an invalid value.")
    run_id = params["runId"]
    if mode in ("continue", "input") and run_id is None:
        return _invalid("continuation requires explicit run ID")
    _running(session)
    session.num_queries += 1
    code = params.get("code") or ""
    opts = params.get("options") or {}
    if mode == "complete":
        return web.json_response({"result": {"status": "finished", "completions": []}})
    console: list[list[str]] = []
    if mode == "batch":
        for step in ("build", "exec"):
            command = opts.get(step) if isinstance(opts, dict) else None
            if isinstance(command, str) and command:
                console.append(["stdout", f"$ {command}\n"])
        lines = code.splitlines()
    elif mode == "query":
        lines = code.splitlines()
    else:
        run = session.runs.pop(str(run_id), None)
        lines = run.remaining if run is not None else []
        if mode == "input":
            console.append(["stdout", f"{code}\n"])
    more, status, exit_code, remaining = run_fake_code(lines)
    console.extend(more)
    if status != "finished":
        session.runs[str(run_id)] = _Run(remaining)
    session.logs.extend(text for kind, text in console if kind == "stdout")
    return web.json_response(
        {
            "result": {
                "status": status,
                "runId": run_id,
                "exitCode": exit_code,
                "options": {"is_password": False} if status == "waiting-input" else {},
                "files": [],
                "console": console,
            }
        }
    )


# -- services -------------------------------------------------------------------------------


async def _start_service(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    found, app = _pick(params, ("app", "service"))
    errors: dict[str, str] = {}
    if not found:
        errors["app"] = "is required"
    elif not isinstance(app, str):
        errors["app"] = "value is not a string"
    port = params.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535
    ):
        errors["port"] = "value is not in range 1024-65535"
    for key in ("envs", "arguments", "login_session_token"):
        if params.get(key) is not None and not isinstance(params[key], str):
            errors[key] = "value is not a string"
    allowed = {"app", "service", "port", "envs", "arguments", "login_session_token"}
    errors.update({k: f"{k} is not allowed key" for k in params if k not in allowed})
    if errors:
        return _invalid(data=errors)
    session = _running(_session_of(request))
    sport = next((p for p in session.service_ports if p["name"] == app), None)
    if sport is None:
        return problem_response(
            404, "object-not-found", "No such app service.", f"{session.name}:{app}"
        )
    if port is not None and port not in sport["container_ports"]:
        return _invalid(f"Service {app} does not open the port number {port}.")
    for key in ("envs", "arguments"):
        if params.get(key) is not None:
            try:
                json.loads(params[key])
            except ValueError:
                return _internal()
    session.started_services.add(str(app))
    return web.json_response(
        {"token": secrets.token_hex(16), "wsproxy_addr": "http://127.0.0.1:10200"}
    )


async def _shutdown_service(request: web.Request) -> web.StreamResponse:
    params = await _api_params(request)
    name = params.get("service_name")
    if not isinstance(name, str):
        return _invalid(
            data={"service_name": "is required" if name is None else "value is not a string"}
        )
    session = _running(_session_of(request))
    session.started_services.discard(name)
    return web.Response(status=204)


# -- files ------------------------------------------------------------------------------------


def _discard_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


async def _upload(request: web.Request) -> web.StreamResponse:
    """Streams each part to disk (temporary file + rename); never holds a file in memory."""
    session = _running(_session_of(request))
    store = request.app[SESSIONS_KEY]
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        return _invalid("Malformed multipart body")
    count = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            return _invalid("Nested multipart bodies are not supported")
        count += 1
        if count > _MAX_UPLOAD_FILES:
            return _invalid("Too many files")
        filename = part.filename
        if not filename:
            return _invalid("malformed upload filename and path.")
        try:
            target = _resolve(session, filename)
        except ValueError:
            return _invalid("malformed upload filename and path.")
        size = await _receive_part(part, target)
        store.uploads.append(UploadRecord(session.name, filename, size))
    return web.Response(status=204)


async def _receive_part(part: BodyPartReader, target: Path) -> int:
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    tmp = target.parent / f".upload-{secrets.token_hex(6)}"
    file = await asyncio.to_thread(open, tmp, "xb")
    done = False
    size = 0
    try:
        while chunk := await part.read_chunk(_CHUNK):
            await asyncio.to_thread(file.write, chunk)
            size += len(chunk)
        file.close()
        await asyncio.to_thread(os.replace, tmp, target)
        done = True
    finally:
        if not done:
            file.close()
            _discard_file(tmp)
    return size


def _download_method_problem(request: web.Request) -> web.Response | None:
    """405 for POST on managers that take GET; 400 "deprecated" (or, from 26.x, 405) for GET
    on newer ones."""
    release = _manager_release(request.app[STATE_KEY])
    by_post = release >= POST_DOWNLOADS_SINCE
    if request.method == "GET" and release >= QUERY_DOWNLOADS_SINCE:
        return problem_response(
            405, "method-not-allowed", "HTTP Method Not Allowed.", headers={"Allow": "POST"}
        )
    if request.method == "GET" and by_post:
        return problem_response(
            400,
            "deprecated",
            "This API is deprecated.",
            "Use the HTTP POST method to invoke this API with parameters in the request body.",
        )
    if request.method == "POST" and not by_post:
        return problem_response(
            405, "method-not-allowed", "HTTP Method Not Allowed.", headers={"Allow": "GET"}
        )
    return None


async def _stream_file(
    request: web.Request, path: Path, headers: Mapping[str, str] | None = None
) -> web.StreamResponse:
    """Stream a file chunk by chunk (octet-stream unless ``headers`` say otherwise)."""
    size = (await asyncio.to_thread(path.stat)).st_size
    resp = web.StreamResponse(
        headers={"Content-Type": "application/octet-stream", **(headers or {})}
    )
    resp.content_length = size
    await resp.prepare(request)
    file = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, _CHUNK):
            await resp.write(chunk)
    finally:
        file.close()
    await resp.write_eof()
    return resp


async def _download_params(request: web.Request) -> dict[str, Any]:
    """The JSON body or the query (``check_api_params``); from 26.x the query only."""
    if _manager_release(request.app[STATE_KEY]) < QUERY_DOWNLOADS_SINCE:
        return await _api_params(request)
    params: dict[str, Any] = dict(request.query)
    if "files" in request.query:
        params["files"] = request.query.getall("files")
    return params


async def _download_single(request: web.Request) -> web.StreamResponse:
    problem = _download_method_problem(request)
    if problem is not None:
        return problem
    params = await _download_params(request)
    file = params.get("file")
    if not isinstance(file, str):
        return _invalid(data={"file": "is required" if file is None else "value is not a string"})
    session = _running(_session_of(request))
    try:
        path = _resolve(session, file)
    except ValueError:
        return _invalid("The file is not found.")
    if not await asyncio.to_thread(path.is_file):
        return _invalid("The file is not found.")
    return await _stream_file(request, path)


def _tar_entries(path: Path) -> list[tuple[tarfile.TarInfo, Path | None]]:
    """The archive of ``path`` as ``docker cp`` builds it: its base name at the root."""
    entries: list[tuple[tarfile.TarInfo, Path | None]] = []

    def add(local: Path, arcname: str) -> None:
        st = local.stat()
        info = tarfile.TarInfo(arcname)
        info.mtime = int(st.st_mtime)
        info.mode = stat.S_IMODE(st.st_mode)
        if local.is_dir():
            info.type = tarfile.DIRTYPE
            entries.append((info, None))
            for child in sorted(local.iterdir()):
                add(child, f"{arcname}/{child.name}")
        else:
            info.size = st.st_size
            entries.append((info, local))

    add(path, path.name)
    return entries


def _tar_header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _tar_size(entries: list[tuple[tarfile.TarInfo, Path | None]]) -> int:
    total = 0
    for info, local in entries:
        total += len(_tar_header(info))
        if local is not None:
            total += -(-info.size // 512) * 512
    return total + 1024


async def _write_tar(
    resp: web.StreamResponse, entries: list[tuple[tarfile.TarInfo, Path | None]]
) -> None:
    for info, local in entries:
        await resp.write(_tar_header(info))
        if local is None:
            continue
        file = await asyncio.to_thread(open, local, "rb")
        try:
            while chunk := await asyncio.to_thread(file.read, _CHUNK):
                await resp.write(chunk)
        finally:
            file.close()
        if info.size % 512:
            await resp.write(b"\0" * (512 - info.size % 512))
    await resp.write(b"\0" * 1024)


async def _download(request: web.Request) -> web.StreamResponse:
    """``multipart/mixed``, one tar archive per requested path, like the manager."""
    problem = _download_method_problem(request)
    if problem is not None:
        return problem
    params = await _download_params(request)
    files = params.get("files")
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        return _invalid(data={"files": "is required" if files is None else "value is not a list"})
    session = _running(_session_of(request))
    if len(files) > _MAX_DOWNLOAD_FILES:
        return _internal()  # the manager asserts <= 5 inside a catch-all: 500
    archives = []
    for name in files:
        try:
            path = _resolve(session, name)
        except ValueError:
            return _invalid("The file is not found.")
        if not await asyncio.to_thread(path.exists):
            return _invalid("The file is not found.")
        archives.append(await asyncio.to_thread(_tar_entries, path))
    boundary = secrets.token_hex(16)
    heads = [
        (
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Encoding: identity\r\nContent-Length: {_tar_size(entries)}\r\n\r\n"
        ).encode()
        for entries in archives
    ]
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(h) + _tar_size(e) + 2 for h, e in zip(heads, archives, strict=True)) + len(
        tail
    )
    resp = web.StreamResponse(headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})
    resp.content_length = length
    await resp.prepare(request)
    for head, entries in zip(heads, archives, strict=True):
        await resp.write(head)
        await _write_tar(resp, entries)
        await resp.write(b"\r\n")
    await resp.write(tail)
    await resp.write_eof()
    return resp


def _listing(path: Path) -> list[dict[str, Any]]:
    entries = []
    for child in sorted(path.iterdir()):
        st = child.lstat()
        entries.append(
            {
                "mode": stat.filemode(st.st_mode),
                "nlink": st.st_nlink,
                "uid": st.st_uid,
                "gid": st.st_gid,
                "size": st.st_size,
                "ctime": st.st_ctime,
                "mtime": st.st_mtime,
                "atime": st.st_atime,
                "filename": child.name,
            }
        )
    return entries


async def _list_files(request: web.Request) -> web.StreamResponse:
    """The manager reads ``path`` from a JSON body only (even on GET)."""
    try:
        params = json.loads(await request.read()) if request.body_exists else None
    except ValueError as exc:
        return _invalid(str(exc))
    if params is None:
        return _invalid("Expecting value: line 1 column 1 (char 0)")
    session = _running(_session_of(request))
    relpath = params.get("path", ".") if isinstance(params, dict) else "."
    try:
        path = _resolve(session, str(relpath))
    except ValueError:
        return web.json_response(
            {"files": "[]", "errors": "path is outside /home/work", "abspath": ""}
        )
    if not await asyncio.to_thread(path.is_dir):
        return web.json_response(
            {"files": "[]", "errors": f"No such directory: {relpath}", "abspath": ""}
        )
    listing = await asyncio.to_thread(_listing, path)
    abspath = str(PurePosixPath(_WORK) / path.relative_to(session.directory))
    return web.json_response({"files": json.dumps(listing), "errors": "", "abspath": abspath})


async def _direct_access_info(request: web.Request) -> web.StreamResponse:
    """Host and ports of a SYSTEM (SFTP) session's sshd/sftpd; ``{}`` for other sessions."""
    session = _session_of(request)
    if session.kernel_role != "SYSTEM":
        return web.json_response({})
    ports = {p.get("name"): p.get("host_ports", []) for p in session.service_ports}
    return web.json_response(
        {
            "kernel_role": "SYSTEM",
            "public_host": request.url.host,
            "sshd_ports": ports.get("sftpd") or ports.get("sshd", []),
        }
    )


# -- registration ---------------------------------------------------------------------------


def _routes() -> Iterator[tuple[str, str, Handler, bool]]:
    """``(method, path below the prefix, handler, streams its body)``, in matching order."""
    yield "POST", "/_/create-from-template", _create_from_template, False
    yield "GET", "/_/logs", _get_task_logs, False
    yield "GET", "/{session_name}", _get_info, False
    yield "PATCH", "/{session_name}", _restart, False
    yield "DELETE", "/{session_name}", _destroy, False
    yield "POST", "/{session_name}", _execute, False
    yield "GET", "/{session_name}/logs", _get_logs, False
    yield "GET", "/{session_name}/direct-access-info", _direct_access_info, False
    yield "POST", "/{session_name}/rename", _rename, False
    yield "POST", "/{session_name}/interrupt", _interrupt, False
    yield "POST", "/{session_name}/shutdown-service", _shutdown_service, False
    yield "POST", "/{session_name}/upload", _upload, True
    yield "GET", "/{session_name}/download", _download, False
    yield "POST", "/{session_name}/download", _download, False
    yield "GET", "/{session_name}/download_single", _download_single, False
    yield "POST", "/{session_name}/download_single", _download_single, False
    yield "GET", "/{session_name}/files", _list_files, False
    yield "POST", "/{session_name}/start-service", _start_service, False


def register_session_routes(app: web.Application, state: ServerState) -> None:
    """Install the session routes (both layouts) and their store; a ``RouteInstaller``."""
    store = SessionStore()
    app[SESSIONS_KEY] = store

    async def cleanup(_app: web.Application) -> None:
        await asyncio.to_thread(store.cleanup)

    app.on_cleanup.append(cleanup)
    router = app.router
    router.add_route("POST", "/session", _wrap("/session", _create))
    router.add_route("POST", "/session/_/create", _wrap("/session", _create))
    router.add_route("POST", "/kernel/create", _wrap("/kernel", _create))
    router.add_route("POST", "/kernel", _wrap("/kernel", _create))
    for prefix in ("/session", "/kernel"):
        for method, path, handler, streams in _routes():
            route = _wrap(prefix, handler)
            if streams:
                state.streaming(route)
            router.add_route(method, prefix + path, route)

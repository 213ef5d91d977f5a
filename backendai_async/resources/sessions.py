"""Compute sessions (issue 3): ``client.sessions`` and the JS-named aliases on ``Client``.

Every method describes one request of the manager's session API (``/session/...``, or
``/kernel/...`` before API v5, as the negotiated version says) and leaves sending to
``Client._send``. Arguments are checked before anything is sent: a bad session name, run
id, execute mode or resource amount is a ``ValueError`` naming the problem.

Default deadlines differ per call (``timeout=`` overrides each; ``None`` = no deadline):

=============================  ================================================================
call                           default
=============================  ================================================================
create_if_not_exists,          60 s, or ``maxWaitSeconds`` + 15 s when the server is asked to
create_session_from_template   wait longer than that for the session to start
start_service                  60 s (starting an app in the container can be slow)
destroy                        45 s in all; each attempt 15 s; up to two retries (JS SDK)
upload, download,              no overall deadline; an idle-read limit instead (the client's
download_single                ``Timeouts.read``, else 60 s; ``idle_timeout=`` overrides it)
everything else                the client's default (``Timeouts.total``)
=============================  ================================================================
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import string
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Protocol,
    TypedDict,
    cast,
    overload,
)
from urllib.parse import quote

from .._abort import AbortSignal
from .._body import decode_object, discard_body, object_reader
from .._retry import RetryPolicy
from .._session_wait import DEFAULT_POLL_INTERVAL, WAIT_TIMEOUT, check_statuses, wait_for_status
from .._transfer import (
    ByteStream,
    ProgressCallback,
    ProgressGuard,
    UploadSource,
    check_upload_path,
    file_writer,
    open_byte_stream,
    open_upload,
)
from ..errors import ServerError
from ..timeouts import USE_DEFAULT, UseDefault
from ..types import ExecuteResult, SessionCreated, SessionInfo, SessionLogs
from ._aliases import SessionAliases
from ._base import Api, Resource
from ._resources_map import NO_RESOURCES, PreparedResources, SessionResources, prepare_resources
from .events import Events

if TYPE_CHECKING:
    from .._compat import Compat
    from .._http import PathSpec, ResponseReader

__all__ = [
    "CREATE_TIMEOUT",
    "DESTROY_ATTEMPT_TIMEOUT",
    "DESTROY_RETRIES",
    "EXECUTE_MODES",
    "SESSION_ID_SUFFIX",
    "START_SERVICE_TIMEOUT",
    "TRANSFER_IDLE_TIMEOUT",
    "ByteStream",
    "DirectAccessInfo",
    "SessionAliases",
    "SessionResources",
    "Sessions",
    "session_segment",
    "start_service_body",
]

_log = logging.getLogger("backendai_async")

CREATE_TIMEOUT: Final = 60.0
START_SERVICE_TIMEOUT: Final = 60.0
DESTROY_ATTEMPT_TIMEOUT: Final = 15.0
DESTROY_RETRIES: Final = 2
DESTROY_TIMEOUT: Final = 45.0
TRANSFER_IDLE_TIMEOUT: Final = 60.0
SESSION_ID_SUFFIX: Final = "-pyASDK"
EXECUTE_MODES: Final = ("query", "batch", "input", "continue", "complete")
PER_KERNEL_LOGS: Final = "per-kernel-logs"  # the feature flag of get_logs(kernel_id=...)
PER_KERNEL_LOGS_SINCE: Final = "24.03.7"

_NAME = re.compile(r"^\w[\w.-]*\w$", re.ASCII)
_GOOD_NAMES: set[str] = set()
"""Names check_session_name() accepted (a client reuses a few names many times)."""
_ALNUM = string.ascii_letters + string.digits
Timeout = float | UseDefault | None
StrPath = str | os.PathLike[str]


class DirectAccessInfo(TypedDict, total=False):
    """``get_direct_access_info()``: empty unless the session is a system (SFTP) session."""

    kernel_role: str
    public_host: str
    sshd_ports: list[int]


# -- argument checks (pure, before any request) -------------------------------------------


def check_session_name(name: object, what: str = "session name") -> str:
    """A name the manager accepts for a new session: 4-64 ASCII word chars, dots, dashes."""
    if isinstance(name, str) and name in _GOOD_NAMES:
        return name  # checked before
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, got {type(name).__name__}")
    if not 4 <= len(name) <= 64:
        raise ValueError(f"{what} must be 4-64 characters long, got {len(name)}: {name!r}")
    if not _NAME.match(name):
        raise ValueError(
            f"{what} {name!r} must start and end with a letter, digit or '_' and contain only "
            "ASCII letters, digits, '_', '.' and '-'"
        )
    if len(_GOOD_NAMES) >= 1024:
        _GOOD_NAMES.clear()
    _GOOD_NAMES.add(name)
    return name


def _segment(session_id: object, what: str = "session_id") -> str:
    """A session name or id as one quoted path segment (signed exactly as sent)."""
    if not isinstance(session_id, str) or not session_id:
        raise ValueError(f"{what} must be a non-empty string, got {session_id!r}")
    if session_id in (".", "..") or "/" in session_id:
        raise ValueError(f"{what} {session_id!r} cannot name a session")
    return quote(session_id, safe="")


session_segment = _segment  # for the other session namespaces (client.compute_session)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _uuid(value: object, what: str) -> str:
    try:
        return str(uuid.UUID(_text(value, what)))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


def _owner(owner_key: object) -> list[tuple[str, str]]:
    if owner_key is None:
        return []
    return [("owner_access_key", _text(owner_key, "owner_key"))]


def _run_id(run_id: object, mode: str) -> str:
    if run_id is None:
        if mode in ("input", "continue"):
            raise ValueError(f"mode {mode!r} needs the run_id of the run it continues")
        return secrets.token_hex(8)
    if not isinstance(run_id, str):
        raise ValueError(f"run_id must be a string, got {type(run_id).__name__}")
    if not 8 <= len(run_id) <= 64:
        raise ValueError(f"run_id must be 8-64 characters long, got {len(run_id)}: {run_id!r}")
    return run_id


def _json_text(value: object, what: str) -> str:
    """``envs``/``args`` of start-service: the manager wants them as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    raise ValueError(f"{what} must be a mapping, a list or a JSON string, got {value!r}")


def start_service_body(
    app: object, port: object, envs: object, args: object, login_session_token: object = None
) -> dict[str, Any]:
    """The body of ``POST .../start-service`` (``envs``/``args`` as JSON text), checked."""
    body: dict[str, Any] = {}
    if login_session_token is not None:
        body["login_session_token"] = _text(login_session_token, "login_session_token")
    body["app"] = _text(app, "app")
    if port is not None:
        if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
            raise ValueError(f"port must be an int in 1024-65535, got {port!r}")
        body["port"] = port
    if envs is not None:
        body["envs"] = _json_text(envs, "envs")
    if args is not None:
        body["arguments"] = _json_text(args, "args")
    return body


def _files(files: object) -> list[str]:
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, Sequence) or not files:
        raise ValueError(f"files must be a path or a non-empty list of paths, got {files!r}")
    return [_text(f, "each file") for f in files]


def _single_target(dest: StrPath, file: str) -> Path:
    """``dest`` itself, or ``dest/<file's name>`` when ``dest`` is a directory (as it must be
    when it ends with a slash: ``"models/"`` never becomes a file named ``models``)."""
    target = Path(dest)
    if target.is_dir():
        name = PurePosixPath(file).name
        if name in ("", ".", ".."):
            raise ValueError(f"cannot derive a file name from {file!r}: pass a file path as dest")
        return target / name
    if os.fspath(dest).endswith(("/", os.sep)):
        if target.exists():
            raise NotADirectoryError(
                f"the download destination ends with '/' but is not a directory: {dest}"
            )
        raise FileNotFoundError(f"the download destination directory does not exist: {dest}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the directory of the download destination does not exist: {dest}")
    return target


def _existing_dir(dest: StrPath) -> Path:
    target = Path(dest)
    if not target.is_dir():
        if target.exists():
            raise NotADirectoryError(f"the download destination is not a directory: {dest}")
        raise FileNotFoundError(f"the download destination directory does not exist: {dest}")
    return target


def _unknown_session(session_id: str) -> str:
    return f"session {session_id!r} is unknown or was destroyed"


_RESTART_GONE: Final = {
    501: "this manager cannot restart sessions: restart is no longer supported since "
    "Backend.AI 26.x; destroy the session and create a new one instead"
}
_DESTROY_RETRY: Final = RetryPolicy(
    DESTROY_RETRIES, attempt_timeout=DESTROY_ATTEMPT_TIMEOUT, gone_is_done=True
)


def _created(body: dict[str, Any]) -> SessionCreated:
    """One shape for new and reused sessions: ``servicePorts`` always a list, ``raw`` kept.

    New sessions come with ``"servicePorts": []``; reused ones with ``"service_ports": null``
    (23.09) or both spellings (26.9), and kernel rows instead of port entries.
    """
    ports = body.get("servicePorts")
    if ports is None:
        ports = body.get("service_ports")
    if ports is not None and not isinstance(ports, list):
        raise ValueError(f"servicePorts is not a list: {type(ports).__name__}")
    shaped = dict(body)  # the same keys in the same order, less service_ports
    shaped.pop("service_ports", None)
    shaped["servicePorts"] = (
        [
            {**p, "ports": p["container_ports"]}  # a reuse answer's kernel row: add "ports"
            if isinstance(p, dict) and "ports" not in p and "container_ports" in p
            else p
            for p in ports
        ]
        if ports
        else []
    )
    shaped["raw"] = body
    return cast(SessionCreated, shaped)


_read_created = object_reader(_created)


def _create_session_path(compat: Compat) -> str:
    return compat.create_session_path


def _looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _is_deprecated_get(err: ServerError) -> bool:
    """Managers after 23.09 take downloads by POST and answer GET with 400 "deprecated"."""
    return err.status == 405 or (err.status == 400 and err.problem_type.endswith("/deprecated"))


class Sessions(Resource):
    """``client.sessions``: create, inspect, execute in, transfer files to and destroy sessions."""

    __slots__ = ("_downloads_by_post",)

    def __init__(self, api: Api) -> None:
        super().__init__(api)
        self._downloads_by_post = False

    # -- helpers ----------------------------------------------------------------------

    def _idle(self, idle_timeout: Timeout) -> float | None:
        if idle_timeout is not USE_DEFAULT:
            return idle_timeout
        read = self._api.config.timeouts.read
        return read if read is not None else TRANSFER_IDLE_TIMEOUT

    def generate_session_id(self, length: int = 8, nosuffix: bool = False) -> str:
        """``length`` random letters and digits plus ``-pyASDK`` (the JS SDK adds ``-jsSDK``)."""
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(f"length must be a positive int, got {length!r}")
        token = "".join(secrets.choice(_ALNUM) for _ in range(length))
        return token if nosuffix else token + SESSION_ID_SUFFIX

    async def _create(
        self,
        path_of: Callable[[Compat], str],
        body: dict[str, Any],
        name: str,
        image: str | None,
        prepared: PreparedResources,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> SessionCreated:
        if timeout is USE_DEFAULT:
            timeout = (
                max(CREATE_TIMEOUT, prepared.max_wait_seconds + 15.0)
                if prepared.top
                else CREATE_TIMEOUT  # max_wait_seconds is 0
            )

        def describe(compat: Compat) -> dict[str, Any]:
            full = dict(body)
            if image is not None:
                full[compat.create_image_field] = image
            full[compat.create_name_field] = name
            return full if prepared is NO_RESOURCES else prepared.apply(full, compat)

        created: SessionCreated = await self._api.send(
            "POST",
            path_of,
            json=describe,
            timeout=timeout,
            signal=signal,
            reader=_read_created,
            unknown_outcome=(
                f"the session {name!r} may exist on the server anyway: look it up with "
                f"get_info({name!r}) or remove it with destroy({name!r}, forced=True)"
            ),
        )
        return created

    # -- creation ---------------------------------------------------------------------

    async def create_if_not_exists(
        self,
        image: str,
        session_id: str | None = None,
        resources: SessionResources | Mapping[str, Any] | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> SessionCreated:
        """Create a session, or get the existing one of that name (``reuseIfExists``).

        Returns ``{"sessionId", "sessionName", "status", "servicePorts", "created", "raw"}``
        (:class:`~backendai_async.types.SessionCreated`): ``created`` is false for a reused
        session, ``servicePorts`` is always a list (managers send ``service_ports: null``
        for a reuse) and ``raw`` is the server's own body. ``session_id`` defaults to
        :meth:`generate_session_id`. ``resources`` takes the JS SDK's keys or a
        :class:`SessionResources` (see ``docs/sessions.md`` for the mapping). When the
        outcome is unknown (a timeout, an abort, a broken answer) the error's message says
        that the session may exist and how to look it up or destroy it.
        """
        _text(image, "image")
        name = self.generate_session_id() if session_id is None else check_session_name(session_id)
        prepared = prepare_resources(resources)
        return await self._create(
            _create_session_path,
            {},
            name,
            image,
            prepared,
            timeout,
            signal,
        )

    async def create_session_from_template(
        self,
        template_id: str,
        image: str | None = None,
        session_name: str | None = None,
        resources: SessionResources | Mapping[str, Any] | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> SessionCreated:
        """Create a session from a session template; arguments override the template's.

        Answers and errors as :meth:`create_if_not_exists`.
        """
        template = _uuid(template_id, "template_id")
        if image is not None:
            _text(image, "image")
        name = (
            self.generate_session_id() if session_name is None else check_session_name(session_name)
        )
        prepared = prepare_resources(resources)
        return await self._create(
            lambda compat: f"{compat.session_prefix}/_/create-from-template",
            {"template_id": template},
            name,
            image,
            prepared,
            timeout,
            signal,
        )

    # -- inspection -------------------------------------------------------------------

    async def get_info(
        self,
        session_id: str,
        owner_key: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> SessionInfo:
        """``GET /session/{id}``: status, image, resource slots … of one session.

        A 404 means the session is unknown or was destroyed: 26.x managers forget a
        session once its termination has finished (23.09 answers 404 as well).
        """
        ref, query = _segment(session_id), _owner(owner_key)
        info: SessionInfo = await self._api.send(
            "GET",
            lambda c: f"{c.session_prefix}/{ref}",
            params=query or None,
            timeout=timeout,
            signal=signal,
            reader=decode_object,
            explain={404: _unknown_session(session_id)},
        )
        return info

    async def get_direct_access_info(
        self,
        session_id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> DirectAccessInfo:
        """How to reach a system session (an SFTP/SSH one) directly: host and ports.

        ``{"kernel_role": "SYSTEM", "public_host": ..., "sshd_ports": [...]}``; ``{}`` for
        an ordinary session, which has no direct access.
        """
        ref = _segment(session_id)
        result: DirectAccessInfo = await self._api.send(
            "GET",
            lambda c: f"{c.session_prefix}/{ref}/direct-access-info",
            timeout=timeout,
            signal=signal,
            reader=decode_object,
        )
        return result

    async def get_logs(
        self,
        session_id: str,
        owner_key: str | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        kernel_id: str | None = None,
        signal: AbortSignal | None = None,
    ) -> SessionLogs:
        """The container's logs: ``{"result": {"logs": "..."}}``.

        ``kernel_id`` (a UUID) picks one container of a cluster session; managers before
        24.03.7 refuse the parameter, so on those it raises ``ValueError`` (once the server
        version is known, before the logs request is sent) instead of a 400.
        """
        ref, query = _segment(session_id), _owner(owner_key)
        if kernel_id is not None:
            query.append(("kernel_id", _uuid(kernel_id, "kernel_id")))
        api = self._api

        def path(compat: Compat) -> str:
            if kernel_id is not None and not api.supports(PER_KERNEL_LOGS):
                raise ValueError(
                    f"kernel_id: this server's manager is older than {PER_KERNEL_LOGS_SINCE}, "
                    "which has no per-kernel logs (it refuses kernel_id with a 400); leave "
                    "kernel_id out to get the main container's logs"
                )
            return f"{compat.session_prefix}/{ref}/logs"

        logs: SessionLogs = await self._api.send(
            "GET", path, params=query or None, timeout=timeout, signal=signal
        )
        return logs

    async def get_task_logs(
        self,
        session_id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """A batch task's logs as text (``session_id`` is the session's UUID)."""
        query = [("session_name", _text(session_id, "session_id"))]
        return await self._api.send(
            "GET",
            lambda c: f"{c.session_prefix}/_/logs",
            params=query,
            timeout=timeout,
            signal=signal,
        )

    async def list_files(
        self,
        session_id: str,
        path: str = ".",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Files under ``path`` of the session's working directory.

        The manager reads ``path`` from a JSON body even on this GET; it is sent there and,
        as the JS SDK does, in the query. The answer's ``files`` is JSON text on 23.09.
        """
        ref, path = _segment(session_id), _text(path, "path")
        return await self._api.send(
            "GET",
            lambda c: f"{c.session_prefix}/{ref}/files",
            params=[("path", path)],
            json={"path": path},
            timeout=timeout,
            signal=signal,
        )

    async def wait(
        self,
        session_id: str,
        status_or_statuses: str | Sequence[str],
        timeout: float | None = WAIT_TIMEOUT,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        owner_key: str | None = None,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Wait until the session's status is one of ``status_or_statuses``; its info then.

        Follows the session's events and confirms each with :meth:`get_info`, which also
        runs every ``poll_interval`` seconds (the fallback when events are unavailable).
        Raises :class:`~backendai_async.SessionStateError` when the session ends (ERROR,
        CANCELLED, TERMINATED) elsewhere, ``RequestTimeoutError`` after ``timeout`` (300 s;
        None: no limit). A session that disappears (26.x forgets terminated sessions) ends
        as TERMINATED, or as the terminal state its last event announced.
        """
        _segment(session_id)
        targets = check_statuses(status_or_statuses)
        if isinstance(poll_interval, bool) or not (
            isinstance(poll_interval, (int, float)) and poll_interval > 0
        ):
            raise ValueError(f"poll_interval must be positive seconds, got {poll_interval!r}")
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(f"timeout must be positive seconds or None, got {timeout!r}")
        by_id = _looks_like_uuid(session_id)
        events = Events(self._api)
        return await wait_for_status(
            self._api.scoped,
            session_id,
            targets,
            get_info=lambda: self.get_info(session_id, owner_key),
            subscribe=lambda: events.session_events(
                None if by_id else session_id,
                session_id if by_id else None,
                owner_access_key=owner_key,
            ),
            timeout=timeout,
            poll_interval=float(poll_interval),
            signal=signal,
        )

    # -- lifecycle --------------------------------------------------------------------

    async def destroy(
        self,
        session_id: str,
        owner_key: str | None = None,
        forced: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Terminate a session; ``forced`` also for one stuck in a transitional state.

        Like the JS SDK it tries up to three times, each attempt limited to 15 s, but it
        repeats only failures that are safe and may pass: a connection that failed or
        broke, an attempt that timed out (DELETE is idempotent), and 429/502/503/504.
        ``timeout`` bounds the whole call (default 45 s). Returns ``{"stats": ...}``, or
        None when a retry finds the session gone after an attempt that may have destroyed
        it (its answer was lost; the session is gone either way).
        """
        ref, query = _segment(session_id), _owner(owner_key)
        if not isinstance(forced, bool):
            raise ValueError(f"forced must be a bool, got {forced!r}")
        if forced:
            query.append(("forced", "true"))
        return await self._api.send(
            "DELETE",
            lambda c: f"{c.session_prefix}/{ref}",
            params=query or None,
            timeout=DESTROY_TIMEOUT if timeout is USE_DEFAULT else timeout,
            signal=signal,
            retry=_DESTROY_RETRY,
        )

    async def restart(
        self,
        session_id: str,
        owner_key: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Restart the session's containers (their working directory is kept).

        Backend.AI 26.x no longer restarts sessions: it answers 501, raised as a
        ``ServerError`` saying so (destroy the session and create a new one instead).
        """
        ref, query = _segment(session_id), _owner(owner_key)
        await self._api.send(
            "PATCH",
            lambda c: f"{c.session_prefix}/{ref}",
            params=query or None,
            timeout=timeout,
            signal=signal,
            explain=_RESTART_GONE,
        )

    async def rename_session(
        self,
        session_id: str,
        new_name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Rename a RUNNING session (the manager refuses other states)."""
        ref = _segment(session_id)
        name = check_session_name(new_name, "new_name")
        await self._api.send(
            "POST",
            lambda c: f"{c.session_prefix}/{ref}/rename",
            json={"name": name},
            timeout=timeout,
            signal=signal,
        )

    # -- code execution ---------------------------------------------------------------

    async def execute(
        self,
        session_id: str,
        run_id: str | None,
        mode: str,
        code: str | None,
        opts: Mapping[str, Any] | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> ExecuteResult:
        """Run code: ``mode`` is ``query``, ``batch``, ``input``, ``continue`` (or ``complete``).

        ``run_id`` (8-64 characters) ties ``input``/``continue`` calls to their run; for a
        new run, None picks a random one. Returns ``{"result": {"status", "runId",
        "exitCode", "console", "options", "files"}}``.
        """
        ref = _segment(session_id)
        if mode not in EXECUTE_MODES:
            raise ValueError(
                f"unknown execute mode {mode!r}; use one of {', '.join(EXECUTE_MODES)}"
            )
        run = _run_id(run_id, mode)
        if code is not None and not isinstance(code, str):
            raise ValueError(f"code must be a string, got {type(code).__name__}")
        if opts is not None and not isinstance(opts, Mapping):
            raise ValueError(f"opts must be a mapping, got {type(opts).__name__}")
        body = {"mode": mode, "code": code or "", "runId": run, "options": dict(opts or {})}
        result: ExecuteResult = await self._api.send(
            "POST",
            lambda c: f"{c.session_prefix}/{ref}",
            json=body,
            timeout=timeout,
            signal=signal,
            reader=decode_object,
        )
        return result

    async def interrupt(
        self,
        session_id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Interrupt the code running in the session (like Ctrl-C)."""
        ref = _segment(session_id)
        await self._api.send(
            "POST", lambda c: f"{c.session_prefix}/{ref}/interrupt", timeout=timeout, signal=signal
        )

    # -- services ---------------------------------------------------------------------

    async def start_service(
        self,
        session_id: str,
        app: str,
        port: int | None = None,
        envs: Mapping[str, str] | str | None = None,
        args: Mapping[str, Any] | Sequence[str] | str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Start an app (``jupyter``, ``ttyd`` …) in the session; returns the proxy token.

        ``envs`` and ``args`` are sent as JSON text, as the manager expects. Default
        deadline 60 s.
        """
        ref = _segment(session_id)
        body = start_service_body(app, port, envs, args)
        if timeout is USE_DEFAULT:
            timeout = START_SERVICE_TIMEOUT
        return await self._api.send(
            "POST",
            lambda c: f"{c.session_prefix}/{ref}/start-service",
            json=body,
            timeout=timeout,
            signal=signal,
        )

    async def shutdown_service(
        self,
        session_id: str,
        service_name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Stop an app started with :meth:`start_service`."""
        ref = _segment(session_id)
        query = [("service_name", _text(service_name, "service_name"))]
        await self._api.send(
            "POST",
            lambda c: f"{c.session_prefix}/{ref}/shutdown-service",
            params=query,
            timeout=timeout,
            signal=signal,
        )

    # -- file transfers ---------------------------------------------------------------

    async def upload(
        self,
        session_id: str,
        path: str,
        source: UploadSource,
        progress: ProgressCallback | None = None,
        *,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Upload ``source`` to ``path`` (relative to the session's working directory).

        ``source`` is a local file path (``str`` or ``Path``), bytes, a binary file object
        or an async iterable of bytes; it is streamed, never read into memory as a whole.
        ``progress(sent, total)`` is called after each chunk (``total`` None when unknown).
        """
        ref = _segment(session_id)
        check_upload_path(path)
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)
        body = await open_upload(path, source, guard)  # a missing file fails before sending
        try:
            await guard.run(
                self._api.send(
                    "POST",
                    lambda c: f"{c.session_prefix}/{ref}/upload",
                    data=body,
                    timeout=timeout,
                    idle_timeout=idle,
                    signal=signal,
                    parameters={"path": path},
                    reader=discard_body,  # the status is the outcome; the body is not needed
                )
            )
        finally:
            await body.close()

    async def _fetch(
        self,
        path: PathSpec,
        query: list[tuple[str, str]],
        body: dict[str, Any],
        reader: ResponseReader,
        timeout: Timeout,
        idle: float | None,
        signal: AbortSignal | None,
    ) -> Any:
        """GET with the parameters in the query and the JSON body (23.09 reads either);
        newer managers want POST (they answer GET with 400 "deprecated" or, 26.x, 405),
        remembered per client. The POST carries both too: 26.x reads only the query."""
        if not self._downloads_by_post:
            try:
                return await self._api.send(
                    "GET",
                    path,
                    params=query,
                    json=body,
                    reader=reader,
                    timeout=timeout,
                    idle_timeout=idle,
                    signal=signal,
                )
            except ServerError as err:
                if not _is_deprecated_get(err):
                    raise
                _log.debug("the server takes downloads by POST from now on")
                self._downloads_by_post = True
        return await self._api.send(
            "POST",
            path,
            params=query,
            json=body,
            reader=reader,
            timeout=timeout,
            idle_timeout=idle,
            signal=signal,
        )

    async def _download(
        self,
        path: PathSpec,
        query: list[tuple[str, str]],
        body: dict[str, Any],
        reader: ResponseReader | None,
        guard: ProgressGuard,
        timeout: Timeout,
        idle: float | None,
        signal: AbortSignal | None,
    ) -> Any:
        if reader is None:

            def send(stream_reader: ResponseReader) -> Awaitable[Any]:
                return self._fetch(path, query, body, stream_reader, timeout, idle, signal)

            return await open_byte_stream(send, guard)
        return await guard.run(self._fetch(path, query, body, reader, timeout, idle, signal))

    @overload
    async def download_single(
        self,
        session_id: str,
        file: str,
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def download_single(
        self,
        session_id: str,
        file: str,
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path: ...

    async def download_single(
        self,
        session_id: str,
        file: str,
        dest: StrPath | None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path | ByteStream:
        """Download one file, streamed.

        With ``dest`` (a file path, or a directory to keep the file's name) the file is
        written there atomically and its path returned; without, a :class:`ByteStream` of
        its bytes is returned (iterate it; close it when stopping early).
        """
        ref, file = _segment(session_id), _text(file, "file")
        guard = ProgressGuard(progress)
        target = None if dest is None else await asyncio.to_thread(_single_target, dest, file)
        idle = self._idle(idle_timeout)
        reader = None if target is None else file_writer(target, guard)
        return cast(
            "Path | ByteStream",
            await self._download(
                lambda c: f"{c.session_prefix}/{ref}/download_single",
                [("file", file)],
                {"file": file},
                reader,
                guard,
                timeout,
                idle,
                signal,
            ),
        )

    @overload
    async def download(
        self,
        session_id: str,
        files: str | Sequence[str],
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def download(
        self,
        session_id: str,
        files: str | Sequence[str],
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> list[Path]: ...

    async def download(
        self,
        session_id: str,
        files: str | Sequence[str],
        dest: StrPath | None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> list[Path] | ByteStream:
        """Download files or directories, streamed: the answer is one tar archive per path.

        With ``dest`` (an existing directory) the archives are extracted there (files are
        moved into place once everything has arrived) and the written paths returned;
        without, a :class:`ByteStream` of the raw ``multipart/mixed`` answer is returned.
        """
        ref, names = _segment(session_id), _files(files)
        guard = ProgressGuard(progress)
        target = None if dest is None else await asyncio.to_thread(_existing_dir, dest)
        idle = self._idle(idle_timeout)
        reader = None
        if target is not None:
            from .._archive import archive_extractor  # tarfile & co.: only when extracting

            reader = archive_extractor(target, guard)
        return cast(
            "list[Path] | ByteStream",
            await self._download(
                lambda c: f"{c.session_prefix}/{ref}/download",
                [("files", name) for name in names],
                {"files": names},
                reader,
                guard,
                timeout,
                idle,
                signal,
            ),
        )


# -- JS-named aliases on the client ---------------------------------------------------------


class _DownloadSingle(Protocol):
    @overload
    async def __call__(
        self,
        session_id: str,
        file: str,
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def __call__(
        self,
        session_id: str,
        file: str,
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path: ...


class _Download(Protocol):
    @overload
    async def __call__(
        self,
        session_id: str,
        files: str | Sequence[str],
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def __call__(
        self,
        session_id: str,
        files: str | Sequence[str],
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> list[Path]: ...

"""The shapes of the answers users read most, as ``TypedDict``s, so a type checker catches a
wrong key (``result["console"]`` instead of ``result["result"]["console"]``).

They describe the JSON the managers 23.09 and 26.9 send (checked against both); at run time
they are plain ``dict``s. Keys marked optional (``total=False``) are ones a manager omits in
some state, mode or version; read those with ``.get()`` when portability matters. Where the
SDK changes an answer (session creation), the class says so.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "ExecuteResult",
    "ExecutionResult",
    "ServerVersion",
    "ServicePort",
    "SessionCreated",
    "SessionInfo",
    "SessionLogs",
]


class ServerVersion(TypedDict):
    """``GET /`` (``GET /func/``): the server's newest API version and its release."""

    version: str  # "v7.20230615"
    manager: str  # "23.09.10"


class ServicePort(TypedDict, total=False):
    """An app a session serves (``jupyter``, ``ttyd``, ``sshd`` …).

    A creation answer lists ``name``, ``protocol`` and ``ports`` (plus ``url_template``,
    ``allowed_arguments``, ``allowed_envs`` when the image declares them); a reuse answer
    gives the kernel's own rows (``container_ports``, ``host_ports`` …), to which the SDK adds
    ``ports`` (= ``container_ports``), so ``ports`` is always there.
    """

    name: str
    protocol: str  # "http", "tcp", "preopen", "internal" (26.x also "vnc", "rdp")
    ports: list[int]
    url_template: str
    allowed_arguments: dict[str, Any]
    allowed_envs: dict[str, Any]
    container_ports: list[int]
    host_ports: list[int | None]
    is_inference: bool


class _SessionCreatedBase(TypedDict):
    sessionId: str
    sessionName: str
    status: str  # "PENDING", "RUNNING", "TIMEOUT" (maxWaitSeconds passed) …
    servicePorts: list[ServicePort]
    created: bool  # False: an existing session of that name was reused
    raw: dict[str, Any]


class SessionCreated(_SessionCreatedBase, total=False):
    """``create_if_not_exists`` / ``create_session_from_template``, normalised by the SDK.

    The manager answers a new session with ``"servicePorts": []`` but a reused one with
    ``"service_ports": null`` (23.09) or both spellings (26.9). The SDK always gives
    ``servicePorts`` as a list (see :class:`ServicePort`), drops ``service_ports``, and keeps
    the server's body untouched under ``raw``. Other keys a manager adds are kept as is.
    """


class SessionInfo(TypedDict, total=False):
    """``get_info``: one session as the manager describes it (all keys on 23.09 and 26.9).

    The ``*Slots``, ``environ`` and ``resourceOpts`` values are Python ``repr`` strings on
    those managers (``"{'cpu': Decimal('1')}"``), not JSON: show them, do not parse them.
    """

    domainName: str
    groupId: str
    userId: str
    lang: str  # legacy name of ``image``
    image: str
    architecture: str
    registry: str
    tag: str | None
    containerId: str | None
    occupiedSlots: str
    occupyingSlots: str
    requestedSlots: str
    occupiedShares: str
    environ: str
    resourceOpts: str
    status: str  # "PENDING", "SCHEDULED", "PREPARING", "RUNNING", "TERMINATED" …
    statusInfo: str | None
    statusData: dict[str, Any] | None
    age: int  # milliseconds since creation
    creationTime: str
    terminationTime: str | None
    numQueriesExecuted: int
    lastStat: dict[str, Any] | None
    idleChecks: dict[str, Any]


class ExecutionResult(TypedDict, total=False):
    """The ``result`` of ``execute``: one step of a run.

    ``status`` is ``finished``, ``continued`` (poll with mode ``continue``),
    ``waiting-input`` (answer with mode ``input``), ``build-finished`` or ``clean-finished``.
    ``console`` is a list of ``[kind, data]`` pairs: ``["stdout", "42\\n"]``,
    ``["stderr", …]``, ``["media", [mime, data]]``, ``["html", …]``. Mode ``complete``
    (legacy) answers with whatever the kernel's completer returns instead.
    """

    status: str
    runId: str
    exitCode: int | None
    options: dict[str, Any] | None
    files: list[Any] | None
    console: list[list[Any]]


class ExecuteResult(TypedDict):
    """``execute`` / ``run_code``: the step's data is under ``result``."""

    result: ExecutionResult


class _LogsBody(TypedDict):
    logs: str


class SessionLogs(TypedDict):
    """``get_logs``: the container's output so far, under ``result.logs``."""

    result: _LogsBody

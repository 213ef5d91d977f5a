"""``client.compute_session``: the JS SDK's ComputeSession class, plus :meth:`iter`.

Listing and inspection are GraphQL (``compute_session_list``, ``compute_session``) with
field lists that follow the negotiated version (``name`` is ``sess_id`` before API v5, sent
as an alias so rows keep the names asked for). The REST calls (start a service, commit,
convert to an image) go to ``/session/...`` as the JS SDK hard-codes. Arguments are checked
before anything is sent: an unknown status, a group that is not a UUID, a bad field list or
an empty session name is a ``ValueError`` naming the argument.

Defaults differ from the JS SDK where the real servers refuse the JS ones (see
``docs/graphql.md``): ``list_all`` lists every status by leaving the filter out (23.09
rejects the JS list's ``PREPARED``/``CREATING``), and ``get`` asks for ``name``/``image``
(no server has the JS defaults ``session_name``/``lang``/``cpu_used``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypedDict

from ..timeouts import USE_DEFAULT, UseDefault
from ._args import check_int, check_text, check_uuid, optional
from ._base import Resource
from ._graphql import (
    Fields,
    FieldsOf,
    Var,
    check_fields,
    paginate,
    select,
    select_data,
    select_page,
)
from .sessions import START_SERVICE_TIMEOUT, session_segment, start_service_body

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat

__all__ = [
    "GET_FIELDS",
    "LIST_ALL_FIELDS",
    "LIST_FIELDS",
    "SESSION_STATUSES",
    "ComputeSession",
    "ContainerRow",
    "SessionList",
    "SessionRow",
    "SessionRows",
]

Timeout = float | UseDefault | None

SESSION_STATUSES: Final = frozenset(
    {
        # manager 23.09
        "PENDING",
        "SCHEDULED",
        "PULLING",
        "PREPARING",
        "RUNNING",
        "RESTARTING",
        "RUNNING_DEGRADED",
        "TERMINATING",
        "TERMINATED",
        "ERROR",
        "CANCELLED",
        # added by later managers (26.9 has all of these; 23.09 refuses them)
        "PREPARED",
        "CREATING",
        "DEPRIORITIZING",
        "RESERVED",
        "PREEMPTED",
        "RESCHEDULING",
    }
)
"""Every session status some manager knows; a server refuses the ones it does not have."""

LIST_FIELDS: Final = (
    "id",
    "name",
    "image",
    "created_at",
    "terminated_at",
    "status",
    "status_info",
    "occupied_slots",
    "containers { live_stat last_stat }",
    "starts_at",
)
"""``list``'s and ``iter``'s default fields (the JS SDK's ``list`` defaults)."""

LIST_ALL_FIELDS: Final = LIST_FIELDS[:-1]
"""``list_all``'s default fields (the JS SDK's ``listAll`` defaults)."""

GET_FIELDS: Final = (
    "id",
    "name",
    "image",
    "created_at",
    "terminated_at",
    "status",
    "status_info",
    "occupied_slots",
    "scaling_group",
)
"""``get``'s default fields: the JS list without the fields no server has."""


class ContainerRow(TypedDict, total=False):
    """A kernel (container) of a session, as ``containers { ... }`` gives it."""

    id: str
    idx: int
    role: str
    hostname: str
    cluster_role: str
    cluster_idx: int
    cluster_hostname: str
    session_id: str
    image: str
    architecture: str
    registry: str
    status: str
    status_changed: str | None
    status_info: str | None
    status_data: str | None
    created_at: str
    terminated_at: str | None
    starts_at: str | None
    scheduled_at: str | None
    agent: str | None
    agent_addr: str | None
    container_id: str | None
    resource_opts: str | None
    occupied_slots: str
    live_stat: str | None
    last_stat: str | None
    preopen_ports: list[int] | None


class SessionRow(TypedDict, total=False):
    """A compute session as GraphQL ``ComputeSession`` gives it (the fields asked for).

    Times are ISO-8601 strings; ``JSONString`` fields (``occupied_slots``, ``status_data``,
    ``service_ports``, ``resource_opts``, ``idle_checks`` …) arrive as JSON text: parse them
    with ``json.loads``.
    """

    id: str
    session_id: str
    main_kernel_id: str
    name: str
    session_name: str
    type: str
    tag: str | None
    image: str
    architecture: str
    registry: str
    cluster_mode: str
    cluster_size: int
    domain_name: str
    group_name: str
    group_id: str
    user_email: str
    full_name: str
    user_id: str
    access_key: str
    status: str
    status_changed: str | None
    status_info: str | None
    status_data: str | None
    status_history: str | None
    created_at: str
    terminated_at: str | None
    starts_at: str | None
    scheduled_at: str | None
    startup_command: str | None
    result: str
    commit_status: str | None
    agent_ids: list[str] | None
    agents: list[str] | None
    resource_opts: str | None
    scaling_group: str
    service_ports: str | None
    mounts: list[str]
    vfolder_mounts: list[str]
    occupying_slots: str
    occupied_slots: str
    num_queries: int
    containers: list[ContainerRow]
    dependencies: list[SessionRow]
    idle_checks: str | None


SessionRows = list[SessionRow]


class SessionList(TypedDict, total=False):
    """``compute_session_list``: the rows of one page and how many match in all (a count
    alone from ``total_count``)."""

    items: list[SessionRow]
    total_count: int


# -- argument checks (pure, before any request) -------------------------------------------


def check_statuses(status: str | Sequence[str] | None) -> str | None:
    """``"RUNNING,PENDING"`` or ``["RUNNING", "PENDING"]`` → ``"RUNNING,PENDING"``.

    Case and spaces are forgiven (the servers are strict about both); an unknown status is
    a ValueError. None means no filter: every status.
    """
    if status is None:
        return None
    if isinstance(status, str):
        items: list[Any] = status.split(",")
    elif isinstance(status, Sequence) and not isinstance(status, (bytes, bytearray)):
        items = list(status)
    else:
        raise TypeError(f"status must be a comma-separated string or a list, got {status!r}")
    names = [item.strip().upper() if isinstance(item, str) else item for item in items]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"status must name one or more session statuses, got {status!r}")
    unknown = [n for n in names if n not in SESSION_STATUSES]
    if unknown:
        known = ", ".join(sorted(SESSION_STATUSES))
        raise ValueError(f"status: unknown session status {unknown[0]!r} (known: {known})")
    return ",".join(dict.fromkeys(names))


def _given(value: object) -> object:
    """The JS SDK's ``''`` for "no filter" is None here too."""
    return None if value == "" else value


def _session_fields(fields: Fields | None, defaults: tuple[str, ...]) -> FieldsOf:
    """The user's fields as given, or the defaults without what this version lacks."""
    if fields is not None:
        return check_fields(fields)

    def of(compat: Compat) -> tuple[str, ...]:
        absent = compat.gql_session_absent
        return tuple(f for f in defaults if f.split("{")[0].strip() not in absent)

    return of


def _with_id(fields: Fields | None, defaults: tuple[str, ...]) -> FieldsOf:
    """Paging needs each row's id to skip a row seen on an earlier page."""
    if fields is None:
        return _session_fields(None, defaults)  # the defaults start with id
    given = check_fields(fields)
    return given if "id" in given else ("id", *given)


def _renames(compat: Compat) -> Mapping[str, str]:
    return compat.gql_session_renames


def _filters(
    status: str | Sequence[str] | None, access_key: object, group: object
) -> dict[str, Var]:
    return {
        "access_key": Var("String", optional(check_text, _given(access_key), "access_key")),
        "group_id": Var("String", optional(check_uuid, _given(group), "group")),
        "status": Var("String", check_statuses(status)),
    }


class ComputeSession(Resource):
    """``client.compute_session``: count, list, page through and inspect compute sessions.

    Results have the JS SDK's shapes: ``{"compute_session_list": {...}}`` for a page or a
    count, ``{"compute_session": row}`` for one session, a plain list from ``list_all``.
    """

    __slots__ = ()

    async def total_count(
        self,
        status: str | Sequence[str] | None = "RUNNING",
        access_key: str | None = None,
        limit: int = 1,
        offset: int = 0,
        group: str | uuid.UUID | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, SessionList]:
        """``{"compute_session_list": {"total_count": n}}`` (``status`` None: every status)."""
        args = {**_limits(limit, offset), **_filters(status, access_key, group)}
        return await select_data(
            self._api,
            "compute_session_list",
            args,
            ("total_count",),
            timeout=timeout,
            signal=signal,
        )

    async def list(
        self,
        fields: Fields | None = None,
        status: str | Sequence[str] | None = "RUNNING",
        access_key: str | None = None,
        limit: int = 30,
        offset: int = 0,
        group: str | uuid.UUID | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> dict[str, SessionList]:
        """One page: ``{"compute_session_list": {"items": [rows], "total_count": n}}``
        (``timeout`` in seconds)."""
        return await select_page(
            self._api,
            "compute_session_list",
            _filters(status, access_key, group),
            _session_fields(fields, LIST_FIELDS),
            limit,
            offset,
            least_limit=0,  # the manager answers limit 0 with the count alone
            timeout=timeout,
            signal=signal,
            renames=_renames,
        )

    async def list_all(
        self,
        fields: Fields | None = None,
        status: str | Sequence[str] | None = None,
        access_key: str | None = None,
        limit: int = 100,
        offset: int = 0,
        group: str | uuid.UUID | None = None,
        timeout: Timeout = USE_DEFAULT,
        *,
        signal: AbortSignal | None = None,
    ) -> SessionRows:
        """Every matching session from ``offset`` on, ``limit`` per request, with no cap
        (the JS SDK stops at 1,000). ``status`` None: every status. ``timeout`` is per page."""
        rows = self._pages(
            fields,
            LIST_ALL_FIELDS,
            status,
            access_key,
            group,
            ("limit", limit),
            offset,
            timeout,
            signal,
        )
        return [row async for row in rows]

    def iter(
        self,
        status: str | Sequence[str] | None = None,
        fields: Fields | None = None,
        page_size: int = 100,
        access_key: str | None = None,
        group: str | uuid.UUID | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> AsyncIterator[SessionRow]:
        """``async for row in client.compute_session.iter(status="PENDING"):`` every
        matching session, one page (``page_size`` rows, one call of ``timeout``) at a time.

        Arguments are checked now, before the first page is asked for. A row is never
        yielded twice (its ``id`` is always fetched for that), but rows that stop matching
        while you iterate (a PENDING session you destroy) shift the later pages: to act on
        every row, collect them first (``list_all``).
        """
        return self._pages(
            fields,
            LIST_FIELDS,
            status,
            access_key,
            group,
            ("page_size", page_size),
            0,
            timeout,
            signal,
        )

    def _pages(
        self,
        fields: Fields | None,
        defaults: tuple[str, ...],
        status: str | Sequence[str] | None,
        access_key: object,
        group: object,
        size: tuple[str, int],
        offset: int,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> AsyncIterator[SessionRow]:
        what, page_size = size
        check_int(page_size, what, 1)
        check_int(offset, "offset", 0)
        rows: AsyncIterator[Any] = paginate(
            self._api,
            "compute_session_list",
            _filters(status, access_key, group),
            _with_id(fields, defaults),
            page_size=page_size,
            offset=offset,
            unique="id",
            timeout=timeout,
            signal=signal,
            renames=_renames,
        )
        return rows

    async def get(
        self,
        fields: Fields | None = None,
        session_uuid: str | uuid.UUID = "",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> dict[str, SessionRow | None]:
        """``{"compute_session": row}`` by the session's id (a UUID); the row is None when
        there is no such session you may see."""
        sid = check_uuid(session_uuid, "session_uuid")
        row: SessionRow | None = await select(
            self._api,
            "compute_session",
            {"id": Var("UUID!", sid)},
            _session_fields(fields, GET_FIELDS),
            timeout=timeout,
            signal=signal,
            renames=_renames,
        )
        return {"compute_session": row}

    # -- REST calls of the JS class (hard-coded /session, as the JS SDK) -------------------

    async def start_service(
        self,
        login_session_token: str | None,
        session: str,
        app: str,
        port: int | None = None,
        envs: Mapping[str, str] | str | None = None,
        args: Mapping[str, Any] | Sequence[str] | str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Start an app in a session: the JS ComputeSession variant of
        ``client.sessions.start_service``, with the webserver's ``login_session_token``
        (None leaves it out). Default deadline 60 s."""
        ref = session_segment(session, "session")
        body = start_service_body(app, port, envs, args, login_session_token)
        return await self._api.send(
            "POST",
            f"/session/{ref}/start-service",
            json=body,
            timeout=START_SERVICE_TIMEOUT if timeout is USE_DEFAULT else timeout,
            signal=signal,
        )

    async def commit_session(
        self,
        session_name: str = "",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Ask the agent to commit the session's main container (needs a RUNNING session)."""
        ref = session_segment(session_name, "session_name")
        return await self._api.send(
            "POST", f"/session/{ref}/commit", timeout=timeout, signal=signal
        )

    async def convert_session_to_image(
        self,
        session_name: str,
        new_image_name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Commit the session into a new image (managers 24.03+; 23.09 answers 404)."""
        ref = session_segment(session_name, "session_name")
        if not isinstance(new_image_name, str) or not new_image_name.strip():
            raise ValueError(f"new_image_name must be a non-empty string, got {new_image_name!r}")
        return await self._api.send(
            "POST",
            f"/session/{ref}/imagify",
            json={"image_name": new_image_name},
            timeout=timeout,
            signal=signal,
        )

    async def get_commit_session_status(
        self,
        session_name: str = "",
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """``{"status": "ready"|"ongoing"|…, "kernel": id}`` of the session's commit."""
        ref = session_segment(session_name, "session_name")
        return await self._api.send("GET", f"/session/{ref}/commit", timeout=timeout, signal=signal)


def _limits(limit: int, offset: int) -> dict[str, Var]:
    return {
        "limit": Var("Int!", check_int(limit, "limit", 0)),
        "offset": Var("Int!", check_int(offset, "offset", 0)),
    }

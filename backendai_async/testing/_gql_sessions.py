"""Compute sessions in the fake manager's GraphQL: ``compute_session_list``, ``compute_session``.

Rows come from the session store of ``_sessions.py`` (live sessions, then destroyed ones,
which the manager keeps listing as CANCELLED/TERMINATED), newest change first, as the
manager orders them. The checks are the real manager's (23.09 and 26.9 were asked):

* ``limit`` and ``offset`` are required (a validation error; ``data`` is null);
* ``status`` is a comma-separated list of status names, matched exactly (case and spaces
  count); an unknown one fails with the bare ``KeyError`` text (``"'FOO'"``). Releases
  before 26.x (the fake's boundary: 23.09 refuses them, 26.9 has them) refuse ``PREPARED``,
  ``CREATING`` and the other newer statuses;
* ``group_id`` must be a UUID (the manager fails inside its SQL with the message below);
* scoping: a user sees only their own sessions and is refused (``Forbidden operation.``)
  when asking for another ``access_key``; a domain admin sees their domain's sessions, a
  superadmin everyone's; ``access_key`` and ``group_id`` narrow it for admins;
* ``compute_session(id: UUID!)``: a malformed id is a validation error; an unknown (or not
  visible) one gives null.

The fields are typed with the 23.09 ``ComputeSession`` schema (:data:`COMPUTE_SESSION`), so
asking for a field it lacks (``session_name``, ``lang``) is the real "Cannot query field"
error; a server announcing API v4 at start has the pre-v5 schema instead
(:data:`LEGACY_COMPUTE_SESSION`: ``sess_id``, ``lang``, no ``name``/``starts_at``/
``containers``). ``state.extras["session_groups"]``
maps the store's group names to project ids (plain data, editable).
"""

from __future__ import annotations

import json
import re
import uuid
from functools import partial
from typing import Any, Final

from aiohttp import web

from ._graphql import (
    GraphQLContext,
    GraphQLField,
    GraphQLFieldError,
    GraphQLValidationError,
    ObjectType,
    register_graphql_field,
)
from ._manager import DEFAULT_GROUP_ID, ServerState
from ._sessions import SESSIONS_KEY, FakeSession, SessionStore
from ._users import users
from ._verify import parse_api_version

__all__ = [
    "COMPUTE_CONTAINER",
    "COMPUTE_SESSION",
    "LEGACY_COMPUTE_SESSION",
    "NEWER_STATUSES",
    "SESSION_GROUPS",
    "STATUSES_23_09",
    "register_session_fields",
]

STATUSES_23_09: Final = frozenset(
    {
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
    }
)
NEWER_STATUSES: Final = frozenset(
    {"PREPARED", "CREATING", "DEPRIORITIZING", "RESERVED", "PREEMPTED", "RESCHEDULING"}
)
_NEWER_STATUSES_SINCE: Final = (26, 0)  # seen on 26.9, refused by 23.09; assumed 26.x
SESSION_GROUPS: Final = {"default": DEFAULT_GROUP_ID}
"""The session store's group names → project ids (``state.extras["session_groups"]``)."""
FORBIDDEN = "Forbidden operation."

COMPUTE_CONTAINER: Final = ObjectType.of(
    "ComputeContainer",
    "id idx role hostname cluster_idx local_rank cluster_role cluster_hostname session_id "
    "image architecture registry status status_changed status_info status_data created_at "
    "terminated_at starts_at scheduled_at abusing_report agent agent_addr container_id "
    "resource_opts occupied_slots live_stat last_stat preopen_ports",
)
_SESSION_FIELDS: dict[str, ObjectType | None] = {
    **ObjectType.of(
        "ComputeSession",
        "id session_id main_kernel_id tag name type main_kernel_role image architecture "
        "registry cluster_template cluster_mode cluster_size domain_name group_name group_id "
        "user_email full_name user_id access_key created_user_email created_user_id status "
        "status_changed status_info status_data status_history created_at terminated_at "
        "starts_at scheduled_at startup_command result commit_status abusing_reports "
        "idle_checks agent_ids agents resource_opts scaling_group service_ports mounts "
        "vfolder_mounts occupying_slots occupied_slots num_queries inference_metrics",
        containers=COMPUTE_CONTAINER,
    ).fields
}
COMPUTE_SESSION: Final = ObjectType("ComputeSession", _SESSION_FIELDS)
"""23.09's ``ComputeSession`` (26.9 adds ``priority`` and ``requested_slots``)."""
_SESSION_FIELDS["dependencies"] = COMPUTE_SESSION
LEGACY_COMPUTE_SESSION: Final = ObjectType.of(
    "ComputeSession",
    "sess_id id role image registry access_key status status_info created_at terminated_at "
    "agent container_id service_ports occupied_slots occupied_shares lang mem_slot cpu_slot "
    "gpu_slot tpu_slot num_queries cpu_used mem_max_bytes mem_cur_bytes net_rx_bytes "
    "net_tx_bytes io_read_bytes io_write_bytes io_max_scratch_size io_cur_scratch_size "
    "cpu_using tag domain_name group_id scaling_group",
)
"""The pre-v5 (manager 19.09) ``ComputeSession``: a session was its main kernel."""
_LIST_ARGS: Final = frozenset(
    {"limit", "offset", "filter", "order", "domain_name", "group_id", "access_key", "status"}
)
_BAD_UUID = (
    "(builtins.ValueError) badly formed hexadecimal UUID string\n"
    "[SQL: SELECT count(DISTINCT sessions.id) AS count_1 FROM sessions ...]"
)


def _release(state: ServerState) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", state.manager_version)[:2])


def _statuses(state: ServerState, text: Any) -> set[str] | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise GraphQLValidationError(f"Expected type 'String', found {json.dumps(text)}.")
    known = STATUSES_23_09
    if _release(state) >= _NEWER_STATUSES_SINCE:
        known = known | NEWER_STATUSES
    names = text.split(",")
    for name in names:
        if name not in known:
            raise GraphQLFieldError(repr(name))
    return set(names)


def _required_int(ctx: GraphQLContext, name: str) -> int:
    value = ctx.args.get(name)
    if value is None:
        raise GraphQLValidationError(
            f"Field '{ctx.field.name}' argument '{name}' of type 'Int!' is required, "
            "but it was not provided."
        )
    if not isinstance(value, int) or isinstance(value, bool):
        raise GraphQLValidationError(f"Int cannot represent non-integer value: {value!r}")
    return value


def _visible(ctx: GraphQLContext, store: SessionStore) -> list[FakeSession]:
    """The caller's scope, as the manager's ``scoped_query`` decides it."""
    kp = ctx.keypair
    wanted = ctx.args.get("access_key")
    if not kp.is_admin and wanted is not None and wanted != kp.access_key:
        raise GraphQLFieldError(FORBIDDEN)
    rows = [*store.sessions.values(), *store.ended]
    if not kp.is_admin:
        return [s for s in rows if s.access_key == kp.access_key]
    if not kp.is_superadmin:
        domain = users(ctx.state).get(kp.access_key, {}).get("domain_name", "default")
        rows = [s for s in rows if s.domain == domain]
    return [s for s in rows if wanted is None or s.access_key == wanted]


def _group_ids(state: ServerState) -> dict[str, str]:
    found: dict[str, str] = state.extras.setdefault("session_groups", dict(SESSION_GROUPS))
    return found


def _slots(session: FakeSession) -> str:
    resources = session.config.get("resources") or {}
    return json.dumps({k: str(v) for k, v in resources.items()})


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())


def session_row(state: ServerState, session: FakeSession) -> dict[str, Any]:
    """A ``ComputeSession`` object for ``session``, with every field 23.09 has."""
    owner = users(state).get(session.access_key, {})
    before_v5 = (parse_api_version(state.api_version) or (9, "")) < (5, "")
    container = {
        "id": session.kernel_id,
        "idx": 0,
        "role": "main",
        "hostname": "main1",
        "cluster_role": "main",
        "cluster_idx": 1,
        "cluster_hostname": "main1",
        "session_id": session.id,
        "image": session.image,
        "architecture": session.architecture,
        "registry": session.image.split("/", 1)[0],
        "status": session.status,
        "status_changed": _iso(session.terminated_at or session.created_at),
        "status_info": None,
        "status_data": None,
        "created_at": _iso(session.created_at),
        "terminated_at": _iso(session.terminated_at),
        "starts_at": None,
        "scheduled_at": None,
        "abusing_report": None,
        "agent": None,
        "agent_addr": None,
        "container_id": None,
        "resource_opts": "{}",
        "occupied_slots": _slots(session),
        "live_stat": None,
        "last_stat": None,
        "preopen_ports": None,
    }
    row: dict[str, Any] = {
        "id": session.id,
        "session_id": session.id,
        "main_kernel_id": session.kernel_id,
        "tag": session.tag,
        "type": session.session_type.upper(),
        "main_kernel_role": "MAIN",
        "image": session.image,
        "architecture": session.architecture,
        "registry": session.image.split("/", 1)[0],
        "cluster_template": None,
        "cluster_mode": session.cluster_mode,
        "cluster_size": session.cluster_size,
        "domain_name": session.domain,
        "group_name": session.group,
        "group_id": _group_ids(state).get(session.group),
        "user_email": owner.get("email"),
        "full_name": owner.get("full_name"),
        "user_id": str(uuid.uuid5(uuid.NAMESPACE_OID, session.access_key)),
        "access_key": session.access_key,
        "created_user_email": None,
        "created_user_id": None,
        "status": session.status,
        "status_changed": _iso(session.terminated_at or session.created_at),
        "status_info": "force-terminated" if session.terminated_at else None,
        "status_data": "{}",
        "status_history": json.dumps({session.status: _iso(session.created_at)}),
        "created_at": _iso(session.created_at),
        "terminated_at": _iso(session.terminated_at),
        "starts_at": None,
        "scheduled_at": None,
        "startup_command": None,
        "result": "UNDEFINED",
        "commit_status": "ready",
        "abusing_reports": [],
        "idle_checks": "{}",
        "agent_ids": [],
        "agents": [],
        "resource_opts": "{}",
        "scaling_group": session.config.get("scaling_group") or "default",
        "service_ports": json.dumps(session.service_ports) if session.service_ports else None,
        "mounts": [],
        "vfolder_mounts": [],
        "occupying_slots": _slots(session) if session.status == "RUNNING" else "{}",
        "occupied_slots": _slots(session),
        "num_queries": session.num_queries,
        "containers": [container],
        "dependencies": [],
        "inference_metrics": None,
    }
    if before_v5:  # the pre-v5 schema: the session is named by sess_id, no starts_at/containers
        row["sess_id"] = session.name
        row["lang"] = session.image
        for absent in ("starts_at", "containers"):
            row.pop(absent)
    else:
        row["name"] = session.name
    return row


def _order_key(session: FakeSession) -> tuple[Any, str]:
    """The manager's default order: newest of created/terminated first."""
    return (max(session.created_at, session.terminated_at or session.created_at), session.id)


def _session_list(store: SessionStore, ctx: GraphQLContext) -> dict[str, Any]:
    limit, offset = _required_int(ctx, "limit"), _required_int(ctx, "offset")
    group = ctx.args.get("group_id")
    if group is not None:
        try:
            group = str(uuid.UUID(str(group)))
        except ValueError:
            raise GraphQLFieldError(_BAD_UUID) from None
    statuses = _statuses(ctx.state, ctx.args.get("status"))
    ids = _group_ids(ctx.state)
    rows = [
        s
        for s in _visible(ctx, store)
        if (statuses is None or s.status in statuses)
        and (group is None or ids.get(s.group) == group)
    ]
    rows.sort(key=_order_key, reverse=True)
    page = rows[offset : offset + limit] if limit > 0 else []
    return {
        "items": [session_row(ctx.state, s) for s in page],
        "total_count": len(rows),
    }


def _session(store: SessionStore, ctx: GraphQLContext) -> dict[str, Any] | None:
    raw = ctx.args.get("id")
    if raw is None:
        raise GraphQLValidationError(
            "Field 'compute_session' argument 'id' of type 'UUID!' is required, "
            "but it was not provided."
        )
    try:
        wanted = str(uuid.UUID(str(raw)))
    except ValueError:
        raise GraphQLValidationError(
            f"Variable '$id' got invalid value {raw!r}; Expected type 'UUID'. "
            "badly formed hexadecimal UUID string"
        ) from None
    found = next((s for s in _visible(ctx, store) if s.id == wanted), None)
    return None if found is None else session_row(ctx.state, found)


def register_session_fields(app: web.Application, state: ServerState) -> None:
    """``compute_session_list`` and ``compute_session`` over the app's session store (install
    after ``register_session_routes``); a ``RouteInstaller``. The schema is chosen by the
    API version the server announces now (v4: the pre-v5 one)."""
    store = app[SESSIONS_KEY]
    before_v5 = (parse_api_version(state.api_version) or (9, "")) < (5, "")
    session_type = LEGACY_COMPUTE_SESSION if before_v5 else COMPUTE_SESSION
    list_type = ObjectType.of("ComputeSessionList", "total_count", items=session_type)
    for gql_field in (
        GraphQLField(
            "compute_session_list",
            partial(_session_list, store),
            type=list_type,
            args=_LIST_ARGS,
        ),
        GraphQLField(
            "compute_session", partial(_session, store), type=session_type, args=frozenset({"id"})
        ),
    ):
        register_graphql_field(state, gql_field)

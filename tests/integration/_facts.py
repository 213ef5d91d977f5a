"""Everything that differs between the real servers, in one place.

``ServerFacts`` holds what a server says about itself (``GET /``: its API version and
release; GraphQL: how many agents are alive) and, for the release lines recorded here, the
behaviour the tests expect to observe (``RELEASES``). Tests never hard-code a release:
they ask the facts, and they report what they saw with ``Real.observe(key, value)``,
which checks it against this table and records it for ``docs/compatibility.md``.

A server of a release line without a row here is still tested: what the SDK guarantees
is asserted everywhere; only the comparison with the table is left out (its observations
are recorded all the same, so they can become a new row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["OBSERVATIONS", "RELEASES", "ServerFacts", "negotiated_for"]

NEWEST_V6 = "v6.20230315"

# key -> (what is observed, what the SDK does about it): the rows of docs/compatibility.md.
OBSERVATIONS: Mapping[str, tuple[str, str]] = {
    "announced": ("API version announced by `GET /`", "read once per client, under a lock"),
    "negotiated": (
        "API version the SDK negotiates (and sends on every call)",
        "the newest v6 a v7+ server accepts; every call of the tier is accepted with it",
    ),
    "older_v6": (
        "a call with `X-BackendAI-Version: v6.20210815` (`api_version=` ceiling)",
        "passed through: a ceiling below v6.20230315 is refused by 26.x",
    ),
    "agents": ("agents alive (GraphQL `agent_list`)", "— (without one, sessions stay PENDING)"),
    "refused_login": (
        "`POST /server/login` with a wrong password",
        "`login()` returns a falsy `LoginResult` with the server's reason on both",
    ),
    "logout": ("`POST /server/logout`", "`logout()` returns None on both (an empty body)"),
    "graphql": (
        "`POST /admin/graphql` answer",
        "raw `request()` passes the body through (`client.query()` returns `data`)",
    ),
    "graphql_forbidden": (
        "superadmin-only field through `/admin/graphql` as a user",
        "`request()`: `ServerError` 400; `query()` (`/admin/gql`, a 200 with `errors`): "
        "`GraphQLError`",
    ),
    "auth_echo": (
        "`GET /auth?echo=x` (signed query string)",
        "signed and accepted on both; only 23.09 echoes a GET (the tier echoes by POST)",
    ),
    "missing_session": (
        "`GET /session/<unknown name>`",
        "`ServerError` 404 saying the session is unknown or was destroyed",
    ),
    "reuse_keys": (
        "service-port keys of a reused session (`created: false`)",
        "passed through",
    ),
    "session_exists": ("`reuseIfExists: false` on a taken name", "`ServerError` 400"),
    "unknown_image": ("create with an unknown image", "`ServerError` 404"),
    "destroy_pending": (
        "`DELETE /session/<pending>?forced=true` → `stats.status`",
        "passed through",
    ),
    "after_destroy": (
        "`GET /session/<destroyed>`",
        "`ServerError` 404 saying the session is unknown or was destroyed",
    ),
    "restart": (
        "`PATCH /session/<name>` (restart)",
        "26.x: `ServerError` 501 saying restart is no longer supported",
    ),
    "download_get": (
        "`GET /session/<name>/download_single`",
        "GET first; on 405 `POST` with the query (`file`/`files`), remembered per client",
    ),
    "running": ("a session with `enqueueOnly` reaches", "polled with `get_info()`"),
    "blocking_create": ("blocking create (no `enqueueOnly`) answers", "passed through"),
    "logs": ("`get_logs()` of a RUNNING session", "passed through"),
    "execute_complete": ("`execute(mode='complete')`", "passed through"),
    "execute_query": (
        "`execute(mode='query')` on the dummy agent",
        "`ServerError` 500 carrying the server's problem type",
    ),
    "download_post": ("download by `POST` with the query", "`download_single()`/`download()` work"),
    "rename": ("`POST /session/<name>/rename` of a RUNNING session", "None"),
    "destroy_running": ("`DELETE /session/<running>` → `stats.status`", "passed through"),
    "vfolder_mkdir": ("`POST /folders/<name>/mkdir`", "`mkdir()` returns the body as is"),
    "vfolder_files_mode": (
        "`list_files()`: `mode` of a directory",
        "passed through (`VFolderFile.mode` is `str | int`)",
    ),
    "vfolder_delete_files_post": (
        "`POST /folders/<name>/delete-files`",
        "`delete_files()` sends `DELETE`, which both take (the JS SDK compares version strings)",
    ),
    "vfolder_rename": ("`POST /folders/<name>/rename`", "`rename()` returns the body as is"),
    "vfolder_delete": (
        "`DELETE /folders/<name>`, then `GET /folders`",
        "`delete()`; with a trash bin `delete_from_trash_bin()` and (superadmin) `purge()`",
    ),
    "vfolder_tus_post": (
        "tus creation `POST` to the storage proxy",
        "never sent: the manager's `request-upload` creates the upload",
    ),
    "vfolder_tus_wrong_offset": (
        "tus `PATCH` with a wrong `Upload-Offset`",
        "`upload_file()` asks `HEAD` for the offset after any interruption, and on a 409",
    ),
    "vfolder_tus_head_done": (
        "tus `HEAD` after the upload completed",
        "a 404 after the last PATCH's answer was lost: success once `list_files` shows it",
    ),
    "vfolder_all_hosts_user": (
        "`list_all_hosts()` as a normal user",
        "the server's refusal, as `AuthenticationError` (401) or `ServerError` (403)",
    ),
    "gone_after": (
        "`GET /session/<destroyed running>`",
        "`ServerError` 404 saying the session is unknown or was destroyed (its problem type "
        "varies: `entity-not-found` or `object-not-found`)",
    ),
    # REST-side administration (tests/integration/test_admin_rest_real.py)
    "admin_refused": (
        "a normal user on a superadmin-only REST route (`POST /config/get`)",
        "sent (no client-side role check); the refusal raises with the server's reason",
    ),
    "announcement_null": (
        "disabling the announcement with `message: null`, then `GET`",
        '`update_announcement(False)` clears it on both (sends null, or "" from 26.9)',
    ),
    "announcement_empty": (
        'disabling the announcement with `message: ""`',
        "never sent to 23.09",
    ),
    "dotfile_delete_body": (
        "`DELETE /user-config/dotfiles` with the path in a JSON body (the JS SDK's)",
        "`user_config.delete()` sends the path in the query string: works on both",
    ),
    "template_missing": (
        "`GET /template/session/<unknown id>`",
        "passed through (`{}` or `ServerError` 404)",
    ),
    "service_create": (
        "`POST /services` without an app proxy for the resource group",
        "`ServerError` with the server's reason",
    ),
    "rescan_as_user": (
        "the `rescan_images` mutation sent by a normal user",
        "a refusal inside the data (`ok: false`) raises `GraphQLError` with `msg`",
    ),
    "plugins": (
        "`/totp`, `/license`, `/cloud/ping`, `/eduapp/ping` (enterprise/cloud plugins)",
        "`is_manager_supporting_totp()`/`ping()` False, `get_license()` None",
    ),
    # Streaming (tests/integration/test_streaming_real.py)
    "events_end": (
        "`/events/session?sessionName=` when the session is force-destroyed (the events seen)",
        "typed `SessionEvent`s; `status` maps both naming schemes",
    ),
    "wait_running": (
        "`sessions.wait(name, 'RUNNING')`, then `'TERMINATED'` after a destroy",
        "events confirmed by `get_info`; a session gone (404) ends as TERMINATED",
    ),
    "wait_pending_destroyed": (
        "`sessions.wait(name, 'RUNNING')` on a PENDING session force-destroyed meanwhile",
        "`SessionStateError` naming the state",
    ),
    "bgtask_clone": (
        "`/events/background-task` of a vfolder clone (the events)",
        "`attach_background_task()` ends after the last; the connection is closed",
    ),
    "bgtask_unknown": (
        "`/events/background-task?taskId=<unknown>`",
        "raised as it comes; keep-alives only: `event_timeout` ends it",
    ),
    "pty_silent": (
        "the PTY WebSocket of a session that cannot stream",
        "`first_frame_timeout` ends it with `RequestTimeoutError`",
    ),
}


@dataclass(frozen=True)
class Behaviour:
    """What one release line answers, as ``Real.observe`` reports it (short, stable text)."""

    values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(OBSERVATIONS)
        assert not unknown, f"observation keys without a row in OBSERVATIONS: {unknown}"
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


# Keyed by "major.minor" of the manager release (GET / "manager").
RELEASES: Mapping[str, Behaviour] = {
    "23.09": Behaviour(
        {
            "older_v6": "200 (accepted)",
            "agents": "0",
            "refused_login": '200 `{"authenticated": false, "data": {problem}}`',
            "logout": "201, empty body",
            "graphql": "`{<fields>}` (bare data)",
            "graphql_forbidden": "400 `graphql-error`",
            "auth_echo": "200, echoed",
            "missing_session": '404 `object-not-found` "No such session."',
            "reuse_keys": "`service_ports`",
            "session_exists": "400 `session-already-exists` with `data.existingSessionId`",
            "unknown_image": "404 `object-not-found`",
            "destroy_pending": "200 `terminated`",
            "after_destroy": "404 `object-not-found`",
            "restart": "204 (PENDING session)",
            "download_get": "404 for an unknown session (GET route exists)",
            "admin_refused": '401 `auth-failed` "Unauthorized access"',
            "announcement_null": "cleared",
            "announcement_empty": "400 `invalid-api-params`",
            "dotfile_delete_body": "200 (read from the body)",
            "template_missing": "200 `{}`",
            "rescan_as_user": "`ok: true` (started)",
            "service_create": "404 `object-not-found`",
            "plugins": "404 `url-not-found`",
            "vfolder_mkdir": "201, empty body",
            "vfolder_files_mode": '`"755"` and the legacy `files` text',
            "vfolder_delete_files_post": "405",
            "vfolder_rename": "201, empty body",
            "vfolder_delete": "204; removed in the background (listed `deleting` meanwhile)",
            "vfolder_tus_post": "405",
            "vfolder_tus_wrong_offset": "204 (appended at the server's offset)",
            "vfolder_tus_head_done": "404",
            "vfolder_all_hosts_user": "401 `auth-failed`",
        }
    ),
    "26.9": Behaviour(
        {
            "older_v6": '400 "Unsupported API version."',
            "agents": "1",
            "refused_login": '401 `{"authenticated": false, "data": {problem}}`',
            "logout": "200, empty body",
            "graphql": '`{"data": {<fields>}, "errors": null}`',
            "graphql_forbidden": "400 `graphql-error`",
            "auth_echo": '200, echo ""',
            "missing_session": '404 `entity-not-found` "Entity not found."',
            "reuse_keys": "`service_ports` and `servicePorts`",
            "session_exists": "400 `session-already-exists` with `data.existingSessionId`",
            "unknown_image": "404 `object-not-found`",
            "destroy_pending": "200 `cancelled`",
            "after_destroy": "404 `entity-not-found`",
            "restart": '501 `not-implemented` "Session restart is no longer supported. …"',
            "download_get": "405 (POST only)",
            "running": "RUNNING",
            "blocking_create": "201 RUNNING",
            "logs": '200 "my logs"',
            "execute_complete": "200 `finished`",
            "execute_query": "500 `internal-server-error`",
            "download_post": "200, 0 bytes",
            "rename": "204",
            "destroy_running": "200 `terminated`",
            "gone_after": "TERMINATING, then 404",
            "admin_refused": '403 `generic-forbidden` "Insufficient privileges"',
            "announcement_null": "text kept (disabled)",
            "announcement_empty": "204, cleared",
            "dotfile_delete_body": "400 `generic-bad-request` (query string only)",
            "template_missing": "404 `object-not-found`",
            "rescan_as_user": '`ok: false` "no permission to execute rescan_images"',
            "service_create": "503 `service-unavailable`",
            "plugins": "404 `url-not-found`",
            "vfolder_mkdir": '200 `{"results": {"success", "failed"}}`',
            "vfolder_files_mode": "`16893`",
            "vfolder_delete_files_post": "200",
            "vfolder_rename": '200 `{"msg": ""}`',
            "vfolder_delete": "204; listed `delete-pending` (trash bin)",
            "vfolder_tus_post": "405",
            "vfolder_tus_wrong_offset": "409 `upload-offset-mismatch`",
            "vfolder_tus_head_done": "404",
            "vfolder_all_hosts_user": "403 `generic-forbidden`",
        }
    ),
}


def negotiated_for(announced: str) -> str:
    """The version the SDK must pick: the server's own up to v6, else the newest v6."""
    major = int(announced.lstrip("v").split(".", 1)[0])
    return announced if major <= 6 else NEWEST_V6


@dataclass(frozen=True)
class ServerFacts:
    """What a server said about itself, plus its release line's row of ``RELEASES``."""

    api_version: str  # GET / "version"
    manager: str  # GET / "manager", e.g. "26.9.6"
    agents_alive: int  # GraphQL agent_list (superadmin), status ALIVE
    graphql_envelope: bool  # that answer was {"data": ..., "errors": ...}, not the bare data

    @property
    def line(self) -> str:
        """``major.minor`` of the release, the key of ``RELEASES`` (``26.9.6`` → ``26.9``)."""
        return ".".join(self.manager.split(".")[:2])

    @property
    def behaviour(self) -> Behaviour | None:
        return RELEASES.get(self.line)

    @property
    def negotiated(self) -> str:
        return negotiated_for(self.api_version)

    @property
    def has_agent(self) -> bool:
        """Sessions can reach RUNNING (the 26.9 harness runs a dummy agent; 23.09 has none)."""
        return self.agents_alive > 0

"""Typed shapes of the administration objects the manager's GraphQL returns.

Every key is optional (``total=False``): a result has the fields that were asked for
(``fields=``) and that the server has. JSON-string fields (``total_resource_slots``,
``available_slots`` …) stay the strings the server sends; ``json.loads`` them as needed.
Keys cover both 23.09 and 26.x managers.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "Agent",
    "Domain",
    "Image",
    "KeyPair",
    "MutationResult",
    "Project",
    "ResourcePolicy",
    "ResourcePreset",
    "ScalingGroup",
    "StorageVolume",
    "User",
]


class KeyPair(TypedDict, total=False):
    id: str
    access_key: str
    secret_key: str
    user_id: str
    full_name: str
    is_active: bool
    is_admin: bool
    is_default: bool
    resource_policy: str
    created_at: str
    last_used: str | None
    concurrency_limit: int
    concurrency_used: int
    rate_limit: int
    num_queries: int
    rolling_count: int
    user: str
    projects: list[str]
    ssh_public_key: str | None


class ProjectRef(TypedDict, total=False):
    id: str
    name: str


class User(TypedDict, total=False):
    id: str
    uuid: str
    email: str
    username: str
    need_password_change: bool
    full_name: str
    description: str
    is_active: bool
    status: str
    status_info: str | None
    created_at: str
    modified_at: str
    domain_name: str
    role: str
    resource_policy: str
    allowed_client_ip: list[str] | None
    totp_activated: bool
    sudo_session_enabled: bool
    main_access_key: str
    groups: list[ProjectRef]


class Project(TypedDict, total=False):
    """A project (the manager's ``Group``)."""

    id: str
    name: str
    description: str
    is_active: bool
    created_at: str
    modified_at: str
    domain_name: str
    total_resource_slots: str
    allowed_vfolder_hosts: str
    integration_id: str | None
    resource_policy: str
    type: str
    container_registry: str | None
    scaling_groups: list[str]


class Domain(TypedDict, total=False):
    name: str
    description: str
    is_active: bool
    created_at: str
    modified_at: str
    total_resource_slots: str
    allowed_vfolder_hosts: str
    allowed_docker_registries: list[str]
    integration_id: str | None
    scaling_groups: list[str]


class ResourcePolicy(TypedDict, total=False):
    """A keypair resource policy."""

    name: str
    created_at: str
    default_for_unspecified: str
    total_resource_slots: str
    max_session_lifetime: int
    max_concurrent_sessions: int
    max_concurrent_sftp_sessions: int
    max_containers_per_session: int
    max_pending_session_count: int | None
    max_pending_session_resource_slots: str | None
    idle_timeout: int
    allowed_vfolder_hosts: str
    max_vfolder_count: int | None
    max_vfolder_size: int | None
    max_quota_scope_size: int | None


class ResourcePreset(TypedDict, total=False):
    id: str
    name: str
    resource_slots: Any  # a JSON string in GraphQL, an object from GET /resource/presets
    shared_memory: int | str | None
    scaling_group_name: str | None
    allocatable: bool


class ScalingGroup(TypedDict, total=False):
    name: str
    description: str
    is_active: bool
    is_public: bool
    created_at: str
    wsproxy_addr: str | None
    wsproxy_api_token: str | None
    driver: str
    driver_opts: str
    scheduler: str
    scheduler_opts: str
    use_host_network: bool


class Agent(TypedDict, total=False):
    id: str
    status: str
    status_changed: str | None
    region: str
    scaling_group: str
    schedulable: bool
    available_slots: str
    occupied_slots: str
    addr: str
    architecture: str
    first_contact: str
    lost_at: str | None
    live_stat: str
    version: str
    compute_plugins: str
    hardware_metadata: str | None
    container_count: int
    cpu_cur_pct: float
    mem_cur_bytes: float


class StorageVolume(TypedDict, total=False):
    id: str
    name: str
    proxy: str
    backend: str
    fsprefix: str
    path: str
    capabilities: list[str]
    hardware_metadata: str
    performance_metric: str
    usage: str


class KeyValue(TypedDict, total=False):
    key: str
    value: str


class ResourceLimit(TypedDict, total=False):
    key: str
    min: str
    max: str | None


class Image(TypedDict, total=False):
    id: str
    name: str
    humanized_name: str
    tag: str
    registry: str
    architecture: str
    is_local: bool
    digest: str
    labels: list[KeyValue]
    aliases: list[str]
    size_bytes: int
    resource_limits: list[ResourceLimit]
    supported_accelerators: list[str]
    installed: bool
    installed_agents: list[str] | None
    hash: str
    status: str


class MutationResult(TypedDict, total=False):
    """What a mutation answers: ``ok`` (always true here: a refusal raises) and ``msg``,
    plus the object some mutations return."""

    ok: bool
    msg: str
    keypair: KeyPair
    user: User
    group: Project
    domain: Domain
    resource_policy: ResourcePolicy
    resource_preset: ResourcePreset
    scaling_group: ScalingGroup

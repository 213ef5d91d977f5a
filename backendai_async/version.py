"""API versions: parsing, comparison, negotiation and the feature table behind ``supports()``.

Pure code, no I/O. Versions look like ``v6.20230315`` and compare as (major, date); manager
releases like ``23.09.10`` compare numerically part by part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "KNOWN_VERSIONS",
    "NEWEST_VERSION",
    "ApiVersion",
    "UnsupportedVersionError",
    "features_for",
    "manager_at_least",
    "manager_version_key",
    "negotiate",
]

_VERSION_RE = re.compile(r"^v(\d+)\.(\d{8})$")


class UnsupportedVersionError(ValueError):
    """The server's version cannot be spoken by this SDK (older than v3, or unparsable)."""


_PARSED: dict[str, ApiVersion] = {}
"""Texts :meth:`ApiVersion.parse` has parsed (every client parses the same few)."""


class ApiVersion(NamedTuple):
    """An API version; tuple order makes ``<`` compare (major, date) as the server does."""

    major: int
    date: str

    @classmethod
    def parse(cls, text: str) -> ApiVersion:
        """Parse ``vN.YYYYMMDD``; raise ``ValueError`` naming the bad text otherwise."""
        if cls is ApiVersion and type(text) is str:
            known = _PARSED.get(text)
            if known is not None:
                return known
        match = _VERSION_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not an API version (expected 'vN.YYYYMMDD'): {text!r}")
        version = cls(int(match.group(1)), match.group(2))
        if cls is ApiVersion and type(text) is str:
            if len(_PARSED) >= 256:
                _PARSED.clear()
            _PARSED[text] = version
        return version

    def __str__(self) -> str:
        return f"v{self.major}.{self.date}"


# Every version this SDK may put in X-BackendAI-Version: servers reject any other string.
KNOWN_VERSIONS: tuple[ApiVersion, ...] = tuple(
    ApiVersion.parse(v)
    for v in (
        "v3.20170615",
        "v4.20181215",
        "v4.20190115",
        "v4.20190315",
        "v4.20190615",
        "v5.20191215",
        "v6.20200815",
        "v6.20210815",
        "v6.20220315",
        "v6.20220615",
        "v6.20230315",
    )
)
NEWEST_VERSION = KNOWN_VERSIONS[-1]
_OLDEST_MAJOR = 3


def negotiate(server_version: str, ceiling: ApiVersion = NEWEST_VERSION) -> ApiVersion:
    """Pick the version to speak with a server that announced ``server_version``.

    The newest known version that is neither newer than the server nor than ``ceiling``:
    a v3–v6 server gets its own version, a newer server ``v6.20230315``.
    """
    try:
        announced = ApiVersion.parse(server_version)
    except ValueError as exc:
        raise UnsupportedVersionError(
            f"the server announced an unparsable API version {server_version!r}"
        ) from exc
    if announced.major < _OLDEST_MAJOR:
        raise UnsupportedVersionError(
            f"the server's API version {announced} is older than v3, "
            "which this SDK does not support"
        )
    limit = min(announced, ceiling)
    for candidate in reversed(KNOWN_VERSIONS):
        if candidate <= limit:
            return candidate
    raise UnsupportedVersionError(f"no known API version at or below {limit}")


_PART_RE = re.compile(r"^(\d*)(.*)$")


def manager_version_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for manager releases: numeric per part, a pre-release suffix sorts first.

    ``20.09.16 < 20.09.100`` and ``23.09.0rc1 < 23.09.0``.
    """
    key = []
    for part in text.strip().split("."):
        match = _PART_RE.match(part)
        assert match is not None  # the pattern matches every string
        digits, suffix = match.groups()
        key.append((int(digits) if digits else 0, 0 if suffix else 1, suffix))
    key.extend([(0, 1, "")] * (4 - len(key)))  # "23.09" == "23.09.0"
    return tuple(key)


def manager_at_least(manager: str, version: str | Sequence[str]) -> bool:
    """Whether the manager release is at least ``version``, as the JS SDK decides it.

    With several versions (a feature back-ported to older lines), the one on the manager's
    own ``major.minor`` line applies, else the highest: ``["25.1.0", "24.09.6"]`` holds for
    24.09.7 and 25.1.0 but not for 24.12.1.
    """
    current = manager_version_key(manager)
    if isinstance(version, str):
        return current >= manager_version_key(version)
    conditions = sorted((manager_version_key(v) for v in version), reverse=True)
    if not conditions:
        raise ValueError("at least one manager version is needed")
    same_line = [c for c in conditions if c[:2] == current[:2]]
    return current >= (same_line[0] if same_line else conditions[0])


# (threshold kind, threshold, flags): the JS SDK's _updateSupportList, in its order. A
# tuple of thresholds is a back-ported feature (see manager_at_least).
_FEATURES: tuple[tuple[str, str | tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "api",
        "v4.20190601",
        (
            "scaling-group",
            "group",
            "group-folder",
            "system-images",
            "detailed-session-states",
            "change-user-name",
        ),
    ),
    ("api", "v6.20200815", ("multi-container", "multi-node", "storage-proxy", "hardware-metadata")),
    ("manager", "20.09.16", ("avoid-hol-blocking", "session-detail-status")),
    ("manager", "21.09", ("schedulable", "wsproxy-addr")),
    ("manager", "22.03", ("scheduler-opts", "session-lifetime")),
    ("api", "v6.20220615", ("secure-payload",)),
    (
        "manager",
        "22.09",
        ("image-commit", "fine-grained-storage-permissions", "2FA", "force2FA"),
    ),
    ("manager", "22.09.19", ("idle-checks",)),
    ("manager", "22.09.22", ("is-public",)),
    ("api", "v6.20230315", ("inference-workload",)),
    (
        "manager",
        "23.03",
        ("inference-workload", "local-vscode-remote-connection", "display-allocated-shmem"),
    ),
    ("manager", "23.03.3", ("sftp-scaling-group",)),
    ("manager", "23.03.7", ("quota-scope",)),
    ("manager", "23.03.11", ("model-serving",)),
    ("manager", "23.09.0", ("sudo-session-enabled",)),
    (
        "manager",
        "23.09.2",
        (
            "max-quota-scope-size-in-user-and-project-resource-policy",
            "deprecated-max-vfolder-size-in-user-and-project-resource-policy",
            "max-quota-scope-size",
        ),
    ),
    (
        "manager",
        "23.09.4",
        (
            "deprecated-max-vfolder-count-in-keypair-resource-policy",
            "deprecated-max-vfolder-size-in-keypair-resource-policy",
            "use-win-instead-of-win32",
        ),
    ),
    (
        "manager",
        "23.09.6",
        (
            "max-vfolder-count-in-user-and-project-resource-policy",
            "deprecated-max-quota-scope-in-keypair-resource-policy",
        ),
    ),
    ("manager", "23.09.7", ("main-access-key",)),
    ("manager", "23.09.8", ("model-serving-endpoint-user-info",)),
    ("manager", "23.09.9", ("modify-endpoint",)),
    (
        "manager",
        "23.09.10",
        ("max-session-count-per-model-session", "configure-user-resource-policy"),
    ),
    (
        "manager",
        "24.03.0",
        (
            "vfolder-trash-bin",
            "model-store",
            "per-user-image",
            "user-committed-image",
            "model-service-validation",
            "max-customized-image-count",
        ),
    ),
    (
        "manager",
        "24.03.4",
        (
            "endpoint-extra-mounts",
            "max-pending-session-count",
            "max-concurrent-sftp-sessions",
            "max-pending-session-resource-slots",
        ),
    ),
    ("manager", "24.03.5", ("modify-endpoint-environ", "endpoint-runtime-variant")),
    ("manager", "24.03.7", ("per-kernel-logs",)),
    ("manager", ("24.03.10",), ("endpoint-lifecycle-stage-filter",)),
    ("manager", "24.09", ("extend-login-session", "session-node", "idle-checks-gql")),
    ("manager", "24.09.1", ("agent-select",)),
    ("manager", "24.09.3", ("extra-field",)),
    (
        "manager",
        "24.12.0",
        (
            "extended-image-info",
            "batch-timeout",
            "prepared-session-status",
            "creating-session-status",
            "max_network_count",
            "replicas",
            "base-image-name",
        ),
    ),
    ("manager", ("25.1.0", "24.09.6", "24.03.12"), ("vfolder-id-based",)),
    ("manager", ("25.3.0", "24.09.8"), ("vfolder-mounts",)),
    ("manager", "25.1.0", ("image_rescan_by_project", "auto-scaling-rule")),
    ("manager", "25.4.0", ("resource-presets-per-resource-group", "vfolder_nodes_in_session_node")),
    ("manager", "25.5.0", ("custom-accelerator-quantum-size",)),
    ("manager", "25.6.0", ("user-metrics", "invitation-inviter-email")),
    ("manager", "25.10.0", ("purge_image_by_id",)),
    ("manager", "25.12.0", ("mount-by-id", "reservoir")),
    ("manager", "25.13.0", ("pending-session-list",)),
    # Not JS SDK flags: server behaviour the namespaces absorb.
    # lablup/backend.ai#12679 (BA-6794) keeps an announcement's text when it is disabled,
    # so clearing it takes message "" (older managers refuse "" and clear with null).
    # 26.9.6 has it; 26.9.0 is the assumed first release (a later guess only costs a kept
    # text, an earlier one a 400).
    ("manager", "26.9.0", ("announcement-message-kept",)),
)
# Flags the JS SDK turns off again from a release on.
_WITHDRAWN: tuple[tuple[str, tuple[str, ...]], ...] = (("25.09.0", ("force2FA",)),)


def features_for(api: ApiVersion, manager: str) -> frozenset[str]:
    """The feature flags a (negotiated API version, manager release) pair supports."""
    flags: set[str] = set()
    for kind, threshold, names in _FEATURES:
        if kind == "api":
            assert isinstance(threshold, str)
            ok = api >= ApiVersion.parse(threshold)
        else:
            ok = manager_at_least(manager, threshold)
        if ok:
            flags.update(names)
    for since, names in _WITHDRAWN:
        if manager_at_least(manager, since):
            flags.difference_update(names)
    return frozenset(flags)

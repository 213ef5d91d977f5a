"""The JS SDK's ``resources`` argument, mapped onto the body of a session-creation request.

``createIfNotExists(image, sessionId, resources)`` in the JS SDK takes one flat object that
mixes resource slots (``cpu``, ``mem``, ``gpu`` …), creation ``config`` entries (``mounts``,
``env`` …) and top-level parameters (``type``, ``enqueueOnly`` …). :func:`prepare_resources`
validates such a mapping (or the typed :class:`SessionResources`) without any I/O, and
:meth:`PreparedResources.apply` writes it into a request body for the negotiated version.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from .._compat import Compat

__all__ = [
    "CLUSTER_MODES",
    "JS_RESOURCE_KEYS",
    "NO_RESOURCES",
    "SESSION_TYPES",
    "PreparedResources",
    "SessionResources",
    "prepare_resources",
]

SESSION_TYPES = ("interactive", "batch", "inference")
CLUSTER_MODES = ("single-node", "multi-node")

# Resource slots that take a device count, JS key -> slot name in config.resources.
_DEVICE_SLOTS = {
    "gpu": "cuda.device",
    "cuda.device": "cuda.device",
    "rocm": "rocm.device",
    "tpu": "tpu.device",
    "ipu": "ipu.device",
    "atom": "atom.device",
    "atom-plus": "atom-plus.device",
    "gaudi2": "gaudi2.device",
    "warboy": "warboy.device",
    "hyperaccel-lpu": "hyperaccel-lpu.device",
}
_SHARE_KEYS = ("vgpu", "fgpu", "cuda.shares")  # fractional GPU -> "cuda.shares", two decimals
# JS key -> key inside "config" (``shmem`` goes to config.resource_opts.shmem).
_CONFIG_KEYS = {
    "mounts": "mounts",
    "mount_map": "mount_map",
    "scaling_group": "scaling_group",
    "env": "environ",
    "preopen_ports": "preopen_ports",
}
# JS key -> top-level body key.
_TOP_KEYS = {
    "type": "type",
    "cluster_size": "cluster_size",
    "cluster_mode": "cluster_mode",
    "group_name": "group_name",
    "domain": "domain",
    "startsAt": "starts_at",
    "starts_at": "starts_at",
    "enqueueOnly": "enqueueOnly",
    "maxWaitSeconds": "maxWaitSeconds",
    "reuseIfExists": "reuseIfExists",
    "startupCommand": "startupCommand",
    "bootstrap_script": "bootstrap_script",
    "owner_access_key": "owner_access_key",
    "architecture": "architecture",
    "tag": "tag",
}
JS_RESOURCE_KEYS = frozenset(
    {"cpu", "mem", "shmem", *_DEVICE_SLOTS, *_SHARE_KEYS, *_CONFIG_KEYS, *_TOP_KEYS}
)
"""Every key the ``resources`` mapping accepts, besides other ``<device>.<slot>`` names."""

_SLOT_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.[a-z0-9_.-]+$")
_BINARY_SIZE = re.compile(r"^\d+(\.\d+)?\s*([kmgtpe]i?)?b?$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class SessionResources:
    """The typed form of ``resources``: a typo is a ``TypeError`` (and a mypy error).

    Field names are Pythonic; :meth:`to_js` gives the JS SDK's keys. ``None`` means "leave
    it to the server". ``slots`` carries any other resource slot by its server name
    (``{"ipu.device": 1}``).
    """

    cpu: int | float | str | None = None
    """CPU cores (``config.resources.cpu``)."""
    mem: int | str | None = None
    """Memory: bytes or a size string such as ``"4g"`` (``config.resources.mem``)."""
    gpu: int | None = None
    """Whole CUDA GPUs (``config.resources["cuda.device"]``, an integer)."""
    fgpu: int | float | str | None = None
    """Fractional GPU shares (``config.resources["cuda.shares"]``, sent as ``"0.50"``)."""
    rocm: int | None = None
    """ROCm GPUs (``rocm.device``)."""
    tpu: int | None = None
    """TPUs (``tpu.device``)."""
    slots: Mapping[str, int | float | str] = field(default_factory=dict)
    """Other resource slots by server name, e.g. ``{"ipu.device": 1}``."""
    shmem: int | str | None = None
    """Shared memory size (``config.resource_opts.shmem``)."""
    mounts: Sequence[str] | None = None
    """Virtual folders to mount (``config.mounts``)."""
    mount_map: Mapping[str, str] | None = None
    """Folder name -> mount path (``config.mount_map``)."""
    scaling_group: str | None = None
    """Resource group to schedule in (``config.scaling_group``)."""
    env: Mapping[str, str] | None = None
    """Environment variables (``config.environ``)."""
    preopen_ports: Sequence[int] | None = None
    """Container ports to expose from the start (``config.preopen_ports``)."""
    session_type: Literal["interactive", "batch", "inference"] | None = None
    """``type``; the server defaults to ``"interactive"``."""
    cluster_size: int | None = None
    """Number of containers (default 1)."""
    cluster_mode: Literal["single-node", "multi-node"] | None = None
    """How the cluster's containers are placed (default ``"single-node"``)."""
    group_name: str | None = None
    """Project (user group) name; the server defaults to ``"default"``."""
    domain: str | None = None
    """Domain name; the server defaults to ``"default"``."""
    starts_at: str | datetime | None = None
    """Scheduled start: an ISO-8601 time (aware datetimes are converted) or ``"1h"``."""
    enqueue_only: bool | None = None
    """``enqueueOnly``: answer as soon as the session is queued."""
    max_wait_seconds: int | None = None
    """``maxWaitSeconds``: how long the server may hold the request (0 = its default)."""
    reuse_if_exists: bool | None = None
    """``reuseIfExists`` (default true): return an existing session of the same name."""
    startup_command: str | None = None
    """``startupCommand`` of a batch session."""
    bootstrap_script: str | None = None
    """Script run once when the container starts."""
    owner_access_key: str | None = None
    """Create on behalf of this access key (admins only)."""
    architecture: str | None = None
    """Image architecture, e.g. ``"x86_64"`` or ``"aarch64"``."""
    tag: str | None = None
    """A free-form tag stored with the session."""

    def to_js(self) -> dict[str, Any]:
        """The same settings under the JS SDK's ``resources`` keys (``None`` left out)."""
        result: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "slots":
                result.update(value)
            elif value is not None:
                result[_DATACLASS_TO_JS.get(f.name, f.name)] = value
        return result


_DATACLASS_TO_JS = {
    "session_type": "type",
    "starts_at": "startsAt",
    "enqueue_only": "enqueueOnly",
    "max_wait_seconds": "maxWaitSeconds",
    "reuse_if_exists": "reuseIfExists",
    "startup_command": "startupCommand",
}


@dataclass(frozen=True)
class PreparedResources:
    """A validated ``resources`` argument, split by where each part goes in the body."""

    slots: dict[str, Any]
    config: dict[str, Any]
    top: dict[str, Any]

    @property
    def max_wait_seconds(self) -> int:
        """How long the server may hold the creation request (0 when it answers at once)."""
        if self.top.get("enqueueOnly"):
            return 0
        value = self.top.get("maxWaitSeconds", 0)
        return value if isinstance(value, int) else 0

    def apply(self, body: dict[str, Any], compat: Compat) -> dict[str, Any]:
        """Write these settings into ``body`` for the negotiated version; returns ``body``.

        Before v6 the manager reads ``cluster_size`` from ``config`` and knows no
        ``cluster_mode``; a multi-node request then fails here, before any request.
        """
        if not (self.top or self.config or self.slots):
            return body
        top = dict(self.top)
        config = dict(self.config)
        if not compat.cluster_params_top_level:
            mode = top.pop("cluster_mode", None)
            if mode not in (None, "single-node"):
                raise ValueError(
                    f"cluster_mode {mode!r} needs API v6.20200815 or later; "
                    f"the server speaks {compat.version}"
                )
            if "cluster_size" in top:
                config["cluster_size"] = top.pop("cluster_size")
        if self.slots:
            config["resources"] = dict(self.slots)
        body.update(top)
        if config:
            body["config"] = config
        return body


NO_RESOURCES = PreparedResources({}, {}, {})
"""``resources=None``: shared, never mutated (``apply`` copies before writing)."""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _amount(key: str, value: object) -> int | float | str:
    """A non-negative amount: a number or a numeric string (passed on unchanged)."""
    if _is_number(value):
        assert isinstance(value, (int, float))
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"resources[{key!r}] must be a non-negative number, got {value!r}")
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"resources[{key!r}] must be a number, got {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"resources[{key!r}] must be a non-negative number, got {value!r}")
        return value
    raise ValueError(f"resources[{key!r}] must be a number, got {type(value).__name__}")


def _size(key: str, value: object) -> int | str:
    """A byte size: a non-negative int or a string such as ``"512m"``/``"4GiB"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"resources[{key!r}] must not be negative, got {value!r}")
        return value
    if isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError(f"resources[{key!r}] must not be negative, got {value!r}")
        if not _BINARY_SIZE.match(value.strip()):
            raise ValueError(
                f"resources[{key!r}] must be a size such as '512m' or '4g', got {value!r}"
            )
        return value
    raise ValueError(f"resources[{key!r}] must be an int or a size string, got {value!r}")


def _count(key: str, value: object) -> int:
    """A whole, non-negative device count (integral floats and strings are accepted)."""
    number = _amount(key, value)
    as_float = float(number)
    if not as_float.is_integer():
        raise ValueError(f"resources[{key!r}] must be a whole number of devices, got {value!r}")
    return int(as_float)


def _shares(key: str, value: object) -> str:
    """Fractional GPU shares as the two-decimal string the JS SDK sends (``"0.50"``)."""
    return f"{float(_amount(key, value)):.2f}"


def _str(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"resources[{key!r}] must be a string, got {type(value).__name__}")
    return value


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"resources[{key!r}] must be a bool, got {value!r}")
    return value


def _int(key: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"resources[{key!r}] must be an int >= {minimum}, got {value!r}")
    return value


def _str_map(key: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"resources[{key!r}] must map strings to strings, got {value!r}")
    return dict(value)


def _str_list(key: str, value: object) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"resources[{key!r}] must be a list of strings, got {value!r}")
    if not all(isinstance(v, str) for v in value):
        raise ValueError(f"resources[{key!r}] must be a list of strings, got {value!r}")
    return list(value)


def _ports(key: str, value: object) -> list[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"resources[{key!r}] must be a list of ports, got {value!r}")
    for port in value:
        if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
            raise ValueError(f"resources[{key!r}] ports must be ints in 1024-65535, got {port!r}")
    return list(value)


def _choice(key: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"resources[{key!r}] must be one of {', '.join(choices)}; got {value!r}")
    assert isinstance(value, str)
    return value


def _starts_at(key: str, value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"resources[{key!r}] must be a timezone-aware datetime")
        return value.isoformat()
    return _str(key, value)


def _top_value(key: str, value: object) -> Any:
    if key == "type":
        return _choice(key, value, SESSION_TYPES)
    if key == "cluster_mode":
        return _choice(key, value, CLUSTER_MODES)
    if key == "cluster_size":
        return _int(key, value, 1)
    if key == "maxWaitSeconds":
        return _int(key, value, 0)
    if key in ("enqueueOnly", "reuseIfExists"):
        return _bool(key, value)
    if key in ("startsAt", "starts_at"):
        return _starts_at(key, value)
    return _str(key, value)


def prepare_resources(resources: SessionResources | Mapping[str, Any] | None) -> PreparedResources:
    """Validate ``resources`` (JS keys, or :class:`SessionResources`) without any I/O.

    Raises ``ValueError`` naming the key for an unknown key, a negative amount, a wrong
    type, or two keys that set the same slot (``gpu`` and ``cuda.device``).
    """
    if resources is None:
        return NO_RESOURCES
    if isinstance(resources, SessionResources):
        resources = resources.to_js()
    if not isinstance(resources, Mapping):
        raise ValueError(
            "resources must be a mapping of JS SDK keys or a SessionResources, "
            f"got {type(resources).__name__}"
        )
    slots: dict[str, Any] = {}
    config: dict[str, Any] = {}
    top: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def put(target: dict[str, Any], name: str, key: str, value: Any) -> None:
        if name in target:
            raise ValueError(
                f"resources[{key!r}] and resources[{origin[name]!r}] both set {name!r}"
            )
        origin[name] = key
        target[name] = value

    for key, value in resources.items():
        if not isinstance(key, str):
            raise ValueError(f"resources keys must be strings, got {key!r}")
        if value is None:
            continue
        if key == "cpu":
            put(slots, "cpu", key, _amount(key, value))
        elif key == "mem":
            put(slots, "mem", key, _size(key, value))
        elif key in _DEVICE_SLOTS:
            put(slots, _DEVICE_SLOTS[key], key, _count(key, value))
        elif key in _SHARE_KEYS:
            put(slots, "cuda.shares", key, _shares(key, value))
        elif key == "shmem":
            config["resource_opts"] = {"shmem": _size(key, value)}
        elif key in ("mounts",):
            put(config, "mounts", key, _str_list(key, value))
        elif key in ("mount_map", "env"):
            put(config, _CONFIG_KEYS[key], key, _str_map(key, value))
        elif key == "scaling_group":
            put(config, "scaling_group", key, _str(key, value))
        elif key == "preopen_ports":
            put(config, "preopen_ports", key, _ports(key, value))
        elif key in _TOP_KEYS:
            put(top, _TOP_KEYS[key], key, _top_value(key, value))
        elif _SLOT_NAME.match(key):
            put(slots, key, key, _amount(key, value))
        else:
            raise ValueError(
                f"unknown resources key {key!r}; known keys: {', '.join(sorted(JS_RESOURCE_KEYS))}"
                " (or a resource slot name such as 'ipu.device')"
            )
    return PreparedResources(slots, config, top)

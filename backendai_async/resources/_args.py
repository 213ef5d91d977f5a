"""Argument checks shared by the namespaces: bad input is a ValueError before anything is sent.

Each check names the argument it refuses, so ``client.user.create("", {...})`` says
``email must be a non-empty string`` rather than failing on the server (or in aiohttp).
Input objects (the JS SDK's ``input``) are checked against the keys the GraphQL input
type has on the servers we know (:class:`InputSpec`); JSON-string fields take a string, as
the JS SDK passes them, or a mapping/list, which is encoded here.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

__all__ = [
    "InputSpec",
    "check_flag",
    "check_int",
    "check_json_text",
    "check_number",
    "check_props",
    "check_segment",
    "check_str",
    "check_text",
    "check_uuid",
    "drop_none",
    "optional",
]

T = TypeVar("T")


def check_text(value: object, what: str) -> str:
    """A non-empty string (names, emails, access keys, ids)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_str(value: object, what: str) -> str:
    """A string, empty allowed (file contents, scripts: ``""`` is a value)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {value!r}")
    return value


def check_segment(value: object, what: str) -> str:
    """A name as one URL path segment (``/`` and other reserved characters quoted)."""
    return quote(check_text(value, what), safe="")


def optional(check: Callable[[object, str], T], value: object, what: str) -> T | None:
    """``check(value, what)``, or None for None (the argument is then not sent)."""
    return None if value is None else check(value, what)


def check_flag(value: object, what: str) -> bool:
    """A real bool (``1`` or ``"true"`` would be sent as another GraphQL type)."""
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return value


def check_int(value: object, what: str, minimum: int = 0) -> int:
    """An int of at least ``minimum`` (bools refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return value


def check_number(value: object, what: str, minimum: float = 0.0) -> float:
    """A finite int or float of at least ``minimum`` (bools refused)."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ValueError(f"{what} must be a number >= {minimum:g}, got {value!r}")
    return float(value)


def check_json_text(value: object, what: str) -> str:
    """JSON (or YAML) text as the JS SDK passes it, or a mapping/list to encode."""
    if isinstance(value, str):
        return check_text(value, what)
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return json.dumps(list(value))
    raise ValueError(f"{what} must be JSON text, a mapping or a list, got {value!r}")


def drop_none(**fields: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None = left to the server's default)."""
    return {k: v for k, v in fields.items() if v is not None}


def check_uuid(value: object, what: str) -> str:
    """A UUID in its canonical text form (the manager's ``UUID`` scalar)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(check_text(value, what)))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


@dataclass(frozen=True)
class InputSpec:
    """A GraphQL input type: the keys the known servers accept, and the JSON-string ones."""

    name: str
    keys: frozenset[str]
    json_keys: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()

    @classmethod
    def of(cls, name: str, keys: str, json_keys: str = "", required: str = "") -> InputSpec:
        """Spelled as space-separated names, the way the schema lists them."""
        return cls(
            name,
            frozenset(keys.split()) | frozenset(json_keys.split()),
            frozenset(json_keys.split()),
            frozenset(required.split()),
        )


def check_props(value: object, spec: InputSpec, what: str = "input") -> dict[str, Any]:
    """A copy of an input mapping with known keys only; JSON-string fields encoded.

    The caller's mapping is never modified. None values are dropped (the JS SDK's
    ``undefined``), so a field is either sent or left to the server's default.
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping ({spec.name}), got {type(value).__name__}")
    props: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or key not in spec.keys:
            known = ", ".join(sorted(spec.keys))
            raise ValueError(f"{what}: unknown key {key!r} for {spec.name} (known: {known})")
        if item is None:
            continue
        if key in spec.json_keys and not isinstance(item, str):
            if not isinstance(item, (Mapping, Sequence)):
                raise ValueError(f"{what}[{key!r}] must be a JSON string or a mapping")
            item = json.dumps(item)
        props[key] = item
    missing = sorted(spec.required - props.keys())
    if missing:
        raise ValueError(f"{what} needs {', '.join(map(repr, missing))} ({spec.name})")
    return props

"""Argument checks of ``client.vfolder``: pure, run before anything is sent.

A bad argument is a ``ValueError`` naming it (an empty folder name, a path that leaves the
folder, an unknown permission), never a request the server refuses later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Final, cast
from urllib.parse import quote

__all__ = [
    "PERMISSIONS",
    "USAGE_MODES",
    "at_least",
    "byte_count",
    "email_list",
    "flag",
    "folder_segment",
    "inner_path",
    "json_object",
    "nonempty",
    "one_of",
    "uuid_text",
]

PERMISSIONS: Final = ("ro", "rw", "wd")
"""Read-only, read-write, read-write-delete (the manager's ``VFolderPermission``)."""
USAGE_MODES: Final = ("general", "model", "data")


def folder_segment(name: object) -> str:
    """The folder (a name, or an id where the server resolves ids) as one path segment."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name (the folder) must be a non-empty string, got {name!r}")
    if name in (".", "..") or "/" in name or any(c in name for c in "\x00\r\n"):
        raise ValueError(f"name {name!r} cannot name a folder (no '/', NUL or line breaks)")
    return quote(name, safe="")


def inner_path(path: object, what: str, *, root_ok: bool = False) -> str:
    """A path inside the folder: relative, without '..' segments (it must not leave it)."""
    if not isinstance(path, str):
        raise ValueError(f"{what} must be a string, got {type(path).__name__}")
    if not path and not root_ok:
        raise ValueError(f"{what} must be a non-empty path inside the folder")
    if path.startswith(("/", "\\")) or ".." in PurePosixPath(path.replace("\\", "/")).parts:
        raise ValueError(f"{what} {path!r} leaves the folder: give a relative path without '..'")
    if any(c in path for c in "\x00\r\n"):
        raise ValueError(f"{what} {path!r} contains a NUL or line-break character")
    return path


def one_of(value: object, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
    return cast(str, value)


def nonempty(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def uuid_text(value: object, what: str = "vfolder_id") -> str:
    """A folder or user id: a UUID, in either spelling (sent as given)."""
    text = nonempty(value, what)
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None
    return text


def email_list(emails: object) -> list[str]:
    if isinstance(emails, str):
        emails = [emails]
    if not isinstance(emails, Sequence) or not emails:
        raise ValueError(f"emails must be an address or a non-empty list of them, got {emails!r}")
    return [nonempty(e, "each email") for e in emails]


def flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return value


def json_object(value: object, what: str = "input") -> dict[str, Any]:
    """A JSON object argument: a mapping, or (as the JS SDK accepts) its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping (or its JSON text), got {value!r}")
    return dict(value)


def at_least(value: object, what: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return value


def byte_count(fs: object) -> int | None:
    """``fs`` given as a byte count (the JS SDK passes a File and reads its ``size``)."""
    if isinstance(fs, int) and not isinstance(fs, bool):
        return at_least(fs, "fs (a size)", minimum=0)
    return None

"""What ``client.vfolder`` answers with: plain JSON, typed so that mypy helps.

The managers differ in details (see ``docs/vfolders.md``): 23.09 lists ``mode`` as an
octal text ("755"), 26.9 as the ``st_mode`` number (16893); 26.9 adds empty strings where
23.09 has no field. Every key is therefore optional (``total=False``) unless every server
sends it.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "DownloadToken",
    "UploadToken",
    "VFolderFile",
    "VFolderFileList",
    "VFolderHosts",
    "VFolderInfo",
]


class VFolderInfo(TypedDict, total=False):
    """A virtual folder as ``create``, ``list`` and ``info`` describe it."""

    id: str
    name: str
    host: str
    quota_scope_id: str
    status: str  # "ready", ...; 26.9 lists deleted folders as "delete-pending"
    usage_mode: str  # "general" | "model" | "data"
    permission: str  # "ro" | "rw" | "wd"
    is_owner: bool
    user: str | None
    group: str | None
    creator: str
    user_email: str | None
    group_name: str | None
    ownership_type: str  # "user" | "group"
    type: str
    cloneable: bool
    max_files: int
    max_size: int | None
    cur_size: int
    created_at: str
    last_used: str
    num_files: int
    numFiles: int  # the server's legacy spelling
    used_bytes: int
    unmanaged_path: str
    bgtask_id: str  # clone: the background task copying the files


class VFolderFile(TypedDict, total=False):
    """One entry of ``list_files``."""

    name: str
    type: str  # "FILE" | "DIRECTORY" | "SYMLINK"
    size: int
    mode: str | int  # "755" on 23.09, 16893 (st_mode) on 26.9
    created: str
    modified: str


class VFolderFileList(TypedDict, total=False):
    """``list_files``: ``items``; 23.09 also sends the legacy ``files`` (JSON text)."""

    items: list[VFolderFile]
    files: str


class VFolderHosts(TypedDict, total=False):
    """``list_hosts`` / ``list_all_hosts``."""

    default: str | None
    allowed: list[str]
    volume_info: dict[str, dict[str, object]]


class _Token(TypedDict):
    token: str


class UploadToken(_Token, total=False):
    """``request-upload``: the token and the storage proxy's tus URL (API v6 and later)."""

    url: str


class DownloadToken(_Token, total=False):
    """``request-download``: the token and the storage proxy's download URL (API v6+)."""

    url: str

"""Virtual folders (issue 9): ``client.vfolder``, the JS SDK's ``VFolder`` class and transfers.

Every JS method is here under its snake_case name, in the JS positional order, with the
folder as the argument ``name`` (there is no "current folder" state as in the JS SDK).
Arguments are checked before anything is sent: an empty folder name, an unknown
permission or usage mode, or a path that leaves the folder is a ``ValueError``.

Transfers go through the storage proxy the manager names (API v6 and later): the manager
hands out a token (``request-upload`` / ``request-download``), the bytes go straight to the
proxy, unsigned. ``upload_file`` speaks tus there and resumes an interrupted upload from the
server's offset; ``download_file`` streams to a file (atomically) or returns a
:class:`~backendai_async.ByteStream`. Older managers serve the same flows themselves.

Defaults: every call has the client's deadline, except the transfers (``upload_file``,
``download_file``, ``upload``, ``download`` …), which have none but an idle-read limit
(the client's ``Timeouts.read``, else 60 s; ``idle_timeout=`` overrides it).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final, cast, overload
from urllib.parse import quote

from yarl import URL

from .._abort import AbortSignal
from .._transfer import (
    ByteStream,
    ProgressCallback,
    ProgressGuard,
    UploadSource,
    file_writer,
    open_byte_stream,
)
from .._tus import DEFAULT_PATCH_SIZE, open_tus_source, read_token, token_target, tus_upload
from ..errors import ClientError
from ..timeouts import USE_DEFAULT, UseDefault
from ._base import Api, Resource
from ._vfolder_types import (
    DownloadToken,
    VFolderFileList,
    VFolderHosts,
    VFolderInfo,
)
from .sessions import TRANSFER_IDLE_TIMEOUT, _single_target

if TYPE_CHECKING:
    from .._compat import Compat
    from .._http import ResponseReader
    from .._tus import Target

__all__ = ["PERMISSIONS", "USAGE_MODES", "VFolder"]

PERMISSIONS: Final = ("ro", "rw", "wd")
"""Read-only, read-write, read-write-delete (the manager's ``VFolderPermission``)."""
USAGE_MODES: Final = ("general", "model", "data")
DEFAULT_RESUMES: Final = 3
_TUS_LEGACY = "/folders/_/tus/upload/{token}"
_DOWNLOAD_LEGACY = "/folders/_/download_with_token"
Timeout = float | UseDefault | None
StrPath = str | os.PathLike[str]


# -- argument checks (pure, before any request) -------------------------------------------


def _folder(name: object) -> str:
    """The folder (a name, or an id where the server resolves ids) as one path segment."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name (the folder) must be a non-empty string, got {name!r}")
    if name in (".", "..") or "/" in name or any(c in name for c in "\x00\r\n"):
        raise ValueError(f"name {name!r} cannot name a folder (no '/', NUL or line breaks)")
    return quote(name, safe="")


def _path(path: object, what: str, *, root_ok: bool = False) -> str:
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


def _one_of(value: object, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
    return cast(str, value)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _id(value: object, what: str = "vfolder_id") -> str:
    """A folder or user id: a UUID, in either spelling (sent as given)."""
    text = _text(value, what)
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None
    return text


def _emails(emails: object) -> list[str]:
    if isinstance(emails, str):
        emails = [emails]
    if not isinstance(emails, Sequence) or not emails:
        raise ValueError(f"emails must be an address or a non-empty list of them, got {emails!r}")
    return [_text(e, "each email") for e in emails]


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return value


def _input(value: object, what: str = "input") -> dict[str, Any]:
    """A JSON object argument: a mapping, or (as the JS SDK accepts) its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping (or its JSON text), got {value!r}")
    return dict(value)


def _count(value: object, what: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return value


def _size_of(fs: object) -> int | None:
    """``fs`` given as a byte count (the JS SDK passes a File and reads its ``size``)."""
    if isinstance(fs, int) and not isinstance(fs, bool):
        return _count(fs, "fs (a size)", minimum=0)
    return None


class VFolder(Resource):
    """``client.vfolder``: virtual folders, their files, sharing, quotas and transfers."""

    __slots__ = ()

    def __init__(self, api: Api) -> None:
        super().__init__(api)

    def _idle(self, idle_timeout: Timeout) -> float | None:
        if idle_timeout is not USE_DEFAULT:
            return idle_timeout
        read = self._api.config.timeouts.read
        return read if read is not None else TRANSFER_IDLE_TIMEOUT

    # -- folders ----------------------------------------------------------------------

    async def list_allowed_types(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> list[str]:
        """The folder types this cluster allows (``["group", "user"]``)."""
        result: list[str] = await self._api.send(
            "GET", "/folders/_/allowed_types", timeout=timeout, signal=signal
        )
        return result

    async def create(
        self,
        name: str,
        host: str = "",
        group: str = "",
        usage_mode: str = "general",
        permission: str = "rw",
        cloneable: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> VFolderInfo:
        """Create a folder; an empty ``host`` takes the server's default host, an empty
        ``group`` makes a user folder (the JS SDK crashes when both are empty)."""
        body: dict[str, Any] = {"name": _text(name, "name")}
        _folder(name)
        if host:
            body["host"] = _text(host, "host")
        if group:
            body["group"] = _text(group, "group")
        body["usage_mode"] = _one_of(usage_mode, USAGE_MODES, "usage_mode")
        body["permission"] = _one_of(permission, PERMISSIONS, "permission")
        body["cloneable"] = _flag(cloneable, "cloneable")
        result: VFolderInfo = await self._api.send(
            "POST", "/folders", json=body, timeout=timeout, signal=signal
        )
        return result

    async def clone(
        self,
        input: Mapping[str, Any] | str,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> VFolderInfo:
        """Clone ``name`` into ``input["target_name"]`` (with ``target_host``, ``permission``,
        ``usage_mode``, ``cloneable``); the copy runs as the background task ``bgtask_id``."""
        ref, body = _folder(name), _input(input)
        _folder(body.get("target_name"))
        if "permission" in body:
            _one_of(body["permission"], PERMISSIONS, "permission")
        if "usage_mode" in body:
            _one_of(body["usage_mode"], USAGE_MODES, "usage_mode")
        result: VFolderInfo = await self._api.send(
            "POST", f"/folders/{ref}/clone", json=body, timeout=timeout, signal=signal
        )
        return result

    async def update_folder(
        self,
        input: Mapping[str, Any] | str,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Change ``cloneable`` and/or ``permission`` of a folder you own."""
        ref, body = _folder(name), _input(input)
        if "permission" in body:
            _one_of(body["permission"], PERMISSIONS, "permission")
        return await self._api.send(
            "POST", f"/folders/{ref}/update-options", json=body, timeout=timeout, signal=signal
        )

    async def list(
        self,
        group_id: str | None = None,
        user_email: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> builtins.list[VFolderInfo]:
        """The folders you can access (``group_id``: also that project's folders;
        ``user_email``: an admin's view of another user's folders)."""
        params = []
        if group_id is not None:
            params.append(("group_id", _text(group_id, "group_id")))
        if user_email is not None:
            params.append(("owner_user_email", _text(user_email, "user_email")))
        result: list[VFolderInfo] = await self._api.send(
            "GET", "/folders", params=params, timeout=timeout, signal=signal
        )
        return result

    async def list_hosts(
        self,
        group_id: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> VFolderHosts:
        """The storage hosts you may create folders on, the default one, and volume info."""
        params = [] if group_id is None else [("group_id", _text(group_id, "group_id"))]
        result: VFolderHosts = await self._api.send(
            "GET", "/folders/_/hosts", params=params, timeout=timeout, signal=signal
        )
        return result

    async def list_all_hosts(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> VFolderHosts:
        """Every storage host (superadmin; others get the server's refusal)."""
        result: VFolderHosts = await self._api.send(
            "GET", "/folders/_/all-hosts", timeout=timeout, signal=signal
        )
        return result

    async def info(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> VFolderInfo:
        """One folder, with its file count and usage."""
        ref = _folder(name)
        result: VFolderInfo = await self._api.send(
            "GET", f"/folders/{ref}", timeout=timeout, signal=signal
        )
        return result

    async def rename(
        self,
        new_name: str,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Rename the folder ``name`` (a name, or its id on servers that resolve ids)."""
        ref = _folder(name)
        _folder(new_name)
        return await self._api.send(
            "POST",
            f"/folders/{ref}/rename",
            json={"new_name": new_name},
            timeout=timeout,
            signal=signal,
        )

    async def delete(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Delete a folder (from 24.03 it goes to the trash bin: ``status`` "delete-pending")."""
        ref = _folder(name)
        return await self._api.send("DELETE", f"/folders/{ref}", timeout=timeout, signal=signal)

    async def delete_by_id(
        self,
        id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Delete a folder by id (``{"id"}``: the JS SDK's ``vfolder_id`` key is refused)."""
        return await self._api.send(
            "DELETE", "/folders", json={"id": _id(id, "id")}, timeout=timeout, signal=signal
        )

    async def leave_invited(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Stop sharing a folder someone invited you to."""
        ref = _folder(name)
        return await self._api.send("POST", f"/folders/{ref}/leave", timeout=timeout, signal=signal)

    async def restore_from_trash_bin(
        self, vfolder_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Bring a deleted folder back (servers with a trash bin: 24.03 and later)."""
        return await self._api.send(
            "POST",
            "/folders/restore-from-trash-bin",
            json={"id": _id(vfolder_id)},
            timeout=timeout,
            signal=signal,
        )

    async def delete_from_trash_bin(
        self, vfolder_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Delete a folder in the trash bin for good (its files go; 24.03 and later)."""
        return await self._api.send(
            "POST",
            "/folders/delete-from-trash-bin",
            json={"id": _id(vfolder_id)},
            timeout=timeout,
            signal=signal,
        )

    async def purge(
        self, vfolder_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Remove a folder deleted from the trash bin from the database (superadmin; not in
        the JS SDK). Leaves a 24.03+ server as it was before the folder was created."""
        return await self._api.send(
            "POST", "/folders/purge", json={"id": _id(vfolder_id)}, timeout=timeout, signal=signal
        )

    # -- files ------------------------------------------------------------------------

    async def mkdir(
        self,
        path: str,
        name: str,
        parents: bool | None = None,
        exist_ok: bool | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Make a directory (the server's defaults: ``parents`` True, ``exist_ok`` False).

        The answers differ: 23.09 sends nothing (201), 26.9 ``{"results": {...}}``.
        """
        ref = _folder(name)
        body: dict[str, Any] = {"path": _path(path, "path")}
        if parents is not None:
            body["parents"] = _flag(parents, "parents")
        if exist_ok is not None:
            body["exist_ok"] = _flag(exist_ok, "exist_ok")
        return await self._api.send(
            "POST", f"/folders/{ref}/mkdir", json=body, timeout=timeout, signal=signal
        )

    async def rename_file(
        self,
        target_path: str,
        new_name: str,
        name: str,
        is_dir: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Rename ``target_path`` to ``new_name`` in the same directory."""
        ref = _folder(name)
        body: dict[str, Any] = {"target_path": _path(target_path, "target_path")}
        new = _text(new_name, "new_name")
        if "/" in new or new in (".", ".."):
            raise ValueError(f"new_name {new_name!r} must be a plain name, not a path")
        body["new_name"] = new
        flag = _flag(is_dir, "is_dir")

        def describe(compat: Compat) -> dict[str, Any]:
            return {**body, "is_dir": flag} if compat.vfolder_rename_is_dir else body

        return await self._api.send(
            "POST", f"/folders/{ref}/rename_file", json=describe, timeout=timeout, signal=signal
        )

    async def delete_files(
        self,
        files: str | Sequence[str],
        recursive: bool = False,
        name: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Delete files (directories with ``recursive``). ``name`` is required (it comes
        third, as in the JS SDK).

        Sent as ``DELETE``, which every server takes (23.09 answers ``POST`` with 405; the
        JS SDK picks by comparing version strings). 26.9 reports no error for a missing
        file or a directory without ``recursive``; 23.09 answers 400.
        """
        ref = _folder(name)
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, Sequence):
            raise ValueError(f"files must be a path or a list of paths, got {files!r}")
        paths = [_path(f, "each file") for f in files]
        if not paths:
            raise ValueError("files must name at least one file")
        body = {"files": paths, "recursive": _flag(recursive, "recursive")}
        return await self._api.send(
            "DELETE", f"/folders/{ref}/delete_files", json=body, timeout=timeout, signal=signal
        )

    async def list_files(
        self,
        path: str,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> VFolderFileList:
        """The entries of directory ``path`` ("" or "." for the folder itself)."""
        ref = _folder(name)
        query = [("path", _path(path, "path", root_ok=True))]
        result: VFolderFileList = await self._api.send(
            "GET", f"/folders/{ref}/files", params=query, timeout=timeout, signal=signal
        )
        return result

    # -- sharing ----------------------------------------------------------------------

    async def invite(
        self,
        perm: str,
        emails: str | Sequence[str],
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Invite users (by email) to a folder you own, with permission ``perm``."""
        ref = _folder(name)
        body = {"perm": _one_of(perm, PERMISSIONS, "permission"), "user_ids": _emails(emails)}
        return await self._api.send(
            "POST", f"/folders/{ref}/invite", json=body, timeout=timeout, signal=signal
        )

    async def invitations(
        self, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """The invitations waiting for you: ``{"invitations": [...]}``."""
        return await self._api.send(
            "GET", "/folders/invitations/list", timeout=timeout, signal=signal
        )

    async def accept_invitation(
        self, inv_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Accept an invitation (``inv_id`` from :meth:`invitations`)."""
        return await self._api.send(
            "POST",
            "/folders/invitations/accept",
            json={"inv_id": _text(inv_id, "inv_id")},
            timeout=timeout,
            signal=signal,
        )

    async def delete_invitation(
        self, inv_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Reject an invitation sent to you, or cancel one you sent."""
        return await self._api.send(
            "DELETE",
            "/folders/invitations/delete",
            json={"inv_id": _text(inv_id, "inv_id")},
            timeout=timeout,
            signal=signal,
        )

    async def list_invitees(
        self,
        vfolder_id: str | None = None,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Who a folder (or each of your folders) is shared with: ``{"shared": [...]}``."""
        params = [] if vfolder_id is None else [("vfolder_id", _id(vfolder_id))]
        return await self._api.send(
            "GET", "/folders/_/shared", params=params, timeout=timeout, signal=signal
        )

    async def modify_invitee_permission(
        self,
        input: Mapping[str, Any] | str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Change (``perm``) or remove (``perm`` None) a user's access to a shared folder:
        ``input`` is ``{"vfolder": id, "user": uuid, "perm": "ro"|"rw"|"wd"|None}``."""
        body = _input(input)
        _id(body.get("vfolder"), "input['vfolder']")
        _id(body.get("user"), "input['user']")
        if body.get("perm") is not None:
            _one_of(body["perm"], PERMISSIONS, "permission")
        return await self._api.send(
            "POST", "/folders/_/shared", json=body, timeout=timeout, signal=signal
        )

    async def share(
        self,
        permission: str,
        emails: str | Sequence[str],
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Share a project (group) folder with its members directly, no invitation."""
        ref = _folder(name)
        body = {
            "permission": _one_of(permission, PERMISSIONS, "permission"),
            "emails": _emails(emails),
        }
        return await self._api.send(
            "POST", f"/folders/{ref}/share", json=body, timeout=timeout, signal=signal
        )

    async def unshare(
        self,
        emails: str | Sequence[str],
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Take a project folder's direct share away from users."""
        ref = _folder(name)
        return await self._api.send(
            "DELETE",
            f"/folders/{ref}/unshare",
            json={"emails": _emails(emails)},
            timeout=timeout,
            signal=signal,
        )

    # -- quota ------------------------------------------------------------------------

    async def get_quota(
        self,
        host: str,
        vfolder_id: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """The folder's quota on its host (where the storage backend has quotas)."""
        query = [("folder_host", _text(host, "host")), ("id", _id(vfolder_id))]
        return await self._api.send(
            "GET", "/folders/_/quota", params=query, timeout=timeout, signal=signal
        )

    async def set_quota(
        self,
        host: str,
        vfolder_id: str,
        quota: int,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Any:
        """Set the folder's quota in bytes: ``{"size_bytes": quota}`` as the server applied it."""
        body = {
            "folder_host": _text(host, "host"),
            "id": _id(vfolder_id),
            "input": {"size_bytes": _count(quota, "quota", minimum=0)},
        }
        return await self._api.send(
            "POST", "/folders/_/quota", json=body, timeout=timeout, signal=signal
        )

    # -- transfers: tokens --------------------------------------------------------------

    def _token_call(
        self,
        ref: str,
        request: Callable[[Compat], str],
        body: Callable[[Compat], dict[str, Any]],
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._api.send(
            "POST",
            lambda c: f"/folders/{ref}/{request(c)}",
            json=body,
            reader=read_token,
            timeout=timeout,
            idle_timeout=idle,
            signal=signal,
        )

    def _upload_token(
        self,
        ref: str,
        path: str,
        size: int,
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._token_call(
            ref,
            lambda c: c.vfolder_upload_request,
            lambda c: {"path": path, "size": size},
            timeout,
            idle,
            signal,
        )

    def _download_token(
        self,
        ref: str,
        file: str,
        archive: bool,
        timeout: Timeout,
        idle: float | UseDefault | None,
        signal: AbortSignal | None,
    ) -> Awaitable[dict[str, Any]]:
        return self._token_call(
            ref,
            lambda c: c.vfolder_download_request,
            lambda c: {c.vfolder_download_field: file, "archive": archive},
            timeout,
            idle,
            signal,
        )

    async def create_upload_session(
        self,
        path: str,
        fs: UploadSource | int,
        name: str,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> str:
        """Create a tus upload of ``fs`` (a byte count, or a source to measure) at ``path``
        and return its URL, for a tus client of your own (``upload_file`` does it all)."""
        ref, target_path = _folder(name), _path(path, "path")
        size = _size_of(fs)
        if size is None:
            if isinstance(fs, AsyncIterable):
                raise TypeError("fs must be a size, a file path, bytes or a binary file object")
            measured = await open_tus_source(cast(UploadSource, fs))
            size = measured.size
            await measured.close()
        answer = await self._upload_token(ref, target_path, size, timeout, USE_DEFAULT, signal)
        return self._absolute(token_target(answer, _TUS_LEGACY))

    async def request_download_token(
        self,
        file: str,
        name: str,
        archive: bool = False,
        *,
        timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> DownloadToken:
        """A download token for ``file`` (``archive``: a directory as a zip): ``{"token",
        "url"}`` with the storage proxy's URL from API v6, ``{"token"}`` before."""
        ref = _folder(name)
        target, flag = _path(file, "file"), _flag(archive, "archive")
        answer = await self._download_token(ref, target, flag, timeout, USE_DEFAULT, signal)
        return cast(DownloadToken, answer)

    def get_download_url_with_token(self, token: str | DownloadToken = "") -> str:
        """The URL that downloads with ``token``: the storage proxy's ``url?token=`` for a
        :class:`DownloadToken`, the manager's ``download_with_token`` for a bare token."""
        return self._absolute(token_target(_token_answer(token), _DOWNLOAD_LEGACY))

    def _absolute(self, target: Target) -> str:
        if isinstance(target, URL):
            return str(target)
        prefix = "/func" if self._api.session_mode else ""
        return str(self._api.config.endpoint).rstrip("/") + prefix + target

    # -- transfers: uploads ---------------------------------------------------------------

    async def upload_file(
        self,
        name: str,
        source: UploadSource,
        remote_path: str,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_PATCH_SIZE,
        size: int | None = None,
        resumes: int = DEFAULT_RESUMES,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Upload ``source`` to ``remote_path`` in folder ``name``, streamed and resumable.

        ``source``: a file path, bytes, a seekable binary file object, or an async iterable
        of bytes (with ``size=`` it is streamed as it comes and cannot resume; without, it
        is spooled to a temporary file first: the storage proxy needs the size up front).
        Each tus ``PATCH`` carries up to ``chunk_size`` bytes; after an interruption the
        upload goes on from the server's offset, up to ``resumes`` times in a row without
        progress. ``progress(sent, total)`` follows the bytes (it steps back on a resume).
        """
        ref, path = _folder(name), _path(remote_path, "remote_path")
        patch = _count(chunk_size, "chunk_size", minimum=1)
        tries = _count(resumes, "resumes", minimum=0)
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)

        async def work(_deadline: float | None) -> None:
            opened = await open_tus_source(source, size)
            try:
                answer = await self._upload_token(ref, path, opened.size, None, idle, signal)
                await tus_upload(
                    self._api.send,
                    token_target(answer, _TUS_LEGACY),
                    opened,
                    guard,
                    patch_size=patch,
                    resumes=tries,
                    idle_timeout=idle,
                    signal=signal,
                    confirm=lambda: self._arrived(name, path, opened.size, idle, signal),
                )
            finally:
                await opened.close()

        try:
            await self._api.scoped(
                work,
                method="PATCH",
                path=f"/folders/{ref}/request-upload",
                timeout=timeout,
                signal=signal,
            )
        except ClientError as err:
            if guard.error is not None:
                raise guard.error from err
            raise

    async def _arrived(
        self, name: str, path: str, size: int, idle: float | None, signal: AbortSignal | None
    ) -> bool:
        """Whether ``path`` is in the folder with ``size`` bytes (an upload whose last
        answer was lost and whose tus session is gone: complete, or not?)."""
        where = PurePosixPath(path)
        parent = "" if str(where.parent) == "." else str(where.parent)
        listing = await self._api.send(
            "GET",
            f"/folders/{_folder(name)}/files",
            params=[("path", parent)],
            timeout=None,
            idle_timeout=idle,
            signal=signal,
        )
        items = listing.get("items", []) if isinstance(listing, Mapping) else []
        return any(
            isinstance(i, Mapping) and i.get("name") == where.name and i.get("size") == size
            for i in items
        )

    async def upload(
        self,
        path: str,
        fs: UploadSource,
        name: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """The JS SDK's ``upload(path, fs, name)``: :meth:`upload_file` in the JS order."""
        await self.upload_file(
            name,
            fs,
            path,
            progress=progress,
            timeout=timeout,
            idle_timeout=idle_timeout,
            signal=signal,
        )

    async def upload_form_data(
        self,
        fss: Mapping[str, UploadSource] | Iterable[tuple[str, UploadSource]],
        name: str,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> None:
        """Upload several files: ``fss`` maps each target path to its source (the JS SDK
        takes a ``FormData`` of ``src`` parts). One resumable upload per file, in order."""
        items = list(fss.items() if isinstance(fss, Mapping) else fss)
        if not items:
            raise ValueError("fss must name at least one (path, source) pair")
        for path, _ in items:
            _path(path, "each path")
        for path, source in items:
            await self.upload_file(
                name,
                source,
                path,
                progress=progress,
                timeout=timeout,
                idle_timeout=idle_timeout,
                signal=signal,
            )

    async def upload_dir(
        self,
        name: str,
        local_dir: StrPath,
        remote_dir: str = "",
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_PATCH_SIZE,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> builtins.list[str]:
        """Upload every file under ``local_dir`` into ``remote_dir`` (created with its
        subdirectories); returns the remote paths, in upload order."""
        base = _path(remote_dir, "remote_dir", root_ok=True).strip("/")
        files = await asyncio.to_thread(_local_tree, Path(local_dir))
        dirs = sorted({str(PurePosixPath(rel).parent) for rel, _ in files} - {"."})
        if base:
            dirs.insert(0, "")
        for rel in dirs:
            remote = f"{base}/{rel}".strip("/")
            await self.mkdir(remote, name, parents=True, exist_ok=True, signal=signal)
        uploaded = []
        for rel, local in files:
            remote = f"{base}/{rel}".strip("/")
            await self.upload_file(
                name,
                local,
                remote,
                progress=progress,
                chunk_size=chunk_size,
                timeout=timeout,
                idle_timeout=idle_timeout,
                signal=signal,
            )
            uploaded.append(remote)
        return uploaded

    # -- transfers: downloads -------------------------------------------------------------

    def _fetch(
        self,
        answer: Mapping[str, Any],
        reader: ResponseReader,
        query: builtins.list[tuple[str, str]],
        idle: float | None,
        signal: AbortSignal | None,
    ) -> Awaitable[Any]:
        """GET what a download token names (the proxy takes ``archive``/``no_cache``)."""
        target = token_target(answer, _DOWNLOAD_LEGACY)
        if isinstance(target, URL) and query:
            target = target.update_query(query)
        return self._api.send(
            "GET", target, reader=reader, timeout=None, idle_timeout=idle, signal=signal
        )

    async def _download(
        self,
        fetch: Callable[[ResponseReader], Awaitable[Any]],
        dest: Path | None,
        guard: ProgressGuard,
        method_path: str,
        timeout: Timeout,
        signal: AbortSignal | None,
    ) -> Path | ByteStream:
        """Run ``fetch(reader)`` as one call: into ``dest``, or as a :class:`ByteStream`."""

        def scoped(reader: ResponseReader) -> Awaitable[Any]:
            return self._api.scoped(
                lambda _deadline: fetch(reader),
                method="GET",
                path=method_path,
                timeout=timeout,
                signal=signal,
            )

        if dest is None:
            return await open_byte_stream(scoped, guard)
        try:
            return cast(Path, await scoped(file_writer(dest, guard)))
        except ClientError as err:
            if guard.error is not None:
                raise guard.error from err
            raise

    @overload
    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: None = None,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream: ...

    @overload
    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: StrPath,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path: ...

    async def download_file(
        self,
        name: str,
        remote_path: str,
        dest: StrPath | None = None,
        *,
        progress: ProgressCallback | None = None,
        archive: bool = False,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> Path | ByteStream:
        """Download ``remote_path`` of folder ``name``, streamed.

        With ``dest`` (a file path, or a directory to keep the file's name) the file is
        written there atomically and its path returned; without, a :class:`ByteStream` of
        its bytes is returned. ``archive`` downloads a directory as one zip file.
        """
        ref, path = _folder(name), _path(remote_path, "remote_path")
        flag = _flag(archive, "archive")
        guard = ProgressGuard(progress)
        target = None if dest is None else await asyncio.to_thread(_single_target, dest, path)
        idle = self._idle(idle_timeout)

        async def fetch(reader: ResponseReader) -> Any:
            answer = await self._download_token(ref, path, flag, None, idle, signal)
            query = [("archive", "true")] if flag else []
            return await self._fetch(answer, reader, query, idle, signal)

        return await self._download(
            fetch, target, guard, f"/folders/{ref}/request-download", timeout, signal
        )

    async def download(
        self,
        file: str,
        name: str,
        archive: bool = False,
        no_cache: bool = False,
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream:
        """The JS SDK's ``download``: the file's bytes as a :class:`ByteStream` (``no_cache``
        asks the storage proxy for ``Cache-Control: no-store``)."""
        ref, path = _folder(name), _path(file, "file")
        flags = (_flag(archive, "archive"), _flag(no_cache, "no_cache"))
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)

        async def fetch(reader: ResponseReader) -> Any:
            answer = await self._download_token(ref, path, flags[0], None, idle, signal)
            names = ("archive", "no_cache")
            query = [(k, "true") for k, on in zip(names, flags, strict=True) if on]
            return await self._fetch(answer, reader, query, idle, signal)

        stream = await self._download(
            fetch, None, guard, f"/folders/{ref}/request-download", timeout, signal
        )
        return cast(ByteStream, stream)

    async def download_with_token(
        self,
        token: str | DownloadToken = "",
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = None,
        idle_timeout: Timeout = USE_DEFAULT,
        signal: AbortSignal | None = None,
    ) -> ByteStream:
        """The bytes a token gives, as a :class:`ByteStream`: a :class:`DownloadToken` from
        :meth:`request_download_token` (the storage proxy's), or a bare manager token."""
        answer = _token_answer(token)
        guard = ProgressGuard(progress)
        idle = self._idle(idle_timeout)
        stream = await self._download(
            lambda reader: self._fetch(answer, reader, [], idle, signal),
            None,
            guard,
            _DOWNLOAD_LEGACY,
            timeout,
            signal,
        )
        return cast(ByteStream, stream)


def _token_answer(token: object) -> dict[str, Any]:
    if isinstance(token, Mapping):
        answer = dict(token)
        _text(answer.get("token"), "token['token']")
        if answer.get("url") is not None:
            parsed = URL(_text(answer["url"], "token['url']"))
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise ValueError(f"token['url'] must be an absolute http(s) URL, got {parsed}")
        return answer
    return {"token": _text(token, "token")}


def _local_tree(root: Path) -> builtins.list[tuple[str, Path]]:
    """Every regular file under ``root`` as (relative POSIX path, local path), sorted."""
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in sorted(files):
            local = Path(folder) / file
            if local.is_file():
                found.append((local.relative_to(root).as_posix(), local))
    return sorted(found)

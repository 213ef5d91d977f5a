"""Virtual folders (issue 9): ``client.vfolder``, the JS SDK's ``VFolder`` class.

Every JS method is here under its snake_case name, in the JS positional order, with the
folder as the argument ``name`` (there is no "current folder" state as in the JS SDK).
Arguments are checked before anything is sent (``_vfolder_checks.py``); transfers
(``upload_file``, ``download_file`` and the JS-shaped token calls) are in
``_vfolder_transfers.py``. Every call here has the client's default deadline.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._abort import AbortSignal
from ..timeouts import USE_DEFAULT, UseDefault
from ._vfolder_checks import (
    PERMISSIONS,
    USAGE_MODES,
    at_least,
    email_list,
    flag,
    folder_segment,
    inner_path,
    json_object,
    nonempty,
    one_of,
    uuid_text,
)
from ._vfolder_transfers import VFolderTransfers
from ._vfolder_types import VFolderFileList, VFolderHosts, VFolderInfo

if TYPE_CHECKING:
    from .._compat import Compat

__all__ = ["PERMISSIONS", "USAGE_MODES", "VFolder"]

Timeout = float | UseDefault | None


class VFolder(VFolderTransfers):
    """``client.vfolder``: virtual folders, their files, sharing, quotas and transfers."""

    __slots__ = ()

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
        body: dict[str, Any] = {"name": nonempty(name, "name")}
        folder_segment(name)
        if host:
            body["host"] = nonempty(host, "host")
        if group:
            body["group"] = nonempty(group, "group")
        body["usage_mode"] = one_of(usage_mode, USAGE_MODES, "usage_mode")
        body["permission"] = one_of(permission, PERMISSIONS, "permission")
        body["cloneable"] = flag(cloneable, "cloneable")
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
        ref, body = folder_segment(name), json_object(input)
        folder_segment(body.get("target_name"))
        if "permission" in body:
            one_of(body["permission"], PERMISSIONS, "permission")
        if "usage_mode" in body:
            one_of(body["usage_mode"], USAGE_MODES, "usage_mode")
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
        ref, body = folder_segment(name), json_object(input)
        if "permission" in body:
            one_of(body["permission"], PERMISSIONS, "permission")
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
            params.append(("group_id", nonempty(group_id, "group_id")))
        if user_email is not None:
            params.append(("owner_user_email", nonempty(user_email, "user_email")))
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
        params = [] if group_id is None else [("group_id", nonempty(group_id, "group_id"))]
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
        ref = folder_segment(name)
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
        ref = folder_segment(name)
        folder_segment(new_name)
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
        ref = folder_segment(name)
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
            "DELETE", "/folders", json={"id": uuid_text(id, "id")}, timeout=timeout, signal=signal
        )

    async def leave_invited(
        self, name: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Stop sharing a folder someone invited you to."""
        ref = folder_segment(name)
        return await self._api.send("POST", f"/folders/{ref}/leave", timeout=timeout, signal=signal)

    async def restore_from_trash_bin(
        self, vfolder_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Bring a deleted folder back (servers with a trash bin: 24.03 and later)."""
        return await self._api.send(
            "POST",
            "/folders/restore-from-trash-bin",
            json={"id": uuid_text(vfolder_id)},
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
            json={"id": uuid_text(vfolder_id)},
            timeout=timeout,
            signal=signal,
        )

    async def purge(
        self, vfolder_id: str, *, timeout: Timeout = USE_DEFAULT, signal: AbortSignal | None = None
    ) -> Any:
        """Remove a folder deleted from the trash bin from the database (superadmin; not in
        the JS SDK). Leaves a 24.03+ server as it was before the folder was created."""
        return await self._api.send(
            "POST",
            "/folders/purge",
            json={"id": uuid_text(vfolder_id)},
            timeout=timeout,
            signal=signal,
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
        ref = folder_segment(name)
        body: dict[str, Any] = {"path": inner_path(path, "path")}
        if parents is not None:
            body["parents"] = flag(parents, "parents")
        if exist_ok is not None:
            body["exist_ok"] = flag(exist_ok, "exist_ok")
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
        ref = folder_segment(name)
        body: dict[str, Any] = {"target_path": inner_path(target_path, "target_path")}
        new = nonempty(new_name, "new_name")
        if "/" in new or new in (".", ".."):
            raise ValueError(f"new_name {new_name!r} must be a plain name, not a path")
        body["new_name"] = new
        is_directory = flag(is_dir, "is_dir")

        def describe(compat: Compat) -> dict[str, Any]:
            return {**body, "is_dir": is_directory} if compat.vfolder_rename_is_dir else body

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
        ref = folder_segment(name)
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, Sequence):
            raise ValueError(f"files must be a path or a list of paths, got {files!r}")
        paths = [inner_path(f, "each file") for f in files]
        if not paths:
            raise ValueError("files must name at least one file")
        body = {"files": paths, "recursive": flag(recursive, "recursive")}
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
        ref = folder_segment(name)
        query = [("path", inner_path(path, "path", root_ok=True))]
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
        ref = folder_segment(name)
        body = {"perm": one_of(perm, PERMISSIONS, "permission"), "user_ids": email_list(emails)}
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
            json={"inv_id": nonempty(inv_id, "inv_id")},
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
            json={"inv_id": nonempty(inv_id, "inv_id")},
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
        params = [] if vfolder_id is None else [("vfolder_id", uuid_text(vfolder_id))]
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
        body = json_object(input)
        uuid_text(body.get("vfolder"), "input['vfolder']")
        uuid_text(body.get("user"), "input['user']")
        if body.get("perm") is not None:
            one_of(body["perm"], PERMISSIONS, "permission")
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
        ref = folder_segment(name)
        body = {
            "permission": one_of(permission, PERMISSIONS, "permission"),
            "emails": email_list(emails),
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
        ref = folder_segment(name)
        return await self._api.send(
            "DELETE",
            f"/folders/{ref}/unshare",
            json={"emails": email_list(emails)},
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
        query = [("folder_host", nonempty(host, "host")), ("id", uuid_text(vfolder_id))]
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
            "folder_host": nonempty(host, "host"),
            "id": uuid_text(vfolder_id),
            "input": {"size_bytes": at_least(quota, "quota", minimum=0)},
        }
        return await self._api.send(
            "POST", "/folders/_/quota", json=body, timeout=timeout, signal=signal
        )

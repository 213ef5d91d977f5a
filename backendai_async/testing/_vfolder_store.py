"""The embedded manager's folder state: folders, shares, invitations, files, as plain data.

``vfolder_store(server)`` gives it to tests, which may read and change it. Nothing here
imports the SDK.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from ._admin_groups import projects
from ._admin_keypairs import keypairs
from ._manager import BackendAITestServer, Keypair, ServerState
from ._storage_proxy import FakeStorageProxy
from ._users import users

__all__ = [
    "DEFAULT_VFOLDER_HOST",
    "VFOLDERS_KEY",
    "Access",
    "FakeVFolder",
    "VFolderStore",
    "live",
    "vfolder_store",
]

DEFAULT_VFOLDER_HOST: Final = "local:volume1"


@dataclass
class FakeVFolder:
    """One folder row; ``user`` (owner's uuid) or ``group`` (project id) is set."""

    id: str
    name: str
    host: str
    creator: str
    user: str | None = None
    group: str | None = None
    usage_mode: str = "general"
    permission: str = "rw"
    cloneable: bool = False
    status: str = "ready"
    max_size: int | None = None
    quota: int | None = None
    created_at: str = field(default_factory=lambda: str(datetime.now(timezone.utc)))

    @property
    def ownership_type(self) -> str:
        return "user" if self.user is not None else "group"

    @property
    def quota_scope_id(self) -> str:
        return f"user:{self.user}" if self.user is not None else f"project:{self.group}"


@dataclass
class Access:
    """A folder as one user sees it (what ``query_accessible_vfolders`` returns)."""

    folder: FakeVFolder
    is_owner: bool
    permission: str


class VFolderStore:
    """All folder state of one fake manager; tests may read and change it.

    ``shares`` maps (folder id, user uuid) to a permission (invitations accepted, project
    folders shared); ``invitations`` maps an invitation id to its row.
    """

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self.hosts: list[str] = [DEFAULT_VFOLDER_HOST]
        self.default_host: str | None = DEFAULT_VFOLDER_HOST
        self.allowed_types: list[str] = ["group", "user"]
        self.folders: dict[str, FakeVFolder] = {}
        self.shares: dict[tuple[str, str], str] = {}
        self.invitations: dict[str, dict[str, Any]] = {}
        self.proxy = FakeStorageProxy()
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The temporary directory holding every folder's files (created on first use)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="backendai-test-vfolders-"))
        return self._root

    def cleanup(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def directory(self, folder: FakeVFolder) -> Path:
        """The local directory of a folder's files."""
        path = self.root / folder.id
        path.mkdir(exist_ok=True)
        return path

    def file(self, folder: FakeVFolder | str, relpath: str) -> Path:
        """The local path of ``relpath`` in a folder (or folder name); ValueError if it
        leaves the folder."""
        if isinstance(folder, str):
            named = self.by_name(folder)
            if named is None:
                raise KeyError(folder)
            folder = named
        base = self.directory(folder).resolve()
        target = (base / relpath).resolve()
        if target != base and base not in target.parents:
            raise ValueError(f"{relpath!r} leaves the folder")
        return target

    def by_name(self, name: str) -> FakeVFolder | None:
        """Any owner's live folder of that name (for tests)."""
        return next((f for f in self.folders.values() if f.name == name and live(f)), None)

    # users

    def user_of(self, kp: Keypair) -> dict[str, Any]:
        """The owner of a keypair (the keypairs and users fixtures of the GraphQL fake)."""
        owner = keypairs(self._state).get(kp.access_key, {}).get("user_id")
        email = owner or f"{kp.access_key.lower()}@example.com"
        return self._user(email, users(self._state).get(email, {}), kp.role)

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """An active user by email (invitations, shares, an admin's view of a user)."""
        row = users(self._state).get(email)
        if row is None or not row.get("is_active", True):
            return None
        return self._user(email, row, row.get("role", "user"))

    @staticmethod
    def _user(email: str, row: dict[str, Any], role: str) -> dict[str, Any]:
        return {
            "uuid": row.get("uuid") or uuid_of(email),
            "email": email,
            "role": role,
            "groups": [g["id"] for g in row.get("groups", [])],
            "is_admin": role in ("admin", "superadmin"),
            "is_superadmin": role == "superadmin",
        }

    def email_of(self, user_uuid: str | None) -> str | None:
        """The email of a user uuid (None when unknown)."""
        for email, row in users(self._state).items():
            if (row.get("uuid") or uuid_of(email)) == user_uuid:
                return email
        return None

    # projects

    def project_name(self, project_id: str | None) -> str | None:
        row = projects(self._state).get(project_id or "")
        return None if row is None else str(row["name"])

    def project_id(self, id_or_name: str | None) -> str | None:
        """A project given by id or name, as its id (None: no such project)."""
        if id_or_name is None:
            return None
        found = projects(self._state)
        for gid, row in found.items():
            if row.get("name") == id_or_name:
                return gid
        try:
            gid = str(uuid.UUID(id_or_name))
        except ValueError:
            return None
        return gid if gid in found else None

    def accessible(self, me: dict[str, Any]) -> list[Access]:
        """Own folders, folders shared with ``me``, then project folders (23.09's order)."""
        found: list[Access] = []
        for f in self.folders.values():
            if f.user == me["uuid"]:
                found.append(Access(f, True, f.permission))
        for (fid, user), perm in self.shares.items():
            shared = self.folders.get(fid)
            if user == me["uuid"] and shared is not None and shared.user is not None:
                found.append(Access(shared, False, perm))
        for f in self.folders.values():
            if f.group is None:
                continue
            if me["is_superadmin"] or me["role"] == "admin" or f.group in me["groups"]:
                perm = self.shares.get((f.id, me["uuid"]), f.permission)
                found.append(Access(f, me["is_admin"], perm))
        return [a for a in found if live(a.folder)]


def uuid_of(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "backendai-test:" + email))


def live(folder: FakeVFolder) -> bool:
    return folder.status not in ("delete-complete", "delete-ongoing")


VFOLDERS_KEY = web.AppKey("backendai_testing.vfolders", VFolderStore)


def vfolder_store(server: BackendAITestServer | web.Application) -> VFolderStore:
    """The :class:`VFolderStore` of a server (or app)."""
    app = server if isinstance(server, web.Application) else server.app
    return app[VFOLDERS_KEY]

"""The file routes of the embedded manager: mkdir, list, rename, delete, and the transfer
tokens (the storage proxy's from API v6, the manager's own routes before)."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from ._storage_proxy import serve_file
from ._vfolder_params import (
    Checker,
    Route,
    fs_error,
    has_trash_bin,
    inside,
    integer,
    invalid,
    method_not_allowed,
    operation_failed,
    params_of,
    ready,
    resolve,
    store_of,
    str_list,
    string,
    to_bool,
    unknown_url,
    uses_proxy,
)

# -- files ----------------------------------------------------------------------------------


async def _mkdir(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    access = ready(resolve(request, "rw"))
    c = Checker(await params_of(request))
    path = c.get("path", check=string)
    parents = c.get("parents", default=True, check=to_bool)
    exist_ok = c.get("exist_ok", default=False, check=to_bool)
    c.done()
    target = inside(store, access.folder, path)
    try:
        await asyncio.to_thread(target.mkdir, parents=parents, exist_ok=exist_ok)
    except FileExistsError:
        raise fs_error("File exists", 17, path) from None
    except FileNotFoundError:
        raise fs_error("No such file or directory", 2, path) from None
    return web.Response(status=201)


async def _rename_file(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    access = ready(resolve(request, "rw"))
    c = Checker(await params_of(request))
    target_path = c.get("target_path", check=string)
    new_name = c.get("new_name", check=string)
    c.get("is_dir", default=False, check=to_bool)
    c.done()
    source = inside(store, access.folder, target_path)
    if "/" in new_name:
        raise operation_failed()
    if not await asyncio.to_thread(source.exists):
        raise fs_error("No such file or directory", 2, target_path)
    await asyncio.to_thread(source.rename, source.parent / new_name)
    return web.json_response({})


def _delete_paths(paths: list[Path], recursive: bool) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path) if recursive else path.rmdir()
        else:
            path.unlink()


async def _delete_files(request: web.Request) -> web.StreamResponse:
    if request.method == "POST" and not has_trash_bin(request):
        raise method_not_allowed("DELETE")
    store = store_of(request)
    access = ready(resolve(request, "rw"))
    c = Checker(await params_of(request))
    files = c.get("files", check=str_list)
    recursive = c.get("recursive", default=False, check=to_bool)
    c.done()
    paths = [inside(store, access.folder, f) for f in files]
    for rel, path in zip(files, paths, strict=True):
        if not await asyncio.to_thread(path.exists):
            raise fs_error("No such file or directory", 2, rel)
        if not recursive and await asyncio.to_thread(path.is_dir):
            raise fs_error("Is a directory", 21, rel)
    await asyncio.to_thread(_delete_paths, paths, recursive)
    return web.json_response({})


def _entries(directory: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``items`` as 23.09 lists them, and its legacy ``files`` list (sent as JSON text)."""
    items: list[dict[str, Any]] = []
    legacy: list[dict[str, Any]] = []
    for path in sorted(directory.iterdir()):
        st = path.lstat()
        kind = "SYMLINK" if path.is_symlink() else "DIRECTORY" if path.is_dir() else "FILE"
        items.append(
            {
                "name": path.name,
                "type": kind,
                "size": st.st_size,
                "mode": oct(st.st_mode)[2:][-3:],
                "created": datetime.fromtimestamp(st.st_ctime, timezone.utc).isoformat(),
                "modified": datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat(),
            }
        )
        legacy.append(
            {
                "filename": path.name,
                "size": st.st_size,
                "mode": stat.filemode(st.st_mode),
                "ctime": st.st_ctime,
                "atime": 0,
                "mtime": st.st_mtime,
            }
        )
    return items, legacy


async def _list_files(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    access = ready(resolve(request, "ro"))
    c = Checker(await params_of(request))
    path = c.get("path", default="", check=string)
    c.done()
    directory = inside(store, access.folder, path)
    if not await asyncio.to_thread(directory.is_dir):
        raise operation_failed()
    items, legacy = await asyncio.to_thread(_entries, directory)
    return web.json_response({"items": items, "files": json.dumps(legacy)})


# -- transfers ------------------------------------------------------------------------------


async def _request_upload(request: web.Request) -> web.StreamResponse:
    legacy = request.path.endswith("/create_upload_session")
    if legacy == uses_proxy(request):
        raise unknown_url(request)
    store = store_of(request)
    access = ready(resolve(request, "rw"))
    c = Checker(await params_of(request))
    path = c.get("path", check=string)
    size = c.get("size", check=integer)
    c.done()
    target = inside(store, access.folder, path)
    if size < 0:
        raise operation_failed()
    token = store.proxy.issue_upload(target, path, size)
    if legacy:
        return web.json_response({"token": token})
    return web.json_response({"token": token, "url": str(store.proxy.url / "upload")})


async def _request_download(request: web.Request) -> web.StreamResponse:
    legacy = request.path.endswith("/request_download")
    if legacy == uses_proxy(request):
        raise unknown_url(request)
    store = store_of(request)
    access = ready(resolve(request, "ro"))
    c = Checker(await params_of(request))
    path = (
        c.get("file", default=None, check=string) if legacy else c.get("path", "file", check=string)
    )
    archive = c.get("archive", default=False, check=to_bool)
    c.done()
    token = store.proxy.issue_download(inside(store, access.folder, path), path, archive)
    if legacy:
        return web.json_response({"token": token})
    return web.json_response({"token": token, "url": str(store.proxy.url / "download")})


async def _legacy_tus(request: web.Request) -> web.StreamResponse:
    if uses_proxy(request):
        raise unknown_url(request)
    if request.method == "OPTIONS":
        return web.Response(headers={"Tus-Resumable": "1.0.0", "Tus-Version": "1.0.0"})
    return await store_of(request).proxy.tus(request, request.match_info["token"])


async def _download_with_token(request: web.Request) -> web.StreamResponse:
    if uses_proxy(request):
        raise unknown_url(request)
    grant = store_of(request).proxy.downloads.get(request.query.get("token", ""))
    if grant is None:
        raise invalid("Could not validate the download token.")
    return await serve_file(request, grant.path, archive=grant.archive, not_found="manager")


ROUTES: tuple[Route, ...] = (
    ("POST", "/{name}/mkdir", _mkdir, ""),
    ("POST", "/{name}/request-upload", _request_upload, ""),
    ("POST", "/{name}/create_upload_session", _request_upload, ""),
    ("POST", "/{name}/request-download", _request_download, ""),
    ("POST", "/{name}/request_download", _request_download, ""),
    ("POST", "/{name}/rename-file", _rename_file, ""),
    ("POST", "/{name}/rename_file", _rename_file, ""),
    ("DELETE", "/{name}/delete-files", _delete_files, ""),
    ("POST", "/{name}/delete-files", _delete_files, ""),
    ("DELETE", "/{name}/delete_files", _delete_files, ""),
    ("GET", "/{name}/files", _list_files, ""),
    ("GET", "/_/download_with_token", _download_with_token, "public"),
    ("HEAD", "/_/tus/upload/{token}", _legacy_tus, "public,streaming"),
    ("PATCH", "/_/tus/upload/{token}", _legacy_tus, "public,streaming"),
    ("OPTIONS", "/_/tus/upload/{token}", _legacy_tus, "public,streaming"),
)
"""``(method, path below /folders, handler, "public"/"streaming" flags)``."""

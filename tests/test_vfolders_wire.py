"""Each ``client.vfolder`` call as the fake manager saw it (method, raw path, query, JSON
body) and what the call returned; the server's refusals as ``ServerError``s carrying its
reason; bad input refused before anything is sent."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from backendai_async import AuthenticationError, Client, ClientConfig, ServerError
from backendai_async.testing import (
    DEFAULT_VFOLDER_HOST,
    BackendAITestServer,
    RecordedRequest,
    VFolderStore,
    vfolder_store,
)
from backendai_async.testing._manager import DEFAULT_GROUP_ID

from .conftest import ClientFactory, watch_secrets

USER_KEY = "AKIANABBDUSEREXAMPLE"
USER_EMAIL = "user@lablup.com"
ADMIN_EMAIL = "admin@lablup.com"


@pytest.fixture
def store(server: BackendAITestServer) -> Iterator[VFolderStore]:
    found = vfolder_store(server)
    yield found
    watch_secrets(*found.proxy.tokens)  # no token may show up in any log or error


@pytest.fixture
def user(make_client: ClientFactory, server: BackendAITestServer) -> Client:
    """A client of the example normal user (``client`` is the superadmin)."""
    secret = server.state.keypairs[USER_KEY].secret_key
    return make_client(ClientConfig(USER_KEY, secret, str(server.endpoint)))


def last(server: BackendAITestServer) -> RecordedRequest:
    return server.requests[-1]


def folder_requests(server: BackendAITestServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.path.startswith("/folders")]


def user_uuid(store: VFolderStore, server: BackendAITestServer, key: str) -> str:
    return str(store.user_of(server.state.keypairs[key])["uuid"])


# -- folders ----------------------------------------------------------------------------


async def test_create_sends_the_manager_body_and_returns_the_new_folder(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    created = await client.vfolder.create("data-1", DEFAULT_VFOLDER_HOST, "", "model", "ro", True)
    sent = last(server)
    assert (sent.method, sent.raw_path) == ("POST", "/folders")
    assert sent.json == {
        "name": "data-1",
        "host": DEFAULT_VFOLDER_HOST,
        "usage_mode": "model",
        "permission": "ro",
        "cloneable": True,
    }
    assert sent.headers["Content-Type"] == "application/json"
    assert created["name"] == "data-1"
    assert created["usage_mode"] == "model"
    assert created["permission"] == "ro"
    assert created["cloneable"] is True
    assert store.folders[created["id"]].name == "data-1"


async def test_create_without_host_or_group_takes_the_default_host(
    client: Client, server: BackendAITestServer
) -> None:
    """The JS SDK crashes on empty host and group (its body is undefined)."""
    created = await client.vfolder.create("plain")
    assert last(server).json == {
        "name": "plain",
        "usage_mode": "general",
        "permission": "rw",
        "cloneable": False,
    }
    assert created["host"] == DEFAULT_VFOLDER_HOST
    assert created["ownership_type"] == "user"


async def test_create_a_project_folder_by_group_name(
    client: Client, server: BackendAITestServer
) -> None:
    created = await client.vfolder.create("shared-data", group="default")
    assert last(server).json["group"] == "default"
    assert created["ownership_type"] == "group"
    assert created["group"] == DEFAULT_GROUP_ID


async def test_a_project_folder_needs_an_admin_and_the_refusal_carries_the_reason(
    user: Client,
) -> None:
    with pytest.raises(ServerError) as caught:
        await user.vfolder.create("team", group="default")
    assert caught.value.status == 403
    assert caught.value.problem_type.endswith("/generic-forbidden")
    assert "no permission" in caught.value.message


async def test_create_twice_is_the_servers_vfolder_already_exists(client: Client) -> None:
    await client.vfolder.create("twice")
    with pytest.raises(ServerError) as caught:
        await client.vfolder.create("twice")
    assert caught.value.status == 400
    assert caught.value.problem_type.endswith("/vfolder-already-exists")


async def test_a_name_the_server_refuses_comes_back_as_its_validation_error(
    client: Client,
) -> None:
    with pytest.raises(ServerError) as caught:
        await client.vfolder.create("bad name!")
    assert caught.value.status == 400
    assert "value must be a valid slug" in caught.value.message


async def test_list_list_hosts_list_all_hosts_and_allowed_types(
    client: Client, server: BackendAITestServer
) -> None:
    await client.vfolder.create("one")
    listed = await client.vfolder.list()
    assert last(server).raw_path == "/folders"
    assert [f["name"] for f in listed] == ["one"]
    assert listed[0]["is_owner"] is True
    assert listed[0]["user_email"] == ADMIN_EMAIL

    await client.vfolder.list(DEFAULT_GROUP_ID, USER_EMAIL)
    assert last(server).query == {"group_id": DEFAULT_GROUP_ID, "owner_user_email": USER_EMAIL}

    hosts = await client.vfolder.list_hosts(DEFAULT_GROUP_ID)
    assert last(server).raw_path == f"/folders/_/hosts?group_id={DEFAULT_GROUP_ID}"
    assert hosts["default"] == DEFAULT_VFOLDER_HOST
    assert hosts["allowed"] == [DEFAULT_VFOLDER_HOST]

    every = await client.vfolder.list_all_hosts()
    assert last(server).raw_path == "/folders/_/all-hosts"
    assert every["allowed"] == [DEFAULT_VFOLDER_HOST]

    assert await client.vfolder.list_allowed_types() == ["group", "user"]
    assert last(server).raw_path == "/folders/_/allowed_types"


async def test_list_all_hosts_as_a_user_is_the_servers_401(user: Client) -> None:
    """No client-side role gate: the server's refusal (23.09: 401 "Unauthorized access")."""
    with pytest.raises(AuthenticationError) as caught:
        await user.vfolder.list_all_hosts()
    assert caught.value.status == 401
    assert "Unauthorized access" in caught.value.message


async def test_info_rename_update_folder_and_delete(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    created = await client.vfolder.create("f1")
    info = await client.vfolder.info("f1")
    assert last(server).raw_path == "/folders/f1"
    assert info["id"] == created["id"]
    assert info["num_files"] == 0

    assert await client.vfolder.rename("f2", "f1") is None  # 23.09: 201, empty body
    assert (last(server).raw_path, last(server).json) == ("/folders/f1/rename", {"new_name": "f2"})
    assert store.folders[created["id"]].name == "f2"

    await client.vfolder.update_folder({"cloneable": True, "permission": "ro"}, "f2")
    sent = last(server)
    assert sent.raw_path == "/folders/f2/update-options"
    assert sent.json == {"cloneable": True, "permission": "ro"}
    assert store.folders[created["id"]].cloneable is True

    await client.vfolder.update_folder('{"cloneable": false}', "f2")  # JSON text, as in JS
    assert last(server).json == {"cloneable": False}

    assert await client.vfolder.delete("f2") is None
    assert (last(server).method, last(server).raw_path) == ("DELETE", "/folders/f2")
    assert created["id"] not in store.folders


async def test_folder_names_are_quoted_as_one_path_segment(
    client: Client, server: BackendAITestServer
) -> None:
    with pytest.raises(ServerError) as caught:
        await client.vfolder.info("a b%c")
    assert last(server).raw_path == "/folders/a%20b%25c"
    assert caught.value.status == 404
    assert "No such virtual folder" in caught.value.message


async def test_delete_by_id_sends_id_the_key_both_servers_read(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    """The JS SDK's ``{vfolder_id}`` is refused by 23.09 (its validator wants ``id``)."""
    created = await client.vfolder.create("by-id")
    await client.vfolder.delete_by_id(created["id"])
    sent = last(server)
    assert (sent.method, sent.raw_path, sent.json) == ("DELETE", "/folders", {"id": created["id"]})
    assert created["id"] not in store.folders


async def test_clone_copies_files_into_a_new_folder(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    await client.vfolder.create("src", cloneable=True)
    await client.vfolder.upload_file("src", b"hello", "a.txt")
    cloned = await client.vfolder.clone({"target_name": "dst", "permission": "ro"}, "src")
    sent = last(server)
    assert sent.raw_path == "/folders/src/clone"
    assert sent.json == {"target_name": "dst", "permission": "ro"}
    assert cloned["name"] == "dst"
    assert "bgtask_id" in cloned
    assert store.file("dst", "a.txt").read_bytes() == b"hello"


async def test_clone_of_a_folder_not_cloneable_is_refused_by_the_server(client: Client) -> None:
    await client.vfolder.create("closed")
    with pytest.raises(ServerError) as caught:
        await client.vfolder.clone({"target_name": "copy"}, "closed")
    assert caught.value.status == 403
    assert "not permitted to be cloned" in caught.value.message


# -- files ------------------------------------------------------------------------------


async def test_mkdir_list_files_rename_file_and_delete_files(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    await client.vfolder.create("work")
    assert await client.vfolder.mkdir("a/b", "work", parents=True, exist_ok=False) is None
    sent = last(server)
    assert sent.raw_path == "/folders/work/mkdir"
    assert sent.json == {"path": "a/b", "parents": True, "exist_ok": False}
    await client.vfolder.mkdir("c", "work")
    assert last(server).json == {"path": "c"}  # the server's defaults stay the server's
    await client.vfolder.upload_file("work", b"12345", "a/f.txt")

    listing = await client.vfolder.list_files("a", "work")
    assert last(server).raw_path == "/folders/work/files?path=a"
    assert [(i["name"], i["type"]) for i in listing["items"]] == [
        ("b", "DIRECTORY"),
        ("f.txt", "FILE"),
    ]
    assert listing["items"][1]["size"] == 5
    assert listing["items"][1]["mode"] == "644"
    assert json.loads(listing["files"])[1]["filename"] == "f.txt"
    root = await client.vfolder.list_files("", "work")
    assert last(server).raw_path == "/folders/work/files?path="
    assert sorted(i["name"] for i in root["items"]) == ["a", "c"]

    assert await client.vfolder.rename_file("a/f.txt", "g.txt", "work") == {}
    sent = last(server)
    assert sent.raw_path == "/folders/work/rename_file"
    assert sent.json == {"target_path": "a/f.txt", "new_name": "g.txt", "is_dir": False}
    assert store.file("work", "a/g.txt").read_bytes() == b"12345"

    assert await client.vfolder.delete_files(["a/g.txt"], False, "work") == {}
    sent = last(server)
    assert (sent.method, sent.raw_path) == ("DELETE", "/folders/work/delete_files")
    assert sent.json == {"files": ["a/g.txt"], "recursive": False}
    await client.vfolder.delete_files("a", recursive=True, name="work")
    assert last(server).json == {"files": ["a"], "recursive": True}
    assert not store.file("work", "a").exists()


async def test_delete_files_of_a_directory_without_recursive_is_the_servers_400(
    client: Client,
) -> None:
    await client.vfolder.create("w")
    await client.vfolder.mkdir("d", "w")
    with pytest.raises(ServerError) as caught:
        await client.vfolder.delete_files(["d"], name="w")
    assert caught.value.status == 400
    assert "Is a directory" in caught.value.message


async def test_mkdir_of_an_existing_directory_is_the_servers_file_exists(client: Client) -> None:
    await client.vfolder.create("w")
    await client.vfolder.mkdir("d", "w")
    with pytest.raises(ServerError) as caught:
        await client.vfolder.mkdir("d", "w")
    assert caught.value.status == 400
    assert "File exists" in caught.value.message


async def test_rename_file_leaves_is_dir_out_before_api_v6(
    make_client: ClientFactory, server: BackendAITestServer
) -> None:
    """Managers before v6 validate ``{target_path, new_name}`` strictly (no ``is_dir``)."""
    server.api_version = "v5.20191215"
    server.manager_version = "20.03.0"
    client = make_client()
    await client.vfolder.create("w")
    await client.vfolder.upload_file("w", b"x", "f.txt")
    await client.vfolder.rename_file("f.txt", "g.txt", "w", is_dir=False)
    assert last(server).json == {"target_path": "f.txt", "new_name": "g.txt"}


# -- sharing ------------------------------------------------------------------------------


async def test_invite_accept_list_invitees_modify_and_leave(
    client: Client, user: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    created = await client.vfolder.create("team")
    invited = await client.vfolder.invite("ro", [USER_EMAIL], "team")
    sent = last(server)
    assert sent.raw_path == "/folders/team/invite"
    assert sent.json == {"perm": "ro", "user_ids": [USER_EMAIL]}
    assert invited == {"invited_ids": [USER_EMAIL]}

    pending = (await user.vfolder.invitations())["invitations"]
    assert last(server).raw_path == "/folders/invitations/list"
    assert [(i["vfolder_name"], i["perm"], i["inviter"]) for i in pending] == [
        ("team", "ro", ADMIN_EMAIL)
    ]
    assert await user.vfolder.accept_invitation(pending[0]["id"]) == {}
    assert (last(server).raw_path, last(server).json) == (
        "/folders/invitations/accept",
        {"inv_id": pending[0]["id"]},
    )
    assert [f["name"] for f in await user.vfolder.list()] == ["team"]

    shared = (await client.vfolder.list_invitees(created["id"]))["shared"]
    assert last(server).raw_path == f"/folders/_/shared?vfolder_id={created['id']}"
    assert [(s["vfolder_name"], s["perm"], s["shared_to"]["email"]) for s in shared] == [
        ("team", "ro", USER_EMAIL)
    ]
    uid = user_uuid(store, server, USER_KEY)
    await client.vfolder.modify_invitee_permission(
        {"vfolder": created["id"], "user": uid, "perm": "rw"}
    )
    assert (last(server).raw_path, last(server).json["perm"]) == ("/folders/_/shared", "rw")
    assert store.shares[(created["id"], uid)] == "rw"

    assert await user.vfolder.leave_invited("team") == {"msg": "left the shared vfolder"}
    assert last(server).raw_path == "/folders/team/leave"
    assert await user.vfolder.list() == []


async def test_a_read_only_invitee_cannot_write_and_the_server_says_so(
    client: Client, user: Client
) -> None:
    await client.vfolder.create("ro-team")
    await client.vfolder.invite("ro", USER_EMAIL, "ro-team")
    pending = (await user.vfolder.invitations())["invitations"]
    await user.vfolder.accept_invitation(pending[0]["id"])
    with pytest.raises(ServerError) as caught:
        await user.vfolder.mkdir("x", "ro-team")
    assert caught.value.status == 404  # 23.09 hides what you may not write to
    assert "No such virtual folder" in caught.value.message


async def test_delete_invitation_rejects_it(
    client: Client, user: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    await client.vfolder.create("maybe")
    await client.vfolder.invite("rw", [USER_EMAIL], "maybe")
    pending = (await user.vfolder.invitations())["invitations"]
    assert await user.vfolder.delete_invitation(pending[0]["id"]) == {}
    sent = last(server)
    assert (sent.method, sent.raw_path) == ("DELETE", "/folders/invitations/delete")
    assert sent.json == {"inv_id": pending[0]["id"]}
    assert store.invitations[pending[0]["id"]]["state"] == "rejected"


async def test_share_and_unshare_a_project_folder(
    client: Client, user: Client, server: BackendAITestServer
) -> None:
    await client.vfolder.create("proj", group=DEFAULT_GROUP_ID, permission="ro")
    shared = await client.vfolder.share("rw", [USER_EMAIL], "proj")
    sent = last(server)
    assert (sent.raw_path, sent.json) == (
        "/folders/proj/share",
        {"permission": "rw", "emails": [USER_EMAIL]},
    )
    assert shared == {"shared_emails": [USER_EMAIL]}
    await user.vfolder.mkdir("mine", "proj")  # rw through the share

    assert await client.vfolder.unshare(USER_EMAIL, "proj") == {"unshared_emails": [USER_EMAIL]}
    sent = last(server)
    assert (sent.method, sent.raw_path, sent.json) == (
        "DELETE",
        "/folders/proj/unshare",
        {"emails": [USER_EMAIL]},
    )
    with pytest.raises(ServerError):
        await user.vfolder.mkdir("again", "proj")  # ro, the folder's own permission


async def test_share_as_a_normal_user_is_the_servers_refusal(client: Client, user: Client) -> None:
    await client.vfolder.create("proj", group=DEFAULT_GROUP_ID)
    with pytest.raises(AuthenticationError) as caught:
        await user.vfolder.share("rw", [ADMIN_EMAIL], "proj")
    assert caught.value.status == 401


# -- quota and trash bin ---------------------------------------------------------------------


async def test_get_and_set_quota(client: Client, server: BackendAITestServer) -> None:
    created = await client.vfolder.create("q")
    assert await client.vfolder.set_quota(DEFAULT_VFOLDER_HOST, created["id"], 10 * 2**20) == {
        "size_bytes": 10 * 2**20
    }
    sent = last(server)
    assert sent.raw_path == "/folders/_/quota"
    assert sent.json == {
        "folder_host": DEFAULT_VFOLDER_HOST,
        "id": created["id"],
        "input": {"size_bytes": 10 * 2**20},
    }
    quota = await client.vfolder.get_quota(DEFAULT_VFOLDER_HOST, created["id"])
    assert last(server).query == {"folder_host": DEFAULT_VFOLDER_HOST, "id": created["id"]}
    assert quota["limit_bytes"] == 10 * 2**20


async def test_the_trash_bin_of_newer_managers(
    make_client: ClientFactory, server: BackendAITestServer, store: VFolderStore
) -> None:
    server.manager_version = "26.9.6"
    client = make_client()
    created = await client.vfolder.create("gone")
    await client.vfolder.delete("gone")
    assert [f["status"] for f in await client.vfolder.list()] == ["delete-pending"]

    assert await client.vfolder.restore_from_trash_bin(created["id"]) is None
    sent = last(server)
    assert (sent.raw_path, sent.json) == ("/folders/restore-from-trash-bin", {"id": created["id"]})
    assert store.folders[created["id"]].status == "ready"

    await client.vfolder.delete("gone")
    await client.vfolder.delete_from_trash_bin(created["id"])
    assert (last(server).raw_path, last(server).json) == (
        "/folders/delete-from-trash-bin",
        {"id": created["id"]},
    )
    assert await client.vfolder.list() == []
    await client.vfolder.purge(created["id"])
    assert last(server).raw_path == "/folders/purge"
    assert created["id"] not in store.folders


async def test_the_trash_bin_on_23_09_is_the_servers_405(client: Client) -> None:
    created = await client.vfolder.create("keep")
    with pytest.raises(ServerError) as caught:
        await client.vfolder.restore_from_trash_bin(created["id"])
    assert caught.value.status == 405


# -- tokens ----------------------------------------------------------------------------------


async def test_request_download_token_and_its_urls(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    await client.vfolder.create("t")
    await client.vfolder.upload_file("t", b"abc", "f.txt")
    token = await client.vfolder.request_download_token("f.txt", "t")
    sent = last(server)
    assert sent.raw_path == "/folders/t/request-download"
    assert sent.json == {"path": "f.txt", "archive": False}
    assert token["url"] == str(store.proxy.url / "download")
    url = client.vfolder.get_download_url_with_token(token)
    assert url == f"{store.proxy.url}/download?token={token['token']}"
    bare = client.vfolder.get_download_url_with_token("abc")
    assert bare == f"{server.endpoint}/folders/_/download_with_token?token=abc"
    async with await client.vfolder.download_with_token(token) as stream:
        assert await stream.read() == b"abc"


async def test_create_upload_session_returns_the_tus_url(
    client: Client, server: BackendAITestServer, store: VFolderStore
) -> None:
    await client.vfolder.create("t")
    url = await client.vfolder.create_upload_session("new.bin", 10, "t")
    sent = last(server)
    assert sent.raw_path == "/folders/t/request-upload"
    assert sent.json == {"path": "new.bin", "size": 10}
    (upload,) = store.proxy.uploads.values()
    assert url == f"{store.proxy.url}/upload?token={upload.token}"
    assert upload.size == 10
    await client.vfolder.create_upload_session("b.bin", b"12345", "t")
    assert last(server).json == {"path": "b.bin", "size": 5}


# -- bad input: refused before anything is sent ---------------------------------------------

Call = Callable[[Client], Awaitable[Any]]
FID = str(uuid.uuid4())
BAD_INPUT: list[tuple[str, Call, str]] = [
    ("empty name", lambda c: c.vfolder.info(""), "name"),
    ("name with a slash", lambda c: c.vfolder.info("a/b"), "name"),
    ("dot-dot name", lambda c: c.vfolder.delete(".."), "name"),
    ("name not a string", lambda c: c.vfolder.info(None), "name"),  # type: ignore[arg-type]
    ("delete_files without name", lambda c: c.vfolder.delete_files(["a"]), "name"),
    ("unknown permission", lambda c: c.vfolder.create("x", permission="rwx"), "permission"),
    ("unknown usage mode", lambda c: c.vfolder.create("x", usage_mode="fast"), "usage_mode"),
    ("invite with bad perm", lambda c: c.vfolder.invite("all", ["a@b"], "x"), "permission"),
    ("share with bad perm", lambda c: c.vfolder.share("admin", ["a@b"], "x"), "permission"),
    (
        "clone bad perm",
        lambda c: c.vfolder.clone({"target_name": "y", "permission": "z"}, "x"),
        "permission",
    ),
    ("clone without target", lambda c: c.vfolder.clone({}, "x"), "name"),
    ("update bad perm", lambda c: c.vfolder.update_folder({"permission": "x"}, "f"), "permission"),
    ("input not JSON", lambda c: c.vfolder.update_folder("{oops", "f"), "JSON"),
    ("absolute path", lambda c: c.vfolder.mkdir("/etc", "x"), "leaves the folder"),
    ("dot-dot path", lambda c: c.vfolder.mkdir("a/../../b", "x"), "leaves the folder"),
    ("escaping list_files", lambda c: c.vfolder.list_files("../..", "x"), "leaves the folder"),
    ("escaping delete", lambda c: c.vfolder.delete_files(["../x"], name="x"), "leaves the folder"),
    ("escaping rename", lambda c: c.vfolder.rename_file("../a", "b", "x"), "leaves the folder"),
    ("new_name is a path", lambda c: c.vfolder.rename_file("a", "b/c", "x"), "plain name"),
    ("escaping upload", lambda c: c.vfolder.upload_file("x", b"1", "../y"), "leaves the folder"),
    ("escaping download", lambda c: c.vfolder.download_file("x", "/etc/passwd"), "leaves"),
    ("empty mkdir path", lambda c: c.vfolder.mkdir("", "x"), "non-empty path"),
    ("empty upload path", lambda c: c.vfolder.upload_file("x", b"1", ""), "non-empty path"),
    ("NUL in a path", lambda c: c.vfolder.mkdir("a\x00b", "x"), "NUL"),
    ("no files", lambda c: c.vfolder.delete_files([], name="x"), "at least one"),
    ("recursive not a bool", lambda c: c.vfolder.delete_files(["a"], "yes", "x"), "recursive"),  # type: ignore[arg-type]
    ("bad vfolder id", lambda c: c.vfolder.delete_by_id("not-a-uuid"), "UUID"),
    ("bad trash id", lambda c: c.vfolder.restore_from_trash_bin("123"), "UUID"),
    ("bad quota", lambda c: c.vfolder.set_quota("h", FID, -1), "quota"),
    ("no emails", lambda c: c.vfolder.invite("ro", [], "x"), "emails"),
    ("empty inv_id", lambda c: c.vfolder.accept_invitation(""), "inv_id"),
    ("bad invitee input", lambda c: c.vfolder.modify_invitee_permission({"vfolder": FID}), "user"),
    (
        "zero chunk size",
        lambda c: c.vfolder.upload_file("x", b"1", "a", chunk_size=0),
        "chunk_size",
    ),
    ("negative size", lambda c: c.vfolder.upload_file("x", b"1", "a", size=-1), "size"),
    ("size disagrees", lambda c: c.vfolder.upload_file("x", b"12", "a", size=5), "disagrees"),
    ("bad token url", lambda c: c.vfolder.download_with_token({"token": "t", "url": "/x"}), "url"),
    ("empty token", lambda c: c.vfolder.download_with_token(""), "token"),
]


@pytest.mark.parametrize(
    ("call", "expected"), [(c, e) for _, c, e in BAD_INPUT], ids=[i for i, _, _ in BAD_INPUT]
)
async def test_bad_input_is_a_value_error_before_anything_is_sent(
    client: Client, server: BackendAITestServer, call: Call, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        await call(client)
    assert folder_requests(server) == []


async def test_a_text_mode_file_or_a_wrong_type_is_a_type_error(
    client: Client, server: BackendAITestServer
) -> None:
    text = io.StringIO("x")
    with pytest.raises(TypeError, match="binary"):
        await client.vfolder.upload_file("x", text, "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="upload source"):
        await client.vfolder.upload_file("x", 12, "a")  # type: ignore[arg-type]
    assert folder_requests(server) == []

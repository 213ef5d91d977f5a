"""client.session_template: list and the create/get/update/delete of /template/session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backendai_async import Client, ServerError
from backendai_async.testing import BackendAITestServer

from ._admin_rest import last, refused_before_sending, user_config


def _template(name: str, image: str = "python") -> dict[str, Any]:
    return {
        "api_version": "v1",
        "kind": "taskTemplate",
        "metadata": {"name": name},
        "spec": {"kernel": {"image": image}, "resources": {"cpu": "1"}},
    }


async def test_template_round_trip(client: Client, server: BackendAITestServer) -> None:
    assert await client.session_template.list() == []
    created = await client.session_template.create({"template": _template("tf")})
    sent = last(server, "POST", "/template/session").json
    assert json.loads(sent["payload"]) == [{"template": _template("tf")}]
    assert set(sent) == {"payload"}  # group and domain left to the manager's defaults
    (entry,) = created
    info = await client.session_template.get(entry["id"])
    assert info["name"] == "tf"
    assert info["template"]["spec"]["kernel"]["image"] == "python"
    await client.session_template.update(
        entry["id"], [{"template": _template("tf2", "tensorflow"), "name": "renamed"}]
    )
    (listed,) = await client.session_template.list()
    assert (listed["id"], listed["name"], listed["is_owner"]) == (entry["id"], "renamed", True)
    assert listed["template"]["spec"]["kernel"]["image"] == "tensorflow"
    assert await client.session_template.delete(entry["id"]) == {"success": True}
    assert await client.session_template.list() == []
    assert await client.session_template.get(entry["id"]) == {}  # 23.09 answers an empty object
    with pytest.raises(ServerError) as gone:
        await client.session_template.delete(entry["id"])
    assert gone.value.status == 404


async def test_json_text_payloads_pass_unchanged(
    client: Client, server: BackendAITestServer
) -> None:
    text = json.dumps([{"template": _template("a")}, {"template": _template("b")}])
    created = await client.session_template.create(text, group="default", domain="default")
    assert len(created) == 2
    assert last(server, "POST", "/template/session").json == {
        "payload": text,
        "group": "default",
        "domain": "default",
    }


async def test_list_builds_one_query_string(client: Client, server: BackendAITestServer) -> None:
    group = "0b7c1f2e-4a55-4c3e-9d7a-1a2b3c4d5e10"
    await client.session_template.list(True, group)
    assert last(server, "GET", "/template/session").raw_path == (
        f"/template/session?all=true&group_id={group}"
    )
    await client.session_template.list(group_id=group)
    assert last(server, "GET", "/template/session").raw_path.count("?") == 1


async def test_other_users_see_the_template_but_do_not_own_it(
    client: Client, server: BackendAITestServer
) -> None:
    await client.session_template.create([{"template": _template("shared")}])
    async with Client(user_config(server)) as user:
        (entry,) = await user.session_template.list()
    assert entry["is_owner"] is False
    assert entry["user_email"] == "admin@lablup.com"


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.session_template.get("not-a-uuid"), "template_id"),
        (lambda c: c.session_template.delete(""), "template_id"),
        (lambda c: c.session_template.create([]), "payload"),
        (lambda c: c.session_template.create({"name": "no template"}), "template"),
        (lambda c: c.session_template.create(42), "payload"),
        (lambda c: c.session_template.list("yes"), "listall"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: Client, server: BackendAITestServer, call: object, words: str
) -> None:
    await refused_before_sending(server, call(client), words, "/template")  # type: ignore[operator]

"""The JS ``resources`` mapping, key by key, and the checks that refuse bad input before any
request is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backendai_async import Client, ClientConfig
from backendai_async._compat import compat_for
from backendai_async.resources._resources_map import (
    JS_RESOURCE_KEYS,
    SessionResources,
    prepare_resources,
)
from backendai_async.resources.sessions import check_session_name
from backendai_async.testing import BackendAITestServer, register_session_routes
from backendai_async.version import ApiVersion

V6 = compat_for(ApiVersion.parse("v6.20230315"))
V5 = compat_for(ApiVersion.parse("v5.20191215"))
V4 = compat_for(ApiVersion.parse("v4.20190615"))


@pytest.fixture
async def server() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer(extra_routes=[register_session_routes]) as srv:
        yield srv


def body(resources: Any, compat: Any = V6) -> dict[str, Any]:
    result: dict[str, Any] = prepare_resources(resources).apply({}, compat)
    return result


# Every JS key, what it becomes in the body of POST /session (API v6).
MAPPING = [
    ({"cpu": 2}, {"config": {"resources": {"cpu": 2}}}),
    ({"cpu": "0.5"}, {"config": {"resources": {"cpu": "0.5"}}}),
    ({"mem": "4g"}, {"config": {"resources": {"mem": "4g"}}}),
    ({"mem": 1073741824}, {"config": {"resources": {"mem": 1073741824}}}),
    ({"gpu": 2}, {"config": {"resources": {"cuda.device": 2}}}),
    ({"gpu": "1"}, {"config": {"resources": {"cuda.device": 1}}}),
    ({"cuda.device": 1.0}, {"config": {"resources": {"cuda.device": 1}}}),
    ({"vgpu": 0.5}, {"config": {"resources": {"cuda.shares": "0.50"}}}),
    ({"fgpu": "1.25"}, {"config": {"resources": {"cuda.shares": "1.25"}}}),
    ({"cuda.shares": 2}, {"config": {"resources": {"cuda.shares": "2.00"}}}),
    ({"rocm": 1}, {"config": {"resources": {"rocm.device": 1}}}),
    ({"tpu": 4}, {"config": {"resources": {"tpu.device": 4}}}),
    ({"ipu": 1}, {"config": {"resources": {"ipu.device": 1}}}),
    ({"atom-plus": 1}, {"config": {"resources": {"atom-plus.device": 1}}}),
    ({"warboy": 2}, {"config": {"resources": {"warboy.device": 2}}}),
    ({"atom": 1}, {"config": {"resources": {"atom.device": 1}}}),
    ({"gaudi2": 8}, {"config": {"resources": {"gaudi2.device": 8}}}),
    ({"hyperaccel-lpu": 1}, {"config": {"resources": {"hyperaccel-lpu.device": 1}}}),
    ({"cuda.mig-1g.5gb": 1}, {"config": {"resources": {"cuda.mig-1g.5gb": 1}}}),
    ({"mounts": ["data", "models"]}, {"config": {"mounts": ["data", "models"]}}),
    ({"mount_map": {"data": "/home/work/d"}}, {"config": {"mount_map": {"data": "/home/work/d"}}}),
    ({"scaling_group": "gpu"}, {"config": {"scaling_group": "gpu"}}),
    ({"shmem": "1g"}, {"config": {"resource_opts": {"shmem": "1g"}}}),
    ({"env": {"A": "1"}}, {"config": {"environ": {"A": "1"}}}),
    ({"preopen_ports": [8000, 9000]}, {"config": {"preopen_ports": [8000, 9000]}}),
    ({"cluster_size": 2}, {"cluster_size": 2}),
    ({"cluster_mode": "multi-node"}, {"cluster_mode": "multi-node"}),
    ({"group_name": "proj"}, {"group_name": "proj"}),
    ({"domain": "default"}, {"domain": "default"}),
    ({"type": "batch"}, {"type": "batch"}),
    ({"startsAt": "2030-01-01T00:00:00+00:00"}, {"starts_at": "2030-01-01T00:00:00+00:00"}),
    ({"starts_at": "1h"}, {"starts_at": "1h"}),
    ({"enqueueOnly": True}, {"enqueueOnly": True}),
    ({"maxWaitSeconds": 30}, {"maxWaitSeconds": 30}),
    ({"reuseIfExists": False}, {"reuseIfExists": False}),
    ({"startupCommand": "python x.py"}, {"startupCommand": "python x.py"}),
    ({"bootstrap_script": "pip install x"}, {"bootstrap_script": "pip install x"}),
    ({"owner_access_key": "AKIA"}, {"owner_access_key": "AKIA"}),
    ({"architecture": "aarch64"}, {"architecture": "aarch64"}),
    ({"tag": "exp-1"}, {"tag": "exp-1"}),
    ({"cpu": None, "mem": None}, {}),
    (None, {}),
]


@pytest.mark.parametrize(("resources", "expected"), MAPPING, ids=[repr(m[0]) for m in MAPPING])
def test_each_js_key_lands_where_the_js_sdk_puts_it(
    resources: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert body(resources) == expected


def test_the_table_covers_every_known_key() -> None:
    covered = {key for resources, _ in MAPPING if resources for key in resources}
    assert covered >= JS_RESOURCE_KEYS


def test_a_full_request_combines_slots_config_and_top_level_keys() -> None:
    resources = {
        "cpu": 4,
        "mem": "8g",
        "fgpu": 0.5,
        "shmem": "1g",
        "mounts": ["data"],
        "env": {"X": "y"},
        "type": "batch",
        "startupCommand": "python main.py",
        "enqueueOnly": True,
        "cluster_size": 2,
        "cluster_mode": "multi-node",
    }
    assert body(resources) == {
        "type": "batch",
        "startupCommand": "python main.py",
        "enqueueOnly": True,
        "cluster_size": 2,
        "cluster_mode": "multi-node",
        "config": {
            "resources": {"cpu": 4, "mem": "8g", "cuda.shares": "0.50"},
            "resource_opts": {"shmem": "1g"},
            "mounts": ["data"],
            "environ": {"X": "y"},
        },
    }


@pytest.mark.parametrize("compat", [V4, V5], ids=["v4", "v5"])
def test_before_v6_cluster_size_goes_into_config(compat: Any) -> None:
    assert body({"cluster_size": 2, "cpu": 1}, compat) == {
        "config": {"cluster_size": 2, "resources": {"cpu": 1}}
    }
    assert body({"cluster_mode": "single-node"}, compat) == {}
    with pytest.raises(ValueError, match="cluster_mode 'multi-node' needs API v6"):
        body({"cluster_mode": "multi-node"}, compat)


def test_the_typed_form_maps_to_the_same_body() -> None:
    typed = SessionResources(
        cpu=2,
        mem="4g",
        gpu=1,
        slots={"ipu.device": 1},
        shmem="64m",
        env={"A": "b"},
        session_type="batch",
        enqueue_only=True,
        max_wait_seconds=10,
        reuse_if_exists=False,
        startup_command="run",
        starts_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    js = {
        "cpu": 2,
        "mem": "4g",
        "gpu": 1,
        "ipu.device": 1,
        "shmem": "64m",
        "env": {"A": "b"},
        "type": "batch",
        "enqueueOnly": True,
        "maxWaitSeconds": 10,
        "reuseIfExists": False,
        "startupCommand": "run",
        "startsAt": "2030-01-01T00:00:00+00:00",
    }
    assert body(typed) == body(js)
    assert typed.to_js()["startsAt"] == datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_a_typo_in_the_typed_form_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SessionResources(cpus=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        ({"cpu": -1}, r"resources\['cpu'\] must be a non-negative number"),
        ({"cpu": "-0.5"}, r"resources\['cpu'\] must be a non-negative number"),
        ({"cpu": float("nan")}, "non-negative number"),
        ({"cpu": True}, r"resources\['cpu'\] must be a number"),
        ({"mem": -1}, r"resources\['mem'\] must not be negative"),
        ({"mem": "-1g"}, r"resources\['mem'\] must not be negative"),
        ({"mem": "lots"}, "must be a size such as"),
        ({"gpu": -1}, r"resources\['gpu'\] must be a non-negative number"),
        ({"gpu": 1.5}, "whole number of devices"),
        ({"cuda.device": -2}, "non-negative"),
        ({"fgpu": -0.5}, r"resources\['fgpu'\] must be a non-negative number"),
        ({"vgpu": "half"}, "must be a number"),
        ({"rocm": -1}, "non-negative"),
        ({"ipu.device": -3}, "non-negative"),
        ({"shmem": "-64m"}, "must not be negative"),
        ({"cluster_size": 0}, r"resources\['cluster_size'\] must be an int >= 1"),
        ({"maxWaitSeconds": -1}, r"resources\['maxWaitSeconds'\] must be an int >= 0"),
        ({"type": "forever"}, "must be one of interactive, batch, inference"),
        ({"cluster_mode": "star"}, "must be one of single-node, multi-node"),
        ({"enqueueOnly": "yes"}, "must be a bool"),
        ({"env": {"A": 1}}, "must map strings to strings"),
        ({"mounts": "data"}, "must be a list of strings"),
        ({"preopen_ports": [80]}, "ports must be ints in 1024-65535"),
        ({"startsAt": datetime(2030, 1, 1)}, "timezone-aware"),
        ({"cpus": 1}, "unknown resources key 'cpus'"),
        ({"gpu": 1, "cuda.device": 2}, "both set 'cuda.device'"),
        ({"vgpu": 1, "fgpu": 1}, "both set 'cuda.shares'"),
        ({1: 2}, "keys must be strings"),
        ([("cpu", 1)], "must be a mapping"),
    ],
)
def test_bad_resources_are_value_errors_naming_the_key(resources: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        prepare_resources(resources)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("abc", "4-64 characters long, got 3"),
        ("a" * 65, "4-64 characters long, got 65"),
        ("-abcd", "must start and end with"),
        ("abcd.", "must start and end with"),
        ("ab cd", "must start and end with"),
        ("세션이름임", "ASCII"),
        ("ab/cd", "must start and end with"),
        (1234, "must be a string"),
    ],
)
def test_session_names_are_checked_like_the_manager(name: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_session_name(name)


@pytest.mark.parametrize("name", ["abcd", "a" * 64, "my.session-1", "_x_y", "9lives"])
def test_valid_session_names(name: str) -> None:
    assert check_session_name(name) == name


def test_generated_session_ids_are_valid_names(client: Client) -> None:
    ids = {client.generate_session_id() for _ in range(50)}
    assert len(ids) == 50
    for session_id in ids:
        assert check_session_name(session_id) == session_id
        assert session_id.endswith("-pyASDK")
        assert len(session_id) == 8 + len("-pyASDK")
    assert len(client.sessions.generate_session_id(12, nosuffix=True)) == 12


CALLS_WITH_BAD_INPUT = [
    ("create_if_not_exists", ("python", "abc"), {}, "4-64 characters"),
    ("create_if_not_exists", ("python", "sess-01", {"cpu": -1}), {}, "non-negative"),
    ("create_if_not_exists", ("", "sess-01"), {}, "image must be a non-empty string"),
    ("create_session_from_template", ("not-a-uuid",), {}, "template_id must be a UUID"),
    ("execute", ("sess-01", "short", "query", "x"), {}, "run_id must be 8-64 characters"),
    ("execute", ("sess-01", "r" * 65, "query", "x"), {}, "run_id must be 8-64 characters"),
    ("execute", ("sess-01", "run-0001", "eval", "x"), {}, "unknown execute mode 'eval'"),
    ("execute", ("sess-01", None, "continue", ""), {}, "needs the run_id"),
    ("execute", ("sess-01", "run-0001", "query", b"x"), {}, "code must be a string"),
    ("get_info", ("",), {}, "session_id must be a non-empty string"),
    ("get_info", ("..",), {}, "cannot name a session"),
    ("get_info", ("a/b",), {}, "cannot name a session"),
    ("destroy", ("sess-01",), {"forced": "yes"}, "forced must be a bool"),
    ("rename_session", ("sess-01", "x"), {}, "new_name must be 4-64 characters"),
    ("start_service", ("sess-01", "jupyter", 80), {}, "port must be an int in 1024-65535"),
    ("start_service", ("sess-01", ""), {}, "app must be a non-empty string"),
    ("shutdown_service", ("sess-01", ""), {}, "service_name must be a non-empty string"),
    ("upload", ("sess-01", "/etc/passwd", b""), {}, "relative to the session's working"),
    ("upload", ("sess-01", "../x", b""), {}, "must not contain '..'"),
    ("upload", ("sess-01", "a\nb", b""), {}, "line-break"),
    ("download", ("sess-01", []), {}, "non-empty list of paths"),
    ("download_single", ("sess-01", ""), {}, "file must be a non-empty string"),
    ("list_files", ("sess-01", ""), {}, "path must be a non-empty string"),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "problem"),
    CALLS_WITH_BAD_INPUT,
    ids=[f"{c[0]}-{c[3]}" for c in CALLS_WITH_BAD_INPUT],
)
async def test_bad_input_fails_before_any_request(
    client: Client,
    server: BackendAITestServer,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    problem: str,
) -> None:
    with pytest.raises(ValueError, match=problem):
        await getattr(client, method)(*args, **kwargs)
    assert server.requests == []  # not even the version probe


async def test_multi_node_on_a_v4_server_fails_before_the_create_request() -> None:
    async with BackendAITestServer(
        api_version="v4.20190615", manager_version="19.09.0", extra_routes=[register_session_routes]
    ) as srv:
        config = ClientConfig(srv.access_key, srv.secret_key, str(srv.endpoint))
        async with Client(config) as client:
            with pytest.raises(ValueError, match="needs API v6"):
                await client.create_if_not_exists(
                    "python", "sess-01", {"cluster_mode": "multi-node"}
                )
        assert [r.path for r in srv.requests] == ["/"]  # only the version probe


async def test_the_server_accepts_what_the_mapping_builds(
    client: Client, server: BackendAITestServer
) -> None:
    resources = SessionResources(
        cpu=1,
        mem="1g",
        fgpu=0.5,
        shmem="64m",
        env={"A": "b"},
        mounts=["data"],
        preopen_ports=[8000],
        session_type="interactive",
        cluster_size=1,
        cluster_mode="single-node",
        group_name="default",
        domain="default",
        starts_at=datetime.now(timezone.utc) + timedelta(hours=1),
        enqueue_only=True,
        max_wait_seconds=5,
        startup_command="echo",
        bootstrap_script="echo",
        architecture="x86_64",
        tag="t",
    )
    answer = await client.create_if_not_exists("python", "sess-full", resources)
    assert answer["created"] is True
    assert answer["status"] == "PENDING"  # enqueueOnly

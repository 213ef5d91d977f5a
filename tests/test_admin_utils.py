"""client.utils: the JS SDK's local helpers, with errors instead of false or garbage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backendai_async.resources.utils import Utils

U = Utils


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1g", "m"), 1024.0),
        (("512m",), 0.5),
        (("1.5 GiB", "m"), 1536.0),
        ((2048, "k"), 2.0),
        (("2048", "k", "b"), 2.0),
        (("1t", "g"), 1024.0),
        (("1 KiB", "b"), 1024.0),
        ((1, "k", "m"), 1024.0),
    ],
)
def test_change_binary_unit(args: tuple[object, ...], expected: float) -> None:
    assert U.change_binary_unit(*args) == expected  # type: ignore[arg-type]


def test_change_binary_unit_refuses_what_js_answers_false_or_nan_to() -> None:
    assert U.change_binary_unit(None) is None
    for args, words in (
        (("1g", "auto"), "target_unit"),
        (("1g", "x"), "target_unit"),
        (("1g", "m", "q"), "default_unit"),
        (("1 GB", "m"), "unknown unit"),
        (("lots",), "value"),
        ((True,), "value"),
    ):
        with pytest.raises(ValueError, match=words):
            U.change_binary_unit(*args)  # type: ignore[arg-type]


def test_elapsed_time_and_back() -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert U.elapsed_time(start, start + timedelta(hours=1, minutes=2, seconds=3)) == "01:02:03"
    long = start + timedelta(days=1, hours=1, minutes=54, seconds=33)
    assert U.elapsed_time("2024-01-01T00:00:00Z", long) == "1d01:54:33"
    assert U.elapsed_time("2024-01-01T00:00:00", "2024-01-01T00:00:09+00:00") == "00:00:09"
    assert U.elapsed_time(0, 61.9) == "00:01:01"
    assert U.elapsed_time(start + timedelta(seconds=5), start) == "00:00:00"  # skew
    now = datetime.now(timezone.utc)
    assert U.elapsed_time(now - timedelta(seconds=30)) in ("00:00:30", "00:00:31")
    assert U.elapsed_time_to_total_seconds("1d01:54:33") == 93273
    assert U.elapsed_time_to_total_seconds("00:00:09") == 9
    for bad in ("1:2", "x", "01:60:00", 5):
        with pytest.raises(ValueError, match="daytime_string"):
            U.elapsed_time_to_total_seconds(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start"):
        U.elapsed_time("yesterday")


def test_clamp_and_list_reshaping() -> None:
    assert (U.clamp(5, 0, 3), U.clamp(-1, 0, 3), U.clamp(2, 0, 3)) == (3, 0, 2)
    with pytest.raises(ValueError, match="min"):
        U.clamp(1, 5, 0)
    rows = [{"name": "a", "n": 1}, {"name": "b", "n": 2}]
    assert U.gql_to_object(rows, "name") == {"a": rows[0], "b": rows[1]}
    assert U.gql_to_list(rows, "n") == [1, 2]
    with pytest.raises(ValueError, match=r"array\[1\]"):
        U.gql_to_list([{"n": 1}, {}], "n")
    with pytest.raises(ValueError, match="array"):
        U.gql_to_object("ab", "n")  # type: ignore[arg-type]


async def test_utils_is_a_namespace_on_the_client() -> None:
    from backendai_async import Client, ClientConfig

    client = Client(ClientConfig("AK", "SK", "http://127.0.0.1:1"))
    assert client.utils.clamp(7, 0, 5) == 5
    await client.close()

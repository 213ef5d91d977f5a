"""Local helpers of the JS SDK's ``client.utils``: units, durations, list reshaping.

No network. Where the JS versions return ``false`` or garbage for bad input (an unknown
unit, ``"auto"``, an unparsable duration), these raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar, overload

from ._base import Resource

__all__ = ["BINARY_UNITS", "Utils"]

N = TypeVar("N", int, float)

BINARY_UNITS = ("b", "k", "m", "g", "t", "p")  # powers of 1024
_LONG_UNITS = {"b": "b", "kib": "k", "mib": "m", "gib": "g", "tib": "t", "pib": "p"}
_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
_ELAPSED = re.compile(r"^(?:(\d+)d)?(\d+):([0-5]?\d):([0-5]?\d)$")


def _unit(unit: object, what: str) -> str:
    if not isinstance(unit, str) or unit.lower() not in BINARY_UNITS:
        raise ValueError(f"{what} must be one of {', '.join(BINARY_UNITS)}, got {unit!r}")
    return unit.lower()


def _moment(value: object, what: str) -> datetime:
    """A datetime from a datetime, an ISO-8601 text, or epoch seconds (naive = UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what} must be an ISO-8601 time, got {value!r}") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, timezone.utc)
    else:
        raise ValueError(
            f"{what} must be a datetime, ISO-8601 text or epoch seconds, got {value!r}"
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _items(array: object, key: object) -> tuple[list[Mapping[str, Any]], str]:
    if not isinstance(key, str):
        raise ValueError(f"key must be a string, got {key!r}")
    if isinstance(array, (str, bytes)) or not isinstance(array, Iterable):
        raise ValueError(f"array must be a list of objects, got {array!r}")
    items = list(array)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or key not in item:
            raise ValueError(f"array[{i}] is not an object with the key {key!r}: {item!r}")
    return items, key


class Utils(Resource):
    """``client.utils``: the JS SDK's local helpers (no requests)."""

    __slots__ = ()

    @overload
    @staticmethod
    def change_binary_unit(
        value: None, target_unit: str = ..., default_unit: str = ...
    ) -> None: ...

    @overload
    @staticmethod
    def change_binary_unit(
        value: float | str, target_unit: str = ..., default_unit: str = ...
    ) -> float: ...

    @staticmethod
    def change_binary_unit(
        value: float | str | None, target_unit: str = "g", default_unit: str = "b"
    ) -> float | None:
        """``value`` converted to ``target_unit`` (1024-based ``b k m g t p``).

        ``value`` is a number in ``default_unit`` or a text with its unit: ``"512m"``,
        ``"1.5 GiB"``, ``"2048"``. ``change_binary_unit("1g", "m") == 1024.0``. None stays
        None, as in JS. The JS SDK's ``"auto"`` target did nothing useful and is refused.
        """
        if value is None:
            return None
        target = _unit(target_unit, "target_unit")
        source = _unit(default_unit, "default_unit")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            amount = float(value)
        elif isinstance(value, str) and (match := _AMOUNT.match(value)):
            amount = float(match.group(1))
            suffix = match.group(2).lower()
            if suffix:
                if suffix not in _LONG_UNITS and suffix not in BINARY_UNITS:
                    raise ValueError(f"value {value!r} has an unknown unit {match.group(2)!r}")
                source = _LONG_UNITS.get(suffix, suffix)
        else:
            raise ValueError(f"value must be a number or a text like '512m', got {value!r}")
        return amount * 1024.0 ** (BINARY_UNITS.index(source) - BINARY_UNITS.index(target))

    @staticmethod
    def elapsed_time(
        start: datetime | str | float, end: datetime | str | float | None = None
    ) -> str:
        """The time from ``start`` to ``end`` (now when None) as ``[Nd]HH:MM:SS``.

        Times are datetimes, ISO-8601 texts (the manager's) or epoch **seconds** (the JS
        SDK takes milliseconds); naive ones are UTC. A start after the end (clock skew
        between client and server) shows ``00:00:00``.
        """
        begin = _moment(start, "start")
        finish = datetime.now(timezone.utc) if end is None else _moment(end, "end")
        total = max(math.floor((finish - begin).total_seconds()), 0)
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
        return f"{days}d{clock}" if days else clock

    @staticmethod
    def elapsed_time_to_total_seconds(daytime_string: str) -> int:
        """The seconds in an :meth:`elapsed_time` text: ``"1d01:54:33"`` → ``93273``."""
        match = _ELAPSED.match(daytime_string) if isinstance(daytime_string, str) else None
        if match is None:
            raise ValueError(
                f"daytime_string must look like '1d01:54:33' or '01:54:33', got {daytime_string!r}"
            )
        days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
        return days * 86400 + hours * 3600 + minutes * 60 + seconds

    @staticmethod
    def clamp(value: N, min: N, max: N) -> N:
        """``value`` limited to ``[min, max]`` (the JS SDK's parameter names)."""
        if min > max:
            raise ValueError(f"min ({min!r}) must not be greater than max ({max!r})")
        return min if value < min else max if value > max else value

    @staticmethod
    def gql_to_object(array: Iterable[Mapping[str, Any]], key: str) -> dict[Any, Mapping[str, Any]]:
        """The items of a GraphQL list keyed by their ``key`` field (later ones win)."""
        items, key = _items(array, key)
        return {item[key]: item for item in items}

    @staticmethod
    def gql_to_list(array: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
        """The ``key`` field of every item of a GraphQL list."""
        items, key = _items(array, key)
        return [item[key] for item in items]

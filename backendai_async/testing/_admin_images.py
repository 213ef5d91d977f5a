"""Images in the fake manager's GraphQL: ``images(is_installed, is_operation)`` and
``image(reference, architecture)``, as 23.09 answers them.

``state.extras["images"]`` is a list of ``Image`` rows (the harnesses'
``cr.backend.ai/stable/python:3.9-ubuntu20.04``, not installed on any agent).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._graphql import GraphQLField, ObjectType, fixture, register_graphql_field
from ._manager import ServerState

__all__ = ["EXAMPLE_IMAGES", "IMAGE_TYPE", "register_image_fields"]

IMAGE_TYPE = ObjectType.of(
    "Image",
    "id name humanized_name tag registry architecture is_local digest aliases size_bytes "
    "supported_accelerators installed installed_agents hash",
    labels=ObjectType.of("KVPair", "key value"),
    resource_limits=ObjectType.of("ResourceLimit", "key min max"),
)
EXAMPLE_IMAGES: list[dict[str, Any]] = [
    {
        "id": "4b2b8a3c-1c39-4b5e-9c55-3c1e2f6a7d01",
        "name": "stable/python",
        "humanized_name": "python:3.9-ubuntu20.04",
        "tag": "3.9-ubuntu20.04",
        "registry": "cr.backend.ai",
        "architecture": "x86_64",
        "is_local": False,
        "digest": "sha256:" + "0" * 63 + "1",
        "labels": [
            {"key": "ai.backend.kernelspec", "value": "1"},
            {"key": "ai.backend.base-distro", "value": "ubuntu20.04"},
            {"key": "ai.backend.role", "value": "COMPUTE"},
        ],
        "aliases": ["python"],
        "size_bytes": 0,
        "resource_limits": [
            {"key": "cpu", "min": "1", "max": None},
            {"key": "mem", "min": "1073741824", "max": None},
        ],
        "supported_accelerators": [],
        "installed": False,
        "installed_agents": [],
        "hash": "sha256:" + "0" * 63 + "1",
    }
]


def images(state: ServerState) -> list[dict[str, Any]]:
    """The images fixture."""
    found: list[dict[str, Any]] = fixture(state, "images", EXAMPLE_IMAGES)
    return found


def _operational(row: dict[str, Any]) -> bool:
    return any(label == {"key": "ai.backend.role", "value": "SYSTEM"} for label in row["labels"])


def _reference(row: dict[str, Any]) -> str:
    return f"{row['registry']}/{row['name']}:{row['tag']}"


def register_image_fields(app: web.Application, state: ServerState) -> None:
    for gql_field in (
        GraphQLField(
            "images",
            lambda ctx: [
                r
                for r in images(ctx.state)
                if ctx.args.get("is_installed") in (None, r["installed"])
                and _operational(r) is bool(ctx.args.get("is_operation"))
            ],
            type=IMAGE_TYPE,
            args=frozenset({"is_installed", "is_operation"}),
        ),
        GraphQLField(
            "image",
            lambda ctx: next(
                (
                    r
                    for r in images(ctx.state)
                    if ctx.args.get("reference") in (_reference(r), *r["aliases"])
                    and ctx.args.get("architecture", "x86_64") == r["architecture"]
                ),
                None,
            ),
            type=IMAGE_TYPE,
            args=frozenset({"reference", "architecture"}),
        ),
    ):
        register_graphql_field(state, gql_field)

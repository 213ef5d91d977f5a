"""Reading GraphQL answers: ``{data, errors}`` (``/admin/gql``) or bare data (legacy).

``/admin/gql`` answers HTTP 200 with ``errors`` beside (partial) ``data``; 26.x adds
``"errors": null`` on success. The legacy ``/admin/graphql`` answers bare data on 23.09 and
``{data, errors: null}`` on 26.x; its errors are a 400 ``graphql-error`` problem, which the
transport's error translation turns into :class:`GraphQLError` as well.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse

from ._body import decode_body
from ._http import ResponseReader
from ._login import decode_session_body
from .errors import GraphQLError, ResponseError, graphql_message

__all__ = ["graphql_reader", "is_mutation"]

_ENVELOPE = frozenset({"data", "errors", "extensions"})
_TOKENS = re.compile(
    r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|[{}()]|[_A-Za-z]\w*'
)


def is_mutation(document: str) -> bool:
    """Whether a GraphQL document defines a mutation (so it must never be retried).

    Looks at every top-level definition, not only the first (a fragment may come first),
    skipping comments, strings and selection sets.
    """
    depth = 0
    for m in _TOKENS.finditer(document):
        token = m.group()
        if token in "{(":
            depth += 1
        elif token in "})":
            depth -= 1
        elif depth == 0 and token == "mutation":
            return True
    return False


def _error_list(errors: list[Any]) -> list[dict[str, Any]]:
    return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]


def _data_of(body: Any, status: int) -> dict[str, Any]:
    if not isinstance(body, dict):
        shown = "null" if body is None else type(body).__name__
        raise ResponseError(f"the GraphQL answer is not a JSON object (got {shown})", status=status)
    if not body.keys() <= _ENVELOPE or "data" not in body:
        return body  # legacy endpoint: bare data
    errors = body.get("errors")
    data = body.get("data")
    if isinstance(errors, list) and errors:
        listed = _error_list(errors)
        first = listed[0].get("message")
        raise GraphQLError(
            graphql_message(listed),
            title="GraphQL error",
            description=first if isinstance(first, str) and first else "GraphQL error",
            status=status,
            errors=listed,
            data=data,
            body=body,
        )
    if not isinstance(data, dict):
        raise ResponseError(
            "the GraphQL answer has neither data nor errors", status=status, body=body
        )
    return data


async def _read(resp: ClientResponse, limit: int | None) -> dict[str, Any]:
    return _data_of(await decode_body(resp, limit), resp.status)


async def _read_session(resp: ClientResponse, limit: int | None) -> dict[str, Any]:
    return _data_of(await decode_session_body(resp, limit), resp.status)


def graphql_reader(session_mode: bool) -> ResponseReader:
    """The response reader of ``query()`` (SESSION mode also spots a dead login)."""
    return _read_session if session_mode else _read

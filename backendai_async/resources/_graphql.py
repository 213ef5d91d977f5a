"""GraphQL for namespaces: field lists, one-field queries, mutations, and paging.

Every GraphQL-backed namespace method is one call to :func:`select`, :func:`mutate` or
:func:`paginate`: it names the root field, its typed arguments and the fields to return;
the document is built here, version-aware (field names through the compat table), after
negotiation. Arguments whose value is None are left out, as the JS SDK does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import GraphQLError
from ..timeouts import USE_DEFAULT

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat
    from ..timeouts import UseDefault
    from ._base import Api

__all__ = ["Fields", "Var", "check_fields", "mutate", "paginate", "select", "selection"]

Fields = Sequence[str] | str
"""A JS-style field list (``["id", "groups { id name }"]``) or one space-separated string."""

_FIELD_TEXT = re.compile(r"^[\w\s{},]+$")
_NAME = re.compile(r"[_A-Za-z]\w*")
MAX_PAGE_SIZE = 100  # the manager refuses larger pages for most list fields


class Var(NamedTuple):
    """A GraphQL argument: its type in the document (``"String"``, ``"[String]"``) and value."""

    type: str
    value: Any


def check_fields(fields: Fields, what: str = "fields") -> tuple[str, ...]:
    """Validate a field list (names, spaces and ``{}`` only, braces balanced): no injection."""
    items = [fields] if isinstance(fields, str) else list(fields)
    if not items or not all(isinstance(f, str) and f.strip() for f in items):
        raise ValueError(f"{what} must be a non-empty list of GraphQL field names")
    for item in items:
        depth = 0
        for c in item:
            depth += {"{": 1, "}": -1}.get(c, 0)
            if depth < 0:
                break
        if not _FIELD_TEXT.match(item) or depth != 0:
            raise ValueError(f"{what}: {item!r} is not a GraphQL field selection")
    return tuple(items)


def selection(fields: Sequence[str], compat: Compat) -> str:
    """The selection text for ``fields``, with names this version spells differently."""
    renames = compat.gql_renames
    text = " ".join(fields)
    if not renames:
        return text
    return _NAME.sub(lambda m: renames.get(m.group(), m.group()), text)


def _document(
    operation: str, field: str, args: Mapping[str, Var], body: str
) -> tuple[str, dict[str, Any]]:
    given = {name: var for name, var in args.items() if var.value is not None}
    header = ", ".join(f"${name}: {var.type}" for name, var in given.items())
    call = ", ".join(f"{name}: ${name}" for name in given)
    head = f"{operation}({header})" if header else operation
    target = f"{field}({call})" if call else field
    selection_text = f" {{ {body} }}" if body else ""
    return f"{head} {{ {target}{selection_text} }}", {n: v.value for n, v in given.items()}


async def select(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    fields: Sequence[str] | None,
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
    retry: int = 0,
) -> Any:
    """``query { field(args) { fields } }`` and return ``data[field]``."""
    variables = _document("query", field, args, "")[1]

    def text(compat: Compat) -> str:
        body = selection(fields, compat) if fields else ""
        return _document("query", field, args, body)[0]

    data = await api.query(
        text, variables, timeout=timeout, signal=signal, retry=retry, mutation=False
    )
    return data.get(field)


async def mutate(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    returning: Sequence[str] = ("ok", "msg"),
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
) -> Any:
    """``mutation { field(args) { returning } }``; an ``ok: false`` answer raises too.

    Newer managers refuse some mutations inside the data (``ok: false`` with the reason in
    ``msg``) rather than as a GraphQL error; both arrive as :class:`GraphQLError`.
    """
    variables = _document("mutation", field, args, "")[1]

    def text(compat: Compat) -> str:
        return _document("mutation", field, args, selection(returning, compat))[0]

    data = await api.query(text, variables, timeout=timeout, signal=signal, mutation=True)
    result = data.get(field)
    if isinstance(result, Mapping) and result.get("ok") is False:
        reason = result.get("msg") if isinstance(result.get("msg"), str) else "refused"
        raise GraphQLError(
            f"GraphQL error: {field} refused: {reason}",
            title="GraphQL mutation refused",
            description=str(reason),
            status=200,
            errors=[{"message": str(reason), "path": [field]}],
            data=data,
            body=data,
        )
    return result


async def paginate(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    fields: Sequence[str],
    *,
    page_size: int = MAX_PAGE_SIZE,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a ``{field}(limit, offset, …) { items { … } total_count }`` list.

    Page by page (``page_size`` items, each page one call with its own ``timeout``), until
    the server's ``total_count`` is reached or a page comes back short: no silent cap.
    """
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not page_size >= 1:
        raise ValueError(f"page_size must be a positive int, got {page_size!r}")
    offset = 0
    wanted = (f"items {{ {' '.join(fields)} }}", "total_count")
    while True:
        page = await select(
            api,
            field,
            {**args, "limit": Var("Int!", page_size), "offset": Var("Int!", offset)},
            wanted,
            timeout=timeout,
            signal=signal,
        )
        items = page.get("items") if isinstance(page, Mapping) else None
        if not isinstance(items, list):
            return
        for item in items:
            yield item
        offset += len(items)
        total = page.get("total_count")
        if len(items) < page_size or (isinstance(total, int) and offset >= total):
            return

"""GraphQL for namespaces: field lists, one-field queries, mutations, and paging.

Every GraphQL-backed namespace method is one call to :func:`select`, :func:`mutate` or
:func:`paginate` (or their JS-shaped forms :func:`select_data`, :func:`mutate_data`,
:func:`collect`): it names the root field, its typed arguments and the fields to return;
the document is built here, version-aware (field names through the compat table, fields
only some servers have as :class:`Gated`), after negotiation. Arguments whose value is
None are left out, as the JS SDK does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from ..errors import GraphQLError
from ..timeouts import USE_DEFAULT
from ._args import InputSpec, check_int, check_props, check_text, check_uuid

if TYPE_CHECKING:
    from .._abort import AbortSignal
    from .._compat import Compat
    from ..timeouts import UseDefault
    from ._base import Api

__all__ = [
    "FieldList",
    "Fields",
    "FieldsOf",
    "Gated",
    "Renames",
    "Timeout",
    "Var",
    "check_fields",
    "collect",
    "fields_or",
    "mutate",
    "mutate_data",
    "paginate",
    "select",
    "select_data",
    "select_page",
    "selection",
    "target",
]

Timeout = Union[float, "UseDefault", None]
"""A per-call deadline: seconds, None (no deadline) or ``USE_DEFAULT`` (the client's)."""

Fields = Sequence[str] | str
"""A JS-style field list (``["id", "groups { id name }"]``) or one space-separated string."""

_FIELD_TEXT = re.compile(r"^[\w\s{},]+$")
_NAME = re.compile(r"[_A-Za-z]\w*")
MAX_PAGE_SIZE = 100  # the manager refuses larger pages for most list fields


class Var(NamedTuple):
    """A GraphQL argument: its type in the document (``"String"``, ``"[String]"``) and value."""

    type: str
    value: Any


class Gated(NamedTuple):
    """A default field that only servers with ``feature`` (``api.supports``) have.

    Default field lists must work on every server: a field added in a later release (23.09
    has no ``Group.type``) is asked for only where the negotiated server has it.
    """

    field: str
    feature: str


FieldList = Sequence[str | Gated]
"""A namespace's default field list: plain fields and :class:`Gated` ones."""


def fields_or(given: Fields | None, default: FieldList, what: str = "fields") -> FieldList:
    """The caller's field list (validated with :func:`check_fields`) or the default."""
    return default if given is None else check_fields(given, what)


def target(
    key: str,
    value: object,
    spec: InputSpec | None = None,
    input: object = None,
    type: str = "String!",
    what: str | None = None,
) -> dict[str, Var]:
    """A mutation's usual arguments: the object's key (a non-empty string, or ``type``
    ``UUID!``; ``what`` names it in errors) and, with ``spec``, ``props`` (the checked
    ``input`` of that input type)."""
    what = what or key
    checked = check_uuid(value, what) if type == "UUID!" else check_text(value, what)
    args = {key: Var(type, checked)}
    if spec is not None:
        args["props"] = Var(f"{spec.name}!", check_props(input, spec))
    return args


def _wanted(fields: FieldList, api: Api) -> list[str]:
    """The fields to ask this server for (after negotiation, so ``supports`` works)."""
    return [
        f.field if isinstance(f, Gated) else f
        for f in fields
        if not isinstance(f, Gated) or api.supports(f.feature)
    ]


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


def selection(
    fields: Sequence[str], compat: Compat, renames: Mapping[str, str] | None = None
) -> str:
    """The selection text for ``fields``, with names this version spells differently.

    A renamed field is sent with an alias (``session_name: sess_id``), so the answer has the
    names that were asked for on every version. ``renames`` defaults to the version's
    ``gql_renames``.
    """
    table = compat.gql_renames if renames is None else renames
    text = " ".join(fields)
    if not table:
        return text

    def spelled(m: re.Match[str]) -> str:
        name = m.group()
        real = table.get(name)
        return f"{name}: {real}" if real is not None else name

    return _NAME.sub(spelled, text)


Renames = Callable[["Compat"], Mapping[str, str]]
"""The field renames for one object type, read from the negotiated version's table."""

FieldsOf = FieldList | Callable[["Compat"], Sequence[str]]
"""A field list, or a function of the negotiated version giving it (version-aware defaults)."""


def _fields_for(fields: FieldsOf | None, compat: Compat, api: Api) -> Sequence[str]:
    if fields is None:
        return ()
    return fields(compat) if callable(fields) else _wanted(fields, api)


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
    fields: FieldsOf | None,
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
    retry: int = 0,
    renames: Renames | None = None,
) -> Any:
    """``query { field(args) { fields } }`` and return ``data[field]``."""
    variables = _document("query", field, args, "")[1]

    def text(compat: Compat) -> str:
        table = renames(compat) if renames is not None else None
        wanted = _fields_for(fields, compat, api)
        body = selection(wanted, compat, table) if wanted else ""
        return _document("query", field, args, body)[0]

    data = await api.query(
        text, variables, timeout=timeout, signal=signal, retry=retry, mutation=False
    )
    return data.get(field)


async def mutate(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    returning: FieldList = ("ok", "msg"),
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
        return _document("mutation", field, args, selection(_wanted(returning, api), compat))[0]

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
    fields: FieldsOf,
    *,
    page_size: int = MAX_PAGE_SIZE,
    offset: int = 0,
    unique: str | None = None,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
    retry: int = 0,
    renames: Renames | None = None,
) -> AsyncIterator[Any]:
    """Every item of a ``{field}(limit, offset, …) { items { … } total_count }`` list.

    Page by page from ``offset`` (``page_size`` items, each page one call with its own
    ``timeout``), until the server's ``total_count`` is reached or a page comes back short:
    no silent cap. Offsets shift when items come or go meanwhile; with ``unique`` (a key
    every item has, e.g. ``"id"``) an item seen on an earlier page is not yielded again.
    """
    check_int(page_size, "page_size", 1)
    check_int(offset, "offset", 0)
    wanted = _page_of(fields, api)
    seen: set[Any] = set()
    while True:
        page = await select(
            api,
            field,
            {**args, "limit": Var("Int!", page_size), "offset": Var("Int!", offset)},
            wanted,
            timeout=timeout,
            signal=signal,
            retry=retry,
            renames=renames,
        )
        items = page.get("items") if isinstance(page, Mapping) else None
        if not isinstance(items, list):
            return
        for item in items:
            if unique is not None and isinstance(item, Mapping):
                key = item.get(unique)
                if key in seen:
                    continue
                seen.add(key)
            yield item
        offset += len(items)
        total = page.get("total_count")
        if len(items) < page_size or (isinstance(total, int) and offset >= total):
            return


def _page_of(fields: FieldsOf, api: Api) -> Callable[[Compat], list[str]]:
    def wanted(compat: Compat) -> list[str]:
        return [f"items {{ {' '.join(_fields_for(fields, compat, api))} }}", "total_count"]

    return wanted


async def select_page(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    fields: FieldsOf,
    limit: int,
    offset: int,
    *,
    least_limit: int = 1,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
    renames: Renames | None = None,
) -> dict[str, Any]:
    """One page of a list field, as the JS SDK returns it: ``{field: {items, total_count}}``.

    For every item, use :func:`paginate` (the namespaces' ``iter``).
    """
    paged = {
        **args,
        "limit": Var("Int!", check_int(limit, "limit", least_limit)),
        "offset": Var("Int!", check_int(offset, "offset", 0)),
    }
    value = await select(
        api,
        field,
        paged,
        _page_of(fields, api),
        timeout=timeout,
        signal=signal,
        renames=renames,
    )
    return {field: value}


async def select_data(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    fields: FieldList | None,
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
) -> dict[str, Any]:
    """:func:`select` in the JS SDK's result shape: ``{field: value}``."""
    return {field: await select(api, field, args, fields, timeout=timeout, signal=signal)}


async def mutate_data(
    api: Api,
    field: str,
    args: Mapping[str, Var],
    returning: FieldList = ("ok", "msg"),
    *,
    timeout: float | UseDefault | None = USE_DEFAULT,
    signal: AbortSignal | None = None,
) -> dict[str, Any]:
    """:func:`mutate` in the JS SDK's result shape: ``{field: {"ok", "msg", ...}}``."""
    return {field: await mutate(api, field, args, returning, timeout=timeout, signal=signal)}


async def collect(key: str, items: AsyncIterable[Any]) -> dict[str, Any]:
    """Every item of a :func:`paginate` iterator, as the JS SDK's ``{key: [...]}``."""
    return {key: [item async for item in items]}

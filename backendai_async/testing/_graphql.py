"""The fake manager's GraphQL: ``POST /admin/graphql`` (legacy) and ``/admin/gql``.

No GraphQL engine: the document's root fields (with their aliases and arguments) are found
by a small parser, each is answered by the :class:`GraphQLField` registered under its name,
and the answer has the real manager's shapes:

* ``/admin/gql``: HTTP 200 ``{"data": {...}}``, plus ``"errors": [...]`` when a field failed
  (its data is then ``null``);
* ``/admin/graphql``: bare data on success, HTTP 400 ``graphql-error`` with the error list
  under ``"data"`` on any error (as 23.09 does).

Managers 26.x (the fake's boundary: 26.9 does it, 23.09 does not) answer in a newer style:
``"errors": null`` on every success (the legacy endpoint then wraps its data too), an
``extensions.code`` on each execution error and an ``error_code`` on the 400 problem.

Route modules (sessions, vfolders, admin objects) register their fields with
:func:`register_graphql_field`; a resolver receives a :class:`GraphQLContext` (arguments
with variables substituted, the caller's keypair, the server state) and returns the field's
value, or raises :class:`GraphQLFieldError` (:class:`GraphQLValidationError` for what the
real server refuses before running anything, such as a missing required argument: then
``data`` is null). A field registered with an :class:`ObjectType`
answers with the selection applied, and a selection of a field the type lacks fails the
whole document as graphene's validation does (so a default field list that a 23.09 server
refuses fails here too); other fields return their resolver's objects whole. Mutations
registered with :func:`mutation_field` refuse a caller below their role inside the data
(``ok: false, msg: "no permission to execute ..."``), as the manager's mutation middleware
does. Nothing here imports the SDK.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._manager import STATE_KEY, Keypair, ServerState, problem_response
from ._verify import PROBLEM_BASE, parse_api_version

__all__ = [
    "FORBIDDEN_SUPERADMIN",
    "GraphQLContext",
    "GraphQLField",
    "GraphQLFieldError",
    "GraphQLValidationError",
    "ObjectType",
    "RootField",
    "Selection",
    "done",
    "fixture",
    "mutation_field",
    "page",
    "parse_root_fields",
    "register_graphql_field",
]

FORBIDDEN_SUPERADMIN = "Forbidden operation. (superadmin privilege required)"
FORBIDDEN_ADMIN = "Forbidden operation. (admin privilege required)"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


class GraphQLFieldError(Exception):
    """Raised by a resolver: becomes one entry of the answer's ``errors``."""

    def __init__(self, message: str, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = dict(extensions) if extensions else None


class GraphQLValidationError(GraphQLFieldError):
    """Raised by a resolver for what the manager refuses before running the document
    (a missing required argument, a variable of the wrong type): ``data`` becomes null."""


@dataclass(frozen=True)
class Selection:
    """One selected field: ``alias: name { children }`` (children None for a scalar)."""

    name: str
    alias: str
    children: tuple[Selection, ...] | None


@dataclass(frozen=True)
class ObjectType:
    """A GraphQL object type: its name and fields (None: scalar; an ObjectType: object or
    list of objects)."""

    name: str
    fields: Mapping[str, ObjectType | None]

    @classmethod
    def of(cls, name: str, scalars: str, **objects: ObjectType) -> ObjectType:
        """Spelled as the schema lists it: space-separated scalar fields, then objects."""
        return cls(name, {**dict.fromkeys(scalars.split()), **objects})


@dataclass(frozen=True)
class RootField:
    """One root field of a document: ``alias: name(args) { ... }`` at its position."""

    name: str
    alias: str
    args: dict[str, Any]
    line: int
    column: int
    selection: tuple[Selection, ...] | None = None


@dataclass
class GraphQLContext:
    """What a resolver gets: the field's arguments (variables substituted) and the caller."""

    args: dict[str, Any]
    variables: Mapping[str, Any]
    keypair: Keypair
    state: ServerState
    field: RootField
    mutation: bool


Resolver = Callable[[GraphQLContext], Any]


@dataclass(frozen=True)
class GraphQLField:
    """A root field the fake answers; ``role`` is the least role allowed to ask for it."""

    name: str
    resolve: Resolver
    role: str = "user"  # "user", "admin" or "superadmin"
    mutation: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    type: ObjectType | None = None  # when set, the selection is checked and applied
    args: frozenset[str] | None = None  # when set, other arguments fail the document


def register_graphql_field(state: ServerState, gql_field: GraphQLField) -> GraphQLField:
    """Answer ``gql_field.name`` from now on (replacing an earlier registration)."""
    state.graphql_fields[gql_field.name] = gql_field
    return gql_field


# -- a very small GraphQL reader ----------------------------------------------------------


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in " \t\r\n,\ufeff":
                self.pos += 1
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"Syntax Error: Expected {char!r} at offset {self.pos}")
        self.pos += 1

    def name(self) -> str:
        self.skip()
        m = _NAME.match(self.text, self.pos)
        if m is None:
            raise ValueError(f"Syntax Error: Expected Name at offset {self.pos}")
        self.pos = m.end()
        return m.group()

    def position(self) -> tuple[int, int]:
        before = self.text[: self.pos]
        return before.count("\n") + 1, self.pos - (before.rfind("\n") + 1) + 1

    def value(self, variables: Mapping[str, Any]) -> Any:
        c = self.peek()
        text = self.text
        if c == "$":
            self.pos += 1
            return variables.get(self.name())
        if c == '"':
            end = self.pos + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            raw = text[self.pos : end + 1]
            self.pos = end + 1
            return json.loads(raw)
        if c == "[":
            self.pos += 1
            items = []
            while self.peek() != "]":
                items.append(self.value(variables))
            self.pos += 1
            return items
        if c == "{":
            self.pos += 1
            obj = {}
            while self.peek() != "}":
                key = self.name()
                self.expect(":")
                obj[key] = self.value(variables)
            self.pos += 1
            return obj
        m = _NUMBER.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            number = m.group()
            return float(number) if any(ch in number for ch in ".eE") else int(number)
        word = self.name()
        return {"true": True, "false": False, "null": None}.get(word, word)

    def selection_set(self) -> tuple[Selection, ...] | None:
        """``{ a b: c(x: 1) { d } }`` as Selections; None if it has fragments (not applied)."""
        self.expect("{")
        found: list[Selection] = []
        plain = True
        while self.peek() != "}":
            if not self.peek():
                raise ValueError("Syntax Error: Expected '}'")
            if self.text.startswith("...", self.pos):
                plain = False
                self.pos += 3
                if self.peek() != "{":
                    self.name()  # fragment name or "on"
                    if self.peek() not in ("{", "}", "") and self.text[self.pos] != "@":
                        self.name()  # the type condition
                if self.peek() == "{":
                    self.skip_block()
                continue
            name = alias = self.name()
            if self.peek() == ":":
                self.pos += 1
                name = self.name()
            if self.peek() == "(":
                self.pos += 1
                while self.peek() != ")":
                    self.name()
                    self.expect(":")
                    self.value({})
                self.pos += 1
            children = self.selection_set() if self.peek() == "{" else None
            found.append(Selection(name, alias, children))
        self.pos += 1
        return tuple(found) if plain else None

    def skip_block(self) -> None:
        """Skip a ``{ ... }`` selection set (strings inside are honoured)."""
        self.expect("{")
        depth = 1
        text = self.text
        while depth and self.pos < len(text):
            c = text[self.pos]
            if c == '"':
                self.value({})
                continue
            if c == "#":
                self.skip()
                continue
            depth += {"{": 1, "}": -1}.get(c, 0)
            self.pos += 1
        if depth:
            raise ValueError("Syntax Error: Expected '}'")


def parse_root_fields(document: str, variables: Mapping[str, Any]) -> tuple[bool, list[RootField]]:
    """``(is_mutation, root fields)`` of a document's first operation; ValueError if broken."""
    reader = _Reader(document)
    mutation = False
    if reader.peek() != "{":
        kind = reader.name()
        if kind not in ("query", "mutation", "subscription"):
            raise ValueError(f"Syntax Error: Unexpected Name {kind!r}")
        mutation = kind == "mutation"
        if reader.peek() not in ("(", "{", "@"):
            reader.name()  # the operation's name
        if reader.peek() == "(":  # variable definitions
            depth = 0
            while True:
                c = reader.text[reader.pos] if reader.pos < len(reader.text) else ""
                if not c:
                    raise ValueError("Syntax Error: Expected ')'")
                depth += {"(": 1, ")": -1}.get(c, 0)
                reader.pos += 1
                if depth == 0:
                    break
    reader.expect("{")
    fields: list[RootField] = []
    while reader.peek() != "}":
        if not reader.peek():
            raise ValueError("Syntax Error: Expected '}'")
        reader.skip()
        line, column = reader.position()
        name = alias = reader.name()
        if reader.peek() == ":":
            reader.pos += 1
            name = reader.name()
        args: dict[str, Any] = {}
        if reader.peek() == "(":
            reader.pos += 1
            while reader.peek() != ")":
                key = reader.name()
                reader.expect(":")
                args[key] = reader.value(variables)
            reader.pos += 1
        selection = reader.selection_set() if reader.peek() == "{" else None
        fields.append(RootField(name, alias, args, line, column, selection))
    return mutation, fields


# -- the routes ----------------------------------------------------------------------------


def _allowed(role: str, keypair: Keypair) -> str | None:
    if role == "superadmin" and not keypair.is_superadmin:
        return FORBIDDEN_SUPERADMIN
    if role == "admin" and not keypair.is_admin:
        return FORBIDDEN_ADMIN
    return None


def _as_field(value: Any, name: str) -> GraphQLField:
    """Old-style registrations (``resolver(variables, keypair)``) still work."""
    if isinstance(value, GraphQLField):
        return value
    return GraphQLField(name, lambda ctx: value(ctx.variables, ctx.keypair))


def newer_style(state: ServerState) -> bool:
    """Whether the fake answers like managers 26.x (``errors: null``, error codes)."""
    release = re.findall(r"\d+", state.manager_version)
    return bool(release) and int(release[0]) >= 26


def _code(message: str) -> str:
    forbidden = message.startswith("Forbidden operation")
    return "backendai_generic_forbidden" if forbidden else "backendai_generic_internal-error"


def answer_document(
    state: ServerState, keypair: Keypair, document: str, variables: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(data, errors)`` for a document, as the manager's GraphQL would give them."""
    try:
        mutation, roots = parse_root_fields(document, variables)
    except ValueError as exc:
        return None, [{"message": str(exc), "locations": [{"line": 1, "column": 1}]}]
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    newer = newer_style(state)
    kind = (
        ("Mutation" if mutation else "Query") if newer else ("Mutations" if mutation else "Queries")
    )
    for root in roots:  # validation first: any problem and nothing runs
        registered = state.graphql_fields.get(root.name)
        at = {"locations": [{"line": root.line, "column": root.column}]}
        if registered is None:
            invalid.append({"message": f"Cannot query field '{root.name}' on type '{kind}'.", **at})
            continue
        gql_field = _as_field(registered, root.name)
        unknown = sorted(set(root.args) - gql_field.args) if gql_field.args is not None else []
        invalid += [
            {"message": f"Unknown argument '{name}' on field '{kind}.{root.name}'.", **at}
            for name in unknown
        ]
        invalid += [
            {"message": message, **at}
            for message in _invalid_selection(gql_field.type, root.selection)
        ]
    if invalid:
        return None, invalid
    for root in roots:
        where = {"locations": [{"line": root.line, "column": root.column}], "path": [root.alias]}
        gql_field = _as_field(state.graphql_fields[root.name], root.name)
        ctx = GraphQLContext(dict(root.args), variables, keypair, state, root, mutation)
        try:
            refusal = _allowed(gql_field.role, keypair)
            if refusal is not None:
                raise GraphQLFieldError(refusal)
            value = gql_field.resolve(ctx)
            if gql_field.type is not None and root.selection is not None:
                value = _project(value, root.selection)
            data[root.alias] = value
        except GraphQLValidationError as exc:
            invalid.append({"message": exc.message, "locations": where["locations"]})
        except GraphQLFieldError as exc:
            data[root.alias] = None
            entry: dict[str, Any] = {"message": exc.message, **where}
            extensions = exc.extensions or ({"code": _code(exc.message)} if newer else None)
            if extensions:
                entry["extensions"] = extensions
            errors.append(entry)
    if invalid:
        return None, invalid
    return data, errors


def _invalid_selection(
    gql_type: ObjectType | None, selection: tuple[Selection, ...] | None
) -> list[str]:
    """graphene's messages for every selected field the type does not have (as 23.09 and
    26.9 word them, without their "Did you mean ...?" hints)."""
    if gql_type is None or selection is None:
        return []
    found: list[str] = []
    for item in selection:
        if item.name == "__typename":
            continue
        if item.name not in gql_type.fields:
            found.append(f"Cannot query field '{item.name}' on type '{gql_type.name}'.")
            continue
        inner = gql_type.fields[item.name]
        if inner is None and item.children is not None:
            found.append(
                f"Field '{item.name}' must not have a selection since its type has no subfields."
            )
        elif inner is not None and item.children is None:
            found.append(
                f"Field '{item.name}' of type '{inner.name}' must have a selection of subfields."
            )
        else:
            found += _invalid_selection(inner, item.children)
    return found


def _project(value: Any, selection: tuple[Selection, ...] | None) -> Any:
    """The value with only the selected fields (missing ones null), aliases applied."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [_project(v, selection) for v in value]
    if not isinstance(value, Mapping):
        return value
    return {s.alias: _project(value.get(s.name), s.children) for s in selection}


# -- helpers for route modules ------------------------------------------------------------


def fixture(state: ServerState, key: str, seed: Any) -> Any:
    """``state.extras[key]``, created as a deep copy of the module's ``seed`` on first use."""
    if key not in state.extras:
        state.extras[key] = copy.deepcopy(seed)
    return state.extras[key]


def page(rows: Sequence[Any], ctx: GraphQLContext) -> dict[str, Any]:
    """A ``{items, total_count}`` page of ``rows`` by the field's ``limit``/``offset``."""
    offset, limit = int(ctx.args.get("offset") or 0), int(ctx.args.get("limit") or 0)
    return {"items": list(rows[offset : offset + limit]), "total_count": len(rows)}


def done(**extra: Any) -> dict[str, Any]:
    """A successful mutation's payload, as the manager words it."""
    return {"ok": True, "msg": "success", **extra}


def _refuse_below(role: str, name: str, resolve: Resolver) -> Resolver:
    def guarded(ctx: GraphQLContext) -> Any:
        if _allowed(role, ctx.keypair) is not None:
            return {"ok": False, "msg": f"no permission to execute {name}"}
        return resolve(ctx)

    return guarded


_MUTATION_RESULT = ObjectType.of("MutationResult", "ok msg")


def mutation_field(
    name: str,
    resolve: Resolver,
    role: str = "superadmin",
    returns: Mapping[str, ObjectType] | None = None,
) -> GraphQLField:
    """A mutation that answers ``ok: false`` to callers below ``role`` (the manager's
    ``allowed_roles``) and ``{ok, msg, ...}`` otherwise; ``returns`` names the payload's
    object fields (``{"keypair": KEYPAIR}``)."""
    payload = ObjectType(f"{name}_payload", {**_MUTATION_RESULT.fields, **(returns or {})})
    return GraphQLField(name, _refuse_below(role, name, resolve), mutation=True, type=payload)


def _invalid_params(data: Any, msg: str = "Input validation error") -> web.Response:
    return problem_response(
        400, "invalid-api-params", "Missing or invalid API parameters.", msg, data
    )


async def _graphql(request: web.Request, *, legacy: bool) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    kp = state.keypair_of(request)
    assert kp is not None
    try:
        params = json.loads(await request.read()) if request.body_exists else {}
    except ValueError:
        return _invalid_params(None, "Malformed body")
    if not isinstance(params, dict):
        return _invalid_params("value is not a dict")
    errors: dict[str, Any] = {}
    if not isinstance(params.get("query"), str):
        errors["query"] = "is required" if "query" not in params else "value is not a string"
    if params.get("variables") is not None and not isinstance(params["variables"], dict):
        errors["variables"] = {"0": "value should be None", "1": "value is not a dict"}
    allowed = {"query", "variables", "operation_name", "operationName"}
    errors.update({k: f"{k} is not allowed key" for k in params if k not in allowed})
    if errors:
        return _invalid_params(errors)
    data, gql_errors = answer_document(state, kp, params["query"], params.get("variables") or {})
    newer = newer_style(state)
    if legacy:
        if gql_errors:
            problem: dict[str, Any] = {
                "type": PROBLEM_BASE + "graphql-error",
                "title": "GraphQL-generated error.",
            }
            if newer:
                problem["error_code"] = "api_generic_internal-error"
            problem["data"] = gql_errors
            return web.Response(
                status=400,
                body=json.dumps(problem).encode(),
                content_type="application/problem+json",
                charset="utf-8",
            )
        return web.json_response({"data": data, "errors": None} if newer else data)
    body: dict[str, Any] = {"data": data}
    if gql_errors or newer:
        body["errors"] = gql_errors or None
    return web.json_response(body)


async def _graphql_legacy(request: web.Request) -> web.StreamResponse:
    return await _graphql(request, legacy=True)


async def _graphql_standard(request: web.Request) -> web.StreamResponse:
    announced = parse_api_version(request.app[STATE_KEY].api_version)
    if announced is not None and announced < (6, "20210815"):
        return problem_response(404, "url-not-found", "Unknown URL path.", data=request.path)
    return await _graphql(request, legacy=False)


def register_graphql_routes(app: web.Application, state: ServerState) -> None:
    """``POST /admin/graphql`` and ``POST /admin/gql`` (the latter from v6.20210815)."""
    app.router.add_route("POST", "/admin/graphql", _graphql_legacy)
    app.router.add_route("POST", "/admin/gql", _graphql_standard)

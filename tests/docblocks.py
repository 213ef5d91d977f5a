"""The machinery behind tests/test_docs.py and tests/integration/test_docs_real.py: find every
```python block of README.md and docs/**/*.md, and run one the way a reader would.

The conventions for writing runnable blocks are in tests/test_docs.py's docstring and in
docs/testing.md ("Examples that run"). This module only implements them; it has no tests.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import importlib.util
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import backendai_async
from backendai_async import Client, ClientConfig, ClientState, errors

ROOT = Path(__file__).resolve().parents[1]
PYTHON_INFO = frozenset({"python", "py", "python3"})
KNOWN_NEEDS = frozenset({"real-server", "webserver"})
DIRECTIVES = frozenset({"needs", "also", "expect-error"})
# Endpoints a block may name: the real servers of ../shared and the public default. Blocks
# are run with these replaced by the servers of the tier (never the internet).
MANAGER_URLS = ("http://127.0.0.1:8081", "https://api.backend.ai")
WEBSERVER_URLS = ("http://127.0.0.1:8090",)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)[^`]*$")
_COMMENT = re.compile(r"^[ \t]*<!--(?P<body>.*?)-->[ \t]*$")
_DIRECTIVE = re.compile(r"^\s*(?P<name>[A-Za-z][\w-]*)\s*:(?P<value>.*)$", re.S)


class DocsError(Exception):
    """A markdown file breaks the conventions (unclosed fence, unknown directive ...)."""


@dataclass(frozen=True)
class DocBlock:
    """One ```python block: where it is, its code, and what its directives ask for."""

    source: Path  # relative to the repository root
    line: int  # 1-based line of the block's first code line
    code: str
    needs: frozenset[str] = frozenset()
    also: frozenset[str] = frozenset()  # "also: real-server": in both tiers
    imports: tuple[str, ...] = ()  # "needs: import:NAME" - skipped where NAME is missing
    expect_errors: tuple[str, ...] = ()  # "expect-error: ServerError, AbortError"

    @property
    def fast(self) -> bool:
        """Whether ``make test`` runs it (against the embedded servers)."""
        return "real-server" not in self.needs

    @property
    def real(self) -> bool:
        """Whether ``make test-real`` runs it (against the real servers)."""
        return "real-server" in self.needs or "real-server" in self.also

    @property
    def id(self) -> str:
        return f"{self.source.as_posix()}:{self.line}"

    def missing_imports(self) -> list[str]:
        return [name for name in self.imports if importlib.util.find_spec(name) is None]


def markdown_files(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/ (new pages are picked up by themselves)."""
    found = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    return [p for p in found if p.is_file()]


def collect(root: Path = ROOT) -> list[DocBlock]:
    blocks: list[DocBlock] = []
    for path in markdown_files(root):
        blocks.extend(parse_markdown(path.read_text(encoding="utf-8"), path.relative_to(root)))
    return blocks


def parse_markdown(text: str, source: Path) -> list[DocBlock]:
    """The python blocks of one markdown text, with the directives written right above each.

    A directive is an HTML comment ``<!-- name: value -->`` on the lines just before the
    opening fence (blank lines may separate them). A directive anywhere else, or an unknown
    one, is an error rather than something silently ignored.
    """
    lines = text.splitlines()
    blocks: list[DocBlock] = []
    pending: list[tuple[int, str, str]] = []  # (line, name, value) of directives above
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence is None:
            comment = _COMMENT.match(line)
            directive = _DIRECTIVE.match(comment["body"]) if comment else None
            if directive is not None:
                pending.append((i + 1, directive["name"], directive["value"].strip()))
            elif line.strip():
                _refuse_stray(pending, source)
                pending = []
            i += 1
            continue
        marker, indent = fence["fence"], len(fence["indent"])
        end = i + 1
        while end < len(lines) and not _closes(lines[end], marker):
            end += 1
        if end >= len(lines):
            raise DocsError(f"{source}:{i + 1}: the code fence {marker} is never closed")
        body = [_dedent(raw, indent) for raw in lines[i + 1 : end]]
        if fence["info"].lower() in PYTHON_INFO:
            blocks.append(_block(source, i + 2, "\n".join(body) + "\n", pending))
        else:
            _refuse_stray(pending, source)
        pending = []
        i = end + 1
    _refuse_stray(pending, source)
    return blocks


def _closes(line: str, marker: str) -> bool:
    stripped = line.strip()
    return (
        bool(stripped)
        and stripped[0] == marker[0]
        and set(stripped) == {marker[0]}
        and len(stripped) >= len(marker)
    )


def _dedent(line: str, indent: int) -> str:
    width = len(line) - len(line.lstrip(" \t"))
    return line[min(width, indent) :]


def _refuse_stray(pending: list[tuple[int, str, str]], source: Path) -> None:
    """A directive must sit right above a python block (other comments are left alone)."""
    for line, name, _ in pending:
        if name in DIRECTIVES:
            raise DocsError(
                f"{source}:{line}: directive {name!r} is not right before a python block"
            )


def _block(source: Path, line: int, code: str, directives: list[tuple[int, str, str]]) -> DocBlock:
    needs: set[str] = set()
    also: set[str] = set()
    imports: list[str] = []
    expected: list[str] = []
    for at, name, value in directives:
        items = [v.strip() for v in value.split(",") if v.strip()]
        if name == "also":
            if set(items) != {"real-server"}:
                raise DocsError(f"{source}:{at}: 'also' takes only real-server, got {value!r}")
            also.add("real-server")
        elif name == "needs":
            for item in items:
                if item.startswith("import:"):
                    imports.append(item.removeprefix("import:"))
                elif item in KNOWN_NEEDS:
                    needs.add(item)
                else:
                    raise DocsError(f"{source}:{at}: unknown need {item!r}")
        elif name == "expect-error":
            for item in items:
                if _error_class(item) is None:
                    raise DocsError(f"{source}:{at}: {item!r} is not an exception class")
            expected.extend(items)
        else:  # a comment that looks like a directive, right above a block: a typo?
            known = ", ".join(sorted(DIRECTIVES))
            raise DocsError(f"{source}:{at}: unknown directive {name!r} (known: {known})")
    return DocBlock(
        source, line, code, frozenset(needs), frozenset(also), tuple(imports), tuple(expected)
    )


def _error_class(name: str) -> type[BaseException] | None:
    found = getattr(backendai_async, name, None) or getattr(builtins, name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


# -- running one block ----------------------------------------------------------------------


@dataclass
class Servers:
    """Where a block's names point: the tier's manager and webserver, and who logs in."""

    manager: str
    webserver: str | None
    api_keys: tuple[str, str]
    web_login: tuple[str, str] | None

    def env(self, block: DocBlock) -> dict[str, str]:
        """The ``BACKEND_*`` variables ``ClientConfig.from_env()`` reads in this block."""
        if "webserver" in block.needs:
            assert self.webserver is not None
            assert self.web_login is not None
            (key, secret), endpoint, kind = self.web_login, self.webserver, "session"
        else:
            (key, secret), endpoint, kind = self.api_keys, self.manager, "api"
        return {
            "BACKEND_ACCESS_KEY": key,
            "BACKEND_SECRET_KEY": secret,
            "BACKEND_ENDPOINT": endpoint,
            "BACKEND_ENDPOINT_TYPE": kind,
        }

    def endpoint_for(self, url: str) -> str | None:
        bare = url.rstrip("/")
        if bare in MANAGER_URLS:
            return self.manager
        if bare in WEBSERVER_URLS:
            return self.webserver
        return None


@dataclass
class BlockRun:
    """What happened while a block ran: the SDK errors it caused, the one it raised."""

    errors: list[errors.ClientError] = field(default_factory=list)
    raised: BaseException | None = None  # a declared error that ended the block


async def run_in_tier(
    block: DocBlock, target: Servers, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> BlockRun:
    """Run ``block`` for a test of either tier: its environment and an empty working
    directory set up, in a worker thread, its errors checked against its directives."""
    missing = block.missing_imports()
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which is not installed")
    env = target.env(block)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(workdir)
    run = await asyncio.to_thread(run_block, block, target, env)
    check_expected_errors(block, run)
    return run


def check_expected_errors(block: DocBlock, run: BlockRun) -> None:
    """No SDK error unless the block declares it; a declared one must really happen."""
    wanted = tuple(_error_class(name) or Exception for name in block.expect_errors)
    shown = [f"{type(e).__name__}: {e.message}" for e in run.errors]
    if not wanted:
        assert not run.errors, (
            f"{block.id} caused SDK errors it does not declare (caught somewhere?): {shown}; "
            "mark the block <!-- expect-error: ClassName --> if that is the point"
        )
        return
    assert run.errors or run.raised is not None, (
        f"{block.id} declares {', '.join(block.expect_errors)} but no such error happened"
    )
    stray = [text for e, text in zip(run.errors, shown, strict=True) if not isinstance(e, wanted)]
    assert not stray, f"{block.id}: errors other than {', '.join(block.expect_errors)}: {stray}"


def compile_block(block: DocBlock, target: Servers) -> tuple[Any, bool]:
    """The block's code object and whether it is wrapped in ``async def`` (top-level await).

    Top-level ``await``, ``async with``/``for`` and ``return`` need the wrapper; its
    assignments are made global, so the block behaves like the asyncio REPL.
    """
    filename = str(ROOT / block.source)
    tree = ast.parse(block.code, filename=filename)
    ast.increment_lineno(tree, block.line - 1)
    _retarget(tree, target)
    try:
        return compile(tree, filename, "exec"), False
    except SyntaxError:
        pass
    wrapper = ast.parse("async def __docs_block__():\n    pass\n")
    function = wrapper.body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    names = sorted(_assigned_names(tree.body))
    function.body = ([ast.Global(names=names)] if names else []) + tree.body
    ast.fix_missing_locations(wrapper)
    return compile(wrapper, filename, "exec"), True


def _retarget(tree: ast.AST, target: Servers) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            replaced = target.endpoint_for(node.value)
            if replaced is not None:
                node.value = replaced


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """Names the block's top level binds (not those of nested functions or classes)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            for decorator in node.decorator_list:
                visit(decorator)
            return
        if isinstance(node, _SCOPES):
            return
        if isinstance(node, ast.AnnAssign):  # an annotated name cannot be declared global
            for child in (node.annotation, node.value):
                if child is not None:
                    visit(child)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in body:
        visit(statement)
    return names


def run_block(block: DocBlock, target: Servers, env: Mapping[str, str]) -> BlockRun:
    """Run ``block`` in this (worker) thread, which has no event loop of its own yet.

    The block sees ``cfg`` (``ClientConfig.from_env()`` for its tier) and ``client`` (an
    unopened ``Client(cfg)``, closed afterwards); every ``test_*`` function it defines is
    called (awaited when async). It must not leave tasks running.
    """
    assert threading.current_thread() is not threading.main_thread()
    code, wrapped = compile_block(block, target)
    cfg = ClientConfig.from_env(env)
    client = Client(cfg)
    namespace: dict[str, Any] = {"__name__": "__docs__", "cfg": cfg, "client": client}
    run = BlockRun()
    wanted = tuple(_error_class(name) or Exception for name in block.expect_errors)
    with _recording_errors(run.errors), _catching(wanted, run):
        if wrapped:
            exec(code, namespace)
            asyncio.run(_finish(block, namespace, client, namespace["__docs_block__"]))
        else:
            exec(code, namespace)  # a script block may call asyncio.run() itself
            if client.state is ClientState.OPEN:
                raise AssertionError(
                    f"{block.id} used the predefined client inside its own event loop; "
                    "build a Client inside the coroutine that asyncio.run() runs"
                )
            asyncio.run(_finish(block, namespace, client, None))
    return run


async def _finish(
    block: DocBlock,
    namespace: dict[str, Any],
    client: Client,
    body: Callable[[], Any] | None,
) -> None:
    try:
        if body is not None:
            await body()
        for test in _tests_defined(block, namespace):
            outcome = test()
            if asyncio.iscoroutine(outcome):
                await outcome
        current = asyncio.current_task()
        left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        assert not left, f"{block.id} left tasks running: {left}"
    finally:
        await client.close()


def _tests_defined(block: DocBlock, namespace: Mapping[str, Any]) -> Iterator[Callable[[], Any]]:
    filename = str(ROOT / block.source)
    for name, value in list(namespace.items()):
        code = getattr(value, "__code__", None)
        if name.startswith("test_") and code is not None and code.co_filename == filename:
            yield value


class _catching:
    """A declared error may end the block (a block that shows what raises)."""

    def __init__(self, wanted: tuple[type[BaseException], ...], run: BlockRun) -> None:
        self._wanted = wanted
        self._run = run

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None and self._wanted and isinstance(exc, self._wanted):
            self._run.raised = exc
            return True
        return False


class _recording_errors:
    """Collect every ClientError created while the block runs (on any thread)."""

    def __init__(self, into: list[errors.ClientError]) -> None:
        self._into = into
        self._original: Any = None

    def __enter__(self) -> None:
        original = self._original = errors.ClientError.__init__
        into = self._into

        def recording(err: errors.ClientError, *args: Any, **kwargs: Any) -> None:
            original(err, *args, **kwargs)
            into.append(err)

        errors.ClientError.__init__ = recording  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        errors.ClientError.__init__ = self._original  # type: ignore[method-assign]

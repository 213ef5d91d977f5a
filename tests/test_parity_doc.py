"""docs/parity.md stays true.

The page maps every JS SDK method to its Python name, status and tests. These checks keep it
honest: every cited ``tests/<file>.py::<test>`` exists, every ``done`` row cites a test and
names something, every Python name resolves (on a real, unopened ``Client``, on
``ClientConfig`` or in a module of the package; nothing is called), the counts in the intro
add up, and, when ``../shared/research/js-parity.md`` is beside the repository, every JS
method of its class tables (the pipeline service classes aside) has its row, in its class.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backendai_async import Client, ClientConfig

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "parity.md"
JS_PARITY = ROOT.parent / "shared" / "research" / "js-parity.md"
OUT_OF_SCOPE = frozenset({"Pipeline", "PipelineJob", "PipelineTaskInstance"})
COLUMNS = ["JS method", "Python name", "status", "tests"]
STATUSES = ("done", "not applicable", "in progress")
NONE = "—"
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_CODE = re.compile(r"`([^`]+)`")
_TEST_REF = re.compile(r"^(tests/(?:\w+/)*\w+\.py)::(\w+)(\[[^\]]+\])?$")
_JS_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")
_COUNTS = re.compile(
    r"\*\*(\d+)\*\* rows: \*\*(\d+)\*\* done, \*\*(\d+)\*\* not applicable, "
    r"\*\*(\d+)\*\* in progress"
)


@dataclass(frozen=True)
class Row:
    section: str
    line: int
    js: str
    python: str
    status: str
    tests: str

    @property
    def kind(self) -> str:
        return next((s for s in STATUSES if self.status.startswith(s)), "")

    @property
    def where(self) -> str:
        return f"docs/parity.md:{self.line} ({self.section} {self.js})"


def _cells(line: str) -> list[str]:
    return [c.strip() for c in _CELL_SPLIT.split(line.strip().strip("|"))]


def _is_separator(cells: list[str]) -> bool:
    return all(set(c) <= set("-: ") for c in cells)


def _class_of(heading: str) -> str:
    """The JS class a heading is about: its first word (``Configuration`` is ClientConfig)."""
    word = heading.split()[0]
    return "ClientConfig" if word == "Configuration" else word


@functools.cache
def page_rows() -> tuple[tuple[str, ...], tuple[Row, ...]]:
    """(the ``##`` sections in order, every table row of the page)."""
    sections: list[str] = []
    rows: list[Row] = []
    in_table = False
    for number, line in enumerate(PAGE.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("## "):
            sections.append(_class_of(line[3:]))
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if not in_table:  # a table's first line is its header
            assert cells == COLUMNS, f"docs/parity.md:{number}: header must be {COLUMNS}"
            assert sections, f"docs/parity.md:{number}: a table before any ## section"
            in_table = True
        elif not _is_separator(cells):
            assert len(cells) == 4, f"docs/parity.md:{number}: {len(cells)} cells, not 4"
            rows.append(Row(sections[-1], number, *cells))
    return tuple(sections), tuple(rows)


def _test_refs(cell: str, where: str) -> list[str]:
    if cell == NONE:
        return []
    refs = []
    for part in cell.split(";"):
        code = _CODE.fullmatch(part.strip())
        assert code, f"{where}: tests are `tests/<file>.py::<test>` separated by '; ': {part!r}"
        refs.append(code.group(1))
    return refs


@functools.cache
def _test_functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), path)
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


def _missing_test(ref: str) -> str | None:
    """Why ``ref`` does not name a test, or None when it does."""
    match = _TEST_REF.match(ref)
    if match is None:
        return "not of the form tests/<file>.py::<test_function>[<id>]"
    path, function = match.group(1), match.group(2)
    if not (ROOT / path).is_file():
        return f"no file {path}"
    if not function.startswith("test_") or function not in _test_functions(path):
        return f"{path} defines no test function {function}"
    return None


def _python_names(cell: str) -> list[str]:
    return [] if cell == NONE else [name.split("(")[0] for name in _CODE.findall(cell)]


@functools.cache
def _client() -> Client:
    return Client(ClientConfig("AKIAPARITYDOC", "parity-doc-secret", "http://127.0.0.1:9"))


def _resolve(name: str) -> Any:
    """The object a page name denotes; raises AttributeError/ImportError if there is none."""
    root, *attrs = name.split(".")
    obj: Any
    if root == "client":
        obj = _client()
    elif root == "ClientConfig":
        obj = ClientConfig
    else:
        obj = importlib.import_module(f"backendai_async.{root}")
    for attr in attrs:
        obj = getattr(obj, attr)
    return obj


def test_every_row_has_a_known_status_and_done_rows_are_tested() -> None:
    _, rows = page_rows()
    assert rows
    for row in rows:
        js = _CODE.findall(row.js)
        assert len(js) == 1, f"{row.where}: one `jsName` per row"
        assert _JS_NAME.match(js[0]), f"{row.where}: {js[0]!r} is not a JS identifier"
        assert row.kind, f"{row.where}: status must start with one of {STATUSES}"
        tests = _test_refs(row.tests, row.where)
        if row.kind == "done":
            assert tests, f"{row.where}: a done row cites at least one test"
            assert _python_names(row.python), f"{row.where}: a done row gives its Python name"
        elif row.kind == "not applicable":
            assert re.match(r"not applicable: \S", row.status), f"{row.where}: say why"
        else:
            assert re.match(r"in progress \(\w+\)", row.status), f"{row.where}: name the slice"


def test_every_cited_test_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    refs = sorted({c for c in _CODE.findall(text) if "::" in c and "<" not in c})
    assert refs
    missing = [f"{ref}: {why}" for ref in refs if (why := _missing_test(ref)) is not None]
    assert not missing, "docs/parity.md cites tests that do not exist:\n" + "\n".join(missing)


def test_every_python_name_resolves_on_a_real_client() -> None:
    _, rows = page_rows()
    names = {(name, row.where) for row in rows for name in _python_names(row.python)}
    # Names in the notes between tables too, when they are client attributes.
    text = PAGE.read_text(encoding="utf-8")
    names |= {
        (code, "docs/parity.md") for code in _CODE.findall(text) if code.startswith("client.")
    }
    unresolved = []
    for name, where in sorted(names):
        try:
            _resolve(name)
        except (AttributeError, ImportError) as exc:
            unresolved.append(f"{where}: `{name}` ({exc})")
    assert not unresolved, "Python names that do not exist:\n" + "\n".join(unresolved)


def test_the_counts_in_the_intro_add_up() -> None:
    _, rows = page_rows()
    match = _COUNTS.search(PAGE.read_text(encoding="utf-8"))
    assert match, "docs/parity.md states **N** rows: **D** done, **A** not applicable, ..."
    kinds = [row.kind for row in rows]
    counted = (len(rows), *(kinds.count(kind) for kind in STATUSES))
    assert tuple(int(n) for n in match.groups()) == counted


def js_methods() -> dict[str, list[str]]:
    """Every JS class of js-parity.md's method tables (in its order) and the names listed."""
    classes: dict[str, list[str]] = {}
    current: str | None = None
    column: int | None = None
    for line in JS_PARITY.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            current = _class_of(line.lstrip("#").strip()) if line.startswith("### ") else None
            column = None
        elif line.startswith("|") and current is not None:
            cells = _cells(line)
            if column is None:
                found = [i for i, c in enumerate(cells) if c in ("JS method", "JS member")]
                if not found:
                    current = None  # not a method table (e.g. Client properties)
                    continue
                column = found[0]
                classes.setdefault(current, [])
            elif not _is_separator(cells):
                shown = re.sub(r"\([^)]*\)", "", cells[column])  # not "(`sha256`)", "(sic)"
                names = [n for n in _CODE.findall(shown) if _JS_NAME.match(n)]
                assert names, f"js-parity.md: no JS name in {line!r}"
                classes[current].extend(names)
    return {name: methods for name, methods in classes.items() if name not in OUT_OF_SCOPE}


def test_every_js_method_has_its_row_under_its_class() -> None:
    if not JS_PARITY.is_file():
        pytest.skip(
            f"{JS_PARITY} is absent (a clone without ../shared): the page's JS side is not "
            "compared with the research tables; the other checks still run"
        )
    expected = js_methods()
    sections, rows = page_rows()
    assert list(sections) == list(expected), "one ## section per JS class, in js-parity.md's order"
    problems = []
    for cls, methods in expected.items():
        listed = [n for row in rows if row.section == cls for n in _CODE.findall(row.js)]
        problems += [f"{cls}.{m}: no row" for m in methods if m not in listed]
        problems += [
            f"{cls}.{m}: not a JS method of js-parity.md" for m in listed if m not in methods
        ]
        problems += [f"{cls}.{m}: listed twice" for m in set(listed) if listed.count(m) > 1]
    assert not problems, "docs/parity.md and js-parity.md disagree:\n" + "\n".join(problems)


def test_the_readme_links_the_page() -> None:
    assert "(docs/parity.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_checks_catch_what_they_are_for() -> None:
    assert _missing_test("tests/test_parity_doc.py::test_the_counts_in_the_intro_add_up") is None
    assert (
        _missing_test("tests/test_wire.py::test_every_method_is_signed_and_accepted[GET]") is None
    )
    assert "defines no test" in str(_missing_test("tests/test_wire.py::test_no_such_test"))
    assert "no file" in str(_missing_test("tests/test_nowhere.py::test_x"))
    assert "of the form" in str(_missing_test("test_wire.py::test_x"))
    with pytest.raises(AttributeError):
        _resolve("client.vfolder.no_such_method")
    with pytest.raises(ImportError):
        _resolve("no_such_module.x")
    assert callable(_resolve("client.keypair.list"))

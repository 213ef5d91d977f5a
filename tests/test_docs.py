"""Every ```python block of README.md and docs/**/*.md runs here, against the embedded servers.

An example that rots is a bug; this test finds it. Conventions for writing a runnable block
(also in docs/testing.md, "Examples that run"):

* **Where it runs.** Each block runs on its own: a fresh ``BackendAITestServer`` (the fake
  manager) with a fake webserver in front of it, in a fresh empty working directory, in a
  worker thread with no event loop (so a block may call ``asyncio.run(main())``).
* **What it sees.** ``cfg`` (``ClientConfig.from_env()``) and ``client`` (an unopened
  ``Client(cfg)``, closed afterwards). The ``BACKEND_*`` variables point at the fake manager
  with the superadmin example keys; in a block marked ``<!-- needs: webserver -->`` they
  point at the fake webserver in SESSION mode as ``user@lablup.com`` (not logged in yet).
  Anything else the block uses it imports or creates itself, so readers can copy it.
* **Endpoints.** The string literals ``"http://127.0.0.1:8081"`` and
  ``"https://api.backend.ai"`` (a manager) and ``"http://127.0.0.1:8090"`` (a webserver)
  are replaced by the tier's servers: nothing ever leaves the machine. The example keys of
  ``../shared/real-backend`` work on the fakes too.
* **Already there.** A RUNNING compute session ``my-session`` of the superadmin, with the
  files ``out/model.bin``, ``out/log.txt`` and ``data/input.csv`` in its working directory.
* **Top-level await** (and ``async with``, ``async for``, ``return``) is allowed: such a
  block is wrapped in an ``async def`` whose assignments stay global, like the asyncio REPL.
* **Tests in blocks.** Every function named ``test_*`` a block defines is called (awaited
  when it is ``async``), so a documented pytest test is also run.
* **Errors.** A block must not cause any SDK error (even one it catches) unless it says
  ``<!-- expect-error: ServerError -->`` (class names, comma separated): then every SDK error
  must be one of those, at least one must happen, and one may end the block.
* **Directives** are one-line HTML comments right before the opening fence (blank lines may
  separate them): ``<!-- needs: real-server -->`` (runs in ``make test-real`` instead, see
  tests/integration/test_docs_real.py), ``<!-- also: real-server -->`` (runs in both tiers:
  for blocks showing what real servers do), ``<!-- needs: webserver -->``, ``<!-- needs:
  import:fastapi -->`` (skipped where that module is missing). A misspelt or misplaced
  directive fails the collection test below.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backendai_async import Client, ClientConfig
from backendai_async.testing import (
    EXAMPLE_WEB_USERS,
    BackendAITestServer,
    BackendAITestWebserver,
)

from .docblocks import (
    ROOT,
    DocBlock,
    DocsError,
    Servers,
    collect,
    markdown_files,
    parse_markdown,
    run_in_tier,
)

BLOCKS = collect()
FAST = [b for b in BLOCKS if b.fast]
WEB_USER = next(u for u in EXAMPLE_WEB_USERS if u.email == "user@lablup.com")
SEEDED_FILES = {
    "out/model.bin": bytes(range(256)) * 64,
    "out/log.txt": b"epoch 1: loss 0.9\nepoch 2: loss 0.4\n",
    "data/input.csv": b"x,y\n1,2\n3,4\n",
}


@pytest.fixture
async def servers() -> AsyncIterator[tuple[BackendAITestServer, BackendAITestWebserver]]:
    async with (
        BackendAITestServer() as manager,
        BackendAITestWebserver(manager=manager) as webserver,
    ):
        cfg = ClientConfig(manager.access_key, manager.secret_key, str(manager.endpoint))
        async with Client(cfg) as seeder:
            await seeder.create_if_not_exists("python", "my-session")
            for path, content in SEEDED_FILES.items():
                await seeder.upload("my-session", path, content)
        manager.clear()
        yield manager, webserver


@pytest.mark.parametrize("block", FAST, ids=[b.id for b in FAST])
async def test_the_block_runs(
    block: DocBlock,
    servers: tuple[BackendAITestServer, BackendAITestWebserver],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager, webserver = servers
    target = Servers(
        manager=str(manager.endpoint),
        webserver=str(webserver.endpoint),
        api_keys=(manager.access_key, manager.secret_key),
        web_login=(WEB_USER.email, WEB_USER.password),
    )
    await run_in_tier(block, target, tmp_path, monkeypatch)
    # Whatever the block sent was answered by the fakes without an internal error.
    broken = [f"{r.method} {r.raw_path}" for r in manager.requests if (r.status or 0) >= 500]
    assert not broken or block.expect_errors, f"the fake manager answered 5xx to {broken}"


def test_every_page_with_python_blocks_is_collected() -> None:
    """The collection itself: every page that opens a python fence gives blocks."""
    opening = re.compile(r"^(```|~~~)\s*(python|py|python3)\s*$", re.M)
    with_fences = {
        p.relative_to(ROOT).as_posix()
        for p in markdown_files()
        if opening.search(p.read_text(encoding="utf-8"))
    }
    pages = {b.source.as_posix() for b in BLOCKS}
    assert pages == with_fences
    assert {"README.md", "docs/sessions.md", "docs/testing.md", "docs/modes.md"} <= pages
    assert all(b.code.strip() for b in BLOCKS)
    assert any(b.real for b in BLOCKS)  # the integration tier has work


# -- the markdown reader ------------------------------------------------------------------


SAMPLE = """\
# A page

```python
print(1)
```

<!-- needs: webserver -->
<!-- also: real-server -->
<!-- expect-error: ServerError, AbortError -->

```py
x = 2
```

- a list item with an indented block:

    ```python
    def f():
        return 3
    ```

````markdown
```python
not collected: inside another fence
```
````

~~~python
y = 4
~~~

<!-- a plain comment: left alone -->

```bash
echo not python
```
"""


def test_the_reader_finds_blocks_directives_and_lines() -> None:
    blocks = parse_markdown(SAMPLE, Path("docs/sample.md"))
    assert [(b.line, b.code) for b in blocks] == [
        (4, "print(1)\n"),
        (12, "x = 2\n"),
        (18, "def f():\n    return 3\n"),
        (29, "y = 4\n"),
    ]
    assert blocks[1].needs == {"webserver"}
    assert blocks[1].real
    assert blocks[1].fast
    assert blocks[1].expect_errors == ("ServerError", "AbortError")
    assert blocks[0].needs == blocks[2].needs == frozenset()
    assert blocks[0].id == "docs/sample.md:4"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("```python\nprint(1)\n", "never closed"),
        ("<!-- needs: real-servers -->\n```python\nx = 1\n```\n", "unknown need"),
        ("<!-- need: webserver -->\n```python\nx = 1\n```\n", "unknown directive 'need'"),
        ("<!-- needs: webserver -->\ntext\n```python\nx = 1\n```\n", "not right before"),
        ("<!-- needs: webserver -->\n```bash\nls\n```\n", "not right before"),
        ("<!-- expect-error: NoSuchError -->\n```python\nx = 1\n```\n", "not an exception"),
        ("<!-- also: webserver -->\n```python\nx = 1\n```\n", "only real-server"),
    ],
)
def test_mistakes_in_the_conventions_are_errors(text: str, problem: str) -> None:
    with pytest.raises(DocsError, match=problem):
        parse_markdown(text, Path("docs/bad.md"))


def test_the_block_ids_point_into_the_files() -> None:
    for block in BLOCKS:
        lines = (ROOT / block.source).read_text(encoding="utf-8").splitlines()
        first = block.code.splitlines()[0]
        assert lines[block.line - 1].strip() == first.strip(), block.id

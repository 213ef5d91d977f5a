"""The integration tier: the same tests against every REAL Backend.AI server configured.

By default the two harnesses of ``../shared``: 23.09.10 (no agent) and 26.9.6 (with a dummy
agent); ``BACKENDAI_REAL_TARGETS`` and the variables of ``_targets.py`` (docs/testing.md)
point it elsewhere. Every test that uses the ``real`` fixture (directly or through
``admin``/``user``) runs once per server, its id naming the target (``test_x[26.9]``).

``make test-real`` starts the harnesses first. An unreachable server fails the run with a
message that says how to start it (CI must not pass silently without it), unless
``BACKENDAI_REAL_OPTIONAL=1``, which skips that server's tests instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import pytest_asyncio
from yarl import URL

from backendai_async import Client, ClientConfig, ServerError

from ._facts import OBSERVATIONS, ServerFacts
from ._targets import Target, load_targets

T = TypeVar("T")
OBSERVED_DIR = Path(__file__).resolve().parent / ".observed"
AGENTS_QUERY = "{ agent_list(limit: 100, offset: 0) { items { status } } }"

try:
    TARGETS = load_targets()
    _TARGET_ERROR: str | None = None
except ValueError as err:
    TARGETS, _TARGET_ERROR = [], str(err)


def pytest_configure(config: pytest.Config) -> None:
    if _TARGET_ERROR is not None:
        raise pytest.UsageError(f"integration tier: {_TARGET_ERROR} (see docs/testing.md)")


def _reachable(url: str) -> bool:
    u = URL(url)
    try:
        with socket.create_connection((u.host or "127.0.0.1", u.port or 80), timeout=2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)
    used = {id(t) for item in items if (t := _target_of(item)) is not None}
    down: dict[str, str] = {}
    for target in TARGETS:
        if id(target) not in used:
            continue
        missing = [u for u in (target.manager, target.webserver) if not _reachable(u)]
        if missing:
            down[target.label] = (
                f"the real Backend.AI {target.label} server is not reachable at "
                f"{' and '.join(missing)}: {target.how_to_start()}"
            )
    if not down:
        return
    if os.environ.get("BACKENDAI_REAL_OPTIONAL") != "1":
        raise pytest.UsageError("\n".join(down.values()))
    for item in items:
        of_item = _target_of(item)
        if of_item is not None and of_item.label in down:
            item.add_marker(pytest.mark.skip(reason=down[of_item.label]))


def _target_of(item: pytest.Item) -> Target | None:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("real") if callspec is not None else None
    return value if isinstance(value, Target) else None


# -- one server during the run -----------------------------------------------------------


@dataclass
class Real:
    """A target during the run: its configuration, its facts, and what the tests observed."""

    target: Target
    facts: ServerFacts
    observed: dict[str, str] = field(default_factory=dict)

    def observe(self, key: str, value: str) -> None:
        """Record what the server did; where ``RELEASES`` has a row, it must match it."""
        assert key in OBSERVATIONS, f"unknown observation {key!r}: add it to OBSERVATIONS"
        self.observed[key] = value
        behaviour = self.facts.behaviour
        if behaviour is not None and key in behaviour.values:
            expected = behaviour.values[key]
            assert value == expected, (
                f"{self.target.label} ({self.facts.manager}) {key}: observed {value!r}, "
                f"RELEASES in tests/integration/_facts.py says {expected!r}"
            )

    def write(self) -> Path:
        """``.observed/<release>.json``, the input of ``compat_table.py``."""
        OBSERVED_DIR.mkdir(exist_ok=True)
        path = OBSERVED_DIR / f"{self.facts.manager}.json"
        record = {
            "label": self.target.label,
            "manager": self.facts.manager,
            "announced": self.facts.api_version,
            "observed": dict(sorted(self.observed.items())),
        }
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return path


async def _discover(target: Target) -> ServerFacts:
    async with Client(ClientConfig(*target.admin, target.manager)) as admin:
        info = await admin.get_server_version()
        answer = await admin.request("POST", "/admin/graphql", json={"query": AGENTS_QUERY})
    envelope = isinstance(answer, dict) and set(answer) == {"data", "errors"}
    data = answer["data"] if envelope else answer
    alive = [a for a in data["agent_list"]["items"] if a["status"] == "ALIVE"]
    return ServerFacts(
        api_version=info["version"],
        manager=info["manager"],
        agents_alive=len(alive),
        graphql_envelope=envelope,
    )


@pytest_asyncio.fixture(
    scope="session", loop_scope="session", params=TARGETS, ids=[t.label for t in TARGETS]
)
async def real(request: pytest.FixtureRequest) -> AsyncIterator[Real]:
    """The server under test; its observations are written out when its tests are done."""
    target: Target = request.param
    current = Real(target, await _discover(target))
    current.observe("announced", current.facts.api_version)
    current.observe("agents", str(current.facts.agents_alive))
    yield current
    current.write()


# -- clients -------------------------------------------------------------------------------


@dataclass
class Wire:
    """What went over the wire: (method, path, status, version header) per request."""

    seen: list[tuple[str, str, int, str | None]] = field(default_factory=list)

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        version = request.headers.get("X-BackendAI-Version")
        self.seen.append((request.method, request.url.path, response.status, version))
        return response

    def last(self, method: str | None = None, path: str | None = None) -> tuple[str, str, int]:
        for m, p, status, _ in reversed(self.seen):
            if (method is None or m == method) and (path is None or p == path):
                return m, p, status
        raise AssertionError(f"no {method or ''} {path or ''} request was sent: {self.seen}")

    def statuses(self, method: str, path: str) -> list[int]:
        return [s for m, p, s, _ in self.seen if m == method and p == path]


@pytest.fixture
def wire() -> Wire:
    return Wire()


def _check_versions(client: Client, wire: Wire) -> None:
    """Every signed call carried the negotiated version (the server accepted each one)."""
    sent = {v for _, path, _, v in wire.seen if path not in ("/", "/func/")}
    assert sent <= {client.api_version}, f"calls went out with versions {sent}"


@pytest.fixture
async def admin(real: Real, wire: Wire) -> AsyncIterator[Client]:
    """A superadmin API-mode client whose requests ``wire`` records."""
    cfg = ClientConfig(*real.target.admin, real.target.manager)
    async with Client(cfg, agent_signature="backendai_async-tests", middlewares=[wire]) as c:
        yield c
    _check_versions(c, wire)


@pytest.fixture
async def user(real: Real) -> AsyncIterator[Client]:
    async with Client(ClientConfig(*real.target.user, real.target.manager)) as c:
        yield c


def web_config(real: Real, password: str | None = None) -> ClientConfig:
    """A SESSION-mode config for the target's webserver and its normal user."""
    target = real.target
    secret = target.user_password if password is None else password
    return ClientConfig(target.user_email, secret, target.webserver, "SESSION")


# -- sessions the tests create -------------------------------------------------------------


class SessionNames:
    """Unique session names for one test; every one is force-destroyed at teardown."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def new(self, stem: str = "it") -> str:
        name = f"{stem}-{secrets.token_hex(4)}"
        self.names.append(name)
        return name

    def renamed(self, new_name: str) -> str:
        self.names.append(new_name)
        return new_name


@pytest.fixture
async def session_names(admin: Client) -> AsyncIterator[SessionNames]:
    names = SessionNames()
    yield names
    for name in names.names:
        with contextlib.suppress(ServerError):  # 404: never created, or already gone
            await admin.destroy(name, forced=True, timeout=30)


def skip_without_agent(real: Real) -> None:
    """Skip the test (or fixture) where no agent is alive: sessions never run there."""
    if not real.facts.has_agent:
        pytest.skip(
            f"{real.target.label} ({real.facts.manager}) has no agent alive: sessions stay "
            "PENDING there (the 26.9 harness runs a dummy agent)"
        )


async def outcome(call: Awaitable[T]) -> T | ServerError:
    """The call's result, or the ``ServerError`` it raised: for calls whose answer differs
    per release, so that the test asserts on either after the call."""
    try:
        return await call
    except ServerError as err:
        return err


def observe_restart_refused(real: Real, err: ServerError) -> None:
    """26.x: restart is a 501 whose message says it is no longer supported."""
    assert err.status == 501
    assert "restart is no longer supported" in err.message
    real.observe("restart", f'501 `{problem(err)}` "Session restart is no longer supported. …"')


def problem(err: ServerError) -> str:
    """The last part of the server's problem type URL (``…/probs/object-not-found``)."""
    return err.problem_type.rsplit("/", 1)[-1]


def title_of(err: ServerError) -> Any:
    return err.body.get("title") if isinstance(err.body, dict) else None

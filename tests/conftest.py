"""Shared fixtures: a running embedded manager, and clients that are checked for leaks."""

from __future__ import annotations

import gc
import json
import logging
import socket
import traceback
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backendai_async import Client, ClientConfig
from backendai_async.testing import BackendAITestServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def acquired_connections(client: Client) -> int:
    """Connections the client's connector still holds for a call (0 when all released)."""
    session = client.session
    if session is None or session.connector is None:
        return 0
    return len(session.connector._acquired)  # aiohttp exposes no public counter


@pytest.fixture
async def server() -> AsyncIterator[BackendAITestServer]:
    async with BackendAITestServer() as srv:
        yield srv


ClientFactory = Callable[..., Client]


@pytest.fixture
async def make_client(server: BackendAITestServer) -> AsyncIterator[ClientFactory]:
    """Build clients for ``server``; at teardown each is closed and checked for leaks."""
    made: list[Client] = []

    def factory(config: ClientConfig | None = None, **kwargs: Any) -> Client:
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in ("session", "middlewares")}
        if config is None:
            config = ClientConfig(
                server.access_key, server.secret_key, str(server.endpoint), **kwargs
            )
        client = Client(config, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        assert acquired_connections(client) == 0, "a call left a connection acquired"
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> Client:
    return make_client()


@pytest.fixture
def free_port() -> Iterator[int]:
    """A loopback port with nothing listening (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def _no_unclosed_warnings() -> Iterator[None]:
    """Fail a test that leaves an unclosed session, connector or transport behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    leaks = [
        w for w in caught if issubclass(w.category, ResourceWarning) or "Unclosed" in str(w.message)
    ]
    assert not leaks, [str(w.message) for w in leaks]


# --- secrets never leak: a watch over the whole suite's traffic ---------------------------


class _SecretWatch(logging.Handler):
    """Captures every DEBUG record of the SDK and aiohttp, every signature and login session
    id the SDK produced, and every error it raised; at the end of the run, none of them may
    contain a secret (keys, passwords, tokens, signatures, session ids)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.secrets: set[str] = set()
        self.errors: list[tuple[str, Any]] = []
        self.test = "(outside a test)"

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((self.test, self.format(record)))

    def leaks(self) -> dict[str, list[str]]:
        """Each leaked secret with where it was seen: the test and the text around it
        (the secret itself masked), so a leak in CI can be found without a rerun."""
        texts = list(self.lines)
        for test, err in self.errors:
            texts += [(test, text) for text in error_graph_texts(err)]
        blob = "\n".join(text for _, text in texts)
        found: dict[str, list[str]] = {}
        for secret in sorted(s for s in self.secrets if len(s) >= 8 and s in blob):
            places = []
            for test, text in texts:
                at = text.find(secret)
                if at >= 0:
                    around = text[max(0, at - 160) : at + len(secret) + 80]
                    places.append(f"{test}: {around.replace(secret, '<SECRET>')!r}")
            found[secret[:4] + "…"] = places[:3]
        return found


def error_graph_texts(err: BaseException) -> list[str]:
    """Everything a logger could print of an error: str, repr, to_dict(), the formatted
    traceback, and the same for every exception of its __cause__/__context__ chain."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [err]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [
            str(exc),
            repr(exc),
            *traceback.format_exception(type(exc), exc, exc.__traceback__),
        ]
        to_dict = getattr(exc, "to_dict", None)
        if callable(to_dict):
            texts.append(repr(to_dict()))
        for attr in ("request_parameters", "body", "request_info", "headers"):
            if hasattr(exc, attr):
                texts.append(repr(getattr(exc, attr)))
        pending += [exc.__cause__, exc.__context__]
    return texts


_WATCH = _SecretWatch()


def watch_secrets(*values: str) -> None:
    """Add secrets a test produced (tokens a fake issued) to the end-of-run check."""
    _WATCH.secrets.update(v for v in values if v)


def pytest_configure(config: pytest.Config) -> None:
    import backendai_async.middleware as middleware
    from backendai_async import client as client_module
    from backendai_async import errors
    from backendai_async.testing import EXAMPLE_KEYPAIRS, EXAMPLE_WEB_USERS

    _WATCH.secrets.update(EXAMPLE_KEYPAIRS.values())
    for user in EXAMPLE_WEB_USERS:
        _WATCH.secrets.update(v for v in (user.password, user.secret_key, user.token) if v)
    for name in ("backendai_async", "aiohttp"):
        logger = logging.getLogger(name)
        logger.addHandler(_WATCH)
        logger.setLevel(logging.DEBUG)

    real_sign = middleware.sign

    def recording_sign(key: bytes, sign_string: str) -> str:
        signature = real_sign(key, sign_string)
        _WATCH.secrets.add(signature)
        return signature

    middleware.sign = recording_sign  # type: ignore[assignment]

    real_set = client_module.Client._set_login_session_id

    def recording_set(self: Client, session_id: str | None) -> None:
        if session_id:
            _WATCH.secrets.add(session_id)
        real_set(self, session_id)

    client_module.Client._set_login_session_id = recording_set  # type: ignore[method-assign]

    real_init = errors.ClientError.__init__

    def recording_init(self: errors.ClientError, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        _WATCH.errors.append((_WATCH.test, self))

    errors.ClientError.__init__ = recording_init  # type: ignore[method-assign]


_WORKER_REPORTS: list[dict[str, Any]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _WATCH.test = item.nodeid
    yield
    _WATCH.test = "(between tests)"


def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist, on the controller: collect each worker's secret-watch report."""
    report = getattr(node, "workeroutput", {}).get("secret_watch")
    if report:
        _WORKER_REPORTS.append(json.loads(report))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = _WATCH.leaks()
    mine = {
        "lines": len(_WATCH.lines),
        "errors": len(_WATCH.errors),
        "secrets": len(_WATCH.secrets),
        "leaks": leaks,
    }
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports for everyone
        workeroutput["secret_watch"] = json.dumps(mine)
        return
    reports = [mine, *_WORKER_REPORTS]
    leaked: dict[str, list[str]] = {}
    for report in reports:
        leaked.update(report["leaks"])
    summary = (
        f"secret watch: {sum(r['lines'] for r in reports)} log records, "
        f"{sum(r['errors'] for r in reports)} errors, "
        f"{sum(r['secrets'] for r in reports)} secrets watched: "
        + (f"LEAKED {len(leaked)}: {sorted(leaked)}" if leaked else "no leak")
    )
    for secret, places in sorted(leaked.items()):
        summary += f"\n  {secret} seen in:" + "".join(f"\n    {p}" for p in places)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(summary)
    if leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

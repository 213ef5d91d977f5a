"""Work that must finish: blocking file operations in worker threads, and waits that a
cancellation cannot cut short.

A cancelled task must not walk away from a worker thread that still runs: a file the
thread opens meanwhile would never be closed, and a file the task's cleanup closes could
still be written to. ``asyncio.to_thread`` (and one ``asyncio.wait`` after a cancel) lets
a *second* cancellation, or a deadline firing during the first, escape while the thread
runs. Here a wait absorbs every cancellation until the thread ended, then raises the first
one: the caller's cleanup runs only once nothing else touches its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import io
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["close_files", "in_thread", "outcome", "start_thread", "until_done"]

T = TypeVar("T")


def close_files(result: object) -> None:
    """Close what an abandoned operation opened (a file, or a tuple holding files)."""
    for item in result if isinstance(result, tuple) else (result,):
        if isinstance(item, io.IOBase):
            with contextlib.suppress(OSError):
                item.close()


async def until_done(
    future: asyncio.Future[Any], on_cancel: Callable[[], object] | None = None
) -> None:
    """Wait until ``future`` is done, whatever cancellations arrive meanwhile.

    The first cancellation calls ``on_cancel`` (to ask the work to stop early) and is
    raised once the future is done; later ones are absorbed. The future's own outcome is
    neither raised nor retrieved here.
    """
    interrupted: asyncio.CancelledError | None = None
    while not future.done():
        try:
            await asyncio.wait((future,))
        except asyncio.CancelledError as exc:
            if interrupted is None:
                interrupted = exc
                if on_cancel is not None:
                    on_cancel()
    if interrupted is not None:
        raise interrupted


def start_thread(func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Start ``func(*args)`` in the default executor, in a copy of the current context."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, func, *args)
    return loop.run_in_executor(None, call)


async def outcome(
    future: asyncio.Future[T],
    *,
    release: Callable[[T], object] = close_files,
    on_cancel: Callable[[], object] | None = None,
) -> T:
    """The result of a started operation, waited for through cancellations.

    When the caller was cancelled meanwhile, a successful result is handed to ``release``
    (which closes files by default), a failure is retrieved (so that nothing logs it as
    never retrieved), and the cancellation propagates.
    """
    try:
        await until_done(future, on_cancel)
    except asyncio.CancelledError:
        if not future.cancelled() and future.exception() is None:
            release(future.result())
        raise
    return future.result()


async def in_thread(
    func: Callable[..., T],
    *args: Any,
    release: Callable[[T], object] = close_files,
    on_cancel: Callable[[], object] | None = None,
) -> T:
    """Run a blocking operation in a thread; a cancellation waits for it to end, releases
    what it returned, then propagates (see :func:`outcome`)."""
    return await outcome(start_thread(func, *args), release=release, on_cancel=on_cancel)

"""Waiting for a condition instead of sleeping a guessed time.

Prefer a fake's own event-based wait (``FakeTelegram.wait_for``,
``FakeXrpc.wait_for``: woken by every call they serve) or an ``asyncio.Event``
of the code under test. These two re-check a condition that nothing signals: a
child process's log, a real server's state, the AppView of the local stack.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 15.0,
    *,
    what: str = "the condition",
    step: float = 0.02,
) -> Any:
    """Wait, without blocking the event loop, until ``predicate()`` is truthy.

    Args:
        predicate: Checked at once, then every ``step`` seconds; it may be a
            coroutine function (a health request...).
        timeout: Seconds before giving up.
        what: Names the condition in the error.
        step: Seconds between checks.

    Returns:
        The predicate's truthy value.

    Raises:
        TimeoutError: Not true within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(step)


def wait_until(
    predicate: Callable[[], T | None], *, timeout: float, what: str, step: float = 0.1
) -> T:
    """Block until ``predicate()`` is truthy, for synchronous tests of other processes.

    An exception from ``predicate`` counts as "not yet" (the AppView may not have
    indexed a post) and is named in the error if time runs out.

    Returns:
        The predicate's truthy value.

    Raises:
        TimeoutError: Not true within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what} (last error {last!r})"
            )
        time.sleep(step)

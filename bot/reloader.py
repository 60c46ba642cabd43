"""Reloads the knowledge base into a running core (SIGHUP, ``POST /admin/reload``).

The files are read and validated and the matcher is built on a daemon thread,
so every channel keeps answering meanwhile and a stopping bot is never held
back by a reload; only the swap happens on the event loop. An invalid new
version is refused and the old one kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.core import Core
from bot.health import ReloadResult
from bot.kb.loader import KnowledgeBase, KnowledgeError, load_knowledge
from bot.metrics import Metrics
from bot.nlu.matcher import Matcher

log = logging.getLogger(__name__)
T = TypeVar("T")


def in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """Run ``fn`` on a new daemon thread; a future on the running loop gets its result.

    Not ``asyncio.to_thread``: the default executor's threads are joined when
    the loop and the interpreter end, so a long reload would keep a stopping
    bot alive (SIGTERM was ignored for 40 s). A daemon thread is simply dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="kb-reload", daemon=True).start()
    return future


class KnowledgeReloader:
    """Reloads the knowledge base into a running core, refusing invalid versions.

    One reload runs at a time: a request that arrives during one waits for it
    and then reloads once, shared with any others that came in the meantime
    (36 SIGHUPs make two reloads, not 36).

    Args:
        core: The core to update.
        directory: The knowledge folder to re-read.
        metrics: Where the version and reload counts are recorded.
    """

    def __init__(self, core: Core, directory: Path, *, metrics: Metrics) -> None:
        self.core = core
        self.directory = directory
        self.metrics = metrics
        self._lock = asyncio.Lock()
        self._next: asyncio.Future[ReloadResult] | None = None

    async def __call__(self) -> ReloadResult:
        """Load, validate and swap in the knowledge base.

        Returns:
            Whether the new version is in use, and why not.
        """
        if self._next is None:
            self._next = asyncio.ensure_future(self._reload())
        return await asyncio.shield(self._next)

    def _build(self) -> tuple[KnowledgeBase, Matcher]:
        kb = load_knowledge(self.directory)
        return kb, Matcher(kb)

    async def _reload(self) -> ReloadResult:
        async with self._lock:
            self._next = None  # requests from now on need a reload after this one
            previous = self.core.kb.version
            try:
                kb, matcher = await in_daemon_thread(self._build)
                self.core.reload(kb, matcher)
            except KnowledgeError as exc:
                return self._refused(previous, [str(p) for p in exc.problems])
            except Exception as exc:  # e.g. unreadable folder: keep serving
                return self._refused(previous, [f"{self.directory}: {type(exc).__name__}: {exc}"])
            return self._swapped(kb, previous)

    def _swapped(self, kb: KnowledgeBase, previous: str) -> ReloadResult:
        self.metrics.set_knowledge(kb.version, len(kb.topics))
        self.metrics.record_reload(True)
        log.info(
            "knowledge base reloaded",
            extra={"version": kb.version, "previous": previous, "topics": len(kb.topics)},
        )
        return ReloadResult(ok=True, version=kb.version)

    def _refused(self, previous: str, problems: list[str]) -> ReloadResult:
        self.metrics.record_reload(False)
        log.error(
            "knowledge base reload refused; keeping the current version",
            extra={"version": previous, "problems": problems[:20]},
        )
        return ReloadResult(ok=False, version=previous, problems=problems)

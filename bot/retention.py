"""Purges what is past its retention, at start and every :data:`PURGE_INTERVAL`.

User state, answered-post addresses and unanswered questions past their
retention (see :class:`bot.settings.Settings`) are deleted by the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.settings import Settings
from bot.store.base import Store

log = logging.getLogger(__name__)

PURGE_INTERVAL = 6 * 3600.0


async def purge_periodically(
    store: Store, settings: Settings, stop: asyncio.Event, *, interval: float = PURGE_INTERVAL
) -> None:
    """Purge now and every ``interval`` seconds until ``stop`` is set.

    A failed purge is logged and tried again at the next interval.
    """
    while not stop.is_set():
        try:
            counts = await store.purge(
                user_days=settings.user_retention_days,
                unanswered_days=settings.unanswered_retention_days,
            )
            log.info("retention purge", extra={"event": "purge", **counts})
        except Exception:
            log.exception("retention purge failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)

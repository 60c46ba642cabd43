"""The inbox: poll notifications, keep our own watermark, queue what to answer.

It polls ``app.bsky.notification.listNotifications`` and keeps only
``mention``, ``reply`` (to the bot's own posts) and ``quote`` notifications:
Bluesky's bot guidelines ask bots to act only when tagged. It never queues the
bot itself or an account labelled ``bot`` (no bot loops).

It does not trust ``isRead``/``updateSeen`` (a person may open the account in
the app). It keeps its own watermark (``indexedAt``) in the store; the watermark
never passes a mention still waiting, so none is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from atproto import AsyncClient

from bot.adapters.bluesky.convert import did_of, is_bot_labelled, log_ref, mentions, parse_time
from bot.adapters.bluesky.ledger import AnsweredPosts
from bot.adapters.bluesky.session import Session
from bot.adapters.bluesky.settings import BlueskySettings
from bot.render.bluesky import Post
from bot.store.base import Store

log = logging.getLogger("bot.adapters.bluesky")

WATERMARK_KEY = "bluesky.watermark"
ANSWERED_REASONS = ("mention", "reply", "quote")
# Notifications can become visible slightly out of indexedAt order: re-read this much.
LOOKBACK = dt.timedelta(seconds=30)
MAX_PAGES = 50
PAGE_SIZE = 100


@dataclass
class Pending:
    """A post waiting for its answer; ``posts`` once the reply is rendered."""

    notification: Any
    indexed_at: dt.datetime
    posts: list[Post] | None = None
    language: str = "en"


class Inbox:
    """The queue of posts to answer, oldest first, and the watermark behind it.

    Args:
        session: The API session (for ``listNotifications`` and the bot's DID).
        store: Where the watermark is kept.
        ledger: The answered posts (those are not queued again).
        settings: The Bluesky settings (handle, backfill on a first start).
        clock: Epoch seconds.
    """

    def __init__(
        self,
        session: Session,
        store: Store,
        ledger: AnsweredPosts,
        settings: BlueskySettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.store = store
        self.ledger = ledger
        self.settings = settings
        self._clock = clock
        self.queue: list[Pending] = []
        self._queued: set[str] = set()
        self._recent: dict[str, dt.datetime] = {}
        self._newest_seen: dt.datetime | None = None
        self._watermark: str | None = None

    async def load(self) -> None:
        """Read the watermark of the previous run."""
        self._watermark = await self.store.get_value(WATERMARK_KEY)

    def stop_at(self) -> dt.datetime:
        """How far back the next poll reads: the watermark (or the backfill) minus a margin."""
        if self._newest_seen is not None:
            return self._newest_seen - LOOKBACK
        saved = parse_time(self._watermark)
        if saved is not None:
            return saved - LOOKBACK
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        return now - dt.timedelta(hours=self.settings.backfill_hours)

    async def poll_once(self) -> int:
        """Read new notifications (paging back to the watermark) and queue them.

        Returns:
            How many posts were newly queued.
        """
        stop_at = self.stop_at()
        cursor: str | None = None
        found: list[Pending] = []
        newest = self._newest_seen
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "reasons": list(ANSWERED_REASONS)}
            if cursor:
                params["cursor"] = cursor
            page = await self.session.call(_list_notifications(params))
            reached = False
            for n in page.notifications:
                indexed = parse_time(n.indexed_at)
                if indexed is None:
                    continue
                if indexed < stop_at:
                    reached = True
                    continue
                newest = indexed if newest is None or indexed > newest else newest
                if n.uri in self._recent or n.uri in self._queued:
                    continue
                self._recent[n.uri] = indexed
                if self.wanted(n):
                    found.append(Pending(n, indexed))
            cursor = page.cursor
            if reached or not cursor or not page.notifications:
                break
        else:
            log.warning("bluesky: stopped paging after %d pages", MAX_PAGES)
        self._newest_seen = newest
        self._forget_old(stop_at)
        added = 0
        # Pages list newest first; reversed, equal indexedAt keep their true order.
        for item in reversed(found):
            if await self.ledger.is_answered(item.notification.uri):
                continue
            self.queue.append(item)
            self._queued.add(item.notification.uri)
            added += 1
        self.queue.sort(key=lambda p: p.indexed_at)
        await self.save_watermark()
        return added

    async def done(self, uris: Iterable[str]) -> None:
        """Take handled posts off the queue and move the watermark past them."""
        finished = set(uris)
        if not finished:
            return
        self.queue = [p for p in self.queue if p.notification.uri not in finished]
        self._queued -= finished
        await self.save_watermark()

    async def save_watermark(self) -> None:
        """Store the watermark: the oldest post still waiting, else the newest seen."""
        if self.queue:
            mark: dt.datetime | None = self.queue[0].indexed_at
        else:
            mark = self._newest_seen
        if mark is None:
            return
        value = mark.isoformat()
        if value != self._watermark:
            await self.store.set_value(WATERMARK_KEY, value)
            self._watermark = value

    def _forget_old(self, stop_at: dt.datetime) -> None:
        cutoff = stop_at - LOOKBACK
        for uri in [u for u, t in self._recent.items() if t < cutoff]:
            del self._recent[uri]

    def wanted(self, n: Any) -> bool:
        """Bluesky's etiquette: only when tagged, never ourselves or another bot."""
        did = self.session.did
        if n.reason not in ANSWERED_REASONS:
            return False
        if n.author.did == did or did_of(n.uri) == did:
            return False
        if is_bot_labelled(n.author) or any(
            getattr(lab, "val", None) == "bot" for lab in (n.labels or [])
        ):
            log.info("bluesky: ignoring post %s from a bot-labelled account", log_ref(n.uri))
            return False
        record = n.record
        if not hasattr(record, "text"):
            return False
        if n.reason == "quote" and not mentions(record, did, self.settings.handle):
            return False  # quoting the bot is talking about it, not asking it
        if n.reason == "reply":
            reply = getattr(record, "reply", None)
            if reply is None or did_of(reply.parent.uri) != did:
                return False
        return True


def _list_notifications(params: dict[str, Any]) -> Callable[[AsyncClient], Awaitable[Any]]:
    async def call(client: AsyncClient) -> Any:
        return await client.app.bsky.notification.list_notifications(params=params)

    return call

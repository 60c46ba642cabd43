"""The Bluesky channel: answer mentions of the bot account in the thread.

Run it with ``BLUESKY_HANDLE=... BLUESKY_APP_PASSWORD=... privacybot run bluesky``.

The channel translates; the core decides. Each queued post (:mod:`.inbox`) is
read in its thread (deleted, blocked, closed or already answered posts are left
alone), turned into an :class:`~bot.messages.IncomingMessage` carrying what the
thread says (the parent posts, whether the bot was mentioned, quoted or replied
to), and answered by :meth:`bot.core.Core.converse`; a ``silent`` reply posts
nothing. The reply is rendered (:mod:`bot.render.bluesky`), capped per thread
and per person (:mod:`.caps`) and posted within the write budget (:mod:`.outbox`)
through the gated API session (:mod:`.session`). It never likes, follows or
sends DMs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from atproto import models
from atproto_client.exceptions import BadRequestError

from bot.adapters.bluesky.caps import PostCaps
from bot.adapters.bluesky.convert import (
    did_of,
    is_blocked,
    language_of,
    log_ref,
    question_text,
    reply_refs,
)
from bot.adapters.bluesky.inbox import Inbox, Pending
from bot.adapters.bluesky.ledger import AnsweredPosts
from bot.adapters.bluesky.limits import CREATE_POINTS, Gate, RequestLog, WriteBudget
from bot.adapters.bluesky.outbox import OWN_POSTS_MARGIN, Outbox
from bot.adapters.bluesky.profile import warn_unless_labelled
from bot.adapters.bluesky.session import RetryLater, Session, error_name, sleep_unless_stopped
from bot.adapters.bluesky.settings import BlueskySettings
from bot.core import Core
from bot.messages import IncomingMessage, ThreadPost
from bot.metrics import Metrics
from bot.nlu.language import normalize_hint
from bot.ratelimit import Verdict
from bot.render.bluesky import Span, render_bluesky, split_posts
from bot.store.base import Store
from bot.texts import text as phrase

log = logging.getLogger("bot.adapters.bluesky")

REQUESTS_KEY = "bluesky.requests_5min"
# Persist the 5-minute request count at most this often (and on stop), after polls and
# after each reply: a leader killed mid-burst (replicas) leaves its successor the count.
REQUESTS_SAVE_EVERY = 1.0
# Posts answered at the same time (oldest first); each mostly waits on the network.
CONCURRENCY = 4
# How far up a thread to look for the question a follow-up continues.
THREAD_CONTEXT_HEIGHT = 8
STATS_EVERY = 60.0


class BlueskyChannel:
    """Polls notifications and answers mentions, replies to the bot and quotes.

    Args:
        core: The shared answer engine.
        settings: The Bluesky settings.
        store: Where the channel keeps its own state; the core's store if None.
        metrics: Where errors, rate limits and reachability go; the core's if
            None.
        clock: Epoch seconds (tests may inject one).
    """

    name = "bluesky"
    reports_reachability = True
    """``/healthz`` shows it ``starting`` until its first successful call."""

    def __init__(
        self,
        core: Core,
        settings: BlueskySettings,
        *,
        store: Store | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core
        self.store = store if store is not None else core.store
        self.metrics = metrics if metrics is not None else core.metrics
        self.settings = settings
        self._clock = clock
        self.session = Session(settings, self.store, self.metrics, clock=clock)
        self.ledger = AnsweredPosts(self.store)
        self.inbox = Inbox(self.session, self.store, self.ledger, settings, clock=clock)
        self.outbox = Outbox(
            self.session, self.store, self.ledger, settings, self.metrics, clock=clock
        )
        self.caps = PostCaps(settings.thread_cap, settings.person_hour_cap, clock=clock)
        self._last_stats = 0.0
        self._requests_saved = 0.0
        self._budget_warned = 0.0

    # The parts tests and operators look at.
    @property
    def gate(self) -> Gate:
        """The earliest time the next request may go out."""
        return self.session.gate

    @property
    def requests(self) -> RequestLog:
        """Requests over the last 5 minutes."""
        return self.session.requests

    @property
    def budget(self) -> WriteBudget:
        """Write points over the last hour and day."""
        return self.outbox.budget

    @property
    def did(self) -> str:
        """The bot account's DID once logged in, else ``""``."""
        return self.session.did

    @property
    def answered(self) -> int:
        """Posts answered since the start."""
        return self.outbox.answered

    async def login(self) -> Any:
        """Log in (see :meth:`Session.login`)."""
        return await self.session.login()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.session.close()

    # ----------------------------------------------------------------- main loop

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and answer until ``stop`` is set.

        Raises:
            ConfigError: Bad credentials (the application stops instead of retrying).
            Exception: Anything unexpected; the application restarts the channel.
        """
        await self.outbox.load()
        self.requests.loads(await self.store.get_value(REQUESTS_KEY))
        await self.inbox.load()
        # A reply posted just before a crash is in our repository, maybe not yet in the
        # AppView: read our posts back to the watermark before answering anything.
        self.outbox.note_unknown_outcome(self.inbox.stop_at() - OWN_POSTS_MARGIN)
        try:
            if not await self.session.login_until(stop):
                return
            await warn_unless_labelled(self.session)
            while not stop.is_set():
                try:
                    await self.inbox.poll_once()
                    await self.drain(stop)
                except RetryLater:
                    pass  # the gate holds; the next round waits for it
                self._maybe_log_stats()
                await self.save_requests()
                await sleep_unless_stopped(
                    stop, max(self.settings.poll_interval, self.gate.remaining())
                )
        finally:
            await self._save_state()
            await self.session.close()
            log.info("bluesky: stopped %s", json.dumps(self.stats(), sort_keys=True))

    def _maybe_log_stats(self) -> None:
        now = self._clock()
        if now - self._last_stats < STATS_EVERY:
            return
        self._last_stats = now
        log.info("bluesky: %s", json.dumps(self.stats(), sort_keys=True))

    def stats(self) -> dict[str, Any]:
        """Counters for the stats log line (no user information)."""
        return {
            "answered": self.answered,
            "queued": len(self.inbox.queue),
            "requests_5min": self.requests.last_window(),
            "requests_5min_peak": self.requests.peak,
            "requests_total": self.requests.total,
            "write_points_hour": self.budget.used_hour,
            "write_points_day": self.budget.used_day,
        }

    async def _save_state(self) -> None:
        await self.outbox.save_budget()
        await self.save_requests(force=True)
        await self.inbox.save_watermark()

    async def save_requests(self, *, force: bool = False) -> None:
        """Store the 5-minute request count (at most every second unless ``force``).

        Unless forced (at stop), an optional write: a failing store is logged, not raised.
        """
        now = self._clock()
        if force or now - self._requests_saved >= REQUESTS_SAVE_EVERY:
            self._requests_saved = now
            if force:
                await self.store.set_value(REQUESTS_KEY, self.requests.dumps())
                return
            # A counter saved again 5 s later: it must not hold the loop on a locked store.
            try:
                await self.store.set_value(REQUESTS_KEY, self.requests.dumps(), optional=True)
            except Exception as exc:
                log.warning("bluesky: could not save the request count (%s)", type(exc).__name__)

    # ----------------------------------------------------------------- answering

    async def drain(self, stop: asyncio.Event) -> None:
        """Answer queued posts, oldest first, while the budget and limits allow.

        Up to :data:`CONCURRENCY` of the oldest posts are prepared at a time
        (thread read and answer, mostly waiting on the network); then each, in
        queue order, reserves its write points and posts, so replies are created
        oldest first and the budget holds. Once one is refused for budget, the
        newer ones wait too.

        Before the first post after a start or a post of unknown outcome, it reads
        the bot's own recent posts (:meth:`Outbox.check_own_posts`).
        """
        if self.outbox.unfinished and not await self.outbox.finish_unfinished():
            return  # the budget or the server says wait: half answers come first
        if self.inbox.queue and self.outbox.must_check_own_posts:
            await self.outbox.check_own_posts()
        while self.inbox.queue and not stop.is_set():
            batch = self.inbox.queue[:CONCURRENCY]
            turns = [asyncio.Event() for _ in batch]
            turns[0].set()
            spent: list[bool] = []
            results = await asyncio.gather(
                *(self._answer_in_turn(item, i, turns, spent) for i, item in enumerate(batch)),
                return_exceptions=True,
            )
            await self.inbox.done(
                item.notification.uri for item, ok in zip(batch, results, strict=True) if ok is True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            if sum(1 for ok in results if ok is True) < len(batch):
                return  # budget spent: keep the queue for later

    async def _answer_in_turn(
        self, item: Pending, index: int, turns: list[asyncio.Event], spent: list[bool]
    ) -> bool:
        try:
            return await self._answer(item, turns[index], spent)
        finally:
            if index + 1 < len(turns):
                turns[index + 1].set()  # the next post may go, whatever happened to this one

    async def _prepare(self, item: Pending) -> bool:
        """Read the thread and get the core's reply; False when nothing is to be posted."""
        n = item.notification
        thread = await self._thread_unless_answered(n)
        if thread is None:
            return False
        hint = language_of(n.record)
        # The per-person limit, as on Telegram: decided by the core, before any work.
        verdict = await self.core.admit_async("bluesky", n.author.did)
        if verdict is not Verdict.ALLOW:
            await self.store.increment("bluesky.rate_limited")
            if verdict is Verdict.DROP:
                await self.ledger.mark_answered(n.uri)
                return False
            item.language = normalize_hint(hint) or "en"
            item.posts = split_posts([[Span(phrase(item.language, "rate.slow_down"))]])
            return True
        reply = await self.core.converse(self._incoming(n, thread))
        if reply.silent:
            await self.ledger.mark_answered(n.uri)
            await self.store.increment("bluesky.skipped_chatter")
            return False
        item.posts = render_bluesky(reply, max_posts=self.settings.max_posts)
        item.language = reply.language
        return True

    def _incoming(self, n: Any, thread: Any) -> IncomingMessage:
        """What the core needs to know of a post: its question and where it sits."""
        did, handle = self.did, self.settings.handle
        parents: list[ThreadPost] = []
        replied = self._replies_to_us(n)
        if replied:
            node = getattr(thread, "parent", None)
            while isinstance(node, models.AppBskyFeedDefs.ThreadViewPost):
                post = node.post
                mine = post.author.did == did
                parents.append(
                    ThreadPost(
                        text=(post.record.text or "")
                        if mine
                        else question_text(post.record, did, handle),
                        author="bot" if mine else "person",
                        language_hint=language_of(post.record),
                    )
                )
                node = getattr(node, "parent", None)
        return IncomingMessage(
            text=question_text(n.record, did, handle),
            channel="bluesky",
            user_id=n.author.did,
            language_hint=language_of(n.record),
            thread=tuple(parents),
            mentioned=n.reason == "mention",
            quoted=n.reason == "quote",
            replied_to=replied,
        )

    async def _answer(
        self, item: Pending, turn: asyncio.Event | None = None, spent: list[bool] | None = None
    ) -> bool:
        """Answer one post. Returns False when the write budget says wait.

        Args:
            item: The queued post.
            turn: Set when the older posts of the batch have posted (or given up).
            spent: Shared by a batch; non-empty once an older post met a spent budget.
        """
        n = item.notification
        uri = n.uri
        if await self.ledger.is_answered(uri):
            return True
        if item.posts is None and not await self._prepare(item):
            return True
        assert item.posts is not None
        if turn is not None:
            await turn.wait()
        if spent:
            return False  # an older post is waiting for the budget: stay behind it
        thread_root = reply_refs(n).root.uri
        allowance = self.caps.allowance(thread_root, n.author.did)
        if allowance.posts <= 0:
            log.info("bluesky: %s cap reached; not answering %s", allowance.cap, log_ref(uri))
            await self.ledger.mark_answered(uri)
            await self.store.increment("bluesky.capped")
            return True
        if len(item.posts) >= allowance.posts:
            # What fits, then one clear last post saying the bot stops here.
            notice = phrase(item.language, f"bsky.cap.{allowance.cap}")
            item.posts = item.posts[: allowance.posts - 1] + split_posts([[Span(notice)]])[:1]
        points = CREATE_POINTS * len(item.posts)
        wait = self.budget.wait_for(points)
        if wait > 0:
            if spent is not None:
                spent.append(True)
            self._warn_budget(wait)
            return False
        self.budget.spend(points)  # reserved now, so concurrent answers cannot overdraw
        self.caps.record(thread_root, n.author.did, len(item.posts))
        # Stored before posting: a leader killed mid-post must not leave its successor
        # (another replica) a budget without these points.
        await self.outbox.save_budget()
        used = 0
        try:
            used = await self.outbox.post_thread(item)
        finally:
            if used < points:
                self.budget.refund(points - used)
            await self.outbox.save_budget()
            await self.save_requests()
        return True

    def _warn_budget(self, wait: float) -> None:
        blocked_until = self._clock() + wait
        if abs(blocked_until - self._budget_warned) < 60:
            return  # already said so
        self._budget_warned = blocked_until
        log.warning(
            "bluesky: write budget spent (%d/%d points this hour, %d/%d today); "
            "%d posts queued, next in %.0fs",
            self.budget.used_hour,
            self.budget.per_hour,
            self.budget.used_day,
            self.budget.per_day,
            len(self.inbox.queue),
            wait,
        )

    def _replies_to_us(self, n: Any) -> bool:
        reply = getattr(n.record, "reply", None)
        return reply is not None and did_of(reply.parent.uri) == self.did

    # ----------------------------------------------------------------- thread checks

    async def _thread_unless_answered(self, n: Any) -> Any | None:
        """Fetch the post's thread, or None (recorded as handled) when we must not
        reply: our reply is already there (a crash before recording), or the post
        is deleted, blocked or closed to replies."""
        height = THREAD_CONTEXT_HEIGHT if self._replies_to_us(n) else 0
        try:
            res = await self.session.call(
                lambda c: c.get_post_thread(uri=n.uri, depth=1, parent_height=height)
            )
        except BadRequestError as exc:
            if error_name(exc) == "NotFound":
                await self.ledger.mark_answered(n.uri)
                return None
            raise
        thread = res.thread
        if not isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost):
            log.info(
                "bluesky: post %s is not visible (deleted or blocked); skipping", log_ref(n.uri)
            )
            await self.ledger.mark_answered(n.uri)
            return None
        for child in thread.replies or []:
            post = getattr(child, "post", None)
            if post is None or post.author.did != self.did:
                continue
            parent = getattr(getattr(post.record, "reply", None), "parent", None)
            if parent is not None and parent.uri == n.uri:
                log.info("bluesky: post %s already has our reply; recording it", log_ref(n.uri))
                await self.ledger.mark_answered(n.uri)
                return None
        viewer = thread.post.viewer
        if viewer is not None and viewer.reply_disabled:
            log.info("bluesky: replies to a post are disabled; skipping")
            await self.ledger.mark_answered(n.uri)
            return None
        if await self._root_blocks_us(n, thread):
            log.info("bluesky: the thread's root author blocks us (or we them); skipping")
            await self.store.increment("bluesky.skipped_blocked")
            await self.ledger.mark_answered(n.uri)
            return None
        return thread

    async def _root_blocks_us(self, n: Any, thread: Any) -> bool:
        """Whether the thread the post is in starts with a post we must not reply under.

        A root whose author blocks the bot (or that the bot blocks) is a
        ``blockedPost`` from our view; replying there would reach people who
        shut us out. The root is looked up among the parents already read, else
        with one ``getPostThread`` of the root alone.
        """
        reply = getattr(n.record, "reply", None)
        root_uri = getattr(getattr(reply, "root", None), "uri", None)
        if not root_uri or root_uri == n.uri:
            return False
        node = getattr(thread, "parent", None)
        while isinstance(node, models.AppBskyFeedDefs.ThreadViewPost):
            if node.post.uri == root_uri:
                return is_blocked(node.post.author)
            node = getattr(node, "parent", None)
        if isinstance(node, models.AppBskyFeedDefs.BlockedPost):
            return True  # an ancestor on the way up is blocked
        try:
            res = await self.session.call(
                lambda c: c.get_post_thread(uri=root_uri, depth=0, parent_height=0)
            )
        except BadRequestError as exc:
            if error_name(exc) == "NotFound":
                return False  # a deleted root: the thread goes on without it
            raise
        root = res.thread
        if isinstance(root, models.AppBskyFeedDefs.BlockedPost):
            return True
        if isinstance(root, models.AppBskyFeedDefs.ThreadViewPost):
            return is_blocked(root.post.author)
        return False

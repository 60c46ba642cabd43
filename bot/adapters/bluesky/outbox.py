"""The outbox: budgeted posting of reply threads, and never a reply twice.

* Every post costs write points (:class:`~bot.adapters.bluesky.limits.WriteBudget`,
  persisted: a restart must not reset the day).
* A reply thread's first post is recorded as the answer the moment it exists;
  the rest is kept in the store (:data:`UNFINISHED_KEY`) until its last post is
  out, so a crash or a long outage is completed later, not left half said.
* A crash between posting a reply and recording it must not yield a second
  reply. The AppView (``getPostThread``) cannot tell: it indexes writes a moment
  later, and a bot restarted by a supervisor is faster. The bot's own repository
  on its PDS is authoritative as soon as ``createRecord`` returns, so at start-up
  (and after a post whose outcome is unknown: timeout, 5xx) the bot reads its
  recent posts there (``com.atproto.repo.listRecords``, newest first, one request
  per 100 posts back to the watermark) and records the posts they reply to as
  answered (:meth:`Outbox.check_own_posts`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from atproto import AsyncClient, models
from atproto_client.exceptions import BadRequestError, RequestException

from bot.adapters.bluesky.convert import (
    did_of,
    field,
    log_ref,
    parse_time,
    post_from_json,
    post_to_json,
    reply_refs,
    to_sdk_embed,
    to_sdk_facets,
)
from bot.adapters.bluesky.inbox import PAGE_SIZE, Pending
from bot.adapters.bluesky.ledger import AnsweredPosts
from bot.adapters.bluesky.limits import CREATE_POINTS, WriteBudget
from bot.adapters.bluesky.session import RetryLater, Session, error_name
from bot.adapters.bluesky.settings import BlueskySettings
from bot.metrics import Metrics
from bot.store.base import Store

log = logging.getLogger("bot.adapters.bluesky")

BUDGET_KEY = "bluesky.write_budget"
UNFINISHED_KEY = "bluesky.unfinished_threads"
"""Reply threads whose first post is out and the rest not yet (see :meth:`Outbox.post_thread`)."""
POST_COLLECTION = "app.bsky.feed.post"
# Our own posts are read back this much before the watermark: createdAt is the
# bot's clock, indexedAt the AppView's, and a few minutes of skew must not hide a reply.
OWN_POSTS_MARGIN = dt.timedelta(minutes=10)
# At most this many pages of our own posts (newest first) per check. Only the newest
# can be missing from the AppView, so the thread check covers what lies further back.
OWN_POSTS_MAX_PAGES = 30


class Outbox:
    """Posts reply threads within the write budget, and finishes cut-short ones.

    Args:
        session: The API session.
        store: Where the budget and unfinished threads are kept.
        ledger: The answered posts.
        settings: The Bluesky settings (write budgets).
        metrics: Where refused posts are counted.
        clock: Epoch seconds.
    """

    def __init__(
        self,
        session: Session,
        store: Store,
        ledger: AnsweredPosts,
        settings: BlueskySettings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self._clock = clock
        self.budget = WriteBudget(settings.writes_per_hour, settings.writes_per_day, clock=clock)
        self.unfinished: dict[str, dict[str, Any]] = {}
        """Reply threads still to complete, by :func:`entry_key` of the asker's post."""
        # Read our own posts back to this time before the next post (see check_own_posts).
        self._own_posts_since: dt.datetime | None = None
        self.answered = 0

    async def load(self) -> None:
        """Read the budget and the unfinished threads of the previous run."""
        self.budget.loads(await self.store.get_value(BUDGET_KEY))
        raw = await self.store.get_value(UNFINISHED_KEY)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = {}
        self.unfinished = {
            k: v
            for k, v in (loaded.items() if isinstance(loaded, dict) else [])
            if isinstance(v, dict) and {"root", "parent", "lang", "posts", "ref"} <= set(v)
        }

    async def save_budget(self) -> None:
        """Store the write budget (before and after each post: replicas share it)."""
        await self.store.set_value(BUDGET_KEY, self.budget.dumps())

    async def _save_unfinished(self) -> None:
        value = json.dumps(self.unfinished, sort_keys=True) if self.unfinished else None
        await self.store.set_value(UNFINISHED_KEY, value)

    # ----------------------------------------------------------------- own posts

    def note_unknown_outcome(self, since: dt.datetime) -> None:
        """Read our own posts back to ``since`` before the next post."""
        if self._own_posts_since is None or since < self._own_posts_since:
            self._own_posts_since = since

    @property
    def must_check_own_posts(self) -> bool:
        """Whether :meth:`check_own_posts` is due before the next post."""
        return self._own_posts_since is not None

    async def check_own_posts(self) -> int:
        """Record as answered every post our recent posts reply to.

        Reads ``app.bsky.feed.post`` in the bot's repository on its PDS, newest
        first, back to the time noted (at most :data:`OWN_POSTS_MAX_PAGES`
        pages). The PDS has a record as soon as ``createRecord`` returns, so
        this sees a reply the AppView may not have indexed yet, one request per
        100 posts.

        Returns:
            How many posts were found answered that the store did not know of.

        Raises:
            RetryLater: A transient failure; the check is done again before the next post.
        """
        since = self._own_posts_since
        if since is None:
            return 0
        did = self.session.did
        cursor: str | None = None
        found = read = 0
        for _ in range(OWN_POSTS_MAX_PAGES):
            params: dict[str, Any] = {
                "repo": did,
                "collection": POST_COLLECTION,
                "limit": PAGE_SIZE,
            }
            if cursor:
                params["cursor"] = cursor
            try:
                page = await self.session.call(_list_records(params))
            except (BadRequestError, RequestException) as exc:
                # Not transient (RetryLater is): the thread check still guards against most.
                log.warning("bluesky: cannot read our own posts (%s); relying on threads", exc)
                break
            reached = False
            for record in page.records:
                read += 1
                value = record.value
                created = parse_time(field(value, "created_at", "createdAt"))
                if created is not None and created < since:
                    reached = True
                    continue
                parent = field(field(field(value, "reply"), "parent"), "uri")
                if not parent or did_of(parent) == did:
                    continue  # not a reply, or the next post of one of our threads
                if await self.ledger.is_answered(parent):
                    continue
                log.info(
                    "bluesky: post %s already has our reply (in our repository); recording it",
                    log_ref(parent),
                )
                await self.ledger.mark_answered(parent)
                await self.store.increment("bluesky.answered")
                found += 1
            cursor = page.cursor
            if reached or not cursor or not page.records:
                break
        else:
            log.warning(
                "bluesky: read our %d newest posts, not back to %s; older replies are "
                "checked in their threads",
                read,
                since.isoformat(),
            )
        if self._own_posts_since == since:
            self._own_posts_since = None
        log.debug("bluesky: read %d of our own posts, %d answers recovered", read, found)
        return found

    # ----------------------------------------------------------------- posting

    async def post_thread(self, item: Pending) -> int:
        """Post the reply thread; returns the write points used.

        The first post is recorded as the answer the moment it exists. When
        more follow, the rest of the thread is kept in the store
        (:data:`UNFINISHED_KEY`) until its last post is out, so a crash or a
        long outage after the first post is completed later
        (:meth:`finish_unfinished`) instead of leaving half an answer.

        Raises:
            RetryLater: Nothing known posted; the item stays queued.
        """
        assert item.posts is not None
        n = item.notification
        refs = reply_refs(n)
        reply_to = models.AppBskyFeedPost.ReplyRef(root=refs.root, parent=refs.parent)
        first = item.posts[0]
        sent_at = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        did = self.session.did
        try:
            created = await self.session.call(
                lambda c: c.send_post(
                    first.text,
                    reply_to=reply_to,
                    langs=[item.language],
                    facets=to_sdk_facets(first.facets),
                    embed=to_sdk_embed(first.embed),
                    profile_identify=did,
                )
            )
        except RetryLater as exc:
            if exc.maybe_done:  # it may exist: look in our repository first
                self.note_unknown_outcome(sent_at - OWN_POSTS_MARGIN)
            raise
        except BadRequestError as exc:
            log.error("bluesky: post refused under %s: %s", log_ref(n.uri), error_name(exc))
            self.metrics.record_error("bluesky", "send")
            await self.ledger.mark_answered(n.uri)
            return 0
        key = entry_key(n.uri)
        if len(item.posts) > 1:
            self.unfinished[key] = {
                "ref": log_ref(n.uri),
                "root": {"uri": refs.root.uri, "cid": refs.root.cid},
                "parent": {"uri": created.uri, "cid": created.cid},
                "lang": item.language,
                "posts": [post_to_json(p) for p in item.posts[1:]],
            }
            await self._save_unfinished()
        # Record the answer the moment it exists.
        await self.ledger.mark_answered(n.uri)
        await self.store.increment("bluesky.answered")
        self.answered += 1
        log.info("bluesky: answered %s (%d post(s))", log_ref(n.uri), len(item.posts))
        if len(item.posts) == 1:
            return CREATE_POINTS
        return CREATE_POINTS + await self._continue_thread(key)

    async def _continue_thread(self, key: str) -> int:
        """Post the rest of an unfinished reply thread; returns the write points used.

        The entry is updated after every post and removed after the last one.
        Transient failures keep it for later; a refused post drops it.
        """
        entry = self.unfinished[key]
        used = 0
        attempts = 0
        did = self.session.did
        while entry["posts"]:
            post = post_from_json(entry["posts"][0])
            reply_to = models.AppBskyFeedPost.ReplyRef(
                root=models.ComAtprotoRepoStrongRef.Main(**entry["root"]),
                parent=models.ComAtprotoRepoStrongRef.Main(**entry["parent"]),
            )

            async def send(c: AsyncClient, p: Any = post, r: Any = reply_to) -> Any:
                return await c.send_post(
                    p.text,
                    reply_to=r,
                    langs=[entry["lang"]],
                    facets=to_sdk_facets(p.facets),
                    profile_identify=did,
                )

            try:
                created = await self.session.call(send)
            except RetryLater:
                # Not a plain retry: the hold comes from the gate (429 reset, backoff),
                # and a long one leaves the rest to the next round.
                attempts += 1
                wait = self.session.gate.remaining()
                if attempts > 3 or wait > 120:
                    log.warning(
                        "bluesky: the rest of the thread under %s waits for later", entry["ref"]
                    )
                    return used
                await asyncio.sleep(wait)
                continue
            except BadRequestError as exc:
                log.error("bluesky: post refused under %s: %s", entry["ref"], error_name(exc))
                self.metrics.record_error("bluesky", "send")
                del self.unfinished[key]
                await self._save_unfinished()
                return used
            used += CREATE_POINTS
            attempts = 0
            entry["parent"] = {"uri": created.uri, "cid": created.cid}
            entry["posts"] = entry["posts"][1:]
            if entry["posts"]:
                await self._save_unfinished()
        del self.unfinished[key]
        await self._save_unfinished()
        return used

    async def finish_unfinished(self) -> bool:
        """Complete reply threads cut short (a crash or an outage after their first post).

        Returns:
            True when none is left; False when the write budget says wait.
        """
        for key in list(self.unfinished):
            entry = self.unfinished.get(key)
            if entry is None:
                continue
            points = CREATE_POINTS * len(entry["posts"])
            if self.budget.wait_for(points) > 0:
                return False
            self.budget.spend(points)
            used = 0
            try:
                log.info(
                    "bluesky: completing the reply thread under %s (%d post(s) left)",
                    entry["ref"],
                    len(entry["posts"]),
                )
                used = await self._continue_thread(key)
            finally:
                if used < points:
                    self.budget.refund(points - used)
                await self.save_budget()
            if key in self.unfinished:
                return False  # still failing: try again at the next round
        return True


def entry_key(uri: str) -> str:
    """The key of an unfinished thread in the store: a digest, not the asker's post URI."""
    return hashlib.sha256(uri.encode()).hexdigest()[:32]


def _list_records(params: dict[str, Any]) -> Callable[[AsyncClient], Awaitable[Any]]:
    async def call(client: AsyncClient) -> Any:
        return await client.com.atproto.repo.list_records(params=params)

    return call

"""The Bluesky channel: answer mentions of the bot account in the thread.

Run it with ``BLUESKY_HANDLE=... BLUESKY_APP_PASSWORD=... privacybot run bluesky``.

How it works, and why:

* It polls ``app.bsky.notification.listNotifications`` every few seconds and
  answers only ``mention``, ``reply`` (to the bot's own posts) and ``quote``
  notifications: Bluesky's bot guidelines ask bots to act only when tagged.
  It never answers itself or an account labelled ``bot`` (no bot loops), and
  never likes, follows or sends DMs.
* It does not trust ``isRead``/``updateSeen`` (a person may open the account in
  the app). It keeps its own watermark (``indexedAt``) and the set of answered
  post URIs in the store; the watermark never passes a mention still waiting,
  so none is lost.
* A crash between posting a reply and recording it must not yield a second
  reply. The AppView (``getPostThread``) cannot tell: it indexes writes a moment
  later, and a bot restarted by a supervisor is faster. The bot's own repository
  on its PDS is authoritative as soon as ``createRecord`` returns, so at start-up
  (and after a post whose outcome is unknown: timeout, 5xx) the bot reads its
  recent posts there (``com.atproto.repo.listRecords``, newest first, one request
  per 100 posts back to the watermark) and records the posts they reply to as
  answered. The thread read before each answer stays: it skips deleted posts and
  closed threads, and still spots an older reply the bounded read did not reach.
* It logs in once and persists the exported session (``createSession`` is
  limited to 30 per 5 minutes and 300 per day); it logs in with the password
  again only when the stored session can no longer be refreshed.
* It respects the published limits (see :mod:`bot.adapters.bluesky_limits`):
  ``ratelimit-*`` headers, 429 until ``ratelimit-reset``, backoff with jitter
  on 5xx and network errors (retried inside ``run()``, so the adapter tells
  ``/healthz`` itself that the channel is ``reconnecting`` until the server
  answers again), and a write-points budget. Mentions wait in a
  queue, oldest first; when the budget is spent the queue is kept, not dropped.

Rendering (300 graphemes, link facets at UTF-8 byte offsets, threads) lives in
:mod:`bot.render.bluesky`, which knows nothing of the SDK; this module converts
its facets into SDK models.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from atproto import AsyncClient, SessionEvent, models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import AsyncRequest
from pydantic import SecretStr as Secret  # the one secret type (issue 11)

from bot import metrics
from bot.adapters.bluesky_caps import PostCaps
from bot.adapters.bluesky_limits import (
    CREATE_POINTS,
    REQUESTS_CAP_5_MIN,
    Gate,
    RequestLog,
    WriteBudget,
)
from bot.channel import ChannelContext, ChannelFactory
from bot.core import Core
from bot.errors import ConfigError
from bot.messages import IncomingMessage
from bot.nlu.language import normalize_hint
from bot.ratelimit import Verdict
from bot.render.bluesky import (
    MAX_POSTS,
    ExternalEmbed,
    LinkFacet,
    Post,
    grapheme_len,
    render_bluesky,
    split_posts,
)
from bot.render.bluesky import Span as _Span
from bot.texts import text as phrase

log = logging.getLogger(__name__)

DEFAULT_SERVICE_URL = "https://bsky.social"
DEFAULT_POLL_INTERVAL = 5.0
ANSWERED_REASONS = ("mention", "reply", "quote")
SESSION_KEY = "bluesky.session"
WATERMARK_KEY = "bluesky.watermark"
BUDGET_KEY = "bluesky.write_budget"
REQUESTS_KEY = "bluesky.requests_5min"
UNFINISHED_KEY = "bluesky.unfinished_threads"
"""Reply threads whose first post is out and the rest not yet (see ``_post_thread``)."""
PROFILE_COLLECTION = "app.bsky.actor.profile"
POST_COLLECTION = "app.bsky.feed.post"
# Notifications can become visible slightly out of indexedAt order: re-read this much.
LOOKBACK = dt.timedelta(seconds=30)
MAX_PAGES = 50
PAGE_SIZE = 100
# Our own posts are read back this much before the watermark: createdAt is the
# bot's clock, indexedAt the AppView's, and a few minutes of skew must not hide a reply.
OWN_POSTS_MARGIN = dt.timedelta(minutes=10)
# At most this many pages of our own posts (newest first) per check. Only the newest
# can be missing from the AppView, so the thread check covers what lies further back.
OWN_POSTS_MAX_PAGES = 30
# Persist the 5-minute request count at most this often (and on stop), after polls and
# after each reply: a leader killed mid-burst (replicas) leaves its successor the count.
REQUESTS_SAVE_EVERY = 1.0
# Posts answered at the same time (oldest first); each mostly waits on the network.
CONCURRENCY = 4
# How far up a thread to look for the question a follow-up continues.
THREAD_CONTEXT_HEIGHT = 8
STATS_EVERY = 60.0
PASSWORD_LOGINS_PER_5_MIN = 3
_EXPIRED = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}

PROFILE_DESCRIPTION = (
    "🤖 Bot. Tag me with a question (English/français) on how to stop a platform using "
    "your data; I reply with the settings steps. I store the IDs of posts I answered and, "
    "per account, a hashed ID with the last topic and language (expires). Never your posts."
)

T = TypeVar("T")


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class BlueskySettings:
    """The Bluesky section of the configuration.

    Attributes:
        handle: The bot account's handle (``privacybot.bsky.social``).
        app_password: An app password (Settings > Privacy and security > App
            passwords), never the main password.
        service_url: The account's PDS (``https://bsky.social``).
        poll_interval: Seconds between two ``listNotifications`` polls.
        timeout: HTTP timeout per request, in seconds.
        writes_per_hour: Write points budget per hour (Bluesky: 5,000).
        writes_per_day: Write points budget per day (Bluesky: 35,000).
        requests_per_5min: Requests we allow ourselves per 5 minutes (Bluesky:
            3,000 per IP; we keep 10% for other clients).
        backfill_hours: On the very first start, answer mentions this recent.
        max_posts: Longest reply thread.
        thread_cap: Most posts of the bot under one thread
            (``BLUESKY_MAX_POSTS_PER_THREAD``); the last says so.
        person_hour_cap: Most posts of the bot for one person in an hour
            (``BLUESKY_MAX_POSTS_PER_PERSON_HOUR``); the last says so.
    """

    handle: str
    app_password: Secret
    service_url: str = DEFAULT_SERVICE_URL
    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float = 15.0
    writes_per_hour: int = 5000
    writes_per_day: int = 35000
    requests_per_5min: int = REQUESTS_CAP_5_MIN
    backfill_hours: float = 24.0
    max_posts: int = MAX_POSTS
    thread_cap: int = 8
    person_hour_cap: int = 12

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BlueskySettings:
        """Read ``BLUESKY_*`` variables.

        Args:
            env: The environment (``os.environ`` or a dict in tests).

        Returns:
            The settings.

        Raises:
            ConfigError: A required variable is missing or a value is invalid;
                the message names the variable.
        """
        handle = env.get("BLUESKY_HANDLE", "").strip().lstrip("@")
        password = env.get("BLUESKY_APP_PASSWORD", "").strip()
        missing = [
            name
            for name, value in (("BLUESKY_HANDLE", handle), ("BLUESKY_APP_PASSWORD", password))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"Bluesky: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                "set (the bot account's handle and an app password from Settings > Privacy "
                "and security > App passwords)"
            )
        service = env.get("BLUESKY_SERVICE_URL", "").strip() or DEFAULT_SERVICE_URL
        if not re.match(r"^https?://[^\s/]+", service):
            raise ConfigError(f"BLUESKY_SERVICE_URL must be an http(s) URL, got {service!r}")
        return cls(
            handle=handle,
            app_password=Secret(password),
            service_url=service.rstrip("/"),
            poll_interval=_float(env, "BLUESKY_POLL_INTERVAL", DEFAULT_POLL_INTERVAL, 0.1),
            timeout=_float(env, "BLUESKY_TIMEOUT", 15.0, 0.1),
            writes_per_hour=int(_float(env, "BLUESKY_WRITES_PER_HOUR", 5000, CREATE_POINTS)),
            writes_per_day=int(_float(env, "BLUESKY_WRITES_PER_DAY", 35000, CREATE_POINTS)),
            requests_per_5min=int(
                _float(env, "BLUESKY_REQUESTS_PER_5_MIN", REQUESTS_CAP_5_MIN, 10)
            ),
            backfill_hours=_float(env, "BLUESKY_BACKFILL_HOURS", 24.0, 0.0),
            max_posts=int(_float(env, "BLUESKY_MAX_POSTS", MAX_POSTS, 1)),
            thread_cap=int(_float(env, "BLUESKY_MAX_POSTS_PER_THREAD", 8, 1)),
            person_hour_cap=int(_float(env, "BLUESKY_MAX_POSTS_PER_PERSON_HOUR", 12, 1)),
        )


def is_configured(env: Mapping[str, str]) -> bool:
    """Whether the Bluesky channel should run (either credential is set).

    A half-configured environment counts, so that starting says which variable
    is missing instead of silently skipping Bluesky.
    """
    return bool(env.get("BLUESKY_HANDLE", "").strip() or env.get("BLUESKY_APP_PASSWORD", ""))


def create_channel(core: Core, env: Mapping[str, str]) -> BlueskyChannel:
    """Build the Bluesky channel around the shared core.

    Raises:
        ConfigError: If the settings are incomplete.
    """
    return BlueskyChannel(core, BlueskySettings.from_env(env))


class _Factory:
    """How the application finds and builds this channel (see :mod:`bot.channel`)."""

    name = "bluesky"

    def is_configured(self, env: Mapping[str, str]) -> bool:
        return is_configured(env)

    def create(self, context: ChannelContext) -> BlueskyChannel:
        return BlueskyChannel(context.core, BlueskySettings.from_env(context.env))


FACTORY: ChannelFactory = _Factory()


# --------------------------------------------------------------------------- helpers


def parse_time(value: str | None) -> dt.datetime | None:
    """Parse an atproto datetime (``indexedAt``); None when absent or invalid."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def did_of(uri: str) -> str:
    """The repository DID of an ``at://did/collection/rkey`` URI."""
    return uri.removeprefix("at://").split("/", 1)[0]


def is_bot_labelled(author: Any) -> bool:
    """Whether an author carries the ``bot`` label (self-label or moderation)."""
    return any(getattr(label, "val", None) == "bot" for label in (author.labels or []))


def question_text(record: Any, my_did: str, my_handle: str) -> str:
    """The question in a post: its text without the mentions of the bot.

    Mention facets pointing at the bot are cut by their UTF-8 byte range, then
    any remaining ``@handle`` of the bot is removed.
    """
    data = (record.text or "").encode()
    ranges = []
    for facet in record.facets or []:
        if any(getattr(f, "did", None) == my_did for f in facet.features):
            ranges.append((facet.index.byte_start, facet.index.byte_end))
    for start, end in sorted(ranges, reverse=True):
        if 0 <= start <= end <= len(data):
            data = data[:start] + data[end:]
    text = data.decode(errors="ignore")
    text = re.sub(rf"@{re.escape(my_handle)}\b", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()


def mentions(record: Any, my_did: str, my_handle: str) -> bool:
    """Whether a post tags the bot: a mention facet of its DID, or ``@handle`` in the text."""
    for facet in getattr(record, "facets", None) or []:
        if any(getattr(f, "did", None) == my_did for f in facet.features):
            return True
    text = getattr(record, "text", "") or ""
    return re.search(rf"@{re.escape(my_handle)}\b", text, flags=re.IGNORECASE) is not None


def to_sdk_facets(facets: tuple[LinkFacet, ...]) -> list[models.AppBskyRichtextFacet.Main] | None:
    """Convert the renderer's link facets into SDK facet models."""
    if not facets:
        return None
    return [
        models.AppBskyRichtextFacet.Main(
            features=[models.AppBskyRichtextFacet.Link(uri=f.uri)],
            index=models.AppBskyRichtextFacet.ByteSlice(
                byte_start=f.byte_start, byte_end=f.byte_end
            ),
        )
        for f in facets
    ]


def to_sdk_embed(embed: ExternalEmbed | None) -> models.AppBskyEmbedExternal.Main | None:
    """Convert the renderer's link card into the SDK's ``app.bsky.embed.external``."""
    if embed is None:
        return None
    return models.AppBskyEmbedExternal.Main(
        external=models.AppBskyEmbedExternal.External(
            uri=embed.uri, title=embed.title, description=embed.description
        )
    )


def reply_refs(notification: Any) -> models.AppBskyFeedPost.ReplyRef:
    """Thread refs for answering a post: parent = the post, root = its root if it is a reply."""
    parent = models.ComAtprotoRepoStrongRef.Main(uri=notification.uri, cid=notification.cid)
    reply = getattr(notification.record, "reply", None)
    root = (
        models.ComAtprotoRepoStrongRef.Main(uri=reply.root.uri, cid=reply.root.cid)
        if reply is not None
        else parent
    )
    return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)


class _Retry(Exception):
    """A transient failure (429, 5xx, network): the item stays queued.

    Attributes:
        maybe_done: The request may have been carried out although no answer came
            back (timeout, network error, 5xx), as opposed to refused (429) or
            never sent (held by the gate).
    """

    def __init__(self, message: str, *, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


@dataclass
class _Pending:
    notification: Any
    indexed_at: dt.datetime
    posts: list[Post] | None = None
    language: str = "en"


# --------------------------------------------------------------------------- channel


class BlueskyChannel:
    """Polls notifications and answers mentions, replies to the bot and quotes.

    Args:
        core: The shared answer engine (its store holds our state too).
        settings: The Bluesky settings.
        clock: Epoch seconds (tests may inject one).
    """

    name = "bluesky"
    reports_reachability = True
    """``/healthz`` shows it ``starting`` until its first successful call."""

    def __init__(
        self, core: Core, settings: BlueskySettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.core = core
        self.store = core.store
        self.settings = settings
        self._clock = clock
        self.gate = Gate(clock=clock)
        self.budget = WriteBudget(settings.writes_per_hour, settings.writes_per_day, clock=clock)
        self.requests = RequestLog(clock=clock)
        self.caps = PostCaps(settings.thread_cap, settings.person_hour_cap, clock=clock)
        self.client: AsyncClient | None = None
        self.did = ""
        self._queue: list[_Pending] = []
        self._queued: set[str] = set()
        self._recent: dict[str, dt.datetime] = {}
        self._newest_seen: dt.datetime | None = None
        self._watermark: str | None = None
        self._password_logins: list[float] = []
        self._last_stats = 0.0
        self._requests_saved = 0.0
        # Read our own posts back to this time before the next post (see _check_own_posts).
        self._own_posts_since: dt.datetime | None = None
        self._budget_warned = 0.0
        self._cap_warned = 0.0
        self._unfinished: dict[str, dict[str, Any]] = {}
        self.answered = 0

    # ----------------------------------------------------------------- client & session

    def _new_client(self) -> AsyncClient:
        async def on_request(request: httpx.Request) -> None:
            self.requests.add()

        async def on_response(response: httpx.Response) -> None:
            self.gate.observe_headers({k.lower(): v for k, v in response.headers.items()})

        request = AsyncRequest(
            timeout=httpx.Timeout(self.settings.timeout),
            event_hooks={"request": [on_request], "response": [on_response]},
        )
        client = AsyncClient(base_url=self.settings.service_url, request=request)

        async def on_session_change(event: SessionEvent, session: Any) -> None:
            if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
                await self._save_session(client)

        client.on_session_change(on_session_change)
        return client

    async def _save_session(self, client: AsyncClient) -> None:
        payload = {
            "handle": self.settings.handle,
            "service": self.settings.service_url,
            "session": client.export_session_string(),
        }
        await self.store.set_value(SESSION_KEY, json.dumps(payload))

    async def _close_client(self) -> None:
        if self.client is not None:
            try:
                await self.client.request.close()
            except Exception:  # closing must never mask the real error
                log.debug("closing the Bluesky HTTP client failed", exc_info=True)
            self.client = None

    async def login(self) -> AsyncClient:
        """Restore the stored session, or log in with the password once.

        Returns:
            A logged-in client; :attr:`did` is the bot's DID.

        Raises:
            ConfigError: The server rejected the handle or app password.
        """
        raw = await self.store.get_value(SESSION_KEY)
        saved: dict[str, str] = {}
        if raw:
            try:
                saved = json.loads(raw)
            except ValueError:
                saved = {}
        if (
            saved.get("session")
            and saved.get("handle") == self.settings.handle
            and saved.get("service") == self.settings.service_url
        ):
            client = self._new_client()
            try:
                await self._with_gate(lambda: client.login(session_string=saved["session"]))
                return await self._logged_in(client, "restored the stored session")
            except (UnauthorizedError, BadRequestError) as exc:
                if _error_name(exc) not in _EXPIRED:
                    await client.request.close()
                    raise
                log.info("stored Bluesky session is no longer valid (%s)", _error_name(exc))
                await self.store.set_value(SESSION_KEY, None)
                await client.request.close()
        return await self._password_login()

    async def _password_login(self) -> AsyncClient:
        now = self._clock()
        self._password_logins = [t for t in self._password_logins if t > now - 300]
        if len(self._password_logins) >= PASSWORD_LOGINS_PER_5_MIN:
            raise RuntimeError("too many Bluesky password logins in 5 minutes; backing off")
        # A fresh client: reusing one with a dead session makes login() try a refresh first.
        client = self._new_client()
        try:
            await self._with_gate(
                lambda: client.login(
                    self.settings.handle, self.settings.app_password.get_secret_value()
                )
            )
        except _Retry:
            # Not answered (network, 5xx, 429, our own hold): not a login the server
            # counted, so it must not lock us out once the server is back.
            await client.request.close()
            raise
        except UnauthorizedError as exc:
            self._password_logins.append(now)
            await client.request.close()
            raise ConfigError(
                f"Bluesky rejected BLUESKY_HANDLE {self.settings.handle!r} / BLUESKY_APP_PASSWORD "
                f"on {self.settings.service_url} ({_error_name(exc)})"
            ) from None
        except BaseException:
            self._password_logins.append(now)
            await client.request.close()
            raise
        self._password_logins.append(now)
        return await self._logged_in(client, "logged in with the app password")

    async def _logged_in(self, client: AsyncClient, how: str) -> AsyncClient:
        if client.me is None:
            raise RuntimeError("logged in but the profile of the bot account is unavailable")
        self.client = client
        self.did = client.me.did
        log.info("bluesky: %s as %s (%s)", how, client.me.handle, self.did)
        return client

    async def _relogin(self) -> None:
        await self.store.set_value(SESSION_KEY, None)
        await self._close_client()
        await self._password_login()

    # ----------------------------------------------------------------- calling the API

    async def _with_gate(self, call: Callable[[], Awaitable[T]]) -> T:
        """Wait for the gate, make one call and classify its failure."""
        slot = self.requests.wait_for_slot(self.settings.requests_per_5min)
        if slot > 0:
            if self.gate.remaining() <= 0 and self._clock() - self._cap_warned > 60:
                self._cap_warned = self._clock()
                log.warning(
                    "bluesky: %d requests in 5 minutes; holding %.1fs",
                    self.settings.requests_per_5min,
                    slot,
                )
            self.gate.block_until(self._clock() + slot)
        wait = self.gate.remaining()
        if wait > 0:
            raise _Retry(f"rate-limit hold for {wait:.1f}s")
        try:
            result = await call()
        except RateLimitExceededError as exc:
            reset = exc.reset_at.timestamp() if exc.reset_at else None
            delay = self.gate.rate_limited(reset_epoch=reset, retry_after=exc.retry_after)
            log.warning("bluesky: 429 rate limited (%s); holding %.1fs", exc.policy, delay)
            metrics.record_rate_limited("bluesky", delay)
            raise _Retry("429") from exc
        except (InvokeTimeoutError, NetworkError) as exc:
            delay = self.gate.failed()
            log.warning("bluesky: network error %s; retrying in %.1fs", type(exc).__name__, delay)
            metrics.record_error("bluesky", "network")
            metrics.set_channel_reachable("bluesky", False, error=f"network: {type(exc).__name__}")
            raise _Retry("network", maybe_done=True) from exc
        except (UnauthorizedError, BadRequestError):
            raise
        except RequestException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500 or status == 0:
                delay = self.gate.failed()
                log.warning("bluesky: server error %s; retrying in %.1fs", status, delay)
                metrics.record_error("bluesky", "server")
                metrics.set_channel_reachable("bluesky", False, error=f"server error {status}")
                raise _Retry(str(status), maybe_done=True) from exc
            raise
        self.gate.succeeded()
        metrics.set_channel_reachable("bluesky", True)
        return result

    async def _call(self, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Make an authenticated call; on a dead session log in again once and retry."""
        assert self.client is not None
        client = self.client
        try:
            return await self._with_gate(lambda: call(client))
        except (UnauthorizedError, BadRequestError) as exc:
            if _error_name(exc) not in _EXPIRED:
                raise
            log.info("bluesky: session expired (%s); logging in again", _error_name(exc))
        await self._relogin()
        assert self.client is not None
        fresh = self.client
        return await self._with_gate(lambda: call(fresh))

    # ----------------------------------------------------------------- main loop

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and answer until ``stop`` is set.

        Raises:
            ConfigError: Bad credentials (the runner stops instead of retrying).
            Exception: Anything unexpected; the runner restarts the channel.
        """
        self.budget.loads(await self.store.get_value(BUDGET_KEY))
        self.requests.loads(await self.store.get_value(REQUESTS_KEY))
        self._watermark = await self.store.get_value(WATERMARK_KEY)
        await self._load_unfinished()
        # A reply posted just before a crash is in our repository, maybe not yet in the
        # AppView: read our posts back to the watermark before answering anything.
        self._note_unknown_outcome(self._stop_at() - OWN_POSTS_MARGIN)
        try:
            while self.client is None and not stop.is_set():
                try:
                    await self.login()
                except _Retry:
                    await _sleep(stop, max(self.gate.remaining(), 0.5))
            if stop.is_set():
                return
            await self._check_profile()
            while not stop.is_set():
                try:
                    await self.poll_once()
                    await self.drain(stop)
                except _Retry:
                    pass
                self._maybe_log_stats()
                await self._save_requests()
                await _sleep(stop, max(self.settings.poll_interval, self.gate.remaining()))
        finally:
            await self._save_state()
            await self._close_client()
            log.info("bluesky: stopped %s", json.dumps(self.stats(), sort_keys=True))

    async def _check_profile(self) -> None:
        try:
            profile = await self._call(lambda c: c.get_profile(self.did))
        except (_Retry, RequestException):
            return
        if not is_bot_labelled(profile):
            log.warning(
                "bluesky: the bot account has no 'bot' self-label; run "
                "`privacybot bluesky setup-profile` (Bluesky asks bots to label themselves)"
            )

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
            "queued": len(self._queue),
            "requests_5min": self.requests.last_window(),
            "requests_5min_peak": self.requests.peak,
            "requests_total": self.requests.total,
            "write_points_hour": self.budget.used_hour,
            "write_points_day": self.budget.used_day,
        }

    async def _save_state(self) -> None:
        await self.store.set_value(BUDGET_KEY, self.budget.dumps())
        await self._save_requests(force=True)
        await self._save_watermark()

    async def _save_requests(self, *, force: bool = False) -> None:
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

    async def _save_watermark(self) -> None:
        if self._queue:
            mark: dt.datetime | None = self._queue[0].indexed_at
        else:
            mark = self._newest_seen
        if mark is None:
            return
        value = mark.isoformat()
        if value != self._watermark:
            await self.store.set_value(WATERMARK_KEY, value)
            self._watermark = value

    # ----------------------------------------------------------------- polling

    def _stop_at(self) -> dt.datetime:
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
        stop_at = self._stop_at()
        cursor: str | None = None
        found: list[_Pending] = []
        newest = self._newest_seen
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "reasons": list(ANSWERED_REASONS)}
            if cursor:
                params["cursor"] = cursor
            page = await self._call(
                lambda c, p=params: c.app.bsky.notification.list_notifications(params=p)
            )
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
                if self._wanted(n):
                    found.append(_Pending(n, indexed))
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
            if await self.store.is_answered(item.notification.uri):
                continue
            self._queue.append(item)
            self._queued.add(item.notification.uri)
            added += 1
        self._queue.sort(key=lambda p: p.indexed_at)
        await self._save_watermark()
        return added

    def _forget_old(self, stop_at: dt.datetime) -> None:
        cutoff = stop_at - LOOKBACK
        for uri in [u for u, t in self._recent.items() if t < cutoff]:
            del self._recent[uri]

    def _wanted(self, n: Any) -> bool:
        """Bluesky's etiquette: only when tagged, never ourselves or another bot."""
        if n.reason not in ANSWERED_REASONS:
            return False
        if n.author.did == self.did or did_of(n.uri) == self.did:
            return False
        if is_bot_labelled(n.author) or any(
            getattr(lab, "val", None) == "bot" for lab in (n.labels or [])
        ):
            log.info("bluesky: ignoring post %s from a bot-labelled account", log_ref(n.uri))
            return False
        record = n.record
        if not hasattr(record, "text"):
            return False
        if n.reason == "quote" and not mentions(record, self.did, self.settings.handle):
            return False  # quoting the bot is talking about it, not asking it
        if n.reason == "reply":
            reply = getattr(record, "reply", None)
            if reply is None or did_of(reply.parent.uri) != self.did:
                return False
        return True

    # ----------------------------------------------------------------- answering

    async def drain(self, stop: asyncio.Event) -> None:
        """Answer queued posts, oldest first, while the budget and limits allow.

        Up to :data:`CONCURRENCY` of the oldest posts are prepared at a time
        (thread read and answer, mostly waiting on the network); then each, in
        queue order, reserves its write points and posts, so replies are created
        oldest first and the budget holds. Once one is refused for budget, the
        newer ones wait too.

        Before the first post after a start or a post of unknown outcome, it reads
        the bot's own recent posts (:meth:`_check_own_posts`).
        """
        if self._unfinished and not await self._finish_unfinished():
            return  # the budget or the server says wait: half answers come first
        if self._queue and self._own_posts_since is not None:
            await self._check_own_posts()
        while self._queue and not stop.is_set():
            batch = self._queue[:CONCURRENCY]
            turns = [asyncio.Event() for _ in batch]
            turns[0].set()
            spent: list[bool] = []
            results = await asyncio.gather(
                *(self._answer_in_turn(item, i, turns, spent) for i, item in enumerate(batch)),
                return_exceptions=True,
            )
            finished = {
                item.notification.uri for item, ok in zip(batch, results, strict=True) if ok is True
            }
            if finished:
                self._queue = [p for p in self._queue if p.notification.uri not in finished]
                self._queued -= finished
                await self._save_watermark()
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            if len(finished) < len(batch):
                return  # budget spent: keep the queue for later

    async def _answer_in_turn(
        self, item: _Pending, index: int, turns: list[asyncio.Event], spent: list[bool]
    ) -> bool:
        try:
            return await self._answer(item, turns[index], spent)
        finally:
            if index + 1 < len(turns):
                turns[index + 1].set()  # the next post may go, whatever happened to this one

    async def _answer(
        self, item: _Pending, turn: asyncio.Event | None = None, spent: list[bool] | None = None
    ) -> bool:
        """Answer one post. Returns False when the write budget says wait.

        Args:
            item: The queued post.
            turn: Set when the older posts of the batch have posted (or given up).
            spent: Shared by a batch; non-empty once an older post met a spent budget.
        """
        n = item.notification
        uri = n.uri
        if await self.store.is_answered(uri):
            return True
        if item.posts is None:
            thread = await self._thread_unless_answered(n)
            if thread is None:
                return True
            question = question_text(n.record, self.did, self.settings.handle)
            langs = list(getattr(n.record, "langs", None) or [])
            hint = langs[0] if langs else None
            # The per-person limit, as on Telegram: decided by the core, before any work.
            verdict = await self.core.admit_async("bluesky", n.author.did)
            if verdict is not Verdict.ALLOW:
                await self.store.increment("bluesky.rate_limited")
                if verdict is Verdict.DROP:
                    await self.store.mark_answered(uri, None)
                    return True
                item.language = normalize_hint(hint) or "en"
                item.posts = split_posts([[_Span(phrase(item.language, "rate.slow_down"))]])
            else:
                await self._restore_thread_context(n, thread)
                incoming = IncomingMessage(
                    text=question, channel="bluesky", user_id=n.author.did, language_hint=hint
                )
                # "more", "sources", "why" under an answer: that part of the same topic.
                detail = await self.core.detail_request(incoming)
                reply = detail or (await self.core.respond(incoming)).reply
                if reply.kind == "smalltalk" or (n.reason == "reply" and reply.kind == "fallback"):
                    # "thanks!" or "hi": no post; chatter under our answer gets none either.
                    await self.store.mark_answered(uri, None)
                    await self.store.increment("bluesky.skipped_chatter")
                    return True
                item.posts = render_bluesky(reply, max_posts=self.settings.max_posts)
                item.language = reply.language
        if turn is not None:
            await turn.wait()
        if spent:
            return False  # an older post is waiting for the budget: stay behind it
        thread_root = reply_refs(n).root.uri
        allowance = self.caps.allowance(thread_root, n.author.did)
        if allowance.posts <= 0:
            log.info("bluesky: %s cap reached; not answering %s", allowance.cap, log_ref(uri))
            await self.store.mark_answered(uri, None)
            await self.store.increment("bluesky.capped")
            return True
        if len(item.posts) >= allowance.posts:
            # What fits, then one clear last post saying the bot stops here.
            notice = phrase(item.language, f"bsky.cap.{allowance.cap}")
            item.posts = item.posts[: allowance.posts - 1] + split_posts([[_Span(notice)]])[:1]
        points = CREATE_POINTS * len(item.posts)
        wait = self.budget.wait_for(points)
        if wait > 0:
            if spent is not None:
                spent.append(True)
            blocked_until = self._clock() + wait
            if abs(blocked_until - self._budget_warned) < 60:
                return False  # already said so
            self._budget_warned = blocked_until
            log.warning(
                "bluesky: write budget spent (%d/%d points this hour, %d/%d today); "
                "%d posts queued, next in %.0fs",
                self.budget.used_hour,
                self.budget.per_hour,
                self.budget.used_day,
                self.budget.per_day,
                len(self._queue),
                wait,
            )
            return False
        self.budget.spend(points)  # reserved now, so concurrent answers cannot overdraw
        self.caps.record(thread_root, n.author.did, len(item.posts))
        # Stored before posting: a leader killed mid-post must not leave its successor
        # (another replica) a budget without these points.
        await self.store.set_value(BUDGET_KEY, self.budget.dumps())
        used = 0
        try:
            used = await self._post_thread(item)
        finally:
            if used < points:
                self.budget.refund(points - used)
            await self.store.set_value(BUDGET_KEY, self.budget.dumps())
            await self._save_requests()
        return True

    def _note_unknown_outcome(self, since: dt.datetime) -> None:
        """Read our own posts back to ``since`` before the next post."""
        if self._own_posts_since is None or since < self._own_posts_since:
            self._own_posts_since = since

    async def _check_own_posts(self) -> int:
        """Record as answered every post our recent posts reply to.

        Reads ``app.bsky.feed.post`` in the bot's repository on its PDS, newest
        first, back to :attr:`_own_posts_since` (at most
        :data:`OWN_POSTS_MAX_PAGES` pages). The PDS has a record as soon as
        ``createRecord`` returns, so this sees a reply the AppView may not have
        indexed yet, one request per 100 posts.

        Returns:
            How many posts were found answered that the store did not know of.

        Raises:
            _Retry: A transient failure; the check is done again before the next post.
        """
        since = self._own_posts_since
        if since is None:
            return 0
        cursor: str | None = None
        found = read = 0
        for _ in range(OWN_POSTS_MAX_PAGES):
            params: dict[str, Any] = {
                "repo": self.did,
                "collection": POST_COLLECTION,
                "limit": PAGE_SIZE,
            }
            if cursor:
                params["cursor"] = cursor
            try:
                page = await self._call(
                    lambda c, p=params: c.com.atproto.repo.list_records(params=p)
                )
            except (BadRequestError, RequestException) as exc:
                # Not transient (_Retry is): the thread check still guards against most.
                log.warning("bluesky: cannot read our own posts (%s); relying on threads", exc)
                break
            reached = False
            for record in page.records:
                read += 1
                value = record.value
                created = parse_time(_field(value, "created_at", "createdAt"))
                if created is not None and created < since:
                    reached = True
                    continue
                parent = _field(_field(_field(value, "reply"), "parent"), "uri")
                if not parent or did_of(parent) == self.did:
                    continue  # not a reply, or the next post of one of our threads
                if await self.store.is_answered(parent):
                    continue
                log.info(
                    "bluesky: post %s already has our reply (in our repository); recording it",
                    log_ref(parent),
                )
                await self.store.mark_answered(parent, record.uri)
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

    def _replies_to_us(self, n: Any) -> bool:
        reply = getattr(n.record, "reply", None)
        return reply is not None and did_of(reply.parent.uri) == self.did

    async def _thread_unless_answered(self, n: Any) -> Any | None:
        """Fetch the post's thread, or None (recorded as handled) when we must not
        reply: our reply is already there (a crash before recording), or the post
        is deleted, blocked or closed to replies."""
        height = THREAD_CONTEXT_HEIGHT if self._replies_to_us(n) else 0
        try:
            res = await self._call(
                lambda c: c.get_post_thread(uri=n.uri, depth=1, parent_height=height)
            )
        except BadRequestError as exc:
            if _error_name(exc) == "NotFound":
                await self.store.mark_answered(n.uri, None)
                return None
            raise
        thread = res.thread
        if not isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost):
            log.info(
                "bluesky: post %s is not visible (deleted or blocked); skipping", log_ref(n.uri)
            )
            await self.store.mark_answered(n.uri, None)
            return None
        for child in thread.replies or []:
            post = getattr(child, "post", None)
            if post is None or post.author.did != self.did:
                continue
            parent = getattr(getattr(post.record, "reply", None), "parent", None)
            if parent is not None and parent.uri == n.uri:
                log.info("bluesky: post %s already has our reply; recording it", log_ref(n.uri))
                await self.store.mark_answered(n.uri, post.uri)
                return None
        viewer = thread.post.viewer
        if viewer is not None and viewer.reply_disabled:
            log.info("bluesky: replies to a post are disabled; skipping")
            await self.store.mark_answered(n.uri, None)
            return None
        if await self._root_blocks_us(n, thread):
            log.info("bluesky: the thread's root author blocks us (or we them); skipping")
            await self.store.increment("bluesky.skipped_blocked")
            await self.store.mark_answered(n.uri, None)
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
                return _blocked(node.post.author)
            node = getattr(node, "parent", None)
        if isinstance(node, models.AppBskyFeedDefs.BlockedPost):
            return True  # an ancestor on the way up is blocked
        try:
            res = await self._call(
                lambda c: c.get_post_thread(uri=root_uri, depth=0, parent_height=0)
            )
        except BadRequestError as exc:
            if _error_name(exc) == "NotFound":
                return False  # a deleted root: the thread goes on without it
            raise
        root = res.thread
        if isinstance(root, models.AppBskyFeedDefs.BlockedPost):
            return True
        if isinstance(root, models.AppBskyFeedDefs.ThreadViewPost):
            return _blocked(root.post.author)
        return False

    async def _restore_thread_context(self, n: Any, thread: Any) -> None:
        """A reply under our answer ("and on Android?") continues *that* answer.

        The topic is recovered from the thread itself: the nearest question
        above our post that names a topic. It becomes the person's last topic
        for the core, so a follow-up in this thread is about this thread even
        if the person asked something else elsewhere since.
        """
        if not self._replies_to_us(n):
            return
        node = getattr(thread, "parent", None)
        surface: str | None = None
        while isinstance(node, models.AppBskyFeedDefs.ThreadViewPost):
            post = node.post
            if post.author.did != self.did:
                text = question_text(post.record, self.did, self.settings.handle)
                langs = list(getattr(post.record, "langs", None) or [])
                hint = langs[0] if langs else None
                surface = surface or self.core.matcher.understand(text, language_hint=hint).surface
                if await self.core.restore_context(
                    "bluesky", n.author.did, text, language_hint=hint, surface=surface
                ):
                    return
            node = getattr(node, "parent", None)

    async def _post_thread(self, item: _Pending) -> int:
        """Post the reply thread; returns the write points used.

        The first post is recorded as the answer the moment it exists. When
        more follow, the rest of the thread is kept in the store
        (:data:`UNFINISHED_KEY`) until its last post is out, so a crash or a
        long outage after the first post is completed later
        (:meth:`_finish_unfinished`) instead of leaving half an answer.
        """
        assert item.posts is not None
        n = item.notification
        refs = reply_refs(n)
        reply_to = models.AppBskyFeedPost.ReplyRef(root=refs.root, parent=refs.parent)
        first = item.posts[0]
        sent_at = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        try:
            created = await self._call(
                lambda c: c.send_post(
                    first.text,
                    reply_to=reply_to,
                    langs=[item.language],
                    facets=to_sdk_facets(first.facets),
                    embed=to_sdk_embed(first.embed),
                    profile_identify=self.did,
                )
            )
        except _Retry as exc:
            if exc.maybe_done:  # it may exist: look in our repository first
                self._note_unknown_outcome(sent_at - OWN_POSTS_MARGIN)
            raise  # nothing known posted: the item stays queued
        except BadRequestError as exc:
            log.error("bluesky: post refused under %s: %s", log_ref(n.uri), _error_name(exc))
            metrics.record_error("bluesky", "send")
            await self.store.mark_answered(n.uri, None)
            return 0
        if len(item.posts) > 1:
            entry = {
                "ref": log_ref(n.uri),
                "root": {"uri": refs.root.uri, "cid": refs.root.cid},
                "parent": {"uri": created.uri, "cid": created.cid},
                "lang": item.language,
                "posts": [_post_to_json(p) for p in item.posts[1:]],
            }
            self._unfinished[_entry_key(n.uri)] = entry
            await self._save_unfinished()
        # Record the answer the moment it exists.
        await self.store.mark_answered(n.uri, created.uri)
        await self.store.increment("bluesky.answered")
        self.answered += 1
        log.info("bluesky: answered %s (%d post(s))", log_ref(n.uri), len(item.posts))
        if len(item.posts) == 1:
            return CREATE_POINTS
        return CREATE_POINTS + await self._continue_thread(_entry_key(n.uri))

    async def _continue_thread(self, key: str) -> int:
        """Post the rest of an unfinished reply thread; returns the write points used.

        The entry is updated after every post and removed after the last one.
        Transient failures keep it for later; a refused post drops it.
        """
        entry = self._unfinished[key]
        used = 0
        attempts = 0
        while entry["posts"]:
            post = _post_from_json(entry["posts"][0])
            reply_to = models.AppBskyFeedPost.ReplyRef(
                root=models.ComAtprotoRepoStrongRef.Main(**entry["root"]),
                parent=models.ComAtprotoRepoStrongRef.Main(**entry["parent"]),
            )

            async def send(c: AsyncClient, p: Post = post, r: Any = reply_to) -> Any:
                return await c.send_post(
                    p.text,
                    reply_to=r,
                    langs=[entry["lang"]],
                    facets=to_sdk_facets(p.facets),
                    profile_identify=self.did,
                )

            try:
                created = await self._call(send)
            except _Retry:
                attempts += 1
                wait = self.gate.remaining()
                if attempts > 3 or wait > 120:
                    log.warning(
                        "bluesky: the rest of the thread under %s waits for later", entry["ref"]
                    )
                    return used
                await asyncio.sleep(wait)
                continue
            except BadRequestError as exc:
                log.error("bluesky: post refused under %s: %s", entry["ref"], _error_name(exc))
                metrics.record_error("bluesky", "send")
                del self._unfinished[key]
                await self._save_unfinished()
                return used
            used += CREATE_POINTS
            attempts = 0
            entry["parent"] = {"uri": created.uri, "cid": created.cid}
            entry["posts"] = entry["posts"][1:]
            if entry["posts"]:
                await self._save_unfinished()
        del self._unfinished[key]
        await self._save_unfinished()
        return used

    async def _finish_unfinished(self) -> bool:
        """Complete reply threads cut short (a crash or an outage after their first post).

        Returns:
            True when none is left; False when the write budget says wait.
        """
        for key in list(self._unfinished):
            entry = self._unfinished.get(key)
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
                await self.store.set_value(BUDGET_KEY, self.budget.dumps())
            if key in self._unfinished:
                return False  # still failing: try again at the next round
        return True

    async def _save_unfinished(self) -> None:
        value = json.dumps(self._unfinished, sort_keys=True) if self._unfinished else None
        await self.store.set_value(UNFINISHED_KEY, value)

    async def _load_unfinished(self) -> None:
        raw = await self.store.get_value(UNFINISHED_KEY)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = {}
        self._unfinished = {
            k: v
            for k, v in (loaded.items() if isinstance(loaded, dict) else [])
            if isinstance(v, dict) and {"root", "parent", "lang", "posts", "ref"} <= set(v)
        }


def _entry_key(uri: str) -> str:
    """The key of an unfinished thread in the store: a digest, not the asker's post URI."""
    return hashlib.sha256(uri.encode()).hexdigest()[:32]


def _post_to_json(post: Post) -> dict[str, Any]:
    return {"text": post.text, "facets": [[f.byte_start, f.byte_end, f.uri] for f in post.facets]}


def _post_from_json(data: dict[str, Any]) -> Post:
    return Post(
        text=str(data["text"]),
        facets=tuple(LinkFacet(int(a), int(b), str(u)) for a, b, u in data.get("facets", [])),
    )


_LOG_KEY = os.urandom(16)


def log_ref(uri: str) -> str:
    """How a post is named in logs: a keyed hash, stable within this process only.

    Post URIs name their author's DID; the logs only need to tell posts apart.
    """
    return "post-" + hmac.new(_LOG_KEY, uri.encode(), hashlib.sha256).hexdigest()[:12]


def _blocked(author: Any) -> bool:
    """Whether a profile view says it blocks the bot, or the bot blocks it."""
    viewer = getattr(author, "viewer", None)
    return bool(getattr(viewer, "blocked_by", False) or getattr(viewer, "blocking", None))


def _field(value: Any, *names: str) -> Any:
    """A field of a record that the SDK returns as a model or as a plain dict."""
    if value is None:
        return None
    for name in names:
        found = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if found is not None:
            return found
    return None


def _error_name(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return str(getattr(content, "error", "") or "")


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))


# --------------------------------------------------------------------------- profile


async def setup_profile(
    channel: BlueskyChannel,
    *,
    description: str = PROFILE_DESCRIPTION,
    display_name: str | None = None,
) -> dict[str, Any]:
    """Give the bot account the ``bot`` self-label and a description of what it stores.

    Keeps the other profile fields (avatar, banner...) and uses ``swapRecord``
    so a concurrent edit is not overwritten.

    Args:
        channel: A channel whose settings name the account.
        description: Profile text (at most 256 graphemes).
        display_name: Display name; unchanged when None.

    Returns:
        The profile record written.

    Raises:
        ValueError: The description is longer than 256 graphemes.
    """
    if grapheme_len(description) > 256:
        raise ValueError("the profile description must be at most 256 graphemes")
    if channel.client is None:
        await channel.login()
    did = channel.did
    try:
        current = await channel._call(
            lambda c: c.com.atproto.repo.get_record(
                params={"repo": did, "collection": PROFILE_COLLECTION, "rkey": "self"}
            )
        )
        record = _to_dict(current.value)
        swap = current.cid
    except BadRequestError:
        record, swap = {}, None
    record["$type"] = PROFILE_COLLECTION
    record["description"] = description
    if display_name is not None:
        record["displayName"] = display_name
    labels = record.get("labels") or {"$type": "com.atproto.label.defs#selfLabels", "values": []}
    values = [v for v in labels.get("values", []) if v.get("val") != "bot"]
    labels["values"] = [*values, {"val": "bot"}]
    record["labels"] = labels
    await channel._call(
        lambda c: c.com.atproto.repo.put_record(
            data={
                "repo": did,
                "collection": PROFILE_COLLECTION,
                "rkey": "self",
                "record": record,
                "swapRecord": swap,
            }
        )
    )
    channel.budget.spend(2)
    await channel.store.set_value(BUDGET_KEY, channel.budget.dumps())
    return record


def _to_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    from atproto_client.models.utils import get_model_as_dict

    return get_model_as_dict(value)

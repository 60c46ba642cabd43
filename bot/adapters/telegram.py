"""The Telegram channel: python-telegram-bot 22 in front of the core.

Run it with ``privacybot run telegram`` (``TELEGRAM_BOT_TOKEN`` set). It polls
by default; set ``TELEGRAM_MODE=webhook`` with ``TELEGRAM_WEBHOOK_URL`` and
``TELEGRAM_WEBHOOK_SECRET`` to receive updates over HTTPS instead.

The adapter stays thin: it turns an update into an
:class:`~bot.messages.IncomingMessage`, awaits the core and renders the neutral
reply with :mod:`bot.render.telegram_html` (HTML, ≤ 4096 characters a message,
buttons as callback data). What Telegram imposes lives here:

* flood limits: about 30 messages/s overall and 1/s per chat. PTB's
  :class:`~telegram.ext.AIORateLimiter` paces the overall rate, retries a 429
  after its ``retry_after`` and paces groups; :class:`FloodControl` adds the
  per-chat pace it lacks for private chats;
* a user who blocked the bot answers 403 ``Forbidden``: counted
  (``telegram.forbidden``) and dropped, never retried;
* a request that fails on the way (5xx, dropped connection, timeout) is
  retried a few times with backoff (:class:`FloodControl`): a reply is sent at
  least once; a duplicate is possible only if Telegram delivered a message and
  its answer was lost, which we prefer to a person getting no answer at all;
* a long poll that fails is retried by PTB with backoff, inside ``run()``: the
  runner never sees it, so the adapter itself tells ``/healthz`` the channel is
  ``reconnecting`` until Telegram answers a poll again; a ``Conflict`` (another
  process polling with the same token, which makes Telegram hand the same
  updates to both) is tolerated for ``TELEGRAM_CONFLICT_TIMEOUT`` seconds (a
  restart overlapping the old process), then the channel stops with a message
  saying so instead of answering people twice;
* one person flooding the bot is held to ``PRIVACYBOT_USER_RATE``
  (:mod:`bot.ratelimit`): the check runs before the update queues behind that
  person's chat, so a flood holds no slot the others need, and earns one
  "slow down" message per window;
* in groups the bot speaks only when mentioned, replied to or commanded;
* one error handler logs the update id and the error, never the user's text,
  and keeps the bot alive; httpx logs at WARNING because the token is in every
  Bot API URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pydantic import SecretStr as Secret  # the one secret type (issue 11)
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import metrics
from bot.adapters.telegram_webhook import ProcessingWebhook
from bot.channel import ChannelContext, ChannelFactory
from bot.core import Core, Forgotten
from bot.errors import ConfigError
from bot.messages import IncomingMessage, Reply
from bot.nlu.language import normalize_hint
from bot.ratelimit import Verdict
from bot.render.telegram_html import (
    CB_CHOOSE,
    CB_LANGUAGE,
    CB_PART,
    CB_SURFACE,
    Button,
    language_buttons,
    parse_callback,
    render_reply,
    render_text,
    reply_keyboard,
    topic_buttons,
)
from bot.store.base import UserState
from bot.texts import text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
COMMANDS = ("start", "help", "topics", "lang", "privacy", "forget")
EXAMPLE_TOPICS = ("x.grok_training", "x.third_party_sharing", "x.grok_history")
HELP_TOPIC = "bot.help"
PRIVACY_TOPIC = "bot.privacy"
INLINE_CACHE_SECONDS = 60
KEYBOARDS_REMEMBERED = 10_000
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """The Telegram section of the configuration, read from the environment.

    Attributes:
        token: ``TELEGRAM_BOT_TOKEN`` from @BotFather.
        api_base_url: ``TELEGRAM_API_BASE_URL``, Telegram's by default; tests and
            self-hosted Bot API servers point it elsewhere.
        mode: ``TELEGRAM_MODE``: ``polling`` (default) or ``webhook``.
        webhook_url: ``TELEGRAM_WEBHOOK_URL``, the public URL Telegram posts to.
        webhook_secret: ``TELEGRAM_WEBHOOK_SECRET``; requests without it are refused.
        listen: ``TELEGRAM_LISTEN``, the address the webhook server binds.
        port: ``TELEGRAM_PORT``, its port.
        poll_timeout: ``TELEGRAM_POLL_TIMEOUT``, seconds of one long poll.
        conflict_timeout: ``TELEGRAM_CONFLICT_TIMEOUT``, seconds of repeated
            ``Conflict`` answers (another poller) before the channel stops.
    """

    token: Secret
    api_base_url: str = DEFAULT_API_BASE_URL
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    poll_timeout: int = 10
    conflict_timeout: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        """Read and check the settings.

        Args:
            env: The environment (``os.environ`` or a test's dict).

        Returns:
            The checked settings.

        Raises:
            ConfigError: Naming the variable that is missing or invalid.
        """
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
                "in TELEGRAM_BOT_TOKEN"
            )
        if not _TOKEN.match(token):
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<key>)")
        base = (env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).strip().rstrip("/")
        if urlparse(base).scheme not in ("http", "https") or not urlparse(base).netloc:
            raise ConfigError(f"TELEGRAM_API_BASE_URL must be an http(s) URL, got {base!r}")
        mode = (env.get("TELEGRAM_MODE") or "polling").strip().lower()
        if mode not in ("polling", "webhook"):
            raise ConfigError(f"TELEGRAM_MODE must be 'polling' or 'webhook', got {mode!r}")
        port_raw = (env.get("TELEGRAM_PORT") or "8443").strip()
        if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
            raise ConfigError(f"TELEGRAM_PORT must be a port number, got {port_raw!r}")
        timeout_raw = (env.get("TELEGRAM_POLL_TIMEOUT") or "10").strip()
        if not timeout_raw.isdigit():
            raise ConfigError(f"TELEGRAM_POLL_TIMEOUT must be whole seconds, got {timeout_raw!r}")
        conflict_raw = (env.get("TELEGRAM_CONFLICT_TIMEOUT") or "60").strip()
        if not conflict_raw.isdigit():
            raise ConfigError(
                f"TELEGRAM_CONFLICT_TIMEOUT must be whole seconds, got {conflict_raw!r}"
            )
        webhook_url = (env.get("TELEGRAM_WEBHOOK_URL") or "").strip() or None
        secret = (env.get("TELEGRAM_WEBHOOK_SECRET") or "").strip() or None
        if mode == "webhook":
            if not webhook_url:
                raise ConfigError("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook")
            parsed = urlparse(webhook_url)
            if parsed.scheme != "https" or not parsed.hostname:
                raise ConfigError(
                    f"TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram posts only over "
                    f"HTTPS), got {parsed.scheme or 'no'} scheme"
                )
            if not secret:
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook, so that "
                    "requests not from Telegram are refused"
                )
            if not _SECRET.match(secret):
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256)"
                )
        return cls(
            token=Secret(token),
            api_base_url=base,
            mode=mode,
            webhook_url=webhook_url,
            webhook_secret=Secret(secret) if secret else None,
            listen=(env.get("TELEGRAM_LISTEN") or "127.0.0.1").strip(),
            port=int(port_raw),
            poll_timeout=int(timeout_raw),
            conflict_timeout=int(conflict_raw),
        )


def is_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment asks for the Telegram channel."""
    return bool(env.get("TELEGRAM_BOT_TOKEN", "").strip())


def create_channel(core: Core, env: Mapping[str, str]) -> TelegramChannel:
    """Build the Telegram channel for the runner.

    Raises:
        ConfigError: If the Telegram settings are missing or invalid.
    """
    return TelegramChannel(core, TelegramSettings.from_env(env))


class _Factory:
    """How the application finds and builds this channel (see :mod:`bot.channel`)."""

    name = "telegram"

    def is_configured(self, env: Mapping[str, str]) -> bool:
        return is_configured(env)

    def create(self, context: ChannelContext) -> TelegramChannel:
        return TelegramChannel(context.core, TelegramSettings.from_env(context.env))


FACTORY: ChannelFactory = _Factory()


# --- flow control ----------------------------------------------------------------


class FloodControl(AIORateLimiter):
    """PTB's rate limiter plus a per-chat pace for every chat.

    :class:`AIORateLimiter` paces all requests overall and group chats at 20 a
    minute, and retries 429s, but it lets any number of messages reach one private
    chat at once, which Telegram answers with 429 beyond about one a second. Here
    messages to one chat are sent one after the other, each ``chat_interval``
    after the previous one was *answered* (so a request delayed on the way, or
    paused by a 429, can never arrive too close to the next). The overall pace is
    spread evenly (one request every ``1/overall_rate`` s) rather than in bursts of
    30, and kept below 30/s to absorb delays between pacing and arrival.

    A request that fails on the way (a 5xx answer, a dropped connection, a
    timeout: PTB's ``NetworkError`` except ``BadRequest``) is sent again after
    ``0.5, 1, 2, 4...`` s, at most ``network_retries`` times, paced like any other.

    With several replicas (PostgreSQL, webhook), ``shared`` is the store: each
    message then also reserves its chat's next slot and a slot of the overall
    pace in the database (:meth:`bot.store.postgres.PostgresStore.reserve_send`),
    so three replicas send to one chat, and overall, at the rate one would. If
    the database fails, the local pace alone applies (never a lost message).

    Args:
        overall_rate: Requests per second for the whole bot.
        chat_interval: Seconds between two messages to the same chat.
        max_retries: Retries of a request answered with 429.
        network_retries: Retries of a request that failed on the way.
        shared: A store with ``reserve_send``/``sent``, or None (one process).
    """

    MESSAGE_ENDPOINTS = frozenset({"sendMessage"})
    RETRY_START = 0.5
    RETRY_MAX = 8.0

    def __init__(
        self,
        *,
        overall_rate: float = 25.0,
        chat_interval: float = 1.05,
        max_retries: int = 5,
        network_retries: int = 5,
        shared: Any = None,
    ) -> None:
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / overall_rate,
            max_retries=max_retries,
        )
        self._shared: Any = shared if getattr(shared, "reserve_send", None) else None
        self._overall_interval = 1 / overall_rate
        self._shared_warned = 0.0
        self._network_retries = network_retries
        self._chat_interval = chat_interval
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._chat_done: dict[str, float] = {}

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chat_done) <= 1024:
            return
        for key, done in list(self._chat_done.items()):
            lock = self._chat_locks.get(key)
            if now - done > self._chat_interval and (lock is None or not lock.locked()):
                self._chat_done.pop(key, None)
                self._chat_locks.pop(key, None)

    async def _shared_wait(self, scope: str, ident: str, interval: float) -> None:
        """Wait for the slot reserved across replicas; the local pace alone if the store fails."""
        try:
            wait = await self._shared.reserve_send(scope, ident, interval)
        except Exception as exc:
            now = asyncio.get_running_loop().time()
            if now - self._shared_warned > 60:
                self._shared_warned = now
                log.warning("telegram: shared send pace unavailable (%s)", type(exc).__name__)
            return
        if wait > 0:
            await asyncio.sleep(wait)

    async def _with_retries(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        delay = self.RETRY_START
        for attempt in range(self._network_retries + 1):
            if self._shared is not None and endpoint in self.MESSAGE_ENDPOINTS:
                await self._shared_wait("tg-all", "", self._overall_interval)
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    raise
                metrics.record_error("telegram", "network")
                log.warning(
                    "telegram: %s failed on the way (%s); retry %d in %.1f s",
                    endpoint,
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX)
        raise AssertionError("unreachable")  # pragma: no cover

    async def process_request(  # type: ignore[override]
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        callback = _counting_retry_after(callback)
        chat_id = data.get("chat_id")
        if chat_id is None or endpoint not in self.MESSAGE_ENDPOINTS:
            return await self._with_retries(callback, args, kwargs, endpoint, data, rate_limit_args)
        key = str(chat_id)
        loop = asyncio.get_running_loop()
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        async with lock:
            wait = self._chat_done.get(key, 0.0) + self._chat_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._shared is not None:
                await self._shared_wait("tg-chat", key, self._chat_interval)
            try:
                return await self._with_retries(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            finally:
                self._chat_done[key] = loop.time()
                self._forget_idle_chats(loop.time())
                if self._shared is not None:
                    # Replicas space from the answer too, as the local pace does.
                    with contextlib.suppress(Exception):
                        await self._shared.sent("tg-chat", key, self._chat_interval)


def _counting_retry_after(callback: Any) -> Any:
    """Wrap a Bot API call so each 429 shows in /metrics before the limiter retries it."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            metrics.record_rate_limited("telegram", seconds)
            raise

    return call


class PollRequest(HTTPXRequest):
    """The ``getUpdates`` connection (PTB's default: one connection), reporting each
    answer from Telegram, so ``/healthz`` shows the channel running again after an outage.
    """

    def __init__(self, on_answer: Callable[[], None]) -> None:
        super().__init__(connection_pool_size=1)
        self._on_answer = on_answer

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        result = await super().do_request(*args, **kwargs)
        self._on_answer()  # any HTTP answer: the server is reachable
        return result


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats but in order within one chat.

    So ``/lang fr`` followed by a question is answered in French even though a
    thousand other people are being answered at the same time.

    Args:
        max_concurrent_updates: Updates processed (or waiting for their chat) at once.
        gate: Called with each update *before* it waits for its chat; False
            drops the update. The per-person rate limit lives there, so a flood
            from one chat cannot fill the slots everyone shares.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        gate: Callable[[object], Awaitable[bool]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._gate = gate

    @staticmethod
    def _key(update: object) -> int | None:
        if not isinstance(update, Update):
            return None
        if update.effective_chat is not None:
            return update.effective_chat.id
        return update.effective_user.id if update.effective_user else None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._gate is not None and not await self._gate(update):
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()
            return
        key = self._key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


# --- the channel -----------------------------------------------------------------

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# What a person may send instead of text; each gets a reply saying what the bot reads.
_MEDIA = (
    filters.PHOTO
    | filters.Sticker.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


def _markup(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in rows
        ]
    )


class TelegramChannel:
    """Serves the core on Telegram until asked to stop.

    Args:
        core: The shared answer engine.
        settings: The checked Telegram settings.
    """

    name = "telegram"
    reports_reachability = True
    """``/healthz`` shows it ``starting`` until Telegram has answered (``getMe``)."""

    def __init__(self, core: Core, settings: TelegramSettings) -> None:
        self.core = core
        self.settings = settings
        # Per private chat, the bot's last message with buttons (oldest chats first).
        self._keyboards: dict[int, int] = {}
        self._conflict_first: float | None = None
        self._conflict_last = 0.0
        self._conflicted = asyncio.Event()

    # wiring ---------------------------------------------------------------------

    def build_application(self, *, with_updater: bool = True) -> Application:
        """Build the PTB application with every handler (``with_updater=False`` for tests)."""
        base = self.settings.api_base_url
        builder = (
            Application.builder()
            .token(self.settings.token.get_secret_value())
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .rate_limiter(FloodControl(shared=self.core.store))
            .concurrent_updates(PerChatUpdateProcessor(256, gate=self._gate))
            .connection_pool_size(64)
            .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW))
        )
        if with_updater:
            builder = builder.get_updates_request(
                PollRequest(lambda: metrics.set_channel_reachable(CHANNEL, True))
            )
        else:
            builder = builder.updater(None)
        app = builder.build()
        for command in COMMANDS:
            app.add_handler(CommandHandler(command, getattr(self, f"_cmd_{command}")))
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, self._on_text
            )
        )
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, self._on_group
            )
        )
        app.add_handler(
            MessageHandler(
                filters.COMMAND & filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED,
                self._on_unknown_command,
            )
        )
        app.add_handler(
            MessageHandler(
                _MEDIA & filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED, self._on_media
            )
        )
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(InlineQueryHandler(self._on_inline))
        app.add_error_handler(self._on_error)
        return app

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then finish in-flight replies and return.

        Raises:
            ConfigError: If Telegram rejects the token, or another process keeps
                polling with it (not worth restarting).
            TelegramError: On other start-up failures; the runner restarts us.
        """
        self._conflict_first = None
        self._conflicted.clear()
        app = self.build_application()
        try:
            await app.initialize()
        except InvalidToken as exc:
            raise ConfigError("TELEGRAM_BOT_TOKEN was rejected by Telegram") from exc
        metrics.set_channel_reachable(CHANNEL, True)  # getMe answered: no longer "starting"
        # The menu is set in the background: its retries (five per language when
        # Telegram fails) must not delay the first answer.
        announcing = asyncio.ensure_future(self.announce(app))
        webhook: ProcessingWebhook | None = None
        try:
            await app.start()
            assert app.updater is not None
            if self.settings.mode == "webhook" and getattr(self.core.store, "reserve_send", None):
                # Replicas (shared store): answer Telegram only once an update is handled.
                assert self.settings.webhook_url is not None
                assert self.settings.webhook_secret is not None
                webhook = ProcessingWebhook(
                    app,
                    webhook_url=self.settings.webhook_url,
                    secret=self.settings.webhook_secret.get_secret_value(),
                    listen=self.settings.listen,
                    port=self.settings.port,
                    allowed_updates=ALLOWED_UPDATES,
                )
                await webhook.start()
            elif self.settings.mode == "webhook":
                assert self.settings.webhook_url is not None
                assert self.settings.webhook_secret is not None
                await app.updater.start_webhook(
                    listen=self.settings.listen,
                    port=self.settings.port,
                    url_path=urlparse(self.settings.webhook_url).path.lstrip("/"),
                    webhook_url=self.settings.webhook_url,
                    secret_token=self.settings.webhook_secret.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await app.updater.start_polling(
                    timeout=self.settings.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    error_callback=self._on_poll_error,
                )
            log.info("telegram: serving as @%s (%s)", app.bot.username, self.settings.mode)
            stopping = asyncio.ensure_future(stop.wait())
            conflicted = asyncio.ensure_future(self._conflicted.wait())
            try:
                await asyncio.wait({stopping, conflicted}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                conflicted.cancel()
            if self._conflicted.is_set() and not stop.is_set():
                raise ConfigError(
                    "another process is polling Telegram with this bot token (409 Conflict "
                    f"for {self.settings.conflict_timeout} s): stop the other instance, or "
                    "give each its own bot token, then start again"
                )
            log.info("telegram: stopping")
        finally:
            announcing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await announcing
            if webhook is not None:
                await webhook.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()

    async def announce(self, app: Application) -> None:
        """Set the command menu and the bot's description in both languages.

        Failures are logged, not raised: a missing menu must not keep the bot down.
        """
        for language in ("en", "fr"):
            code = None if language == "en" else language
            commands = [BotCommand(c, text(language, f"tg.cmd.{c}")) for c in COMMANDS]
            try:
                await app.bot.set_my_commands(commands, language_code=code)
                await app.bot.set_my_description(
                    text(language, "tg.description"), language_code=code
                )
                await app.bot.set_my_short_description(
                    text(language, "tg.short_description"), language_code=code
                )
            except TelegramError as exc:
                log.warning("telegram: could not set commands/description (%s): %s", language, exc)
            except Exception:  # a background task: never let it die silently
                log.warning("telegram: setting the menu failed (%s)", language, exc_info=True)

    def _on_poll_error(self, error: TelegramError) -> None:
        """PTB's polling loop failed once and will retry with backoff: log it, watch Conflicts.

        A ``Conflict`` means another process polls with the same token. One that
        stops within ``conflict_timeout`` seconds (a restart overlapping the old
        process) is waited out; Conflicts that go on longer stop the channel
        (see :meth:`run`), since two pollers may each answer the same update.
        """
        if not isinstance(error, Conflict):
            self._conflict_first = None
            log.warning("telegram: polling failed (%s: %s); retrying", type(error).__name__, error)
            metrics.set_channel_reachable(
                CHANNEL, False, error=f"{type(error).__name__}: {error}"[:300]
            )
            return
        now = asyncio.get_running_loop().time()
        limit = self.settings.conflict_timeout
        if self._conflict_first is None or now - self._conflict_last > limit:
            self._conflict_first = now
        self._conflict_last = now
        lasted = now - self._conflict_first
        log.warning(
            "telegram: another process is polling with this token (409 Conflict for %.0f s); "
            "stopping after %d s of it",
            lasted,
            limit,
        )
        if lasted >= limit:
            self._conflicted.set()

    async def _gate(self, update: object) -> bool:
        """The per-person rate limit, checked before an update waits for its chat.

        Counts new private messages, messages addressed to the bot in groups and
        button presses. Over the limit, the person gets one "slow down" (a
        message, or a notice on the button) and the rest is dropped unanswered.

        Returns:
            Whether to process the update.
        """
        if not isinstance(update, Update) or self.core.limiter is None:
            return True
        user, query, message = update.effective_user, update.callback_query, update.message
        if user is None or (query is None and message is None):
            return True
        try:
            if message is not None and message.chat.type != ChatType.PRIVATE:
                bot = message.get_bot()
                command = (message.text or "").startswith("/")
                if not command and self.addressed_text(message, bot.id, bot.username) is None:
                    return True
            verdict = await self.core.admit_async(CHANNEL, str(user.id))
        except Exception:  # the limit must never cost a person their answer
            log.exception("telegram: update %s: rate limit check failed", update.update_id)
            return True
        if verdict is Verdict.ALLOW:
            return True
        if verdict is Verdict.WARN:
            try:
                notice = text(await self._language(user), "rate.slow_down")
                if query is not None:
                    await query.answer(notice)
                elif message is not None:
                    await self._send(message, render_text(notice))
            except TelegramError as exc:
                log.info("telegram: update %s: slow-down notice failed: %s", update.update_id, exc)
        return False

    # helpers --------------------------------------------------------------------

    async def _language(self, user: Any) -> str:
        """The user's chosen or last language, else their app's, else English."""
        if user is None:
            return "en"
        state = await self._state(user)
        if state and state.language:
            return state.language
        return normalize_hint(user.language_code) or "en"

    async def _state(self, user: Any) -> UserState | None:
        """The person's stored state; None if there is none or the store fails (logged)."""
        if user is None:
            return None
        try:
            return await self.core.store.get_user(CHANNEL, str(user.id))
        except Exception as exc:
            log.warning("telegram: could not read a person's state: %s", type(exc).__name__)
            return None

    async def _send(
        self,
        message: Message,
        chunks: Sequence[str],
        markup: InlineKeyboardMarkup | None = None,
        *,
        markup_at: int = -1,
        quote: bool = False,
    ) -> None:
        """Send chunks in order to the message's chat, the keyboard on ``chunks[markup_at]``."""
        markup_index = markup_at % len(chunks) if chunks else 0
        for index, chunk in enumerate(chunks):
            reply_to = None
            if quote and index == 0:
                reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True)
            sent = await message.get_bot().send_message(
                message.chat_id,
                chunk,
                reply_markup=markup if index == markup_index else None,
                reply_parameters=reply_to,
            )
            if markup is not None and index == markup_index:
                await self._move_keyboard(message, sent)

    async def _move_keyboard(self, message: Message, sent: Message) -> None:
        """In a private chat, only the last message sent carries buttons.

        The keyboard of the previous one is removed, so a person never taps an
        answer's buttons 40 lines up. Best effort: a failed removal is no error.
        """
        if message.chat.type != ChatType.PRIVATE:
            return
        chat_id = message.chat_id
        previous = self._keyboards.pop(chat_id, None)
        self._keyboards[chat_id] = sent.message_id
        if len(self._keyboards) > KEYBOARDS_REMEMBERED:
            self._keyboards.pop(next(iter(self._keyboards)))
        if previous is not None and previous != sent.message_id:
            with contextlib.suppress(TelegramError):
                await message.get_bot().edit_message_reply_markup(
                    chat_id, previous, reply_markup=None
                )

    @staticmethod
    def messages(reply: Reply) -> list[str]:
        """The HTML messages for the part a reply shows; the keyboard goes on the last."""
        return render_reply(reply)

    @classmethod
    def render(cls, reply: Reply) -> tuple[list[str], list[str]]:
        """``(messages, [])``: everything sent at once (details wait for a button).

        Kept as a pair for the benches and tests that count ``first + rest``.
        """
        return cls.messages(reply), []

    async def _send_reply(self, message: Message, reply: Reply, *, quote: bool = False) -> None:
        await self._send(message, self.messages(reply), _markup(reply_keyboard(reply)), quote=quote)

    async def _answer(self, message: Message, user: Any, question: str) -> None:
        state = await self._state(user)
        hint = (state.language if state else None) or (user.language_code if user else None)
        incoming = IncomingMessage(
            text=question,
            channel=CHANNEL,
            user_id=str(user.id) if user else None,
            language_hint=hint,
        )
        # "more", "sources", "why" typed instead of tapped: that part of the last topic.
        reply = await self.core.handle(incoming)
        await self._send_reply(message, reply, quote=message.chat.type != ChatType.PRIVATE)

    def _topic_titles(self, language: str) -> list[tuple[str, str]]:
        return [
            (t.id, t.lang(language).title)
            for t in self.core.kb.topics.values()
            if t.platform != "bot"
        ]

    def _start_keyboard(self, language: str) -> list[list[Button]]:
        examples = [t for t in EXAMPLE_TOPICS if t in self.core.kb.topics]
        if len(examples) < 2:
            examples += [t for t, _ in self._topic_titles(language) if t not in examples]
        pairs = [(t, self.core.kb.topics[t].lang(language).title) for t in examples[:3]]
        return topic_buttons(pairs, language) + language_buttons(language)

    # commands -------------------------------------------------------------------

    async def _cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        language = await self._language(user)
        opened = self.core.deep_link_topic(context.args[0]) if context.args else None
        if opened is not None:
            # t.me/<bot>?start=x-grok_training: the topic's short answer, at once.
            topic_id, wanted = opened
            reply = self.core.topic_reply(topic_id, wanted or language)
            if user is not None:
                with contextlib.suppress(Exception):  # a failing store must not cost the answer
                    await self.core.remember(CHANNEL, str(user.id), reply)
            await self._send_reply(message, reply)
            return
        await self._send(
            message,
            render_text(text(language, "tg.start")),
            _markup(self._start_keyboard(language)),
        )

    async def _cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        if HELP_TOPIC in self.core.kb.topics:
            await self._send_reply(message, self.core.topic_reply(HELP_TOPIC, language))
            return
        titles = "\n".join(f"• {title}" for _, title in self._topic_titles(language))
        await self._send(message, render_text(f"{text(language, 'help.summary')}\n{titles}"))

    async def _cmd_topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        await self._send(
            message,
            render_text(text(language, "tg.topics")),
            _markup(topic_buttons(self._topic_titles(language), language)),
        )

    async def _cmd_lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        wanted = normalize_hint(context.args[0]) if context.args else None
        if wanted is None:
            language = await self._language(user)
            await self._send(
                message,
                render_text(text(language, "tg.lang.usage")),
                _markup(language_buttons(language)),
            )
            return
        await self.core.set_language(CHANNEL, str(user.id), wanted)
        await self._send(message, render_text(text(wanted, "tg.lang.set")))

    async def _cmd_privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        if PRIVACY_TOPIC in self.core.kb.topics:
            await self._send_reply(message, self.core.topic_reply(PRIVACY_TOPIC, language))
        else:
            await self._send(message, render_text(text(language, "tg.privacy")))

    async def _cmd_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = await self._language(user)
        result = await self.core.forget(CHANNEL, str(user.id))
        key = {
            Forgotten.ERASED: "tg.forget.done",
            Forgotten.NOTHING: "tg.forget.none",
            Forgotten.FAILED: "tg.forget.failed",
        }[result]
        await self._send(message, render_text(text(language, key)))

    # messages -------------------------------------------------------------------

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        await self._answer(message, update.effective_user, message.text)

    async def _on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, sticker, voice note...: answer its caption, else say what I read."""
        message = update.effective_message
        if message is None:
            return
        if message.caption and message.caption.strip():
            await self._answer(message, update.effective_user, message.caption)
            return
        language = await self._language(update.effective_user)
        await self._send(message, render_text(text(language, "tg.not_text")))

    async def _on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        await self._send(message, render_text(text(language, "tg.unknown_command")))

    async def _on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer in a group only when the bot is mentioned or replied to."""
        message = update.effective_message
        if message is None or not message.text:
            return
        question = self.addressed_text(message, context.bot.id, context.bot.username)
        if question is not None:
            await self._answer(message, update.effective_user, question)

    @staticmethod
    def addressed_text(message: Message, bot_id: int, bot_username: str) -> str | None:
        """The question if the message speaks to the bot, else None.

        A message speaks to the bot when it replies to one of the bot's messages
        or mentions ``@bot_username``; the mention is removed from the question.
        """
        mention = f"@{bot_username}".lower()
        question = message.text or ""
        mentioned = False
        for value in message.parse_entities([MessageEntity.MENTION]).values():
            if value.lower() == mention:
                mentioned = True
                question = question.replace(value, " ")
        replied = message.reply_to_message
        to_bot = bool(replied and replied.from_user and replied.from_user.id == bot_id)
        if not (mentioned or to_bot):
            return None
        return " ".join(question.split())

    # buttons --------------------------------------------------------------------

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tapped button: acknowledged at once (no spinner), then the message changes.

        Surface, part and candidate buttons edit the pressed message in place; a
        related topic, or a part too long for one message, comes as new messages
        carrying the buttons (the pressed message then loses its own).
        """
        query = update.callback_query
        if query is None:
            return
        callback = parse_callback(query.data)
        message = query.message if isinstance(query.message, Message) else None
        notice: str | None = None
        if callback is not None and callback.kind == CB_LANGUAGE:
            notice = text(callback.language, "tg.lang.set")
        elif callback is not None and callback.topic_id not in self.core.kb.topics:
            notice = text(callback.language, "tg.unknown_topic")
        with contextlib.suppress(TelegramError):
            await query.answer(notice)
        if callback is None or message is None:
            return
        user_id = str(query.from_user.id)
        if callback.kind == CB_LANGUAGE:
            await self.core.set_language(CHANNEL, user_id, callback.language)
            await self._edit(
                message,
                render_text(text(callback.language, "tg.start")),
                _markup(self._start_keyboard(callback.language)),
            )
            return
        assert callback.topic_id is not None
        if callback.topic_id not in self.core.kb.topics:
            return
        if callback.kind == CB_PART:
            reply = self.core.topic_part(
                callback.topic_id,
                callback.language,
                callback.part or "short",  # type: ignore[arg-type]
                surface=callback.surface,
            )
        else:
            reply = self.core.topic_reply(
                callback.topic_id, callback.language, surface=callback.surface
            )
        with contextlib.suppress(Exception):  # a failing store must not cost the answer
            await self.core.remember_shown(CHANNEL, user_id, reply)
        chunks = self.messages(reply)
        markup = _markup(reply_keyboard(reply))
        if callback.kind in (CB_SURFACE, CB_PART, CB_CHOOSE) and len(chunks) == 1:
            await self._edit(message, chunks, markup)
            return
        await self._send(message, chunks, markup)  # the buttons move to the new message

    @staticmethod
    async def _edit(
        message: Message, chunks: Sequence[str], markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await message.edit_text(chunks[0], reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    # inline mode ----------------------------------------------------------------

    async def _on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer short answers to share from any chat (``@bot grok``); nothing is stored.

        Results depend on the person's language, so Telegram caches them per
        person; a query that matches nothing gets no results and a hint.
        """
        query = update.inline_query
        if query is None:
            return
        language, replies = self.core.inline_replies(query.query, query.from_user.language_code)
        results = [
            InlineQueryResultArticle(
                id=f"{reply.language}:{reply.topic_id}"[:64],
                title=reply.title,
                description=reply.short[:200],
                input_message_content=InputTextMessageContent(
                    self.messages(reply)[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=_NO_PREVIEW,
                ),
            )
            for reply in replies
        ]
        hint = None
        if not results:
            hint = InlineQueryResultsButton(
                text=text(language, "tg.inline.hint"), start_parameter="inline"
            )
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=hint)

    # errors ---------------------------------------------------------------------

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error boundary: log the update id and the error, never the text."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            with contextlib.suppress(Exception):  # a failing store must not hide the error
                await self.core.store.increment("telegram.forbidden")
            log.info("telegram: update %s: the user blocked the bot; reply dropped", update_id)
            return
        with contextlib.suppress(Exception):
            await self.core.store.increment("telegram.errors")
        metrics.record_error("telegram")
        log.error(
            "telegram: update %s failed: %s",
            update_id,
            type(error).__name__,
            exc_info=error,
        )

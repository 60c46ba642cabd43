"""The Telegram channel: builds the PTB application, then polls or serves a webhook.

:class:`TelegramChannel` wires the handlers (:mod:`.handlers`) and flow control
(:mod:`.flow`) into a python-telegram-bot application and runs it until asked
to stop: long polling by default, or a webhook (PTB's, or with a shared store
:class:`~bot.adapters.telegram.webhook.ProcessingWebhook`, which answers
Telegram only once an update is handled). A long poll that fails is retried by
PTB inside ``run()``; the channel itself tells ``/healthz`` it is
``reconnecting``, and stops on a ``Conflict`` (another poller with the same
token) that lasts longer than ``TELEGRAM_CONFLICT_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlparse

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.flow import FloodControl, PerChatUpdateProcessor, PollRequest
from bot.adapters.telegram.handlers import COMMANDS, Handlers, addressed_text
from bot.adapters.telegram.send import NO_PREVIEW, Sender, messages
from bot.adapters.telegram.settings import TelegramSettings
from bot.adapters.telegram.webhook import ProcessingWebhook
from bot.core import Core
from bot.errors import ConfigError
from bot.messages import Reply
from bot.metrics import Metrics
from bot.texts import text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
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


class TelegramChannel:
    """Serves the core on Telegram until asked to stop.

    Args:
        core: The shared answer engine.
        settings: The checked Telegram settings.
        metrics: Where the channel reports reachability, errors and 429s; the
            core's if None.
    """

    name = "telegram"
    reports_reachability = True
    """``/healthz`` shows it ``starting`` until Telegram has answered (``getMe``)."""

    def __init__(
        self, core: Core, settings: TelegramSettings, metrics: Metrics | None = None
    ) -> None:
        self.core = core
        self.settings = settings
        self.metrics = metrics if metrics is not None else core.metrics
        self.handlers = Handlers(core, self.metrics, Sender())
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
            .rate_limiter(FloodControl(self.metrics, shared=self.core.store))
            .concurrent_updates(PerChatUpdateProcessor(256, gate=self.handlers.gate))
            .connection_pool_size(64)
            .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
        )
        if with_updater:
            builder = builder.get_updates_request(
                PollRequest(lambda: self.metrics.set_channel_reachable(CHANNEL, True))
            )
        else:
            builder = builder.updater(None)
        app = builder.build()
        for command in COMMANDS:
            app.add_handler(CommandHandler(command, getattr(self.handlers, f"cmd_{command}")))
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, self.handlers.on_text
            )
        )
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, self.handlers.on_group
            )
        )
        app.add_handler(
            MessageHandler(
                filters.COMMAND & filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED,
                self.handlers.on_unknown_command,
            )
        )
        app.add_handler(
            MessageHandler(
                _MEDIA & filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED,
                self.handlers.on_media,
            )
        )
        app.add_handler(CallbackQueryHandler(self.handlers.on_button))
        app.add_handler(InlineQueryHandler(self.handlers.on_inline))
        app.add_error_handler(self.handlers.on_error)
        return app

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then finish in-flight replies and return.

        Raises:
            ConfigError: If Telegram rejects the token, or another process keeps
                polling with it (not worth restarting).
            TelegramError: On other start-up failures; the application restarts us.
        """
        self._conflict_first = None
        self._conflicted.clear()
        app = self.build_application()
        try:
            await app.initialize()
        except InvalidToken as exc:
            raise ConfigError("TELEGRAM_BOT_TOKEN was rejected by Telegram") from exc
        self.metrics.set_channel_reachable(CHANNEL, True)  # getMe answered: no longer "starting"
        # The menu is set in the background: its retries (five per language when
        # Telegram fails) must not delay the first answer.
        announcing = asyncio.ensure_future(self.announce(app))
        webhook: ProcessingWebhook | None = None
        try:
            await app.start()
            webhook = await self._receive_updates(app)
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

    async def _receive_updates(self, app: Application) -> ProcessingWebhook | None:
        """Start polling, or the webhook; returns the replicas' webhook to stop, if that one."""
        assert app.updater is not None
        if self.settings.mode == "polling":
            await app.updater.start_polling(
                timeout=self.settings.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._on_poll_error,
            )
            return None
        # Webhook mode: the settings checked that both are set.
        assert self.settings.webhook_url is not None
        assert self.settings.webhook_secret is not None
        secret = self.settings.webhook_secret.get_secret_value()
        if getattr(self.core.store, "reserve_send", None):
            # Replicas (shared store): answer Telegram only once an update is handled.
            webhook = ProcessingWebhook(
                app,
                webhook_url=self.settings.webhook_url,
                secret=secret,
                listen=self.settings.listen,
                port=self.settings.port,
                allowed_updates=ALLOWED_UPDATES,
            )
            await webhook.start()
            return webhook
        await app.updater.start_webhook(
            listen=self.settings.listen,
            port=self.settings.port,
            url_path=urlparse(self.settings.webhook_url).path.lstrip("/"),
            webhook_url=self.settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        return None

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
            self.metrics.set_channel_reachable(
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

    # for benches and tests ------------------------------------------------------

    @staticmethod
    def messages(reply: Reply) -> list[str]:
        """The HTML messages for the part a reply shows; the keyboard goes on the last."""
        return messages(reply)

    @staticmethod
    def render(reply: Reply) -> tuple[list[str], list[str]]:
        """``(messages, [])``: everything sent at once (details wait for a button).

        Kept as a pair for the benches and tests that count ``first + rest``.
        """
        return messages(reply), []

    addressed_text = staticmethod(addressed_text)

"""The Telegram channel: python-telegram-bot 22 in front of the core.

Run it with ``privacybot run telegram`` (``TELEGRAM_BOT_TOKEN`` set). It polls
by default; set ``TELEGRAM_MODE=webhook`` with ``TELEGRAM_WEBHOOK_URL`` and
``TELEGRAM_WEBHOOK_SECRET`` to receive updates over HTTPS instead.

The adapter translates: an update becomes an :class:`~bot.messages.IncomingMessage`
or a core call (a button, an inline query, a deep link), the core decides the
reply and what to remember, and the neutral reply is rendered with
:mod:`bot.render.telegram_html` (HTML, ≤ 4096 characters a message, buttons as
callback data). One concern per module:

* :mod:`.settings`: the ``TELEGRAM_*`` section, checked;
* :mod:`.flow`: Telegram's flood limits (about 30 messages/s overall and 1/s
  per chat: PTB's rate limiter plus a per-chat pace), retries of requests that
  failed on the way, per-chat update order behind the per-person rate limit;
* :mod:`.handlers`: commands, text, media, buttons, inline queries, errors (a
  user who blocked the bot answers 403: counted and dropped, never retried);
* :mod:`.send`: chunks and keyboards to Bot API calls;
* :mod:`.channel`: the PTB application, polling or webhook, ``Conflict`` handling;
* :mod:`.webhook`: the webhook that answers only once an update is handled (replicas).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.telegram.channel import ALLOWED_UPDATES, TelegramChannel
from bot.adapters.telegram.flow import FloodControl, PerChatUpdateProcessor, PollRequest
from bot.adapters.telegram.handlers import COMMANDS, Handlers, addressed_text
from bot.adapters.telegram.send import keyboard
from bot.adapters.telegram.settings import DEFAULT_API_BASE_URL, TelegramSettings, is_configured
from bot.channel import ChannelContext, ChannelFactory
from bot.core import Core

__all__ = [
    "ALLOWED_UPDATES",
    "COMMANDS",
    "DEFAULT_API_BASE_URL",
    "FACTORY",
    "FloodControl",
    "Handlers",
    "PerChatUpdateProcessor",
    "PollRequest",
    "TelegramChannel",
    "TelegramSettings",
    "addressed_text",
    "create_channel",
    "is_configured",
    "keyboard",
]


def create_channel(core: Core, env: Mapping[str, str]) -> TelegramChannel:
    """Build the Telegram channel for the application.

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
        return TelegramChannel(
            context.core, TelegramSettings.from_env(context.env), metrics=context.metrics
        )


FACTORY: ChannelFactory = _Factory()

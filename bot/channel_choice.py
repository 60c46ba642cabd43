"""Which channels exist and which of them run.

The built-in channels are the adapter packages' ``FACTORY`` objects, imported
only when asked for, so ``privacybot ask`` never imports telegram or atproto.
Tests hand their own factories to :class:`bot.app.Application` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.channel import ChannelFactory
from bot.errors import ConfigError

NO_CHANNEL_HELP = (
    "no channel is configured. Set, in the environment or a .env file:\n"
    "  Telegram: TELEGRAM_BOT_TOKEN (from @BotFather)\n"
    "  Bluesky:  BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password, not the "
    "account password)\n"
    "then run `privacybot run` again (`privacybot config` shows what is set)"
)


def builtin_factories() -> list[ChannelFactory]:
    """The Telegram and Bluesky factories (imports their adapters)."""
    from bot.adapters.bluesky import FACTORY as BLUESKY
    from bot.adapters.telegram import FACTORY as TELEGRAM

    return [TELEGRAM, BLUESKY]


def configured(factories: Sequence[ChannelFactory], env: Mapping[str, str]) -> list[str]:
    """Names of the channels whose credentials are present in ``env``."""
    return [f.name for f in factories if f.is_configured(env)]


def choose(
    names: Sequence[str], factories: Sequence[ChannelFactory], env: Mapping[str, str]
) -> list[ChannelFactory]:
    """The factories of the channels to run: those named, or every configured one.

    Raises:
        ConfigError: If nothing is named and nothing is configured, or a named
            channel is unknown.
    """
    by_name = {f.name: f for f in factories}
    names = list(names) or configured(factories, env)
    if not names:
        raise ConfigError(NO_CHANNEL_HELP)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(
            f"unknown channel(s): {', '.join(unknown)} (known: {', '.join(sorted(by_name))})"
        )
    return [by_name[n] for n in names]

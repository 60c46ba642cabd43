"""The Bluesky channel adapter: answers mentions of the bot account in their thread.

One concern per module:

* :mod:`.settings`: ``BLUESKY_*`` configuration.
* :mod:`.session`: login, the stored session, gated API calls (429, backoff).
* :mod:`.inbox`: notifications polled, watermark, queue.
* :mod:`.ledger`: answered posts (never reply twice).
* :mod:`.outbox`: budgeted posting, reply threads, unfinished threads, own posts.
* :mod:`.limits` and :mod:`.caps`: Bluesky's rate limits; posts per thread and person.
* :mod:`.profile`: the account's ``bot`` self-label and description.
* :mod:`.convert`: records, facets and embeds between the SDK and the renderer.
* :mod:`.channel`: :class:`BlueskyChannel`, the run loop that ties them together.

The application builds the channel through :data:`FACTORY` (see :mod:`bot.channel`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.bluesky.channel import REQUESTS_KEY, BlueskyChannel
from bot.adapters.bluesky.convert import log_ref, mentions, parse_time, question_text
from bot.adapters.bluesky.inbox import WATERMARK_KEY
from bot.adapters.bluesky.outbox import BUDGET_KEY, UNFINISHED_KEY
from bot.adapters.bluesky.profile import PROFILE_DESCRIPTION, setup_profile
from bot.adapters.bluesky.session import SESSION_KEY, RetryLater
from bot.adapters.bluesky.settings import BlueskySettings, is_configured
from bot.channel import ChannelContext, ChannelFactory
from bot.core import Core

__all__ = [
    "BUDGET_KEY",
    "FACTORY",
    "PROFILE_DESCRIPTION",
    "REQUESTS_KEY",
    "SESSION_KEY",
    "UNFINISHED_KEY",
    "WATERMARK_KEY",
    "BlueskyChannel",
    "BlueskySettings",
    "RetryLater",
    "create_channel",
    "is_configured",
    "log_ref",
    "mentions",
    "parse_time",
    "question_text",
    "setup_profile",
]


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
        return BlueskyChannel(
            context.core,
            BlueskySettings.from_env(context.env),
            store=context.store,
            metrics=context.metrics,
        )


FACTORY: ChannelFactory = _Factory()

"""What the application expects of a channel adapter (Telegram, Bluesky...).

A channel is built once, through its :class:`ChannelFactory`, with the shared
:class:`ChannelContext` (core, store, metrics, the merged environment), and runs
until asked to stop. The application supervises each channel on its own, so one
channel failing (its ``run`` raising) is restarted with backoff without stopping
the others.

Each adapter package exposes one factory object named ``FACTORY``; the
application knows the built-in ones by name and tests pass their own factories
in directly (no module names from the environment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.core import Core
    from bot.metrics import Metrics
    from bot.store.base import Store


class Channel(Protocol):
    """A running connection to one chat platform."""

    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain in-flight replies and return.

        Raises:
            Exception: Any failure; the application logs it and restarts the channel.
        """


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What every channel is built with.

    Attributes:
        core: The shared core: it decides every reply.
        store: The shared store (the core's), for what a channel must keep itself.
        metrics: Where the channel reports errors, rate limits and reachability.
        env: The merged environment (real environment over ``.env``); each
            channel validates its own section of it.
    """

    core: Core
    store: Store
    metrics: Metrics
    env: Mapping[str, str]


class ChannelFactory(Protocol):
    """Builds one kind of channel; adapter packages expose one as ``FACTORY``."""

    name: str

    def is_configured(self, env: Mapping[str, str]) -> bool:
        """Whether ``env`` asks for this channel (its credentials are present)."""

    def create(self, context: ChannelContext) -> Channel:
        """Build the channel.

        Raises:
            ConfigError: If the channel's settings are missing or invalid; the
                message names the variable.
        """

"""What the runner expects of a channel adapter (Telegram, Bluesky...).

A channel is built once with the shared :class:`bot.core.Core` and runs until
asked to stop. The runner supervises each channel on its own, so one channel
failing (its ``run`` raising) is restarted with backoff without stopping others.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Channel(Protocol):
    """A running connection to one chat platform."""

    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain in-flight replies and return.

        Raises:
            Exception: Any failure; the runner logs it and restarts the channel.
        """

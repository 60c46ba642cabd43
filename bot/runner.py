"""Runs the chat channels (Telegram, Bluesky) in one asyncio loop.

Each channel adapter module exposes ``is_configured(env) -> bool`` and
``create_channel(core, env) -> Channel``; this module builds the shared core
once and supervises each channel: one that fails is restarted with backoff
without taking the others down. SIGINT/SIGTERM set a stop event that every
channel drains on.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
import signal
from collections.abc import Mapping, Sequence

from bot.channel import Channel
from bot.core import Core
from bot.errors import ConfigError
from bot.kb.loader import KnowledgeBase
from bot.store.base import Store
from bot.store.memory import MemoryStore

log = logging.getLogger(__name__)

CHANNEL_MODULES: dict[str, str] = {
    "telegram": "bot.adapters.telegram",
    "bluesky": "bot.adapters.bluesky",
}
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0


def configured_channels(env: Mapping[str, str]) -> list[str]:
    """Names of the channels whose credentials are present in ``env``."""
    names = []
    for name, module in CHANNEL_MODULES.items():
        if importlib.import_module(module).is_configured(env):
            names.append(name)
    return names


async def supervise(channel: Channel, stop: asyncio.Event) -> None:
    """Run a channel until ``stop``, restarting it with jittered backoff on failure."""
    delay = BACKOFF_START
    while not stop.is_set():
        try:
            await channel.run(stop)
            delay = BACKOFF_START
        except asyncio.CancelledError:
            raise
        except ConfigError:
            raise
        except Exception as exc:  # keep the other channels alive
            log.error("channel %s failed: %s; restarting in %.1fs", channel.name, exc, delay)
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay * (0.5 + random.random()))
        except TimeoutError:
            pass
        delay = min(delay * 2, BACKOFF_MAX)


async def run_channels(
    names: Sequence[str],
    kb: KnowledgeBase,
    *,
    env: Mapping[str, str] | None = None,
    store: Store | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Build the core and run the named channels until SIGINT/SIGTERM.

    Raises:
        ConfigError: If no channel is configured or a named one lacks settings.
    """
    env = os.environ if env is None else env
    if not names:
        names = configured_channels(env)
    if not names:
        raise ConfigError(
            "no channel is configured: set TELEGRAM_BOT_TOKEN for Telegram, and/or "
            "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD for Bluesky"
        )
    unknown = [n for n in names if n not in CHANNEL_MODULES]
    if unknown:
        raise ConfigError(f"unknown channel(s): {', '.join(unknown)}")
    store = store or MemoryStore()
    await store.open()
    core = Core(kb, store, log_unanswered=env.get("PRIVACYBOT_LOG_UNANSWERED") == "1")
    channels = [
        importlib.import_module(CHANNEL_MODULES[n]).create_channel(core, env) for n in names
    ]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await asyncio.gather(*(supervise(ch, stop) for ch in channels))
    finally:
        await store.close()
    return 0

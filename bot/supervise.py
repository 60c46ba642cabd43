"""Keeps one channel running: restarts it with jittered backoff when it fails.

A channel that fails is restarted with jittered exponential backoff while the
others keep serving; one whose configuration is wrong (``ConfigError``) is
marked ``failed`` and left alone, since retrying cannot fix it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from bot.channel import Channel
from bot.errors import ConfigError
from bot.metrics import Metrics

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
HEALTHY_RUN = 60.0
"""A channel that ran this long before failing restarts from the shortest delay."""


class ChannelMisconfigured(Exception):
    """A channel's ``run`` raised ``ConfigError``: it is not restarted."""


def describe(exc: BaseException, redact: Callable[[str], str]) -> str:
    """A short, redacted ``Type: message`` for logs and ``/healthz``."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redact(text)[:300]


async def _run_once(
    channel: Channel, stop: asyncio.Event, redact: Callable[[str], str], delay: float
) -> str | None:
    """Run the channel once; the error to show, or None when it stopped as asked.

    Raises:
        ChannelMisconfigured: If the channel failed on its configuration.
    """
    name = channel.name
    try:
        await channel.run(stop)
    except ConfigError as exc:
        raise ChannelMisconfigured(describe(exc, redact)) from exc
    except Exception as exc:  # keep the other channels alive
        error = describe(exc, redact)
        log.error(
            "channel failed; restarting",
            exc_info=True,
            extra={"channel": name, "error": error, "retry_in": round(delay, 1)},
        )
        return error
    if stop.is_set():
        return None
    log.warning("channel returned without being asked to stop; restarting", extra={"channel": name})
    return "run() returned before stop"


async def _back_off(stop: asyncio.Event, delay: float) -> None:
    """Wait about ``delay`` seconds (jittered by ±50 %), or less if ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=delay * (0.5 + random.random()))


async def supervise(
    channel: Channel,
    stop: asyncio.Event,
    *,
    metrics: Metrics,
    redact: Callable[[str], str] = lambda text: text,
) -> None:
    """Run a channel until ``stop``, restarting it with jittered backoff on failure.

    Args:
        channel: The channel to run.
        stop: Set when the process should stop.
        metrics: Where the channel's state is recorded for ``/healthz``.
        redact: Removes secrets from error messages before they are shown.
    """
    name = channel.name
    # A channel that reports its server's answers stays "starting" until the first
    # one (an unreachable Telegram was shown "ok" for 25 s); others run at once.
    first_state = "starting" if getattr(channel, "reports_reachability", False) else "running"
    delay = BACKOFF_START
    try:
        while not stop.is_set():
            metrics.set_channel_state(name, first_state)
            started = time.monotonic()
            error = await _run_once(channel, stop, redact, delay)
            if error is None:
                break
            if time.monotonic() - started >= HEALTHY_RUN:
                delay = BACKOFF_START
            metrics.set_channel_state(name, "restarting", error=error)
            if stop.is_set():
                break
            await _back_off(stop, delay)
            delay = min(delay * 2, BACKOFF_MAX)
    except ChannelMisconfigured as exc:
        log.error(
            "channel stopped: its configuration is wrong",
            extra={"channel": name, "error": str(exc)},
        )
        metrics.set_channel_state(name, "failed", error=str(exc))
        return
    except asyncio.CancelledError:
        metrics.set_channel_state(name, "stopped")
        raise
    metrics.set_channel_state(name, "stopped")

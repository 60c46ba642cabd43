"""One Bluesky poller among several replicas: leadership through PostgreSQL.

With the PostgreSQL store several replicas run at once (Telegram webhook), but
the Bluesky channel must run on exactly one of them: two pollers would race on
the same notifications and add up their requests against one account's limits.
:class:`LeaderChannel` wraps such a channel; it runs the inner channel only
while this process holds a *session-level* advisory lock
(``pg_try_advisory_lock``) on a connection of its own.

How leadership is lost and taken over:

* The leader process dies (SIGKILL, crash, OOM): its socket closes, the
  server ends the session and the lock is free at once. A standby asks for it
  every :data:`POLL_INTERVAL` seconds, so it takes over within about a second
  plus its login.
* The leader's host or network dies (no FIN ever arrives): the lock's
  connection asks the server for TCP keepalives (:data:`KEEPALIVE`), so the
  server drops the session after about 3 + 3 x 1 = 6 s of silence, then a
  standby takes over (well inside 15 s).
* The leader loses its connection but lives on (a partition, a database
  restart): a heartbeat (``SELECT 1`` every :data:`HEARTBEAT` s, at most
  :data:`HEARTBEAT_TIMEOUT` s each) fails, and the inner channel is cancelled
  at once, without draining: the lock may already be someone else's. The
  heartbeat gives up (≤ 4 s) before the server frees the lock (≥ 6 s), so the
  old leader has stopped posting before a new one starts.

Everything the Bluesky channel needs to carry on lives in the store, not in the
process: the watermark (never past the oldest unanswered mention, so the new
leader's first poll rebuilds the queue of unanswered mentions from it), the
answered posts, the write budget, the 5-minute request count and the session.
A new leader also reads the bot's own recent posts on its PDS before posting,
which catches a reply the old leader posted just before dying but had not
recorded. Each term runs a fresh channel built by the factory, so nothing from
an earlier term in this process is counted twice.

With SQLite or the memory store (one process) :func:`lead_when_shared` returns
the channel itself: nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channel import Channel
from bot.metrics import Metrics

log = logging.getLogger(__name__)

LEADER_CHANNELS = frozenset({"bluesky"})
"""Channels that must run on one replica at a time."""
POLL_INTERVAL = 1.0
"""Seconds between two attempts of a standby to take the lock."""
HEARTBEAT = 1.0
HEARTBEAT_TIMEOUT = 3.0
KEEPALIVE = {
    # Server side, so the server frees a dead leader's lock without waiting for
    # the operating system's two-hour default. Ignored on Unix-domain sockets.
    "tcp_keepalives_idle": "3",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "6000",  # ms: unacknowledged data to a dead peer
    "application_name": "privacybot-leader",
}

Connect = Callable[[], Awaitable[Any]]


def lock_key(name: str) -> int:
    """The advisory lock key of a channel: a signed 64-bit number from its name."""
    digest = hashlib.sha256(f"privacybot:leader:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """A session-level advisory lock held on a dedicated connection.

    Args:
        connect: Opens a new asyncpg connection (with :data:`KEEPALIVE`).
        key: The advisory lock key.
        heartbeat: Seconds between two checks that the connection lives.
        timeout: Seconds a check may take before the connection counts as lost.
    """

    def __init__(
        self,
        connect: Connect,
        key: int,
        *,
        heartbeat: float = HEARTBEAT,
        timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self._connect = connect
        self.key = key
        self.heartbeat = heartbeat
        self.timeout = timeout
        self._conn: Any = None
        self.held = False

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits for it.

        Returns:
            Whether this process now holds the lock.

        Raises:
            Exception: If the database cannot be reached (the caller retries).
        """
        if self.held:
            return True
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncio.wait_for(self._connect(), self.timeout * 3)
        try:
            got = await self._conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.timeout
            )
        except BaseException:
            self.drop()
            raise
        self.held = bool(got)
        return self.held

    async def watch(self) -> None:
        """Return when the lock can no longer be trusted (the connection failed)."""
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                if self._conn is None or self._conn.is_closed():
                    raise ConnectionError("the lock's connection is closed")
                await self._conn.fetchval("SELECT 1", timeout=self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "leader: lost the database connection holding the lock (%s)",
                    type(exc).__name__,
                )
                self.drop()
                return

    def drop(self) -> None:
        """Close the connection at once; the server frees the lock with the session."""
        conn, self._conn = self._conn, None
        self.held = False
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.terminate()

    async def release(self) -> None:
        """Give the lock back and close the connection."""
        conn, self._conn = self._conn, None
        self.held = False
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), 2.0)
        except BaseException:
            conn.terminate()
            raise


class LeaderChannel:
    """Runs an inner channel only while this replica leads (see the module docstring).

    Args:
        first: The channel built at start-up (its configuration is checked).
        factory: Builds a fresh inner channel for each later term.
        connect: Opens a dedicated connection for the lock.
        metrics: Where ``standby``/``running`` is shown for ``/healthz``.
        poll_interval: Seconds between two attempts of a standby.
        heartbeat: Seconds between two checks of the lock's connection.
        heartbeat_timeout: Longest check before the connection counts as lost.
    """

    def __init__(
        self,
        first: Channel,
        factory: Callable[[], Channel],
        connect: Connect,
        *,
        metrics: Metrics,
        poll_interval: float = POLL_INTERVAL,
        heartbeat: float = HEARTBEAT,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.name = first.name
        self._next: Channel | None = first
        self._factory = factory
        self._metrics = metrics
        self._poll = poll_interval
        self.leadership = Leadership(
            connect, lock_key(first.name), heartbeat=heartbeat, timeout=heartbeat_timeout
        )
        self.terms = 0
        self.took_over_at: float | None = None

    def _inner(self) -> Channel:
        channel, self._next = self._next, None
        return channel if channel is not None else self._factory()

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by until the lock is ours, run the inner channel, repeat if it is lost.

        Raises:
            Exception: Whatever the inner channel raised (the lock is released
                first, so another replica can take over during the backoff).
        """
        warned_at = 0.0
        try:
            while not stop.is_set():
                try:
                    leading = await self.leadership.try_acquire()
                except Exception as exc:
                    # Nobody can tell whether another replica leads: not a healthy standby.
                    error = f"cannot ask the database for the lock: {type(exc).__name__}"
                    self._metrics.set_channel_state(self.name, "reconnecting", error=error)
                    if time.monotonic() - warned_at > 60:
                        warned_at = time.monotonic()
                        log.warning("leader: %s: %s; retrying", self.name, error)
                    await _sleep(stop, self._poll)
                    continue
                if not leading:
                    self._metrics.set_channel_state(self.name, "standby")
                    await _sleep(stop, self._poll)
                    continue
                await self._lead(stop)
        finally:
            await self.leadership.release()

    async def _lead(self, stop: asyncio.Event) -> None:
        self.terms += 1
        self.took_over_at = time.time()
        self._metrics.set_channel_state(self.name, "running")
        log.info(
            "leader: %s: this replica leads now (term %d)",
            self.name,
            self.terms,
            extra={"event": "leader", "channel": self.name},
        )
        inner = self._inner()
        inner_stop = asyncio.Event()
        running = asyncio.create_task(inner.run(inner_stop))
        lost = asyncio.create_task(self.leadership.watch())
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({running, lost, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if running.done():
                # Ended on its own (failure or not): let another replica lead meanwhile.
                await self.leadership.release()
                running.result()
                return
            if lost.done():
                # Cancel at once, no draining: the lock may already be another's.
                running.cancel()
                with contextlib.suppress(BaseException):
                    await running
                self._metrics.set_channel_state(self.name, "standby")
                log.warning("leader: %s: leadership lost; standing by", self.name)
                return
            inner_stop.set()
            await running
        finally:
            for task in (running, lost, stopping):
                task.cancel()
            await asyncio.gather(running, lost, stopping, return_exceptions=True)


def lead_when_shared(
    name: str,
    store: Any,
    factory: Callable[[], Channel],
    *,
    metrics: Metrics,
) -> Channel:
    """The channel to run: wrapped in a :class:`LeaderChannel` when it must run once
    across replicas and the store is shared (it offers ``dedicated_connection``).

    Args:
        name: The channel's name.
        store: The opened store.
        factory: Builds the channel (called now, and again for each later term).
        metrics: Where the state is shown.

    Returns:
        The channel itself (SQLite, memory, or a channel that runs everywhere),
        or its leader wrapper.
    """
    channel = factory()
    connect = getattr(store, "dedicated_connection", None)
    if name not in LEADER_CHANNELS or connect is None:
        return channel
    return LeaderChannel(channel, factory, connect, metrics=metrics)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

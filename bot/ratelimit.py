"""Per-person rate limit: one person flooding the bot must not slow down the others.

Channel-neutral: the core owns one :class:`UserRateLimiter` and adapters ask it
(through :meth:`bot.core.Core.admit`) before doing any work for a message. A
person may send ``limit`` messages in any ``window`` seconds (a sliding window);
the first message over the limit gets one short "slow down" reply
(:attr:`Verdict.WARN`), later ones are dropped silently (:attr:`Verdict.DROP`)
until the window has room again, so a flood costs the bot almost nothing and
never turns into a flood of replies. Refused messages do not count, so a person
who stops flooding is served again as soon as the window allows.

Only timestamps are held, in memory, keyed by ``channel:user_id``; idle entries
are forgotten, so memory stays bounded by the number of people active within
one window. ``PRIVACYBOT_USER_RATE=10/60`` configures it (``off`` disables it).
"""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_RATE = "10/60"
_PRUNE_EVERY = 1024


class Verdict(enum.Enum):
    """What to do with one incoming message."""

    ALLOW = "allow"
    WARN = "warn"
    """Over the limit for the first time in this window: reply "slow down" once."""
    DROP = "drop"
    """Over the limit and already warned: ignore the message."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` messages per ``window`` seconds."""

    limit: int
    window: float

    @classmethod
    def parse(cls, raw: str, *, name: str = "PRIVACYBOT_USER_RATE") -> Rate | None:
        """Read ``"10/60"`` (10 messages per 60 s); ``off``/``0`` means no limit.

        Args:
            raw: The setting's value.
            name: The variable named in errors.

        Returns:
            The rate, or None when disabled.

        Raises:
            ConfigError: If the value is not ``<messages>/<seconds>``.
        """
        value = raw.strip().lower()
        if value in ("off", "none", "0", "disabled"):
            return None
        count, sep, seconds = value.partition("/")
        try:
            limit, window = int(count), float(seconds)
        except ValueError:
            limit, window = 0, 0.0
        if not sep or limit < 1 or not 0 < window <= 86400:
            raise ConfigError(
                f"{name}: expected <messages>/<seconds> such as 10/60 (or off), got {raw!r}"
            )
        return cls(limit, window)


DEFAULT_USER_RATE = Rate(10, 60.0)
"""``PRIVACYBOT_USER_RATE``'s default: 10 messages per minute and person."""


class _Entry:
    __slots__ = ("accepted", "warned_until")

    def __init__(self) -> None:
        self.accepted: deque[float] = deque()
        self.warned_until = 0.0


class UserRateLimiter:
    """A sliding-window limit per person.

    Args:
        rate: How many messages per how many seconds.
        clock: Monotonic seconds (tests move it forward).
    """

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._calls = 0
        self.warned = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def check(self, channel: str, user_id: str) -> Verdict:
        """Count one message from a person and say whether to serve it.

        Args:
            channel: ``telegram``, ``bluesky``...
            user_id: The platform's id of the person.

        Returns:
            :attr:`Verdict.ALLOW`, :attr:`Verdict.WARN` (once per window) or
            :attr:`Verdict.DROP`.
        """
        now = self._clock()
        self._calls += 1
        if self._calls % _PRUNE_EVERY == 0:
            self.prune(now)
        key = f"{channel}:{user_id}"
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        accepted = entry.accepted
        while accepted and accepted[0] <= now - self.rate.window:
            accepted.popleft()
        if len(accepted) < self.rate.limit:
            accepted.append(now)
            return Verdict.ALLOW
        if now >= entry.warned_until:
            entry.warned_until = accepted[0] + self.rate.window
            self.warned += 1
            return Verdict.WARN
        self.dropped += 1
        return Verdict.DROP

    def prune(self, now: float | None = None) -> int:
        """Forget people with nothing in their window; returns how many were forgotten."""
        now = self._clock() if now is None else now
        cut = now - self.rate.window
        idle = [
            key
            for key, entry in self._entries.items()
            if (not entry.accepted or entry.accepted[-1] <= cut) and entry.warned_until <= now
        ]
        for key in idle:
            del self._entries[key]
        return len(idle)


class SharedUserRateLimiter(UserRateLimiter):
    """The same limit, counted in the shared store so that replicas add up.

    With PostgreSQL and several replicas behind one webhook, one person's
    messages reach any replica; each replica's own window would let through
    ``replicas x limit``. :meth:`acheck` asks the store (GCRA, see
    :meth:`bot.store.postgres.PostgresStore.check_rate`) instead; if the store
    fails, the local window decides, so a database hiccup never silences anyone.

    Args:
        rate: How many messages per how many seconds.
        store: A store with ``check_rate`` (the PostgreSQL one).
        clock: Monotonic seconds for the local fallback.
    """

    def __init__(
        self, rate: Rate, store: Any, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(rate, clock=clock)
        self._store = store

    async def acheck(self, channel: str, user_id: str) -> Verdict:
        """Like :meth:`check`, across replicas."""
        try:
            verdict = Verdict(
                await self._store.check_rate(channel, user_id, self.rate.limit, self.rate.window)
            )
        except Exception as exc:
            log.warning("shared rate limit unavailable (%s); counting locally", type(exc).__name__)
            return self.check(channel, user_id)
        if verdict is Verdict.WARN:
            self.warned += 1
        elif verdict is Verdict.DROP:
            self.dropped += 1
        return verdict


def user_limiter(rate: Rate | None, store: Any) -> UserRateLimiter | None:
    """The per-person limiter for a store: shared when the store offers it (PostgreSQL).

    Args:
        rate: The configured rate; None disables the limit.
        store: The store the replicas share (or the process's own).

    Returns:
        None, a :class:`SharedUserRateLimiter` or a local :class:`UserRateLimiter`.
    """
    if rate is None:
        return None
    if getattr(store, "check_rate", None) is not None:
        return SharedUserRateLimiter(rate, store)
    return UserRateLimiter(rate)

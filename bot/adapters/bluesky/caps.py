"""How many posts the bot may write in one thread and for one person.

Fifteen mentions from one person in a minute once cost 48 posts, and seven
follow-ups in one thread 23: nothing said stop. Bluesky's write budget
(:mod:`bot.adapters.bluesky.limits`) protects the account; these caps protect
the people reading a thread, and are configurable
(``BLUESKY_MAX_POSTS_PER_THREAD``, ``BLUESKY_MAX_POSTS_PER_PERSON_HOUR``). When a
reply would reach a cap, the bot writes one clear last post instead and then
stays silent there. Counts live in memory: a restart forgets them, which only
ever allows more posts, never fewer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Allowance:
    """What a reply may post: ``posts`` more, and which cap is the tighter one."""

    posts: int
    cap: str  # "thread" or "hour"


class PostCaps:
    """Counts the bot's posts per thread (for ever) and per person (last hour).

    Args:
        per_thread: Most posts of the bot under one thread root.
        per_person_hour: Most posts of the bot for one person in an hour.
        clock: Epoch seconds (tests inject one).
    """

    def __init__(
        self,
        per_thread: int,
        per_person_hour: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_thread = per_thread
        self.per_person_hour = per_person_hour
        self._clock = clock
        self._threads: dict[str, int] = {}
        self._people: dict[str, deque[float]] = {}

    def _recent(self, person: str) -> deque[float]:
        times = self._people.setdefault(person, deque())
        cutoff = self._clock() - HOUR
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def allowance(self, thread: str, person: str) -> Allowance:
        """How many more posts a reply in ``thread`` to ``person`` may use."""
        left_thread = self.per_thread - self._threads.get(thread, 0)
        left_hour = self.per_person_hour - len(self._recent(person))
        if left_thread <= left_hour:
            return Allowance(max(left_thread, 0), "thread")
        return Allowance(max(left_hour, 0), "hour")

    def record(self, thread: str, person: str, posts: int) -> None:
        """Count ``posts`` written in ``thread`` for ``person``."""
        self._threads[thread] = self._threads.get(thread, 0) + posts
        now = self._clock()
        self._recent(person).extend([now] * posts)
        if len(self._people) > 10_000:  # forget people quiet for an hour
            for key in [k for k, v in self._people.items() if not v]:
                del self._people[key]

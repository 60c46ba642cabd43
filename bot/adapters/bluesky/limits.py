"""Bluesky's rate limits, kept on our side so the bot never hits them twice.

Bluesky publishes its limits (docs.bsky.app, "Rate limits"): 3,000 requests per
5 minutes per IP; record writes cost points (create 3, update 2, delete 1) with
5,000 points per hour and 35,000 per day per account. The server also reports
what is left in ``ratelimit-limit``/``ratelimit-remaining``/``ratelimit-reset``
headers and answers 429 past a limit.

* :class:`WriteBudget` counts our own write points in per-minute buckets over a
  sliding hour and day, and persists them (a restart must not reset the day).
* :class:`Gate` is the earliest time the next request may go out: after a 429
  (until ``ratelimit-reset``), when a header says nothing remains, or during
  exponential backoff with jitter after a 5xx or a network error.
* :class:`RequestLog` counts requests over 5 minutes, for the stats line and to
  hold requests before the 3,000 per 5 minutes are used up: the server only says
  so with a 429 once they are (a 2,000-mention burst needs two requests a reply).
  It persists too, in per-second counts: a bot restarting in a loop must not
  forget the requests it made a minute ago (the limit is per IP, not per process).

Time is injectable (``clock`` returns epoch seconds) so tests need no sleeping.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable, Mapping

CREATE_POINTS = 3
UPDATE_POINTS = 2
HOUR_POINTS = 5000
DAY_POINTS = 35000
REQUESTS_PER_5_MIN = 3000
REQUESTS_CAP_5_MIN = 2700
"""Our own cap: 90% of Bluesky's, leaving room for other clients on the same IP."""

Clock = Callable[[], float]


class WriteBudget:
    """Sliding-window write points, hour and day, in one-minute buckets.

    Args:
        per_hour: Points allowed in any 60 minutes.
        per_day: Points allowed in any 24 hours.
        clock: Epoch seconds.
    """

    def __init__(
        self,
        per_hour: int = HOUR_POINTS,
        per_day: int = DAY_POINTS,
        *,
        clock: Clock = time.time,
    ) -> None:
        self.per_hour = per_hour
        self.per_day = per_day
        self._clock = clock
        self._buckets: dict[int, int] = {}

    def _prune(self, minute: int) -> None:
        for key in [k for k in self._buckets if k <= minute - 1440]:
            del self._buckets[key]

    def used(self, window_minutes: int) -> int:
        """Points spent in the last ``window_minutes`` (this minute included)."""
        minute = int(self._clock() // 60)
        return sum(v for k, v in self._buckets.items() if k > minute - window_minutes)

    @property
    def used_hour(self) -> int:
        """Points spent in the last hour."""
        return self.used(60)

    @property
    def used_day(self) -> int:
        """Points spent in the last 24 hours."""
        return self.used(1440)

    def wait_for(self, points: int) -> float:
        """Seconds until ``points`` can be spent without passing either budget.

        Returns:
            0 when they can be spent now; ``inf`` when ``points`` exceeds a
            whole budget.
        """
        if points > self.per_hour or points > self.per_day:
            return float("inf")
        now = self._clock()
        minute = int(now // 60)
        self._prune(minute)
        wait = 0.0
        for window, limit in ((60, self.per_hour), (1440, self.per_day)):
            used = self.used(window)
            if used + points <= limit:
                continue
            # Oldest buckets leave the window first: find when enough have left.
            freed = 0
            for key in sorted(k for k in self._buckets if k > minute - window):
                freed += self._buckets[key]
                if used - freed + points <= limit:
                    wait = max(wait, (key + window) * 60 - now)
                    break
        return max(wait, 0.0)

    def spend(self, points: int) -> None:
        """Record points just spent."""
        minute = int(self._clock() // 60)
        self._buckets[minute] = self._buckets.get(minute, 0) + points

    def refund(self, points: int) -> None:
        """Give back points reserved with :meth:`spend` but not used (newest first)."""
        for key in sorted(self._buckets, reverse=True):
            if points <= 0:
                break
            taken = min(points, self._buckets[key])
            self._buckets[key] -= taken
            points -= taken

    def dumps(self) -> str:
        """Serialize for the store."""
        minute = int(self._clock() // 60)
        self._prune(minute)
        return json.dumps({str(k): v for k, v in sorted(self._buckets.items())})

    def loads(self, raw: str | None) -> None:
        """Restore from :meth:`dumps` output; bad data is ignored."""
        if not raw:
            return
        try:
            data = json.loads(raw)
            self._buckets = {int(k): int(v) for k, v in data.items()}
        except (ValueError, TypeError, AttributeError):
            self._buckets = {}
        self._prune(int(self._clock() // 60))


class Gate:
    """When the next request may go out, and the backoff after failures.

    Args:
        clock: Epoch seconds.
        backoff_start: First delay after a failure, in seconds.
        backoff_max: Longest delay.
        rng: Jitter source (0..1).
    """

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        backoff_start: float = 1.0,
        backoff_max: float = 120.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._clock = clock
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self._rng = rng
        self.not_before = 0.0
        self.failures = 0
        self.last_limit: dict[str, str] = {}

    def remaining(self) -> float:
        """Seconds to wait before the next request (0 when it may go now)."""
        return max(0.0, self.not_before - self._clock())

    def block_until(self, epoch: float) -> None:
        """Hold every request until ``epoch`` (never shortens an existing hold)."""
        self.not_before = max(self.not_before, epoch)

    def rate_limited(self, *, reset_epoch: float | None, retry_after: float | None) -> float:
        """A 429: hold until the server's reset, plus up to 10% jitter.

        Returns:
            The delay chosen, in seconds.
        """
        now = self._clock()
        if reset_epoch is not None and reset_epoch > now:
            delay = reset_epoch - now
        elif retry_after is not None:
            delay = retry_after
        else:
            delay = max(self._next_backoff(), 60.0)
        delay = min(delay, 86400.0) * (1.0 + 0.1 * self._rng()) + 0.05
        self.block_until(now + delay)
        return delay

    def _next_backoff(self) -> float:
        base = min(self.backoff_max, self.backoff_start * (2**self.failures))
        return base * (0.5 + self._rng())  # "equal jitter": 50%..150%

    def failed(self) -> float:
        """A 5xx or network error: back off exponentially with jitter.

        Returns:
            The delay chosen, in seconds.
        """
        delay = min(self._next_backoff(), self.backoff_max)
        self.failures += 1
        self.block_until(self._clock() + delay)
        return delay

    def succeeded(self) -> None:
        """A request went through: reset the backoff."""
        self.failures = 0

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Read ``ratelimit-*`` headers of any response; hold when nothing remains.

        Args:
            headers: Response headers with lower-case names.
        """
        remaining = headers.get("ratelimit-remaining")
        if remaining is None:
            return
        self.last_limit = {
            k: headers[k]
            for k in (
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
                "ratelimit-policy",
            )
            if k in headers
        }
        try:
            left = int(remaining)
            reset = float(headers.get("ratelimit-reset", "0"))
        except ValueError:
            return
        if left <= 0 and reset > self._clock():
            self.block_until(reset + 0.05)


class RequestLog:
    """Timestamps of requests over the last 5 minutes (for stats and our own cap).

    Args:
        clock: Epoch seconds.
        window: The window in seconds (Bluesky's 5 minutes; tests may shorten it).
    """

    def __init__(self, *, clock: Clock = time.time, window: float = 300.0) -> None:
        self._clock = clock
        self.window = window
        self._times: deque[float] = deque()
        self.total = 0
        self.peak = 0

    def add(self) -> None:
        """Count one request."""
        now = self._clock()
        self._times.append(now)
        self.total += 1
        self._trim(now)
        self.peak = max(self.peak, len(self._times))

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def wait_for_slot(self, limit: int) -> float:
        """Seconds until one more request keeps the window under ``limit`` (0: now)."""
        now = self._clock()
        self._trim(now)
        if len(self._times) < limit:
            return 0.0
        # The (n - limit + 1) oldest must leave the window first.
        return max(0.0, self._times[len(self._times) - limit] + self.window - now)

    def last_window(self) -> int:
        """Requests in the last 5 minutes."""
        self._trim(self._clock())
        return len(self._times)

    def dumps(self) -> str:
        """Serialize the window for the store: ``{epoch second: requests}``, at most
        one entry per second of the window (a few KB)."""
        self._trim(self._clock())
        counts: dict[int, int] = {}
        for t in self._times:
            counts[int(t)] = counts.get(int(t), 0) + 1
        return json.dumps({str(k): v for k, v in counts.items()})

    def loads(self, raw: str | None) -> None:
        """Restore the requests of :meth:`dumps` output still in the window (bad data is ignored).

        Each is counted at the end of its second, so it leaves the window no earlier
        than the real one did. Requests already known in memory are not counted
        twice: a channel restarted in the same process reloads what it saved
        itself, so each second keeps the larger of the saved and the known count
        (adding them doubled the count at every restart: 7, 9, 21... 1,533).
        """
        if not raw:
            return
        try:
            data = json.loads(raw)
            saved = {int(k): int(v) for k, v in data.items()}
        except (ValueError, TypeError, AttributeError):
            return
        known: dict[int, int] = {}
        for t in self._times:
            known[int(t)] = known.get(int(t), 0) + 1
        loaded = [
            float(second) + 0.999
            for second, count in saved.items()
            for _ in range(max(0, count - known.get(second, 0)))
        ]
        self._times = deque(sorted([*loaded, *self._times]))
        self._trim(self._clock())
        self.peak = max(self.peak, len(self._times))

"""Whether the store takes writes, and the rule that keeps a bad store off the reply path.

Each message makes optional writes (the person's follow-up context, the answer
counters). When another process holds the SQLite write lock, the disk is full
or PostgreSQL is gone, each of those writes used to wait its full lock timeout
(5 s) on the store's one worker thread, so five people waited 30–50 s for their
replies. The rule now:

* optional writes wait briefly (:data:`OPTIONAL_WAIT`) and, once one has failed,
  are skipped outright for :data:`COOLDOWN` seconds; the next one after that is
  a probe, and its success makes the store healthy again;
* required writes (``/forget``, the Bluesky answered-post ledger and session)
  keep the long wait and are never skipped, but their failures count too;
* ``/healthz`` shows the store ``degraded`` while it is failing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

OPTIONAL_WAIT = 0.2
"""Seconds an optional write may wait for a lock held elsewhere."""
COOLDOWN = 10.0
"""Seconds optional writes are skipped after a failed write."""


class WriteGuard:
    """Tracks write failures of one store and decides when optional writes run.

    Args:
        cooldown: Seconds to skip optional writes after a failure.
        clock: Monotonic seconds (tests move it).
    """

    def __init__(
        self, *, cooldown: float = COOLDOWN, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._since = dt.datetime.now(dt.UTC)
        self._error: str | None = None
        self.skipped = 0

    @property
    def healthy(self) -> bool:
        """False from a failed write until a write succeeds again."""
        return self._failed_at is None

    def allow_optional(self) -> bool:
        """Whether an optional write should be attempted now (False: skip it)."""
        with self._lock:
            if self._failed_at is None or self._clock() - self._failed_at >= self.cooldown:
                return True
            self.skipped += 1
            return False

    def failed(self, exc: BaseException) -> None:
        """Record a failed write (starts or extends the cool-down)."""
        error = f"{type(exc).__name__}: {exc}"[:200]
        with self._lock:
            if self._failed_at is None:
                self._since = dt.datetime.now(dt.UTC)
                log.warning(
                    "store writes failing; skipping optional writes for %.0f s at a time",
                    self.cooldown,
                    extra={"event": "store_degraded", "error": error},
                )
            self._failed_at = self._clock()
            self._error = error

    def succeeded(self) -> None:
        """Record a successful write (ends a degraded period)."""
        with self._lock:
            if self._failed_at is None:
                return
            self._failed_at = None
            self._since = dt.datetime.now(dt.UTC)
            log.info(
                "store writes work again",
                extra={"event": "store_recovered", "skipped": self.skipped},
            )

    def status(self) -> dict[str, Any]:
        """The store part of ``/healthz``: state, since when, last error, skips."""
        with self._lock:
            return {
                "state": "ok" if self._failed_at is None else "degraded",
                "since": self._since.isoformat(timespec="seconds"),
                "last_error": self._error,
                "skipped_writes": self.skipped,
            }

"""The storage interface every backend (memory, SQLite, PostgreSQL) implements.

A privacy bot must hold as little as it can: per-user language, last topic and
surface (for follow-ups such as "and on Android?"), keyed by a salted hash of
the platform user id, never the raw id; channel values (a watermark, a session);
a "seen" set of salted hashes that expires like user data (the Bluesky adapter's
answered posts); aggregate counters. Message text is never stored, except the
opt-in log of unanswered questions (text and language only, no user id).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class UserState:
    """What the bot remembers about one person.

    Attributes:
        language: The reply language the person chose or last used.
        last_topic: The last topic answered, for follow-ups.
        surface: The last surface asked about (web/ios/android).
        updated_at: Last contact; data expires some days after it.
        platform: The platform the conversation is about (registry id), so that
            "and deleting my history?" keeps it.
        need: The need of the last question (need id), so that "and instagram?"
            keeps it.
        choices: Topic ids last offered ("which one do you mean?"), so that "2"
            picks among them on every channel.
        language_chosen: True when the person chose the language (``/lang``):
            it then stays until they change it.
    """

    language: str | None = None
    last_topic: str | None = None
    surface: str | None = None
    updated_at: dt.datetime | None = None
    platform: str | None = None
    need: str | None = None
    choices: tuple[str, ...] = ()
    language_chosen: bool = False


def user_key(salt: bytes, channel: str, user_id: str) -> str:
    """Derive the storage key of a platform user: HMAC-SHA256 of ``channel:user_id``.

    Args:
        salt: The installation's secret salt.
        channel: ``telegram``, ``bluesky``...
        user_id: The platform's id (Telegram user id, Bluesky DID).

    Returns:
        A hex digest; the raw id cannot be read back from it without the salt.
    """
    return hmac.new(salt, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()


def seen_key(salt: bytes, kind: str, item: str) -> str:
    """The stored form of an item of the seen set: HMAC-SHA256 of ``<kind>:<item>``.

    Items may name a person (a Bluesky post URI names its author's DID), so the
    set keeps only this digest: enough to tell "already seen", not whose it was.
    """
    return hmac.new(salt, f"{kind}:{item}".encode(), hashlib.sha256).hexdigest()


def post_key(salt: bytes, post_uri: str) -> str:
    """The stored form of a post URI in the seen set (kind ``post``), as older versions kept it."""
    return seen_key(salt, "post", post_uri)


def day_start(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC of the day of ``moment`` (unanswered questions keep only the day)."""
    day = moment.astimezone(dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def random_row_id() -> int:
    """A random positive 62-bit row id, so that row order tells nothing either."""
    return secrets.randbits(62) or 1


@runtime_checkable
class Store(Protocol):
    """Async storage used by the core and the adapters."""

    async def open(self) -> None:
        """Connect and apply migrations."""

    async def close(self) -> None:
        """Release connections."""

    async def get_user(self, channel: str, user_id: str) -> UserState | None:
        """Return the state of a user, or None if nothing is stored."""

    async def save_user(
        self, channel: str, user_id: str, state: UserState, *, optional: bool = False
    ) -> None:
        """Store a user's state; ``updated_at`` is set to now by the store.

        ``optional=True`` (the follow-up context saved after each reply) waits
        only briefly for a lock and is skipped while the store is failing.
        """

    async def forget_user(self, channel: str, user_id: str) -> bool:
        """Erase everything stored about a user. Returns True if anything was erased."""

    async def get_value(self, key: str) -> str | None:
        """Read a channel-state value (Bluesky watermark, session...)."""

    async def set_value(self, key: str, value: str | None, *, optional: bool = False) -> None:
        """Write a channel-state value; None deletes it.

        ``optional=True`` (a counter that a later save repeats) waits only
        briefly for a lock and is skipped while the store is failing.
        """

    async def is_seen(self, kind: str, item: str) -> bool:
        """Whether ``item`` of ``kind`` is in the seen set (a channel's ledger)."""

    async def mark_seen(self, kind: str, item: str) -> None:
        """Add ``item`` of ``kind`` to the seen set (idempotent; a required write).

        Only a salted hash of ``kind:item`` is kept (:func:`seen_key`), and it
        expires with user data (:meth:`purge`).
        """

    async def increment(self, counter: str, amount: int = 1) -> None:
        """Add to an aggregate counter (no user information); an optional write."""

    async def counters(self) -> dict[str, int]:
        """Return all aggregate counters."""

    async def record_unanswered(self, text: str, language: str) -> None:
        """Keep an unanswered question (operator opt-in): text, language and day only.

        An optional write, on its own, never in the transaction of a person's row.
        """

    async def purge(self, *, user_days: int, unanswered_days: int) -> dict[str, int]:
        """Delete expired user data and old unanswered questions; return counts."""

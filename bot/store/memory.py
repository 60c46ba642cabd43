"""An in-memory store for the terminal chat and tests; it forgets everything on exit."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from typing import Any

from bot.store.base import UserState, day_start, seen_key, user_key


class MemoryStore:
    """A :class:`bot.store.base.Store` held in dictionaries."""

    def __init__(self, salt: bytes | None = None) -> None:
        self._salt = salt or os.urandom(32)
        self._users: dict[str, UserState] = {}
        self._values: dict[str, str] = {}
        self._seen: dict[str, dt.datetime] = {}
        self._counters: dict[str, int] = {}
        self._unanswered: list[tuple[dt.datetime, str, str]] = []

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def get_user(self, channel: str, user_id: str) -> UserState | None:
        return self._users.get(user_key(self._salt, channel, user_id))

    async def save_user(
        self, channel: str, user_id: str, state: UserState, *, optional: bool = False
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        self._users[user_key(self._salt, channel, user_id)] = replace(state, updated_at=now)

    async def forget_user(self, channel: str, user_id: str) -> bool:
        return self._users.pop(user_key(self._salt, channel, user_id), None) is not None

    async def get_value(self, key: str) -> str | None:
        return self._values.get(key)

    async def set_value(self, key: str, value: str | None, *, optional: bool = False) -> None:
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = value

    async def is_seen(self, kind: str, item: str) -> bool:
        return seen_key(self._salt, kind, item) in self._seen

    async def mark_seen(self, kind: str, item: str) -> None:
        self._seen.setdefault(seen_key(self._salt, kind, item), dt.datetime.now(dt.UTC))

    async def increment(self, counter: str, amount: int = 1) -> None:
        self._counters[counter] = self._counters.get(counter, 0) + amount

    async def counters(self) -> dict[str, int]:
        return dict(self._counters)

    async def record_unanswered(self, text: str, language: str) -> None:
        self._unanswered.append((day_start(dt.datetime.now(dt.UTC)), text, language))

    def health(self) -> dict[str, Any]:
        """Memory never fails a write."""
        return {"state": "ok", "since": None, "last_error": None, "skipped_writes": 0}

    async def purge(self, *, user_days: int, unanswered_days: int) -> dict[str, int]:
        now = dt.datetime.now(dt.UTC)
        user_cut = now - dt.timedelta(days=user_days)
        old = [k for k, s in self._users.items() if s.updated_at and s.updated_at < user_cut]
        for key in old:
            del self._users[key]
        seen = [k for k, at in self._seen.items() if at < user_cut]
        for key in seen:
            del self._seen[key]
        q_cut = now - dt.timedelta(days=unanswered_days)
        before = len(self._unanswered)
        self._unanswered = [row for row in self._unanswered if row[0] >= q_cut]
        return {
            "users": len(old),
            "answered_posts": len(seen),
            "unanswered": before - len(self._unanswered),
        }

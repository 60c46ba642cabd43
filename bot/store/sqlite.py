"""The default store: one SQLite file, in WAL mode, with a versioned schema.

The standard library's ``sqlite3`` runs on one dedicated worker thread, so the
event loop never blocks on disk and the connection is only ever used from the
thread that owns it; no extra dependency is needed. WAL mode lets
``privacybot admin purge`` (another process) run while the bot is serving.

The schema is exactly what the bot's privacy answer (``bot.privacy``) lists;
:data:`TABLES` is checked against both, so that nothing new can be stored
without the answer saying so. The schema version is SQLite's ``user_version``;
:data:`MIGRATIONS` are applied in order, each in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ConfigError
from bot.store.base import UserState, day_start, post_key, random_row_id, seen_key, user_key
from bot.store.guard import OPTIONAL_WAIT, WriteGuard

T = TypeVar("T")
Clock = Callable[[], dt.datetime]

TABLES: dict[str, tuple[str, ...]] = {
    "users": (
        "key",
        "language",
        "last_topic",
        "surface",
        "updated_at",
        "platform",
        "need",
        "choices",
        "language_chosen",
    ),
    "channel_state": ("key", "value"),
    "answered_posts": ("post_uri", "reply_uri", "answered_at"),
    "counters": ("name", "value"),
    "unanswered": ("id", "text", "language", "created_at"),
}
"""Every table and column the bot stores, in both backends (see ``bot.privacy``)."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first schema.
    (
        "CREATE TABLE users (key TEXT PRIMARY KEY, language TEXT, last_topic TEXT, "
        "surface TEXT, updated_at REAL NOT NULL)",
        "CREATE TABLE channel_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE answered_posts (post_uri TEXT PRIMARY KEY, reply_uri TEXT)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE unanswered (id INTEGER PRIMARY KEY, text TEXT NOT NULL, "
        "language TEXT NOT NULL, created_at REAL NOT NULL)",
    ),
    # 2: answered posts name their author (the DID is in the URI), so they expire
    # like user state; rows kept from version 1 start their 90 days now.
    (
        "ALTER TABLE answered_posts ADD COLUMN answered_at REAL NOT NULL DEFAULT 0",
        "UPDATE answered_posts SET answered_at = CAST(strftime('%s', 'now') AS REAL)",
        "CREATE INDEX users_updated_at ON users (updated_at)",
        "CREATE INDEX answered_posts_answered_at ON answered_posts (answered_at)",
        "CREATE INDEX unanswered_created_at ON unanswered (created_at)",
    ),
    # 3: follow-ups keep the platform and the need; "2" picks among the choices
    # offered; a language chosen with /lang stays.
    (
        "ALTER TABLE users ADD COLUMN platform TEXT",
        "ALTER TABLE users ADD COLUMN need TEXT",
        "ALTER TABLE users ADD COLUMN choices TEXT",
        "ALTER TABLE users ADD COLUMN language_chosen INTEGER NOT NULL DEFAULT 0",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
LOCK_WAIT_MS = 5000
"""How long a required write (or opening the file) waits for another process's lock."""


def join_choices(choices: tuple[str, ...]) -> str | None:
    """Topic ids offered, as stored (comma-separated; ids have no commas)."""
    return ",".join(choices) or None


def split_choices(stored: str | None) -> tuple[str, ...]:
    """The stored choices back as a tuple."""
    return tuple(c for c in (stored or "").split(",") if c)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


def _create_private(path: Path) -> None:
    """Create the database file (and its folder) readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def migrate(conn: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Bring a database to schema version ``target``.

    Args:
        conn: An autocommit connection (``isolation_level=None``).
        target: The version to reach (tests build older schemas with it).

    Returns:
        The version the database was at before.

    Raises:
        ConfigError: If the database is newer than this program knows.
    """
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise ConfigError(
            f"the database schema is version {current}, newer than this privacybot "
            f"understands ({SCHEMA_VERSION}): upgrade privacybot"
        )
    for version in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return current


def _hash_post_uris(conn: sqlite3.Connection, salt: bytes) -> None:
    """Replace answered-post URIs kept by older versions with their salted hash."""
    conn.create_function("privacybot_post_key", 1, lambda uri: post_key(salt, uri))
    conn.execute(
        "UPDATE OR REPLACE answered_posts SET post_uri = privacybot_post_key(post_uri), "
        "reply_uri = NULL WHERE post_uri LIKE 'at://%'"
    )


class SQLiteStore:
    """A :class:`bot.store.base.Store` in one SQLite file.

    Args:
        path: The database file; created (mode 0600) with its folder if needed.
        salt: The installation's secret for hashing user ids
            (:func:`bot.store.load_salt`).
        clock: Returns the current UTC time (tests move it forward).
    """

    def __init__(self, path: Path | str, salt: bytes, *, clock: Clock = utcnow) -> None:
        self.path = Path(path)
        self._salt = salt
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Reads, and optional writes, have their own connection and thread each:
        # in WAL mode reads never wait for a writer, and an optional write (0.2 s
        # lock wait) never queues behind a required one waiting 5 s, so a write
        # stuck on a lock does not hold up the next reply.
        self._sides: dict[str, tuple[sqlite3.Connection, ThreadPoolExecutor]] = {}
        self.guard = WriteGuard()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None or self._executor is None:
            raise RuntimeError("SQLiteStore used before open()")
        conn = self._conn
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def _on(self, side: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        if side not in self._sides:
            return await self._run(fn)
        conn, executor = self._sides[side]
        return await asyncio.get_running_loop().run_in_executor(executor, fn, conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._on("read", fn)

    async def _each_writer(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        """Run ``fn`` on every connection that writes (tests set pragmas this way)."""
        await self._run(fn)
        await self._on("optional", fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A required write: waits for locks up to :data:`LOCK_WAIT_MS`; failures count."""
        try:
            result = await self._run(fn)
        except sqlite3.Error as exc:
            self.guard.failed(exc)
            raise
        self.guard.succeeded()
        return result

    async def _optional(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        """An optional write (state, counters): a short lock wait, skipped while failing."""
        if not self.guard.allow_optional():
            return

        def short(c: sqlite3.Connection) -> bool:
            # Checked again on the worker: writes queued behind the one that just
            # failed are skipped instead of each waiting for the lock in turn.
            if not self.guard.allow_optional():
                return False
            try:
                fn(c)  # this connection's busy timeout is OPTIONAL_WAIT
            except sqlite3.Error as exc:
                self.guard.failed(exc)  # here, before the next queued write starts
                raise
            self.guard.succeeded()
            return True

        await self._on("optional", short)

    def health(self) -> dict[str, Any]:
        """The store's state for ``/healthz`` (see :class:`bot.store.guard.WriteGuard`)."""
        return self.guard.status()

    def _now(self) -> float:
        return self._clock().timestamp()

    def _key(self, channel: str, user_id: str) -> str:
        return user_key(self._salt, channel, user_id)

    async def open(self) -> None:
        """Create the file if needed, switch to WAL and apply migrations."""
        if self._conn is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

        def connect() -> sqlite3.Connection:
            _create_private(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
            # Read-only check before anything writes: a damaged file must stop the
            # start-up with a clear error, not be switched to WAL and fail later.
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                conn.close()
                found = "; ".join(problems).replace("\n", "; ")[:300]
                raise sqlite3.DatabaseError(
                    f"the file is damaged ({found}); restore a backup or move it aside, "
                    "the bot left it untouched"
                )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
            _hash_post_uris(conn, self._salt)
            return conn

        def connect_side(wait_ms: int, query_only: bool) -> sqlite3.Connection:
            side = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            side.execute(f"PRAGMA busy_timeout = {wait_ms}")
            if query_only:
                side.execute("PRAGMA query_only = ON")
            return side

        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(self._executor, connect)
            for name, wait_ms, query_only in (
                ("read", LOCK_WAIT_MS, True),
                ("optional", int(OPTIONAL_WAIT * 1000), False),
            ):
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{name}")
                try:
                    side = await loop.run_in_executor(executor, connect_side, wait_ms, query_only)
                except BaseException:
                    executor.shutdown(wait=False)
                    raise
                self._sides[name] = (side, executor)
        except sqlite3.Error as exc:
            self._executor.shutdown(wait=False)
            self._executor = None
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            for side, executor in self._sides.values():
                side.close()
                executor.shutdown(wait=False)
            self._sides.clear()
            reason = str(exc)
            if "locked" in reason:  # busy_timeout ran out
                reason = (
                    "it is locked by another process (waited 5 s); stop the other program "
                    "using it (another privacybot, an sqlite3 shell) and start again"
                )
            raise ConfigError(f"PRIVACYBOT_DB: cannot open {self.path}: {reason}") from exc

    async def close(self) -> None:
        """Close the connection and stop the worker thread."""
        if self._conn is None or self._executor is None:
            return
        conn, executor = self._conn, self._executor
        loop = asyncio.get_running_loop()
        for side, side_executor in self._sides.values():
            await loop.run_in_executor(side_executor, side.close)
            side_executor.shutdown(wait=True)
        self._sides.clear()
        await loop.run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)
        self._conn = self._executor = None

    async def schema_version(self) -> int:
        """The database's schema version."""
        return await self._run(lambda c: c.execute("PRAGMA user_version").fetchone()[0])

    async def get_user(self, channel: str, user_id: str) -> UserState | None:
        key = self._key(channel, user_id)

        def read(c: sqlite3.Connection) -> Any:
            return c.execute(
                "SELECT language, last_topic, surface, updated_at, platform, need, choices, "
                "language_chosen FROM users WHERE key = ?",
                (key,),
            ).fetchone()

        row = await self._read(read)
        if row is None:
            return None
        return UserState(
            language=row[0],
            last_topic=row[1],
            surface=row[2],
            updated_at=dt.datetime.fromtimestamp(row[3], dt.UTC),
            platform=row[4],
            need=row[5],
            choices=split_choices(row[6]),
            language_chosen=bool(row[7]),
        )

    async def save_user(
        self, channel: str, user_id: str, state: UserState, *, optional: bool = False
    ) -> None:
        row = (
            self._key(channel, user_id),
            state.language,
            state.last_topic,
            state.surface,
            state.platform,
            state.need,
            join_choices(state.choices),
            int(state.language_chosen),
        )
        now = self._now()
        await (self._optional if optional else self._write)(
            lambda c: c.execute(
                "INSERT INTO users (key, language, last_topic, surface, platform, need, choices, "
                "language_chosen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "language = excluded.language, last_topic = excluded.last_topic, "
                "surface = excluded.surface, platform = excluded.platform, "
                "need = excluded.need, choices = excluded.choices, "
                "language_chosen = excluded.language_chosen, updated_at = excluded.updated_at",
                (*row, now),
            )
        )

    async def forget_user(self, channel: str, user_id: str) -> bool:
        key = self._key(channel, user_id)
        cursor = await self._write(lambda c: c.execute("DELETE FROM users WHERE key = ?", (key,)))
        return cursor.rowcount > 0

    async def get_value(self, key: str) -> str | None:
        row = await self._read(
            lambda c: c.execute("SELECT value FROM channel_state WHERE key = ?", (key,)).fetchone()
        )
        return None if row is None else row[0]

    async def set_value(self, key: str, value: str | None, *, optional: bool = False) -> None:
        if value is None:
            await self._write(
                lambda c: c.execute("DELETE FROM channel_state WHERE key = ?", (key,))
            )
            return
        await (self._optional if optional else self._write)(
            lambda c: c.execute(
                "INSERT INTO channel_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        )

    async def is_seen(self, kind: str, item: str) -> bool:
        key = seen_key(self._salt, kind, item)
        row = await self._read(
            lambda c: c.execute(
                "SELECT 1 FROM answered_posts WHERE post_uri = ?", (key,)
            ).fetchone()
        )
        return row is not None

    async def mark_seen(self, kind: str, item: str) -> None:
        # Only a salted hash is kept (a post URI names the asker's DID). The seen set
        # lives in the table of answered posts, its first user; reply_uri stays NULL.
        key = seen_key(self._salt, kind, item)
        now = self._now()
        await self._write(
            lambda c: c.execute(
                "INSERT INTO answered_posts (post_uri, reply_uri, answered_at) "
                "VALUES (?, NULL, ?) ON CONFLICT (post_uri) DO NOTHING",
                (key, now),
            )
        )

    async def increment(self, counter: str, amount: int = 1) -> None:
        await self._optional(
            lambda c: c.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (counter, amount),
            )
        )

    async def counters(self) -> dict[str, int]:
        rows = await self._run(lambda c: c.execute("SELECT name, value FROM counters").fetchall())
        return {name: int(value) for name, value in rows}

    async def record_unanswered(self, text: str, language: str) -> None:
        # The day only and a random id, written on its own (autocommit, never with
        # the person's row): neither time nor order can tie it to a users row.
        row = (random_row_id(), text, language, day_start(self._clock()).timestamp())
        await self._optional(
            lambda c: c.execute(
                "INSERT INTO unanswered (id, text, language, created_at) VALUES (?, ?, ?, ?)",
                row,
            )
        )

    async def unanswered(self) -> list[tuple[str, str]]:
        """The kept unanswered questions as (text, language), by day (random within one)."""
        rows = await self._read(
            lambda c: c.execute(
                "SELECT text, language FROM unanswered ORDER BY created_at, id"
            ).fetchall()
        )
        return [(t, lang) for t, lang in rows]

    async def purge(self, *, user_days: int, unanswered_days: int) -> dict[str, int]:
        now = self._now()
        user_cut = now - user_days * 86400
        question_cut = now - unanswered_days * 86400

        def purge(c: sqlite3.Connection) -> dict[str, int]:
            c.execute("BEGIN IMMEDIATE")
            try:
                users = c.execute("DELETE FROM users WHERE updated_at < ?", (user_cut,)).rowcount
                posts = c.execute(
                    "DELETE FROM answered_posts WHERE answered_at < ?", (user_cut,)
                ).rowcount
                questions = c.execute(
                    "DELETE FROM unanswered WHERE created_at < ?", (question_cut,)
                ).rowcount
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")
            return {"users": users, "answered_posts": posts, "unanswered": questions}

        return await self._write(purge)

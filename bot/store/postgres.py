"""The PostgreSQL store, for operators who run several replicas (Telegram webhook).

Selected by ``PRIVACYBOT_DATABASE_URL=postgresql://user:password@host/db``; needs
``asyncpg`` (``pip install 'privacybot[postgres]'``). It holds the same tables
and columns as the SQLite store (:data:`bot.store.sqlite.TABLES`), so the
privacy answer is true whichever backend runs. Migrations run under a
transaction-scoped advisory lock, so replicas starting together apply each one
once. Every replica must hash user ids with the same salt, which is why
``PRIVACYBOT_SALT`` is required with this backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.errors import ConfigError
from bot.settings import mask_url
from bot.store.base import UserState, day_start, post_key, random_row_id, seen_key, user_key
from bot.store.guard import OPTIONAL_WAIT, WriteGuard
from bot.store.sqlite import Clock, join_choices, split_choices, utcnow

T = TypeVar("T")
WRITE_TIMEOUT = 5.0
"""Seconds a required write may take (as SQLite's lock wait)."""

# An arbitrary constant shared by every privacybot replica.
_MIGRATION_LOCK = 0x70726976

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE users (key TEXT PRIMARY KEY, language TEXT, last_topic TEXT, "
        "surface TEXT, updated_at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE channel_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE answered_posts (post_uri TEXT PRIMARY KEY, reply_uri TEXT)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE unanswered (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL, "
        "language TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
    ),
    (
        "ALTER TABLE answered_posts ADD COLUMN answered_at TIMESTAMPTZ NOT NULL DEFAULT now()",
        "ALTER TABLE answered_posts ALTER COLUMN answered_at DROP DEFAULT",
        "CREATE INDEX users_updated_at ON users (updated_at)",
        "CREATE INDEX answered_posts_answered_at ON answered_posts (answered_at)",
        "CREATE INDEX unanswered_created_at ON unanswered (created_at)",
    ),
    (
        "ALTER TABLE users ADD COLUMN platform TEXT",
        "ALTER TABLE users ADD COLUMN need TEXT",
        "ALTER TABLE users ADD COLUMN choices TEXT",
        "ALTER TABLE users ADD COLUMN language_chosen BOOLEAN NOT NULL DEFAULT false",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_NOW = "extract(epoch FROM clock_timestamp())::float8"
LIMIT_TABLES = (
    "CREATE UNLOGGED TABLE IF NOT EXISTS send_pace "
    "(key TEXT PRIMARY KEY, next_at DOUBLE PRECISION NOT NULL)",
    "CREATE UNLOGGED TABLE IF NOT EXISTS user_rate (key TEXT PRIMARY KEY, "
    "tat DOUBLE PRECISION NOT NULL, warned_until DOUBLE PRECISION NOT NULL, "
    "idle_at DOUBLE PRECISION NOT NULL, verdict TEXT NOT NULL)",
)
"""Limits shared by the replicas (see :meth:`PostgresStore.reserve_send`), made on first use."""


async def migrate(conn: Any, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to schema version ``target``.

    Args:
        conn: An asyncpg connection.
        target: The version to reach (tests build older schemas with it).

    Returns:
        The version the database was at before.

    Raises:
        ConfigError: If the database is newer than this program knows.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS privacybot_schema (version INTEGER NOT NULL)"
        )
        current = await conn.fetchval("SELECT max(version) FROM privacybot_schema") or 0
        if current > SCHEMA_VERSION:
            raise ConfigError(
                f"the database schema is version {current}, newer than this privacybot "
                f"understands ({SCHEMA_VERSION}): upgrade privacybot"
            )
        for version in range(current + 1, target + 1):
            for statement in MIGRATIONS[version - 1]:
                await conn.execute(statement)
            await conn.execute("DELETE FROM privacybot_schema")
            await conn.execute("INSERT INTO privacybot_schema (version) VALUES ($1)", version)
    return current


async def _hash_post_uris(conn: Any, salt: bytes) -> None:
    """Replace answered-post URIs kept by older versions with their salted hash."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT post_uri, answered_at FROM answered_posts WHERE post_uri LIKE 'at://%'"
        )
        for row in rows:
            await conn.execute("DELETE FROM answered_posts WHERE post_uri = $1", row["post_uri"])
            await conn.execute(
                "INSERT INTO answered_posts (post_uri, reply_uri, answered_at) "
                "VALUES ($1, NULL, $2) ON CONFLICT (post_uri) DO NOTHING",
                post_key(salt, row["post_uri"]),
                row["answered_at"],
            )


class PostgresStore:
    """A :class:`bot.store.base.Store` in PostgreSQL.

    Args:
        url: ``postgresql://user:password@host:port/db``.
        salt: The installation's secret (``PRIVACYBOT_SALT``), the same on
            every replica.
        clock: Returns the current UTC time (tests move it forward).
        max_connections: Size of the connection pool.
    """

    def __init__(
        self, url: str, salt: bytes, *, clock: Clock = utcnow, max_connections: int = 5
    ) -> None:
        self._url = url
        self._salt = salt
        self._clock = clock
        self._max = max_connections
        self._pool: Any = None
        self.guard = WriteGuard()
        self._limits_ready = False
        self._limit_calls = 0

    def __repr__(self) -> str:
        return f"PostgresStore({mask_url(self._url)!r})"

    @property
    def pool(self) -> Any:
        """The asyncpg pool (raises if the store is not open)."""
        if self._pool is None:
            raise RuntimeError("PostgresStore used before open()")
        return self._pool

    def _key(self, channel: str, user_id: str) -> str:
        return user_key(self._salt, channel, user_id)

    async def _write(
        self, call: Callable[[float], Awaitable[T]], *, optional: bool = False
    ) -> T | None:
        """Run a write with a timeout; an optional one is short and skipped while failing."""
        if optional and not self.guard.allow_optional():
            return None
        try:
            result = await call(OPTIONAL_WAIT if optional else WRITE_TIMEOUT)
        except Exception as exc:
            self.guard.failed(exc)
            raise
        self.guard.succeeded()
        return result

    def health(self) -> dict[str, Any]:
        """The store's state for ``/healthz`` (see :class:`bot.store.guard.WriteGuard`)."""
        return self.guard.status()

    async def open(self) -> None:
        """Connect and apply migrations."""
        if self._pool is not None:
            return
        try:
            import asyncpg
        except ImportError as exc:
            raise ConfigError(
                "PRIVACYBOT_DATABASE_URL needs asyncpg: pip install 'privacybot[postgres]'"
            ) from exc
        try:
            self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=self._max)
        except (OSError, asyncpg.PostgresError) as exc:
            raise ConfigError(
                f"PRIVACYBOT_DATABASE_URL: cannot connect to {mask_url(self._url)}: "
                f"{type(exc).__name__}"
            ) from exc
        async with self._pool.acquire() as conn:
            await migrate(conn)
            await _hash_post_uris(conn, self._salt)

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def dedicated_connection(self) -> Any:
        """A connection of its own, outside the pool, for a session-level advisory lock.

        It asks the server for short TCP keepalives (:data:`bot.leader.KEEPALIVE`),
        so the server frees the lock of a leader whose host died within seconds.
        """
        import asyncpg

        from bot.leader import KEEPALIVE

        return await asyncpg.connect(self._url, timeout=10, server_settings=dict(KEEPALIVE))

    # --- limits shared by the replicas -------------------------------------------
    # Small UNLOGGED tables (losing them in a crash only resets some pacing), made on
    # first use so that a single process never has them. Keys are HMACs of the chat
    # or person id with the salt, never raw ids; idle rows are deleted as they age.

    async def _limit_tables(self) -> None:
        if self._limits_ready:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            for statement in LIMIT_TABLES:
                await conn.execute(statement)
        self._limits_ready = True

    async def _maybe_prune_limits(self) -> None:
        self._limit_calls += 1
        if self._limit_calls % 512:
            return
        await self.pool.execute(f"DELETE FROM send_pace WHERE next_at < {_NOW} - 60")
        await self.pool.execute(f"DELETE FROM user_rate WHERE idle_at < {_NOW}")

    async def reserve_send(self, scope: str, ident: str, interval: float) -> float:
        """Reserve the next send slot of ``scope:ident``, ``interval`` s after the last one.

        GCRA-style and atomic (one ``INSERT ... ON CONFLICT``, on the database's
        clock so that the replicas' clocks do not matter): each caller gets its
        own slot, so replicas sending to one chat are spaced as one process is.

        Args:
            scope: ``chat``, ``all``...
            ident: The chat id (stored as an HMAC), or ``""``.
            interval: Seconds between two sends.

        Returns:
            Seconds to wait before sending (0 when the slot is now).
        """
        await self._limit_tables()
        await self._maybe_prune_limits()
        wait = await self.pool.fetchval(
            "INSERT INTO send_pace AS p (key, next_at) "
            f"VALUES ($1, {_NOW} + $2) ON CONFLICT (key) DO UPDATE "
            f"SET next_at = GREATEST(p.next_at, {_NOW}) + $2 "
            f"RETURNING next_at - $2 - {_NOW}",
            self._key(scope, ident),
            float(interval),
        )
        return max(0.0, float(wait))

    async def sent(self, scope: str, ident: str, interval: float) -> None:
        """A send of ``scope:ident`` was answered: the next one waits ``interval`` from now."""
        await self.pool.execute(
            f"UPDATE send_pace SET next_at = GREATEST(next_at, {_NOW} + $2) WHERE key = $1",
            self._key(scope, ident),
            float(interval),
        )

    async def check_rate(self, channel: str, user_id: str, limit: int, window: float) -> str:
        """Count one message of a person against ``limit`` per ``window`` s, for all replicas.

        GCRA: a theoretical arrival time (``tat``) moves ``window / limit`` per
        accepted message, and a message is accepted while ``tat`` is at most
        ``window`` minus one interval ahead of now (so ``limit`` at once, then one
        per interval). The first refusal is ``warn`` (one "slow down"), later ones
        ``drop`` until the person may send again.

        Returns:
            ``allow``, ``warn`` or ``drop``.
        """
        await self._limit_tables()
        await self._maybe_prune_limits()
        step = window / limit
        tau = window - step
        verdict = await self.pool.fetchval(
            "INSERT INTO user_rate AS r (key, tat, warned_until, idle_at, verdict) "
            f"VALUES ($1, {_NOW} + $2, 0, {_NOW} + $4, 'allow') "
            "ON CONFLICT (key) DO UPDATE SET "
            f"verdict = CASE WHEN GREATEST(r.tat, {_NOW}) - {_NOW} <= $3 THEN 'allow' "
            f"WHEN {_NOW} >= r.warned_until THEN 'warn' ELSE 'drop' END, "
            f"tat = CASE WHEN GREATEST(r.tat, {_NOW}) - {_NOW} <= $3 "
            f"THEN GREATEST(r.tat, {_NOW}) + $2 ELSE r.tat END, "
            f"warned_until = CASE WHEN GREATEST(r.tat, {_NOW}) - {_NOW} <= $3 THEN r.warned_until "
            f"WHEN {_NOW} >= r.warned_until THEN r.tat - $3 ELSE r.warned_until END, "
            f"idle_at = GREATEST(r.tat, {_NOW}) + $4 "
            "RETURNING verdict",
            self._key(channel, user_id),
            step,
            tau,
            float(window),
        )
        return str(verdict)

    async def schema_version(self) -> int:
        """The database's schema version."""
        return int(await self.pool.fetchval("SELECT max(version) FROM privacybot_schema"))

    async def get_user(self, channel: str, user_id: str) -> UserState | None:
        row = await self.pool.fetchrow(
            "SELECT language, last_topic, surface, updated_at, platform, need, choices, "
            "language_chosen FROM users WHERE key = $1",
            self._key(channel, user_id),
        )
        if row is None:
            return None
        return UserState(
            language=row["language"],
            last_topic=row["last_topic"],
            surface=row["surface"],
            updated_at=row["updated_at"].astimezone(dt.UTC),
            platform=row["platform"],
            need=row["need"],
            choices=split_choices(row["choices"]),
            language_chosen=bool(row["language_chosen"]),
        )

    async def save_user(
        self, channel: str, user_id: str, state: UserState, *, optional: bool = False
    ) -> None:
        await self._write(
            lambda timeout: self.pool.execute(
                "INSERT INTO users (key, language, last_topic, surface, platform, need, choices, "
                "language_chosen, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                "ON CONFLICT (key) DO UPDATE SET "
                "language = excluded.language, last_topic = excluded.last_topic, "
                "surface = excluded.surface, platform = excluded.platform, need = excluded.need, "
                "choices = excluded.choices, language_chosen = excluded.language_chosen, "
                "updated_at = excluded.updated_at",
                self._key(channel, user_id),
                state.language,
                state.last_topic,
                state.surface,
                state.platform,
                state.need,
                join_choices(state.choices),
                state.language_chosen,
                self._clock(),
                timeout=timeout,
            ),
            optional=optional,
        )

    async def forget_user(self, channel: str, user_id: str) -> bool:
        status = await self._write(
            lambda timeout: self.pool.execute(
                "DELETE FROM users WHERE key = $1", self._key(channel, user_id), timeout=timeout
            )
        )
        return status != "DELETE 0"

    async def get_value(self, key: str) -> str | None:
        value = await self.pool.fetchval("SELECT value FROM channel_state WHERE key = $1", key)
        return None if value is None else str(value)

    async def set_value(self, key: str, value: str | None, *, optional: bool = False) -> None:
        if value is None:
            await self._write(
                lambda timeout: self.pool.execute(
                    "DELETE FROM channel_state WHERE key = $1", key, timeout=timeout
                )
            )
            return
        await self._write(
            lambda timeout: self.pool.execute(
                "INSERT INTO channel_state (key, value) VALUES ($1, $2) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                key,
                value,
                timeout=timeout,
            ),
            optional=optional,
        )

    async def is_seen(self, kind: str, item: str) -> bool:
        found = await self.pool.fetchval(
            "SELECT 1 FROM answered_posts WHERE post_uri = $1", seen_key(self._salt, kind, item)
        )
        return found is not None

    async def mark_seen(self, kind: str, item: str) -> None:
        # Only the salted hash (see the SQLite store).
        await self._write(
            lambda timeout: self.pool.execute(
                "INSERT INTO answered_posts (post_uri, reply_uri, answered_at) "
                "VALUES ($1, NULL, $2) ON CONFLICT (post_uri) DO NOTHING",
                seen_key(self._salt, kind, item),
                self._clock(),
                timeout=timeout,
            )
        )

    async def increment(self, counter: str, amount: int = 1) -> None:
        await self._write(
            lambda timeout: self.pool.execute(
                "INSERT INTO counters (name, value) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
                counter,
                amount,
                timeout=timeout,
            ),
            optional=True,
        )

    async def counters(self) -> dict[str, int]:
        rows = await self.pool.fetch("SELECT name, value FROM counters")
        return {row["name"]: int(row["value"]) for row in rows}

    async def record_unanswered(self, text: str, language: str) -> None:
        # The day only, a random id, its own statement (see the SQLite store).
        await self._write(
            lambda timeout: self.pool.execute(
                "INSERT INTO unanswered (id, text, language, created_at) VALUES ($1, $2, $3, $4)",
                random_row_id(),
                text,
                language,
                day_start(self._clock()),
                timeout=timeout,
            ),
            optional=True,
        )

    async def unanswered(self) -> list[tuple[str, str]]:
        """The kept unanswered questions as (text, language), by day (random within one)."""
        rows = await self.pool.fetch(
            "SELECT text, language FROM unanswered ORDER BY created_at, id"
        )
        return [(row["text"], row["language"]) for row in rows]

    async def purge(self, *, user_days: int, unanswered_days: int) -> dict[str, int]:
        now = self._clock()
        user_cut = now - dt.timedelta(days=user_days)
        question_cut = now - dt.timedelta(days=unanswered_days)
        async with self.pool.acquire() as conn, conn.transaction():
            users = await conn.execute("DELETE FROM users WHERE updated_at < $1", user_cut)
            posts = await conn.execute(
                "DELETE FROM answered_posts WHERE answered_at < $1", user_cut
            )
            questions = await conn.execute(
                "DELETE FROM unanswered WHERE created_at < $1", question_cut
            )
        return {
            "users": int(users.split()[-1]),
            "answered_posts": int(posts.split()[-1]),
            "unanswered": int(questions.split()[-1]),
        }

"""The store suite, run against SQLite and PostgreSQL alike (``make_store``)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from store_fixtures import SALT, FakeClock

from bot import cli
from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import TABLES, MemoryStore, SQLiteStore, load_salt, open_store, salt_path
from bot.store import sqlite as sqlite_schema
from bot.store.base import UserState, user_key

pytest_plugins = ["store_fixtures"]
pytestmark = pytest.mark.timeout(60)


async def columns(store: Any) -> dict[str, tuple[str, ...]]:
    """The tables and columns actually in the store's database."""
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        try:
            names = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not r[0].startswith("sqlite_")
            ]
            return {n: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({n})")) for n in names}
        finally:
            conn.close()
    rows = await store.pool.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name <> 'privacybot_schema' "
        "ORDER BY table_name, ordinal_position"
    )
    found: dict[str, tuple[str, ...]] = {}
    for row in rows:
        found[row["table_name"]] = (*found.get(row["table_name"], ()), row["column_name"])
    return found


async def raw_user_keys(store: Any) -> list[str]:
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        try:
            return [r[0] for r in conn.execute("SELECT key FROM users")]
        finally:
            conn.close()
    return [r["key"] for r in await store.pool.fetch("SELECT key FROM users")]


# -- schema and migrations ---------------------------------------------------------


async def test_fresh_database_has_exactly_the_declared_schema(make_store: Any) -> None:
    store = await make_store()
    assert await store.schema_version() == sqlite_schema.SCHEMA_VERSION
    assert await columns(store) == TABLES


async def test_conversation_state_round_trips(make_store: Any) -> None:
    """Platform, need, offered choices and a /lang choice survive a reopen (issue 10)."""
    first = await make_store()
    state = UserState(
        language="pt",
        last_topic="x.grok_training",
        surface="android",
        platform="grok",
        need="ai_training",
        choices=("x.grok_training", "x.third_party_sharing"),
        language_chosen=True,
    )
    await first.save_user("telegram", "43", state)
    await first.close()
    second = await make_store()
    got = await second.get_user("telegram", "43")
    assert (got.platform, got.need, got.choices, got.language_chosen) == (
        "grok",
        "ai_training",
        ("x.grok_training", "x.third_party_sharing"),
        True,
    )
    await second.save_user("telegram", "43", UserState(language="en"))
    again = await second.get_user("telegram", "43")
    assert (again.platform, again.choices, again.language_chosen) == (None, (), False)


def test_both_backends_declare_the_same_migration_count() -> None:
    from bot.store import postgres

    assert postgres.SCHEMA_VERSION == sqlite_schema.SCHEMA_VERSION


async def test_reopening_a_database_keeps_data_and_version(make_store: Any) -> None:
    first = await make_store()
    await first.save_user("telegram", "42", UserState(language="fr"))
    await first.close()
    second = await make_store()
    assert await second.schema_version() == sqlite_schema.SCHEMA_VERSION
    assert (await second.get_user("telegram", "42")).language == "fr"


async def test_migration_from_version_1_keeps_rows(make_store: Any, tmp_path: Path) -> None:
    clock = FakeClock()
    if make_store.backend == "sqlite":
        path = tmp_path / "state" / "privacybot.sqlite3"
        path.parent.mkdir()
        conn = sqlite3.connect(path, isolation_level=None)
        sqlite_schema.migrate(conn, target=1)
        conn.execute(
            "INSERT INTO users VALUES (?, 'fr', 'x.grok_training', 'ios', ?)",
            (user_key(SALT, "telegram", "7"), clock.now.timestamp()),
        )
        conn.execute("INSERT INTO answered_posts VALUES ('at://did:plc:a/post/1', 'at://r')")
        conn.close()
    else:
        import asyncpg

        from bot.store import postgres

        probe = await make_store()  # fully migrated; rebuild it at version 1
        url = make_store.url
        await probe.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "DROP TABLE users, channel_state, answered_posts, counters, unanswered, "
                "privacybot_schema"
            )
            await postgres.migrate(conn, target=1)
            await conn.execute(
                "INSERT INTO users VALUES ($1, 'fr', 'x.grok_training', 'ios', $2)",
                user_key(SALT, "telegram", "7"),
                clock.now,
            )
            await conn.execute(
                "INSERT INTO answered_posts VALUES ('at://did:plc:a/post/1', 'at://r')"
            )
        finally:
            await conn.close()

    store = await make_store(clock=clock)
    assert await store.schema_version() == sqlite_schema.SCHEMA_VERSION
    assert await columns(store) == TABLES
    state = await store.get_user("telegram", "7")
    assert (state.language, state.last_topic, state.surface) == ("fr", "x.grok_training", "ios")
    assert await store.is_seen("post", "at://did:plc:a/post/1")
    # Rows kept from version 1 got a real answered_at (the migration's "now"),
    # so they are not purged as if they were from 1970.
    counts = await store.purge(user_days=36500, unanswered_days=30)
    assert counts["answered_posts"] == 0


async def test_database_newer_than_the_program_is_refused(make_store: Any) -> None:
    store = await make_store()
    if isinstance(store, SQLiteStore):
        await store.close()
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
    else:
        await store.pool.execute("UPDATE privacybot_schema SET version = 99")
        await store.close()
    with pytest.raises(ConfigError, match="newer"):
        await make_store()


# -- users: hashing, forget, expiry ------------------------------------------------


async def test_user_state_round_trip(make_store: Any) -> None:
    clock = FakeClock()
    store = await make_store(clock=clock)
    assert await store.get_user("telegram", "42") is None
    await store.save_user("telegram", "42", UserState("fr", "x.grok_training", "android"))
    state = await store.get_user("telegram", "42")
    assert (state.language, state.last_topic, state.surface) == ("fr", "x.grok_training", "android")
    assert state.updated_at == clock.now


async def test_users_are_stored_under_a_salted_hash_only(make_store: Any) -> None:
    store = await make_store()
    await store.save_user("telegram", "123456789", UserState(language="en"))
    await store.save_user("bluesky", "did:plc:abcdef", UserState(language="fr"))
    keys = await raw_user_keys(store)
    assert sorted(keys) == sorted(
        [user_key(SALT, "telegram", "123456789"), user_key(SALT, "bluesky", "did:plc:abcdef")]
    )
    assert not any("123456789" in k or "did:plc" in k for k in keys)
    assert all(len(k) == 64 for k in keys)


async def test_another_salt_cannot_find_the_user(make_store: Any) -> None:
    store = await make_store()
    await store.save_user("telegram", "42", UserState(language="fr"))
    other = await make_store(salt=b"another-salt-entirely-000")
    assert await other.get_user("telegram", "42") is None


async def test_same_id_on_two_channels_is_two_people(make_store: Any) -> None:
    store = await make_store()
    await store.save_user("telegram", "42", UserState(language="fr"))
    assert await store.get_user("bluesky", "42") is None


async def test_forget_erases_the_user_at_once(make_store: Any) -> None:
    store = await make_store()
    await store.save_user("telegram", "42", UserState(language="fr"))
    await store.save_user("telegram", "43", UserState(language="en"))
    assert await store.forget_user("telegram", "42") is True
    assert await store.get_user("telegram", "42") is None
    assert await store.get_user("telegram", "43") is not None
    assert await store.forget_user("telegram", "42") is False


async def test_users_expire_after_the_retention_without_contact(make_store: Any) -> None:
    clock = FakeClock()
    store = await make_store(clock=clock)
    await store.save_user("telegram", "idle", UserState(language="fr"))
    await store.save_user("telegram", "active", UserState(language="en"))
    clock.advance(days=60)
    await store.save_user("telegram", "active", UserState(language="en"))  # contact again
    clock.advance(days=29)
    assert (await store.purge(user_days=90, unanswered_days=30))["users"] == 0
    clock.advance(days=2)  # idle: 91 days; active: 31 days
    assert (await store.purge(user_days=90, unanswered_days=30))["users"] == 1
    assert await store.get_user("telegram", "idle") is None
    assert await store.get_user("telegram", "active") is not None


async def test_answered_posts_expire_like_user_data(make_store: Any) -> None:
    clock = FakeClock()
    store = await make_store(clock=clock)
    await store.mark_seen("post", "at://did:plc:a/app.bsky.feed.post/1")
    clock.advance(days=91)
    await store.mark_seen("post", "at://did:plc:b/app.bsky.feed.post/2")
    counts = await store.purge(user_days=90, unanswered_days=30)
    assert counts["answered_posts"] == 1
    assert not await store.is_seen("post", "at://did:plc:a/app.bsky.feed.post/1")
    assert await store.is_seen("post", "at://did:plc:b/app.bsky.feed.post/2")


async def test_the_seen_set_keeps_kinds_apart(make_store: Any) -> None:
    store = await make_store()
    await store.mark_seen("post", "at://did:plc:a/app.bsky.feed.post/1")
    assert not await store.is_seen("other", "at://did:plc:a/app.bsky.feed.post/1")
    assert await store.is_seen("post", "at://did:plc:a/app.bsky.feed.post/1")


async def test_the_memory_store_s_seen_set_expires_too() -> None:
    store = MemoryStore()
    await store.mark_seen("post", "at://did:plc:a/app.bsky.feed.post/1")
    assert (await store.purge(user_days=90, unanswered_days=30))["answered_posts"] == 0
    assert (await store.purge(user_days=0, unanswered_days=30))["answered_posts"] == 1
    assert not await store.is_seen("post", "at://did:plc:a/app.bsky.feed.post/1")


# -- channel state, counters, unanswered questions --------------------------------


async def test_values_set_get_and_delete(make_store: Any) -> None:
    store = await make_store()
    assert await store.get_value("bluesky.cursor") is None
    await store.set_value("bluesky.cursor", "2026-01-01T00:00:00Z")
    await store.set_value("bluesky.cursor", "2026-01-02T00:00:00Z")
    assert await store.get_value("bluesky.cursor") == "2026-01-02T00:00:00Z"
    await store.set_value("bluesky.cursor", None)
    assert await store.get_value("bluesky.cursor") is None


async def test_answered_posts_are_remembered(make_store: Any) -> None:
    store = await make_store()
    assert not await store.is_seen("post", "at://post/1")
    await store.mark_seen("post", "at://post/1")
    await store.mark_seen("post", "at://post/1")  # idempotent
    assert await store.is_seen("post", "at://post/1")


async def test_counters_add_up(make_store: Any) -> None:
    store = await make_store()
    await store.increment("answers.answer")
    await store.increment("answers.answer", 2)
    await store.increment("answers.fallback")
    assert await store.counters() == {"answers.answer": 3, "answers.fallback": 1}


async def test_unanswered_questions_kept_30_days_without_user(make_store: Any) -> None:
    clock = FakeClock()
    store = await make_store(clock=clock)
    await store.record_unanswered("how do I leave threads?", "en")
    clock.advance(days=20)
    await store.record_unanswered("comment quitter threads ?", "fr")
    assert await store.unanswered() == [
        ("how do I leave threads?", "en"),
        ("comment quitter threads ?", "fr"),
    ]
    clock.advance(days=11)
    assert (await store.purge(user_days=90, unanswered_days=30))["unanswered"] == 1
    assert await store.unanswered() == [("comment quitter threads ?", "fr")]
    assert set(TABLES["unanswered"]) == {"id", "text", "language", "created_at"}


# -- SQLite specifics ------------------------------------------------------------------


async def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "bot.sqlite3"
    store = SQLiteStore(path, SALT)
    await store.open()
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    finally:
        await store.close()


async def test_sqlite_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    store = SQLiteStore(tmp_path / "file" / "bot.sqlite3", SALT)
    with pytest.raises((ConfigError, OSError)):
        await store.open()


# -- salt and backend choice -----------------------------------------------------------


def test_generated_salt_is_kept_beside_the_database_mode_0600(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "data" / "bot.sqlite3")
    first = load_salt(settings)
    path = salt_path(settings.db_path)
    assert path == tmp_path / "data" / "bot.sqlite3.salt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32
    assert load_salt(settings) == first


def test_readable_salt_file_is_made_private(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "bot.sqlite3")
    salt = load_salt(settings)
    salt_path(settings.db_path).chmod(0o644)
    assert load_salt(settings) == salt
    assert stat.S_IMODE(salt_path(settings.db_path).stat().st_mode) == 0o600


def test_corrupt_salt_file_is_reported(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "bot.sqlite3")
    salt_path(settings.db_path).write_text("nonsense")
    with pytest.raises(ConfigError, match="salt"):
        load_salt(settings)


def test_salt_from_the_environment_wins(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "bot.sqlite3", salt=SecretStr("s" * 32))
    assert load_salt(settings) == b"s" * 32
    assert not salt_path(settings.db_path).exists()


def test_postgres_requires_a_shared_salt(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "x", database_url=SecretStr("postgresql://u:p@h/db"))
    with pytest.raises(ConfigError, match="PRIVACYBOT_SALT"):
        open_store(settings)


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    from bot.store.postgres import PostgresStore

    assert isinstance(open_store(Settings(db_path=tmp_path / "a.sqlite3")), SQLiteStore)
    assert isinstance(open_store(Settings(db_path=Path(":memory:"))), MemoryStore)
    pg = open_store(
        Settings(
            db_path=tmp_path / "x",
            database_url=SecretStr("postgresql://bot:hunter2hunter2@db/bot"),
            salt=SecretStr("s" * 32),
        )
    )
    assert isinstance(pg, PostgresStore)
    assert "hunter2" not in repr(pg)


async def test_postgres_unreachable_is_a_config_error_without_password() -> None:
    from bot.store.postgres import PostgresStore

    store = PostgresStore("postgresql://bot:hunter2hunter2@127.0.0.1:1/bot", SALT)
    with pytest.raises(ConfigError) as info:
        await store.open()
    assert "hunter2" not in str(info.value)
    assert "PRIVACYBOT_DATABASE_URL" in str(info.value)


# -- privacybot admin purge -------------------------------------------------------------


def test_admin_purge_applies_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    db = tmp_path / "bot.sqlite3"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_DB", str(db))
    monkeypatch.delenv("PRIVACYBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("PRIVACYBOT_SALT", "z" * 32)
    monkeypatch.setenv("PRIVACYBOT_USER_RETENTION_DAYS", "10")

    async def seed() -> None:
        old = FakeClock()
        store = SQLiteStore(db, b"z" * 32, clock=old)
        await store.open()
        await store.save_user("telegram", "1", UserState(language="fr"))
        await store.record_unanswered("question", "en")
        await store.close()
        fresh = SQLiteStore(db, b"z" * 32)
        await fresh.open()
        await fresh.save_user("telegram", "2", UserState(language="en"))
        await fresh.close()

    asyncio.run(seed())
    assert cli.main(["admin", "purge"]) == 0
    out = capsys.readouterr().out
    assert "1 user record(s) idle over 10 days" in out
    assert "1 unanswered question(s)" in out

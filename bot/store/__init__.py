"""Where the bot keeps its little state: pick the backend from the settings.

``open_store(settings)`` returns an unopened store (call ``await store.open()``):
PostgreSQL when ``PRIVACYBOT_DATABASE_URL`` is set, memory when
``PRIVACYBOT_DB=:memory:``, else SQLite at ``PRIVACYBOT_DB``.

The salt (why it exists and where it lives)
-------------------------------------------
User ids are stored as HMAC-SHA256(salt, ``channel:user_id``). Telegram ids are
small integers, so an unsalted hash could be reversed by trying them all; the
salt must therefore *not* be kept inside the database, or a copy of the
database alone would tell who talked to the bot.

* ``PRIVACYBOT_SALT`` set: it is used as is. Required with PostgreSQL, because
  every replica must derive the same key for the same person.
* Otherwise (SQLite): 32 random bytes are generated on first start and written
  beside the database as ``<database file>.salt``, mode 0600, and reused after.
  This needs no set-up, survives restarts and upgrades, and keeps the salt out of
  the database file itself. Losing it only makes the bot forget follow-up
  context (language, last topic), which is harmless.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from bot.errors import ConfigError
from bot.settings import Settings
from bot.store.base import Store, UserState, user_key
from bot.store.memory import MemoryStore
from bot.store.sqlite import TABLES, SQLiteStore

__all__ = [
    "TABLES",
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "UserState",
    "load_salt",
    "open_store",
    "salt_path",
    "user_key",
]

log = logging.getLogger(__name__)

SALT_BYTES = 32


def salt_path(db_path: Path) -> Path:
    """Where the generated salt of a SQLite database lives: ``<db>.salt``."""
    return db_path.with_name(db_path.name + ".salt")


def _read_salt(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("salt file %s was readable by others; setting mode 0600", path)
        path.chmod(0o600)
    try:
        salt = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        salt = b""
    if len(salt) < SALT_BYTES // 2:
        raise ConfigError(
            f"{path}: not a privacybot salt file; remove it to generate a new one "
            "(the bot then forgets everyone's language and last topic)"
        )
    return salt


def load_salt(settings: Settings) -> bytes:
    """Return the salt for hashing user ids (see the module docstring).

    Args:
        settings: The effective settings.

    Returns:
        The salt bytes.

    Raises:
        ConfigError: With PostgreSQL and no ``PRIVACYBOT_SALT``, or an unreadable
            salt file.
    """
    if settings.salt is not None:
        return settings.salt.get_secret_value().encode()
    if settings.backend == "postgresql":
        raise ConfigError(
            "PRIVACYBOT_SALT is required with PRIVACYBOT_DATABASE_URL: every replica must "
            "hash user ids with the same secret (generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    if settings.backend == "memory":
        return secrets.token_bytes(SALT_BYTES)
    path = salt_path(settings.db_path)
    if path.exists():
        return _read_salt(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = secrets.token_bytes(SALT_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _read_salt(path)
    except OSError as exc:
        raise ConfigError(f"PRIVACYBOT_DB: cannot write the salt file {path}: {exc}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(salt.hex() + "\n")
    log.info("generated a new salt for hashing user ids", extra={"path": str(path)})
    return salt


def open_store(settings: Settings) -> Store:
    """Build the store the settings ask for (not yet opened).

    Args:
        settings: The effective settings.

    Returns:
        A :class:`PostgresStore`, :class:`MemoryStore` or :class:`SQLiteStore`.

    Raises:
        ConfigError: If the salt cannot be had (see :func:`load_salt`).
    """
    salt = load_salt(settings)
    if settings.backend == "postgresql":
        from bot.store.postgres import PostgresStore

        assert settings.database_url is not None
        return PostgresStore(settings.database_url.get_secret_value(), salt)
    if settings.backend == "memory":
        return MemoryStore(salt)
    return SQLiteStore(settings.db_path, salt)

"""The operator's configuration, read once from the environment (and ``.env``).

One typed, frozen :class:`Settings` object covers what every part of the
process shares: where state lives, retention, logging, the health server. Each
channel adapter reads its own section (``TELEGRAM_*``, ``BLUESKY_*``) from the
same merged environment, so that a missing variable is reported by the code that
needs it.

The environment is a plain mapping passed in, never read behind the caller's
back, so tests inject one (as Starlette's ``Config`` does). Secrets are wrapped
in :class:`Secret`, which hides its value in ``str``, ``repr`` and f-strings:
printing the settings or logging them cannot leak a token.

``.env`` handling: :func:`load_environment` reads ``PRIVACYBOT_ENV_FILE`` (or
``./.env`` when it exists) and lets the real environment win over it, which is
what systemd's ``EnvironmentFile`` and docker compose's ``env_file`` do too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from bot.errors import ConfigError
from bot.ratelimit import DEFAULT_RATE, DEFAULT_USER_RATE, Rate

APP_NAME = "privacybot"
DEFAULT_DB_NAME = "privacybot.sqlite3"
DEFAULT_HEALTH_PORT = 8089
DEFAULT_USER_RETENTION_DAYS = 90
UNANSWERED_RETENTION_DAYS = 30
"""Fixed, not configurable: the bot's privacy answer promises 30 days."""
MIN_SALT_LENGTH = 16
MIN_ADMIN_TOKEN_LENGTH = 16
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("auto", "json", "text")

# Variable names whose values are secrets wherever they appear (settings,
# adapter sections, `privacybot config`, the log redaction filter).
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|SALT|DATABASE_URL|_KEY$|APIKEY", re.IGNORECASE)
_MASK = "**********"


class Secret:
    """A string that does not show itself.

    ``str()``, ``repr()`` and formatting give ``**********``; call
    :meth:`reveal` where the real value is needed (connecting, hashing).

    Args:
        value: The secret text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value itself."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's value must be masked (tokens, passwords...)."""
    return bool(_SECRET_NAME.search(name))


_QUERY_SECRET = re.compile(
    r"([?&;](?:[A-Za-z_]*pass(?:word)?|[A-Za-z_]*secret|[A-Za-z_]*token)=)[^&;#]*", re.I
)
"""A secret in a URL's query string (libpq's ``?password=``, ``sslpassword=``...)."""


def mask_url(url: str) -> str:
    """Hide the passwords of a URL: ``user:password@`` and ``?password=`` in the query."""
    url = re.sub(r"(://[^:/@]*:)[^@]*@", rf"\1{_MASK}@", url)
    return _QUERY_SECRET.sub(rf"\1{_MASK}", url)


def parse_env_file(path: Path) -> dict[str, str]:
    """Read a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes.

    Args:
        path: The file to read.

    Returns:
        The variables it sets.

    Raises:
        ConfigError: If a line is not ``KEY=value`` (the message names the line).
    """
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ConfigError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def load_environment(
    env: Mapping[str, str] | None = None, *, env_file: Path | None = None
) -> dict[str, str]:
    """Merge an optional ``.env`` file under the process environment.

    Args:
        env: The environment; ``os.environ`` when None.
        env_file: The file to read; else ``PRIVACYBOT_ENV_FILE``, else ``./.env``
            if it exists.

    Returns:
        A new mapping where variables from ``env`` override the file's.

    Raises:
        ConfigError: If ``PRIVACYBOT_ENV_FILE`` names a missing or invalid file.
    """
    base = dict(os.environ if env is None else env)
    if env_file is None:
        named = base.get("PRIVACYBOT_ENV_FILE")
        if named:
            env_file = Path(named)
            if not env_file.is_file():
                raise ConfigError(f"PRIVACYBOT_ENV_FILE: no such file: {named}")
        elif Path(".env").is_file():
            env_file = Path(".env")
    if env_file is None:
        return base
    merged = parse_env_file(env_file)
    merged.update(base)
    return merged


def default_db_path() -> Path:
    """The SQLite file's default place: the user's data directory (platformdirs)."""
    return platformdirs.user_data_path(APP_NAME) / DEFAULT_DB_NAME


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: expected 1 or 0, got {raw!r}")


def _admin_token(env: Mapping[str, str]) -> Secret | None:
    raw = env.get("PRIVACYBOT_ADMIN_TOKEN", "").strip()
    if not raw:
        return None
    if len(raw) < MIN_ADMIN_TOKEN_LENGTH:
        raise ConfigError(
            f"PRIVACYBOT_ADMIN_TOKEN: use at least {MIN_ADMIN_TOKEN_LENGTH} random characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return Secret(raw)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip() or default
    value = raw.upper() if allowed == LOG_LEVELS else raw.lower()
    if value not in allowed:
        raise ConfigError(f"{name}: expected one of {', '.join(allowed)}, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """What the process needs besides the channels' own sections.

    Attributes:
        db_path: The SQLite file (``PRIVACYBOT_DB``); ``:memory:`` keeps state
            in memory only (lost at exit).
        database_url: ``PRIVACYBOT_DATABASE_URL``; when set, PostgreSQL is used
            instead of SQLite.
        salt: ``PRIVACYBOT_SALT``; when None a salt file beside the SQLite file
            is used (see :func:`bot.store.load_salt`).
        log_unanswered: ``PRIVACYBOT_LOG_UNANSWERED=1`` keeps unanswered
            questions (text and language only) for 30 days.
        user_retention_days: ``PRIVACYBOT_USER_RETENTION_DAYS``: per-person
            state is deleted this long after the last contact.
        health_host: ``PRIVACYBOT_HEALTH_HOST``, 127.0.0.1 by default.
        health_port: ``PRIVACYBOT_HEALTH_PORT``; None (``off``) disables the
            health server, 0 picks a free port (tests).
        knowledge_dir: ``PRIVACYBOT_KNOWLEDGE_DIR``; None for the bundled one.
        log_level: ``PRIVACYBOT_LOG_LEVEL``: DEBUG, INFO, WARNING or ERROR.
        log_format: ``PRIVACYBOT_LOG_FORMAT``: ``json``, ``text`` or ``auto``
            (JSON unless writing to a terminal).
        user_rate: ``PRIVACYBOT_USER_RATE``: messages one person may send per
            window (``10/60`` by default); None (``off``) for no limit.
        library_debug: ``PRIVACYBOT_LIBRARY_DEBUG=1`` lets the libraries'
            loggers (python-telegram-bot, httpx, atproto) follow
            ``PRIVACYBOT_LOG_LEVEL``; otherwise they stay at WARNING, since at
            DEBUG they print message text, user ids and names.
        admin_token: ``PRIVACYBOT_ADMIN_TOKEN``, required by ``POST
            /admin/reload``; when None one is generated into a file beside the
            database (see :mod:`bot.admin_token`).
    """

    db_path: Path
    database_url: Secret | None = None
    salt: Secret | None = None
    log_unanswered: bool = False
    user_retention_days: int = DEFAULT_USER_RETENTION_DAYS
    unanswered_retention_days: int = UNANSWERED_RETENTION_DAYS
    health_host: str = "127.0.0.1"
    health_port: int | None = DEFAULT_HEALTH_PORT
    knowledge_dir: Path | None = None
    log_level: str = "INFO"
    log_format: str = "auto"
    user_rate: Rate | None = DEFAULT_USER_RATE
    library_debug: bool = False
    admin_token: Secret | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check the settings.

        Args:
            env: The (already merged, see :func:`load_environment`) environment;
                ``os.environ`` when None.

        Returns:
            The settings.

        Raises:
            ConfigError: Naming the variable and what is wrong with it.
        """
        env = os.environ if env is None else env
        db = env.get("PRIVACYBOT_DB", "").strip()
        db_path = Path(db).expanduser() if db else default_db_path()

        url = env.get("PRIVACYBOT_DATABASE_URL", "").strip()
        if url and not re.match(r"^postgres(ql)?://", url):
            raise ConfigError(
                f"PRIVACYBOT_DATABASE_URL: expected postgresql://user:password@host/db, "
                f"got {mask_url(url)!r}"
            )

        salt = env.get("PRIVACYBOT_SALT", "")
        if salt and len(salt) < MIN_SALT_LENGTH:
            raise ConfigError(
                f"PRIVACYBOT_SALT: use at least {MIN_SALT_LENGTH} random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )

        port_raw = env.get("PRIVACYBOT_HEALTH_PORT", "").strip().lower()
        port: int | None
        if port_raw in ("off", "none", "disabled"):
            port = None
        else:
            port = _int(env, "PRIVACYBOT_HEALTH_PORT", DEFAULT_HEALTH_PORT, low=0, high=65535)

        knowledge = env.get("PRIVACYBOT_KNOWLEDGE_DIR", "").strip()
        knowledge_dir = Path(knowledge).expanduser() if knowledge else None
        if knowledge_dir is not None and not knowledge_dir.is_dir():
            raise ConfigError(f"PRIVACYBOT_KNOWLEDGE_DIR: not a directory: {knowledge}")

        return cls(
            db_path=db_path,
            database_url=Secret(url) if url else None,
            salt=Secret(salt) if salt else None,
            log_unanswered=_bool(env, "PRIVACYBOT_LOG_UNANSWERED"),
            user_retention_days=_int(
                env,
                "PRIVACYBOT_USER_RETENTION_DAYS",
                DEFAULT_USER_RETENTION_DAYS,
                low=1,
                high=3650,
            ),
            health_host=env.get("PRIVACYBOT_HEALTH_HOST", "").strip() or "127.0.0.1",
            health_port=port,
            knowledge_dir=knowledge_dir,
            log_level=_choice(env, "PRIVACYBOT_LOG_LEVEL", "INFO", LOG_LEVELS),
            log_format=_choice(env, "PRIVACYBOT_LOG_FORMAT", "auto", LOG_FORMATS),
            user_rate=Rate.parse(env.get("PRIVACYBOT_USER_RATE", "").strip() or DEFAULT_RATE),
            library_debug=_bool(env, "PRIVACYBOT_LIBRARY_DEBUG"),
            admin_token=_admin_token(env),
        )

    @property
    def backend(self) -> str:
        """``postgresql``, ``memory`` or ``sqlite``."""
        if self.database_url is not None:
            return "postgresql"
        if str(self.db_path) == ":memory:":
            return "memory"
        return "sqlite"

    def describe(self) -> list[tuple[str, str]]:
        """The effective configuration as (variable, shown value) pairs, secrets masked."""
        url = self.database_url
        rows = [
            (
                "PRIVACYBOT_DB",
                str(self.db_path) + ("" if self.backend == "sqlite" else " (unused)"),
            ),
            ("PRIVACYBOT_DATABASE_URL", mask_url(url.reveal()) if url else "(unset: SQLite)"),
            ("PRIVACYBOT_SALT", _MASK if self.salt else "(unset: salt file beside the database)"),
            ("PRIVACYBOT_LOG_UNANSWERED", "1" if self.log_unanswered else "0"),
            ("PRIVACYBOT_USER_RETENTION_DAYS", str(self.user_retention_days)),
            ("PRIVACYBOT_HEALTH_HOST", self.health_host),
            (
                "PRIVACYBOT_HEALTH_PORT",
                "off" if self.health_port is None else str(self.health_port),
            ),
            ("PRIVACYBOT_KNOWLEDGE_DIR", str(self.knowledge_dir or "(bundled knowledge/)")),
            ("PRIVACYBOT_LOG_LEVEL", self.log_level),
            ("PRIVACYBOT_LOG_FORMAT", self.log_format),
            (
                "PRIVACYBOT_USER_RATE",
                f"{self.user_rate.limit}/{self.user_rate.window:g}" if self.user_rate else "off",
            ),
            ("PRIVACYBOT_LIBRARY_DEBUG", "1" if self.library_debug else "0"),
            (
                "PRIVACYBOT_ADMIN_TOKEN",
                _MASK if self.admin_token else "(unset: a token file beside the database)",
            ),
        ]
        return rows

    def secret_values(self) -> list[str]:
        """The secret values these settings hold, for the log redaction filter."""
        found = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Secret) and value:
                found.append(value.reveal())
        return found


def channel_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The channel adapters' variables present in ``env``, secrets masked.

    Args:
        env: The merged environment.

    Returns:
        Sorted (name, shown value) pairs for ``TELEGRAM_*`` and ``BLUESKY_*``.
    """
    rows = []
    for name in sorted(env):
        if name.startswith(("TELEGRAM_", "BLUESKY_")):
            value = env[name]
            rows.append((name, _MASK if is_secret_name(name) and value else value))
    return rows


def secret_values(env: Mapping[str, str], *, min_length: int = 6) -> list[str]:
    """Values of secret-looking variables in ``env`` (for log redaction).

    Args:
        env: The merged environment.
        min_length: Shorter values are ignored (masking "1" everywhere would
            garble logs without protecting anything).

    Returns:
        The values, longest first.
    """
    values = {v for k, v in env.items() if is_secret_name(k) and len(v) >= min_length}
    return sorted(values, key=len, reverse=True)

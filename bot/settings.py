"""The operator's configuration, read once from the environment (and ``.env``).

Every section of the configuration is a pydantic-settings class derived from
:class:`EnvSection`: :class:`Settings` (``PRIVACYBOT_*``) covers what every part
of the process shares (where state lives, retention, logging, the health
server); each channel adapter declares its own section (``TELEGRAM_*``,
``BLUESKY_*``) the same way, so that a missing variable is reported by the code
that needs it, and by name.

The environment is a plain mapping passed in (:meth:`EnvSection.from_env`),
never read behind the caller's back: building a section directly from keyword
arguments reads nothing at all, so tests inject what they need. Secrets are
:class:`pydantic.SecretStr`, which hides its value in ``str``, ``repr`` and
f-strings (call ``get_secret_value()`` where the real value is needed).

``.env`` handling: :func:`load_environment` reads ``PRIVACYBOT_ENV_FILE`` (or
``./.env`` when it exists) and lets the real environment win over it, which is
what systemd's ``EnvironmentFile`` and docker compose's ``env_file`` do too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

import platformdirs
from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from bot.errors import ConfigError
from bot.ratelimit import DEFAULT_USER_RATE, Rate

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


# -- the shared base of every section -------------------------------------------------


class EnvMappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over a mapping given by the caller.

    The stock source reads ``os.environ`` itself; this one reads the merged
    environment :func:`load_environment` returned (or a test's dict), so a
    section never sees a variable its caller did not pass.

    Args:
        settings_cls: The section being read.
        env: The environment.
    """

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env  # set first: the base class reads it in its __init__
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._mapping, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class EnvSection(BaseSettings):
    """Base of a configuration section: frozen, read only from a mapping passed in.

    A subclass sets ``model_config = SettingsConfigDict(env_prefix="TELEGRAM_")``
    (the other options are inherited), declares typed fields (``SecretStr`` for
    secrets, ``Field(validation_alias="FULL_NAME")`` where a variable's name is
    not prefix + field name) and checks values with validators raising
    ``ValueError``. :meth:`from_env` then turns any validation error into a
    :class:`ConfigError` naming the variable (:func:`config_error`).

    Variable names are matched without regard to case; empty values count as
    unset, so the field's default applies.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments only: a section built directly (tests) reads no
        # environment and no file behind its caller's back.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read and check the section.

        Args:
            env: The (already merged, see :func:`load_environment`) environment;
                ``os.environ`` when None.

        Returns:
            The section.

        Raises:
            ConfigError: Naming the variable and what is wrong with it.
        """
        values = EnvMappingSource(cls, os.environ if env is None else env)()
        try:
            return cls(**values)
        except ValidationError as exc:
            # `from None`: the ValidationError's text repeats the input, a secret maybe.
            raise config_error(exc, cls) from None

    @classmethod
    def variable(cls, field_name: str) -> str:
        """The environment variable a field is read from (``PRIVACYBOT_HEALTH_PORT``)."""
        return variable_name(cls, field_name)


def variable_name(section: type[BaseSettings], field_name: str) -> str:
    """The environment variable a section's field is read from.

    Args:
        section: A pydantic-settings class.
        field_name: One of its fields (or the alias a validation error reports).

    Returns:
        The field's ``validation_alias`` when it is a plain name, else the
        section's ``env_prefix`` followed by the field's name, upper case.
    """
    field: FieldInfo | None = section.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    if field is None:
        return field_name  # already the alias
    prefix = str(section.model_config.get("env_prefix") or "")
    return (prefix + field_name).upper()


def config_error(exc: ValidationError, section: type[BaseSettings]) -> ConfigError:
    """Turn a section's validation error into a :class:`ConfigError` naming the variable.

    The first error is reported (one fix at a time, like before). A validator's
    own ``ValueError`` message is used as it is when it already starts with the
    variable's name (``TELEGRAM_WEBHOOK_URL is required when...``), else it is
    prefixed with ``NAME: ``; a missing required field gives ``NAME is not set``.
    The offending value is never quoted from pydantic's own message, since it
    may be a secret.

    Args:
        exc: What pydantic raised.
        section: The section being validated.

    Returns:
        The error to raise (``raise config_error(exc, cls) from None``).
    """
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = error.get("loc") or ()
    name = variable_name(section, str(loc[0])) if loc else section.__name__
    cause = (error.get("ctx") or {}).get("error")
    if error["type"] == "missing":
        return ConfigError(f"{name} is not set")
    message = str(cause) if cause is not None else str(error["msg"])
    if not loc or message.startswith(name):
        return ConfigError(message)
    return ConfigError(f"{name}: {message}")


# -- value checks (messages as the operator sees them after "NAME: ") ------------------


def _text(value: Any) -> Any:
    """The string inside a raw value or a ``SecretStr`` (other types pass through)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def whole_number(low: int, high: int) -> Callable[[Any], Any]:
    """A before-validator: a whole number between ``low`` and ``high``.

    Args:
        low: The smallest value allowed.
        high: The largest value allowed.

    Returns:
        The validator, for ``Annotated[int, BeforeValidator(...)]``.
    """

    def check(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError(f"expected a whole number, got {value!r}") from None
        if isinstance(value, int) and not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return check


def flag(value: Any) -> Any:
    """A before-validator: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``."""
    if not isinstance(value, str):
        return value
    raw = value.strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"expected 1 or 0, got {raw!r}")


def _choice(allowed: tuple[str, ...], default: str, *, upper: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        raw = value.strip() or default
        chosen = raw.upper() if upper else raw.lower()
        if chosen not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {raw!r}")
        return chosen

    return check


def _blank_is(default: Any) -> Callable[[Any], Any]:
    """Strip a string; a blank one means ``default`` (``"  "`` is as good as unset)."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or default
        return value

    return check


def _db_path(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return Path(value).expanduser() if value else default_db_path()
    return value


def _database_url(value: Any) -> Any:
    url = _text(value)
    if isinstance(url, str):
        url = url.strip()
        if not url:
            return None
        if not re.match(r"^postgres(ql)?://", url):
            raise ValueError(f"expected postgresql://user:password@host/db, got {mask_url(url)!r}")
    return value if isinstance(value, SecretStr) else url


def _salt(value: Any) -> Any:
    salt = _text(value)
    if salt == "":
        return None
    if isinstance(salt, str) and len(salt) < MIN_SALT_LENGTH:
        raise ValueError(
            f"use at least {MIN_SALT_LENGTH} random characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return value


def _admin_token(value: Any) -> Any:
    token = _text(value)
    if isinstance(token, str):
        token = token.strip()
        if not token:
            return None
        if len(token) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"use at least {MIN_ADMIN_TOKEN_LENGTH} random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
    return value if isinstance(value, SecretStr) else token


def _health_port(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("off", "none", "disabled"):
        return None
    if isinstance(value, str) and not value.strip():
        return DEFAULT_HEALTH_PORT
    return whole_number(0, 65535)(value)


def _knowledge_dir(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_dir():
            raise ValueError(f"not a directory: {value}")
        return path
    return value


def _user_rate(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return DEFAULT_USER_RATE
    try:
        return Rate.parse(value.strip())
    except ConfigError as exc:  # its message names PRIVACYBOT_USER_RATE already
        raise ValueError(str(exc)) from None


def _site_url(value: Any) -> Any:
    # Checked at start-up: a typo would otherwise put a broken link in every answer.
    if not isinstance(value, str):
        return value
    raw = value.strip()
    if not raw:
        return None
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", raw):
        raise ValueError(
            f"expected the site's root, like https://privacy.example.org/, got {raw!r}"
        )
    return raw.rstrip("/") + "/"


Flag = Annotated[bool, BeforeValidator(flag)]


class Settings(EnvSection):
    """What the process needs besides the channels' own sections (``PRIVACYBOT_*``).

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
        unanswered_retention_days: Fixed at 30 (not read from the environment).
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
        site_url: ``PRIVACYBOT_SITE_URL``: the published site's root
            (``privacybot site build``); None for no links to it.
    """

    model_config = SettingsConfigDict(env_prefix="PRIVACYBOT_")

    db_path: Annotated[Path, BeforeValidator(_db_path)] = Field(
        default_factory=default_db_path, validation_alias="PRIVACYBOT_DB"
    )
    database_url: Annotated[SecretStr | None, BeforeValidator(_database_url)] = None
    salt: Annotated[SecretStr | None, BeforeValidator(_salt)] = None
    log_unanswered: Flag = False
    user_retention_days: Annotated[int, BeforeValidator(whole_number(1, 3650))] = (
        DEFAULT_USER_RETENTION_DAYS
    )
    unanswered_retention_days: ClassVar[int] = UNANSWERED_RETENTION_DAYS
    health_host: Annotated[str, BeforeValidator(_blank_is("127.0.0.1"))] = "127.0.0.1"
    health_port: Annotated[int | None, BeforeValidator(_health_port)] = DEFAULT_HEALTH_PORT
    knowledge_dir: Annotated[Path | None, BeforeValidator(_knowledge_dir)] = None
    log_level: Annotated[str, BeforeValidator(_choice(LOG_LEVELS, "INFO", upper=True))] = "INFO"
    log_format: Annotated[str, BeforeValidator(_choice(LOG_FORMATS, "auto", upper=False))] = "auto"
    user_rate: Annotated[Rate | None, BeforeValidator(_user_rate)] = DEFAULT_USER_RATE
    library_debug: Flag = False
    admin_token: Annotated[SecretStr | None, BeforeValidator(_admin_token)] = None
    site_url: Annotated[str | None, BeforeValidator(_site_url)] = None

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
            (
                "PRIVACYBOT_DATABASE_URL",
                mask_url(url.get_secret_value()) if url else "(unset: SQLite)",
            ),
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
            ("PRIVACYBOT_SITE_URL", self.site_url or "(unset: replies link to no site)"),
        ]
        return rows

    def secret_values(self) -> list[str]:
        """The secret values these settings hold, for the log redaction filter."""
        return section_secrets(self)


def section_secrets(section: BaseSettings) -> list[str]:
    """The non-empty ``SecretStr`` values a section holds (for the log redaction filter)."""
    found = []
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, SecretStr) and value:
            found.append(value.get_secret_value())
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

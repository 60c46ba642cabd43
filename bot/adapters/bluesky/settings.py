"""The Bluesky section of the configuration (``BLUESKY_*``), read with pydantic-settings."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from bot.adapters.bluesky.limits import CREATE_POINTS, REQUESTS_CAP_5_MIN
from bot.errors import ConfigError
from bot.render.bluesky import MAX_POSTS

DEFAULT_SERVICE_URL = "https://bsky.social"
DEFAULT_POLL_INTERVAL = 5.0
PREFIX = "BLUESKY_"

_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("bluesky_settings_env", default=None)


class _MappingSource(EnvSettingsSource):
    """``BLUESKY_*`` variables from the mapping given to :meth:`BlueskySettings.from_env`.

    The application passes the merged environment (real environment over
    ``.env``), and tests a plain dict: the process environment must not leak in.
    """

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENV.get()
        return parse_env_vars(
            os.environ if env is None else env,
            self.case_sensitive,
            self.env_ignore_empty,
            self.env_parse_none_str,
        )


def _whole(value: Any) -> Any:
    """Counts accept ``5000`` and ``5000.0`` alike (as the variables always did)."""
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return value
    return value


Count = Annotated[int, BeforeValidator(_whole)]


class BlueskySettings(BaseSettings):
    """The Bluesky section of the configuration.

    Attributes:
        handle: The bot account's handle (``privacybot.bsky.social``).
        app_password: An app password (Settings > Privacy and security > App
            passwords), never the main password.
        service_url: The account's PDS (``https://bsky.social``).
        poll_interval: Seconds between two ``listNotifications`` polls.
        timeout: HTTP timeout per request, in seconds.
        writes_per_hour: Write points budget per hour (Bluesky: 5,000).
        writes_per_day: Write points budget per day (Bluesky: 35,000).
        requests_per_5min: Requests we allow ourselves per 5 minutes (Bluesky:
            3,000 per IP; we keep 10% for other clients).
        backfill_hours: On the very first start, answer mentions this recent.
        max_posts: Longest reply thread.
        thread_cap: Most posts of the bot under one thread
            (``BLUESKY_MAX_POSTS_PER_THREAD``); the last says so.
        person_hour_cap: Most posts of the bot for one person in an hour
            (``BLUESKY_MAX_POSTS_PER_PERSON_HOUR``); the last says so.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore"
    )

    handle: str
    app_password: SecretStr
    service_url: str = DEFAULT_SERVICE_URL
    poll_interval: float = Field(DEFAULT_POLL_INTERVAL, ge=0.1)
    timeout: float = Field(15.0, ge=0.1)
    writes_per_hour: Count = Field(5000, ge=CREATE_POINTS)
    writes_per_day: Count = Field(35000, ge=CREATE_POINTS)
    requests_per_5min: Count = Field(
        REQUESTS_CAP_5_MIN, ge=10, validation_alias="BLUESKY_REQUESTS_PER_5_MIN"
    )
    backfill_hours: float = Field(24.0, ge=0.0)
    max_posts: Count = Field(MAX_POSTS, ge=1)
    thread_cap: Count = Field(8, ge=1, validation_alias="BLUESKY_MAX_POSTS_PER_THREAD")
    person_hour_cap: Count = Field(12, ge=1, validation_alias="BLUESKY_MAX_POSTS_PER_PERSON_HOUR")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: Any, *_: Any, **__: Any
    ) -> tuple[Any, ...]:
        return (init_settings, _MappingSource(settings_cls))

    @field_validator("handle")
    @classmethod
    def _bare_handle(cls, value: str) -> str:
        return value.strip().lstrip("@")

    @field_validator("service_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip() or DEFAULT_SERVICE_URL
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BlueskySettings:
        """Read ``BLUESKY_*`` variables.

        Args:
            env: The environment (``os.environ`` or a dict in tests).

        Returns:
            The settings.

        Raises:
            ConfigError: A required variable is missing or a value is invalid;
                the message names the variable.
        """
        missing = [
            name
            for name in ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
            if not env.get(name, "").strip().lstrip("@" if name == "BLUESKY_HANDLE" else "")
        ]
        if missing:
            raise ConfigError(
                f"Bluesky: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                "set (the bot account's handle and an app password from Settings > Privacy "
                "and security > App passwords)"
            )
        token = _ENV.set(env)
        try:
            return cls()  # type: ignore[call-arg]  # the fields come from the source
        except ValidationError as exc:
            raise _config_error(cls, exc, env) from None
        finally:
            _ENV.reset(token)


def variable(field: str) -> str:
    """The environment variable of a settings field (``thread_cap`` -> ``BLUESKY_MAX_...``)."""
    info = BlueskySettings.model_fields[field]
    alias = info.validation_alias
    return alias if isinstance(alias, str) else PREFIX + field.upper()


def _config_error(
    cls: type[BlueskySettings], exc: ValidationError, env: Mapping[str, str]
) -> ConfigError:
    """The first validation error, worded as the variable's message, quoting what was set."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    name = variable(field) if field in cls.model_fields else field
    raw = env.get(name, error.get("input"))
    if field == "service_url":
        return ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    minimum = (error.get("ctx") or {}).get("ge")
    if error["type"] == "greater_than_equal" and minimum is not None:
        return ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return ConfigError(f"{name} must be a number, got {raw!r}")


def is_configured(env: Mapping[str, str]) -> bool:
    """Whether the Bluesky channel should run (either credential is set).

    A half-configured environment counts, so that starting says which variable
    is missing instead of silently skipping Bluesky.
    """
    return bool(env.get("BLUESKY_HANDLE", "").strip() or env.get("BLUESKY_APP_PASSWORD", ""))

"""The ``BLUESKY_*`` section of the configuration (pydantic-settings, see :mod:`bot.settings`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from bot.adapters.bluesky.limits import CREATE_POINTS, REQUESTS_CAP_5_MIN
from bot.errors import ConfigError
from bot.render.bluesky import MAX_POSTS
from bot.settings import EnvSection

DEFAULT_SERVICE_URL = "https://bsky.social"
DEFAULT_POLL_INTERVAL = 5.0


class BlueskySettings(EnvSection):
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

    model_config = SettingsConfigDict(env_prefix="BLUESKY_")

    handle: str
    app_password: SecretStr
    service_url: str = DEFAULT_SERVICE_URL
    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float = 15.0
    writes_per_hour: int = 5000
    writes_per_day: int = 35000
    requests_per_5min: int = Field(
        REQUESTS_CAP_5_MIN, validation_alias="BLUESKY_REQUESTS_PER_5_MIN"
    )
    backfill_hours: float = 24.0
    max_posts: int = MAX_POSTS
    thread_cap: int = Field(8, validation_alias="BLUESKY_MAX_POSTS_PER_THREAD")
    person_hour_cap: int = Field(12, validation_alias="BLUESKY_MAX_POSTS_PER_PERSON_HOUR")

    _MINIMUM: ClassVar[dict[str, float]] = {
        "poll_interval": 0.1,
        "timeout": 0.1,
        "writes_per_hour": CREATE_POINTS,
        "writes_per_day": CREATE_POINTS,
        "requests_per_5min": 10,
        "backfill_hours": 0.0,
        "max_posts": 1,
        "thread_cap": 1,
        "person_hour_cap": 1,
    }

    @field_validator("handle")
    @classmethod
    def _bare_handle(cls, value: str) -> str:
        return value.strip().lstrip("@")

    @field_validator("service_url", mode="before")
    @classmethod
    def _http_url(cls, value: Any) -> str:
        url = str(value).strip() or DEFAULT_SERVICE_URL
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(f"BLUESKY_SERVICE_URL must be an http(s) URL, got {url!r}")
        return url.rstrip("/")

    @field_validator(*_MINIMUM, mode="before")
    @classmethod
    def _at_least(cls, value: Any, info: ValidationInfo) -> float:
        """A number no smaller than the field's minimum; counts accept ``5000.0`` too."""
        assert info.field_name is not None
        name = cls.variable(info.field_name)
        minimum = cls._MINIMUM[info.field_name]
        raw = value.strip() if isinstance(value, str) else value
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
        if number < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {raw!r}")
        integral = cls.model_fields[info.field_name].annotation in (int, "int")
        return int(number) if integral else number

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read ``BLUESKY_*`` variables.

        Args:
            env: The environment (the merged one, or a dict in tests).

        Returns:
            The settings.

        Raises:
            ConfigError: A required variable is missing or a value is invalid;
                the message names the variable.
        """
        given = os.environ if env is None else env
        missing = [
            name
            for name in ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
            if not given.get(name, "").strip().lstrip("@" if name == "BLUESKY_HANDLE" else "")
        ]
        if missing:
            raise ConfigError(
                f"Bluesky: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                "set (the bot account's handle and an app password from Settings > Privacy "
                "and security > App passwords)"
            )
        return super().from_env(given)


def is_configured(env: Mapping[str, str]) -> bool:
    """Whether the Bluesky channel should run (either credential is set).

    A half-configured environment counts, so that starting says which variable
    is missing instead of silently skipping Bluesky.
    """
    return bool(env.get("BLUESKY_HANDLE", "").strip() or env.get("BLUESKY_APP_PASSWORD", ""))

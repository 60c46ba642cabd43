"""The ``TELEGRAM_*`` section of the configuration (a pydantic-settings section).

:class:`TelegramSettings` is an :class:`~bot.settings.EnvSection`: it reads
only the mapping it is given (:meth:`~bot.settings.EnvSection.from_env`, the
merged environment the application hands every channel) and checks its own
variables: a bad value becomes a :class:`~bot.errors.ConfigError` naming the
variable, with the messages operators have always seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from bot.settings import EnvSection

DEFAULT_API_BASE_URL = "https://api.telegram.org"
TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _whole_seconds(variable: str, value: Any) -> int:
    raw = str(value).strip()
    if not raw.isdigit():
        raise ValueError(f"{variable} must be whole seconds, got {raw!r}")
    return int(raw)


class TelegramSettings(EnvSection):
    """The Telegram section of the configuration.

    Attributes:
        token: ``TELEGRAM_BOT_TOKEN`` from @BotFather.
        api_base_url: ``TELEGRAM_API_BASE_URL``, Telegram's by default; tests and
            self-hosted Bot API servers point it elsewhere.
        mode: ``TELEGRAM_MODE``: ``polling`` (default) or ``webhook``.
        webhook_url: ``TELEGRAM_WEBHOOK_URL``, the public URL Telegram posts to.
        webhook_secret: ``TELEGRAM_WEBHOOK_SECRET``; requests without it are refused.
        listen: ``TELEGRAM_LISTEN``, the address the webhook server binds.
        port: ``TELEGRAM_PORT``, its port.
        poll_timeout: ``TELEGRAM_POLL_TIMEOUT``, seconds of one long poll.
        conflict_timeout: ``TELEGRAM_CONFLICT_TIMEOUT``, seconds of repeated
            ``Conflict`` answers (another poller) before the channel stops.
    """

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    token: SecretStr = Field(
        default=SecretStr(""), validation_alias=TOKEN_VARIABLE, validate_default=True
    )
    api_base_url: str = DEFAULT_API_BASE_URL
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    poll_timeout: int = 10
    conflict_timeout: int = 60

    @field_validator("token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> SecretStr:
        raw = (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()
        if not raw:
            raise ValueError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
                "in TELEGRAM_BOT_TOKEN"
            )
        if not _TOKEN.match(raw):
            raise ValueError("TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<key>)")
        return SecretStr(raw)

    @field_validator("api_base_url", mode="before")
    @classmethod
    def _check_base_url(cls, value: Any) -> str:
        base = str(value).strip().rstrip("/") or DEFAULT_API_BASE_URL
        if urlparse(base).scheme not in ("http", "https") or not urlparse(base).netloc:
            raise ValueError(f"TELEGRAM_API_BASE_URL must be an http(s) URL, got {base!r}")
        return base

    @field_validator("mode", mode="before")
    @classmethod
    def _check_mode(cls, value: Any) -> str:
        mode = str(value).strip().lower()
        if mode not in ("polling", "webhook"):
            raise ValueError(f"TELEGRAM_MODE must be 'polling' or 'webhook', got {mode!r}")
        return mode

    @field_validator("port", mode="before")
    @classmethod
    def _check_port(cls, value: Any) -> int:
        raw = str(value).strip()
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ValueError(f"TELEGRAM_PORT must be a port number, got {raw!r}")
        return int(raw)

    @field_validator("poll_timeout", mode="before")
    @classmethod
    def _check_poll_timeout(cls, value: Any) -> int:
        return _whole_seconds("TELEGRAM_POLL_TIMEOUT", value)

    @field_validator("conflict_timeout", mode="before")
    @classmethod
    def _check_conflict_timeout(cls, value: Any) -> int:
        return _whole_seconds("TELEGRAM_CONFLICT_TIMEOUT", value)

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _strip_url(cls, value: Any) -> str | None:
        return (str(value).strip() or None) if value is not None else None

    @field_validator("listen", mode="before")
    @classmethod
    def _strip_listen(cls, value: Any) -> str:
        return str(value).strip() or "127.0.0.1"

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _strip_secret(cls, value: Any) -> SecretStr | None:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        raw = str(raw).strip() if raw is not None else ""
        return SecretStr(raw) if raw else None

    @model_validator(mode="after")
    def _check_webhook(self) -> TelegramSettings:
        if self.mode != "webhook":
            return self
        if not self.webhook_url:
            raise ValueError("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook")
        parsed = urlparse(self.webhook_url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError(
                f"TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram posts only over "
                f"HTTPS), got {parsed.scheme or 'no'} scheme"
            )
        if self.webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook, so that "
                "requests not from Telegram are refused"
            )
        if not _SECRET.match(self.webhook_secret.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256)")
        return self


def is_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment asks for the Telegram channel."""
    return bool(env.get(TOKEN_VARIABLE, "").strip())

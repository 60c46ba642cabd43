"""Logging for a long-running bot: structured, quiet, and unable to leak secrets.

* JSON lines when stderr is not a terminal (journald, docker logs, a collector),
  readable text on a terminal; ``PRIVACYBOT_LOG_FORMAT`` forces either.
* Fields passed with ``extra={...}`` (channel, topic, confidence, language,
  latency_ms...) become JSON keys; :meth:`bot.metrics.Metrics.record_answer` writes the
  one line per answered message this way. Message text is never passed.
* A redaction filter on the handler replaces every secret value from the
  environment (tokens, app passwords, the database URL, the salt) and anything
  shaped like a Telegram bot token with ``***``, whoever logged it: httpx puts
  the token in every Bot API URL, and exceptions repeat URLs.
* The libraries' own loggers (python-telegram-bot, httpx, httpcore, atproto,
  aiohttp) are held at WARNING even when ``PRIVACYBOT_LOG_LEVEL=DEBUG``: at
  DEBUG, python-telegram-bot prints whole updates (message text, user ids, first
  names). ``PRIVACYBOT_LIBRARY_DEBUG=1`` lets them follow the level when that is
  really wanted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot.settings import Settings

REDACTED = "***"
# A Telegram bot token: "<bot id>:<35 url-safe characters>".
_TELEGRAM_TOKEN = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
_QUERY_PASSWORD = re.compile(
    r"([?&;](?:[A-Za-z_]*pass(?:word)?|[A-Za-z_]*secret|[A-Za-z_]*token)=)[^&;#\s]+", re.I
)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.WARNING,
    "apscheduler": logging.WARNING,
    "atproto": logging.WARNING,
    "atproto_client": logging.WARNING,
    "aiohttp": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "asyncio": logging.WARNING,
}


class RedactingFilter(logging.Filter):
    """Replace secrets in a record's message, arguments, extras and traceback.

    Args:
        secrets: Exact values to hide (longest are replaced first).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return ``text`` with every known secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _TELEGRAM_TOKEN.sub(REDACTED, text)
        text = _QUERY_PASSWORD.sub(rf"\1{REDACTED}", text)
        return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            payload.setdefault(key, value)
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value...`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if extras:
            first, sep, rest = line.partition("\n")
            line = f"{first} {extras}{sep}{rest}"
        return line


def configure_logging(
    settings: Settings,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the process's single log handler on the root logger.

    Args:
        settings: Level and format.
        secrets: Values to redact (see :func:`bot.settings.secret_values`); the
            settings' own secrets are added.
        stream: Where to write; stderr when None.

    Returns:
        The installed handler (tests inspect or remove it).
    """
    stream = stream or sys.stderr
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not (hasattr(stream, "isatty") and stream.isatty())
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(RedactingFilter([*secrets, *settings.secret_values()]))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_privacybot", False):
            root.removeHandler(old)
    handler._privacybot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in QUIET_LOGGERS.items():
        # NOTSET: the library follows the root level (PRIVACYBOT_LIBRARY_DEBUG=1).
        logging.getLogger(name).setLevel(logging.NOTSET if settings.library_debug else level)
    logging.captureWarnings(True)
    return handler

"""Structured logs, and the filter that keeps secrets out of them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.logging_setup import RedactingFilter, configure_logging
from bot.settings import Settings

pytestmark = pytest.mark.timeout(30)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def output() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    settings = Settings(
        db_path=Path(":memory:"),
        log_level="DEBUG",
        database_url=SecretStr("postgresql://bot:dbpassword42@db/bot"),
    )
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(settings, secrets=["app-pass-word-1234"], stream=stream)
    try:
        yield stream, handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_json_lines_carry_the_extras(output: tuple[io.StringIO, logging.Handler]) -> None:
    stream, _ = output
    logging.getLogger("bot.answers").info(
        "answered", extra={"channel": "telegram", "topic": "x.grok_training", "latency_ms": 3.2}
    )
    (line,) = lines(stream)
    assert line["msg"] == "answered" and line["level"] == "INFO"
    assert line["logger"] == "bot.answers"
    assert (line["channel"], line["topic"], line["latency_ms"]) == (
        "telegram",
        "x.grok_training",
        3.2,
    )
    assert line["ts"].endswith("+00:00")


def test_text_format_on_a_terminal() -> None:
    stream = Tty()
    handler = configure_logging(Settings(db_path=Path(":memory:")), stream=stream)
    try:
        logging.getLogger("bot.test").warning("hello", extra={"channel": "bluesky"})
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "WARNING" in text and "hello channel=bluesky" in text
    assert not text.startswith("{")


def test_secrets_are_redacted_everywhere(output: tuple[io.StringIO, logging.Handler]) -> None:
    stream, _ = output
    log = logging.getLogger("httpx.fake")
    log.warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("login with app-pass-word-1234 failed", extra={"url": f"/bot{TOKEN}/x"})
    log.warning("cannot connect to postgresql://bot:dbpassword42@db/bot")
    log.warning("other url https://user:pw-in-url@example.org/path")
    try:
        raise RuntimeError(f"Conflict on /bot{TOKEN}/getUpdates")
    except RuntimeError:
        log.exception("polling failed")
    text = stream.getvalue()
    for secret in (TOKEN, "AAHdqTcvCH1v", "app-pass-word-1234", "dbpassword42", "pw-in-url"):
        assert secret not in text
    assert text.count("***") >= 6
    assert "RuntimeError" in lines(stream)[-1]["exc"]


def test_redaction_never_loses_a_line() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad %d format", ("x",), None)
    assert RedactingFilter([]).filter(record)
    assert record.getMessage() == "bad %d format"


def test_httpx_is_held_at_warning(output: tuple[io.StringIO, logging.Handler]) -> None:
    stream, _ = output
    logging.getLogger("httpx").info("HTTP Request: GET https://api.telegram.org/bot.../getMe")
    assert logging.getLogger("httpx").level == logging.WARNING
    assert stream.getvalue() == ""


def test_configuring_twice_keeps_one_handler() -> None:
    settings = Settings(db_path=Path(":memory:"))
    first = configure_logging(settings, stream=io.StringIO())
    second = configure_logging(settings, stream=io.StringIO())
    try:
        root = logging.getLogger()
        assert second in root.handlers and first not in root.handlers
    finally:
        logging.getLogger().removeHandler(second)

"""Telegram faults from issue 12, against the real adapter and the fake Bot API.

* the channel is ``starting`` (not ``running``/"ok") until Telegram has answered;
* the command menu is set in the background: failing ``setMyCommands`` calls
  (retried five times per language) no longer hold back the first answer;
* ``TELEGRAM_WEBHOOK_URL`` must be https (the error always said so);
* the token is a ``pydantic.SecretStr``: formatting never prints it;
* python-telegram-bot's loggers stay at WARNING at DEBUG level.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
from fakes.bot_api import FakeTelegram
from pydantic import SecretStr
from telegram_fixtures import TOKEN

from bot.adapters.telegram import TelegramSettings
from bot.app import Application
from bot.errors import ConfigError
from bot.kb.loader import default_dir, load_knowledge
from bot.logging_setup import QUIET_LOGGERS, configure_logging
from bot.metrics import Metrics
from bot.settings import Settings
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(60)
KB = load_knowledge(default_dir())
SETTINGS = Settings(db_path=Path(":memory:"), health_port=None, user_rate=None)


def state(metrics: Metrics) -> str:
    return str(metrics.health()["channels"].get("telegram", {}).get("state"))


async def test_the_channel_is_starting_until_telegram_answers() -> None:
    metrics, stop = Metrics(), asyncio.Event()  # the application hands it to the channel
    async with FakeTelegram(TOKEN) as fake:
        fake.inject_error("getMe", count=3)  # Telegram unreachable at start
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url}
        task = asyncio.create_task(
            Application(
                KB, settings=SETTINGS, env=env, metrics=metrics, store=MemoryStore(),
            ).run(["telegram"], stop=stop)
        )  # fmt: skip
        seen = set()

        def answered() -> bool:
            """Re-checked after every call the fake serves: the states around each getMe."""
            if fake.faults_served[("getme", "error")]:  # Telegram has failed a getMe
                seen.add(state(metrics))
                assert metrics.health()["status"] != "ok"
            return bool([c for c in fake.calls_of("getMe") if c.ok])

        await fake.wait_for(answered, 20)
        assert seen and "running" not in seen, seen
        await fake.wait_for(lambda: fake.polling > 0, 20)
        assert state(metrics) == "running"
        assert metrics.health()["status"] == "ok"
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


async def test_a_failing_command_menu_does_not_delay_the_first_answer() -> None:
    stop = asyncio.Event()
    async with FakeTelegram(TOKEN) as fake:
        fake.fail_for(60.0, methods={"setMyCommands"})
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url}
        task = asyncio.create_task(
            Application(
                KB, settings=SETTINGS, env=env, metrics=Metrics(), store=MemoryStore(),
            ).run(["telegram"], stop=stop)
        )  # fmt: skip
        user = FakeTelegram.user(777, "Ann", "en")
        await fake.send_text(user, "/start")
        # Before: two languages x five retries of setMyCommands (about 31 s)
        # came before polling; now the reply is the next thing that happens.
        await fake.wait_messages(777, 1, timeout=10)
        assert not [c for c in fake.calls_of("setMyCommands") if c.ok]
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0  # the menu task does not hold shutdown


@pytest.mark.parametrize(
    "url",
    ["http://bot.example.org/tg/hook", "ftp://bot.example.org/hook", "https:///no-host"],
)
def test_the_webhook_url_must_be_https(url: str) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_value",
    }
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_URL must be an https://"):
        TelegramSettings.from_env(env)


def test_the_token_is_the_settings_secret_and_never_formatted() -> None:
    settings = TelegramSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret_value",
        }
    )
    assert isinstance(settings.token, SecretStr)
    assert isinstance(settings.webhook_secret, SecretStr)
    shown = f"{settings.token} {settings.webhook_secret} {settings.token!s} {settings}"
    assert TOKEN not in shown and "s3cret_value" not in shown
    assert "%s" % settings.token != TOKEN  # noqa: UP031 - the old str subclass printed it
    assert settings.token.get_secret_value() == TOKEN


@pytest.mark.parametrize("library_debug", [False, True])
def test_library_loggers_stay_at_warning_unless_asked(library_debug: bool) -> None:
    stream = io.StringIO()
    settings = Settings(
        db_path=Path(":memory:"), log_level="DEBUG", log_format="text", library_debug=library_debug
    )
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ["", *QUIET_LOGGERS]}
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("telegram.ext.Application").debug("update {'text': 'my secret'}")
        logging.getLogger("httpx").info("HTTP Request: POST .../sendMessage")
        logging.getLogger("bot.core").debug("our own debug line")
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    out = stream.getvalue()
    assert "our own debug line" in out
    assert ("my secret" in out) is library_debug
    assert ("HTTP Request" in out) is library_debug

"""Helpers for the Telegram tests: running the real bot process against the fake Bot API.

Imported by the ``tests/test_telegram_*.py`` modules (kept out of ``conftest.py``
so the Telegram pieces stay together). :class:`BotProcess` runs the real
``python -m bot run telegram`` against :class:`fakes.bot_api.FakeTelegram`, as a
person would meet it, with its own SQLite file.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from fakes.bot_api import FakeTelegram, SentMessage
from helpers import processes, waits
from helpers.ports import accepts_connections

TOKEN = "123456789:TEST-token_for_the_fake_AAAAAAAAAA"
START_TIMEOUT = 20.0


def bot_env(fake: FakeTelegram, db: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot process pointed at the fake."""
    env_file = db.with_name(db.stem + ".env")
    env_file.touch()
    variables = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "TELEGRAM_POLL_TIMEOUT": "2",
        "PRIVACYBOT_DB": str(db),
        "PRIVACYBOT_SALT": "s" * 40,
        "PRIVACYBOT_LOG_LEVEL": "INFO",
        "PRIVACYBOT_ENV_FILE": str(env_file),
    }
    return processes.bot_env(**{**variables, **extra})


class BotProcess(processes.AsyncBotProcess):
    """The real bot, ``python -m bot run telegram``, as a child process.

    Args:
        fake: The fake Bot API it talks to.
        db: Its SQLite file.
        extra_env: More variables (webhook mode...).
    """

    def __init__(self, fake: FakeTelegram, db: Path, **extra_env: str) -> None:
        super().__init__(bot_env(fake, db, **extra_env), db.with_suffix(".log"), "run", "telegram")
        self.fake = fake

    async def start(self, *, wait_for: str = "getupdates") -> BotProcess:
        """Start the process; wait until it serves (polling, or webhook set and listening)."""
        before = len(self.fake.calls_of("setmycommands"))
        await super().start()
        try:
            await self.fake.wait_for(
                lambda: len(self.fake.calls_of("setmycommands")) >= before + 2, START_TIMEOUT
            )
            if wait_for == "getupdates":
                await self.fake.wait_for(lambda: self.fake.polling > 0, START_TIMEOUT)
            else:
                await self.fake.wait_for(lambda: self.fake.webhook.get("url"), START_TIMEOUT)
                await waits.wait_for(self._webhook_listens, START_TIMEOUT, what="the webhook")
        except TimeoutError:
            await super().stop(signal.SIGKILL)
            raise AssertionError(f"the bot did not start; log:\n{self.log()}") from None
        return self

    async def _webhook_listens(self) -> bool:
        """Whether the webhook port accepts connections (bound right after setWebhook)."""
        host = self.env.get("TELEGRAM_LISTEN", "127.0.0.1")
        return await accepts_connections(host, int(self.env.get("TELEGRAM_PORT", "8443")))

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Ask the process to stop and return its exit status (0 if it never started)."""
        status = await super().stop(sig, timeout)
        if self.hung:
            raise AssertionError(f"the bot did not stop; log:\n{self.log()}")
        return status or 0


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, db: Path, **extra_env: str) -> AsyncIterator[BotProcess]:
    """A bot process for the duration of a ``with`` block; stopped cleanly after."""
    bot = BotProcess(fake, db, **extra_env)
    await bot.start(
        wait_for="webhook" if extra_env.get("TELEGRAM_MODE") == "webhook" else "getupdates"
    )
    try:
        yield bot
    finally:
        status = await bot.stop()
        assert status == 0, f"exit status {status}; log:\n{bot.log()}"


UNKNOWN_COMMAND = "I don't know that command"


async def settled(fake: FakeTelegram, user: dict, timeout: float = 15.0) -> list[SentMessage]:
    """The person's private chat once the bot has handled everything they sent so far.

    The bot handles one chat's updates in order, so once it has answered a later
    command, nothing more comes for the earlier ones: a late duplicate would sit
    before that answer. Sends an unknown command (``/settle``), waits for its
    answer and returns the bot's messages before it.
    """
    sent = await fake.send_text(user, "/settle")
    after = sent["message"]["message_id"]

    def answer() -> int | None:
        for i, message in enumerate(fake.chat(user["id"])):
            if message.message_id > after and message.text.startswith(UNKNOWN_COMMAND):
                return i
        return None

    index = await fake.wait_for(lambda: answer() is not None, timeout) and answer()
    assert index is not None
    return fake.chat(user["id"])[:index]

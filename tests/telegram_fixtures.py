"""Helpers for the Telegram tests: running the real bot process against the fake Bot API.

Imported by the ``tests/test_telegram_*.py`` modules (kept out of ``conftest.py``
so the Telegram pieces stay together). :class:`BotProcess` runs the real
``python -m bot run telegram`` against :class:`fakes.bot_api.FakeTelegram`, as a
person would meet it, with its own SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from fakes.bot_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:TEST-token_for_the_fake_AAAAAAAAAA"
START_TIMEOUT = 20.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(fake: FakeTelegram, db: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot process pointed at the fake."""
    env_file = db.with_name(db.stem + ".env")
    env_file.touch()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "BLUESKY_", "PRIVACYBOT_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        TELEGRAM_POLL_TIMEOUT="2",
        PRIVACYBOT_DB=str(db),
        PRIVACYBOT_SALT="s" * 40,
        PRIVACYBOT_HEALTH_PORT="off",
        PRIVACYBOT_LOG_LEVEL="INFO",
        PRIVACYBOT_ENV_FILE=str(env_file),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class BotProcess:
    """The real bot, ``python -m bot run telegram``, as a child process.

    Args:
        fake: The fake Bot API it talks to.
        db: Its SQLite file.
        extra_env: More variables (webhook mode...).
    """

    def __init__(self, fake: FakeTelegram, db: Path, **extra_env: str) -> None:
        self.fake = fake
        self.env = bot_env(fake, db, **extra_env)
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = db.with_suffix(".log")

    async def start(self, *, wait_for: str = "getupdates") -> BotProcess:
        """Start the process and wait until it is serving (polling, or set its webhook)."""
        before = len(self.fake.calls_of("setmycommands"))
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "telegram",
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        try:
            await self.fake.wait_for(
                lambda: len(self.fake.calls_of("setmycommands")) >= before + 2, START_TIMEOUT
            )
            if wait_for == "getupdates":
                await self.fake.wait_for(lambda: self.fake._polling > 0, START_TIMEOUT)
            else:
                await self.fake.wait_for(lambda: self.fake.webhook.get("url"), START_TIMEOUT)
                await asyncio.sleep(0.2)  # the webhook server listens right after setWebhook
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"the bot did not start; log:\n{self.log()}") from None
        return self

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Ask the process to stop and return its exit status."""
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"the bot did not stop; log:\n{self.log()}") from None

    def log(self) -> str:
        """What the process logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


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

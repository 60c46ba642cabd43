"""``privacybot run`` with a fake channel, for tests that need the real process.

    python -m tests.fake_run fake

The same wiring as the ``run`` command (:func:`bot.app.serve`: the environment,
logging, knowledge base, the application, its signals), with the channel below
instead of Telegram and Bluesky. The channel answers one question (whose text
and user id must never reach the logs), logs what a careless HTTP client would
(the Telegram token, which must be redacted), writes ``ready`` to
``$FAKECHAN_DIR``, and on stop takes 0.2 s to drain before writing ``drained``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.app import serve
from bot.channel import ChannelContext
from bot.cli import EXIT_INVALID
from bot.errors import ConfigError
from bot.messages import IncomingMessage

SECRET_QUESTION = "how do I stop grok training qwzxjv"
SECRET_USER = "555000111"
log = logging.getLogger("fakechan")


class FakeChannel:
    """Answers one question, then idles until stopped."""

    name = "fake"

    def __init__(self, context: ChannelContext) -> None:
        self.core = context.core
        self.dir = Path(context.env["FAKECHAN_DIR"])

    async def run(self, stop: asyncio.Event) -> None:
        answer = await self.core.respond(IncomingMessage(SECRET_QUESTION, "fake", SECRET_USER))
        assert answer.reply.kind == "answer"  # the core logs and counts it itself
        token = os.environ["TELEGRAM_BOT_TOKEN"]
        # What httpx and a careless exception would print:
        log.info("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", token)
        log.warning("failed: %s", RuntimeError("token " + token))
        (self.dir / "ready").write_text("1")
        await stop.wait()
        await asyncio.sleep(0.2)  # an in-flight reply
        (self.dir / "drained").write_text("1")


class FakeFactory:
    """Builds :class:`FakeChannel`; configured when ``FAKECHAN_DIR`` is set."""

    name = "fake"

    def is_configured(self, env: Mapping[str, str]) -> bool:
        return bool(env.get("FAKECHAN_DIR"))

    def create(self, context: ChannelContext) -> FakeChannel:
        return FakeChannel(context)


def main(argv: list[str]) -> int:
    try:
        return serve(argv, factories=[FakeFactory()])
    except ConfigError as exc:
        print(f"privacybot: {exc}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

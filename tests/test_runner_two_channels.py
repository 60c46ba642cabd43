"""One real ``python -m bot run telegram bluesky`` process serving both channels.

Telegram talks to the fake Bot API (``tests/fakes/bot_api.py``); Bluesky talks to
the real local PDS (``tests/bluesky_stack``, on the Bluesky fixtures' own ports
and state directory) through :class:`PdsProxy`, which the test can take down and
bring back on the same port. The tests act as users: they write to the bot on
both platforms, read the answers as people see them, and ask ``/healthz`` what
an operator would see. Taking one channel's server away must not stop the
other, the lost channel must come back by itself, and SIGTERM ends the process.

The tests run in order on one process (the module fixture); each one puts back
the server it took away. Skipped without npm (the stack needs Node).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bluesky_fixtures import replies_by, stack_env
from fakes.bot_api import FakeTelegram, SentMessage
from helpers.ports import free_port
from helpers.processes import ROOT
from helpers.replies import answered_example
from telegram_fixtures import TOKEN, bot_env
from test_bluesky_resilience import PdsProxy

from bot.adapters.telegram import TelegramChannel
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import Reply
from bot.render.bluesky import render_bluesky

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("npm") is None, reason="the local Bluesky stack needs npm"),
]

PW = "two-chan-pass-123"
START_TIMEOUT = 30.0
ANSWER_TIMEOUT = 30.0
HEALTH_TIMEOUT = 20.0
SETTLE = 1.5  # long enough for a duplicate, if any, to show up
STOP_WITHIN = 5.0

KB = load_knowledge(default_dir())
CORE = Core(KB)
_user_ids = itertools.count(3001)


@dataclass
class World:
    """The running bot process and everything it talks to."""

    stack: Any  # tests.bluesky_stack.stack
    tg: FakeTelegram
    tg_port: int
    proxy: PdsProxy  # between the bot and the PDS
    bot: Any  # the bot's Bluesky account
    alice: Any  # a person on Bluesky
    health_url: str
    log_path: Path
    proc: asyncio.subprocess.Process | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get(self.health_url)).json()

    async def wait_health(self, check: Callable[[dict[str, Any]], bool], what: str) -> dict:
        """Poll ``/healthz`` until ``check`` holds; fail with the last document after a while."""
        deadline = time.monotonic() + HEALTH_TIMEOUT
        doc: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert self.alive(), f"the bot died; log:\n{self.log()[-4000:]}"
            with contextlib.suppress(httpx.HTTPError, ValueError):
                doc = await self.health()
                if check(doc):
                    return doc
            await asyncio.sleep(0.2)
        raise AssertionError(f"/healthz never showed {what}; last: {json.dumps(doc)}")

    async def wait_log(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.alive(), f"the bot died; log:\n{self.log()[-4000:]}"
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never logged; log:\n{self.log()[-4000:]}")
            await asyncio.sleep(0.1)

    # -- as a Telegram user

    async def ask_telegram(self, question: str, reply: Reply) -> list[SentMessage]:
        """A new person asks on Telegram; the bot's messages once it has answered."""
        user = FakeTelegram.user(next(_user_ids), "Ann", "en")
        count = sum(map(len, TelegramChannel.render(reply)))
        await self.tg.send_text(user, question)
        try:
            await self.tg.wait_messages(user["id"], count, timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"no Telegram answer; log:\n{self.log()[-4000:]}") from None
        await asyncio.sleep(SETTLE)
        messages = self.tg.chat(user["id"])
        assert len(messages) == count, f"{len(messages)} messages, expected {count}"
        assert messages[0].text.startswith(reply.title)
        return messages

    # -- as a Bluesky user

    async def ask_bluesky(self, question: str, reply: Reply) -> Any:
        """Alice mentions the bot; the bot's one direct reply as she sees it."""
        mention = await asyncio.to_thread(
            self.stack.post_mention, self.alice.client, self.bot, f" {question}", langs=["en"]
        )
        return await self.bluesky_reply(mention.uri, reply)

    async def bluesky_reply(self, uri: str, reply: Reply) -> Any:
        def mine() -> list[Any]:
            try:
                return replies_by(self.alice.client, uri, self.bot.did)
            except Exception:  # the AppView may not have indexed the mention yet
                return []

        deadline = time.monotonic() + ANSWER_TIMEOUT
        while not await asyncio.to_thread(mine):
            assert self.alive(), f"the bot died; log:\n{self.log()[-4000:]}"
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply under {uri}; log:\n{self.log()[-4000:]}")
            await asyncio.sleep(0.3)
        await asyncio.sleep(SETTLE)
        await asyncio.to_thread(self.stack.process_all)
        found = await asyncio.to_thread(mine)
        assert len(found) == 1, f"{len(found)} replies under {uri}"
        record = found[0].post.record
        assert record.reply.parent.uri == uri
        assert record.text == render_bluesky(reply)[0].text
        return found[0].post


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    with stack_env():
        from tests.bluesky_stack import stack as stack_module

        info = stack_module.start_stack(timeout=300)
        yield stack_module
        if not os.environ.get("PB_BSKY_KEEP") and not info.reused:
            stack_module.stop_stack()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """Both servers up and one bot process serving both channels."""
    tmp = tmp_path_factory.mktemp("two")
    sfx = secrets.token_hex(3)
    bot = await asyncio.to_thread(stack.create_account, f"tc{sfx}.test", PW)
    alice = await asyncio.to_thread(stack.create_account, f"al{sfx}.test", PW)
    proxy = PdsProxy(stack.current().pds_url).start()
    tg_port = free_port()
    tg = await FakeTelegram(TOKEN).start(port=tg_port)
    health_port = free_port()
    db = tmp / "bot.sqlite3"
    env = bot_env(
        tg,
        db,
        BLUESKY_HANDLE=bot.handle,
        BLUESKY_APP_PASSWORD=PW,
        BLUESKY_SERVICE_URL=proxy.url,
        BLUESKY_POLL_INTERVAL="0.3",
        BLUESKY_TIMEOUT="3",
        PRIVACYBOT_HEALTH_HOST="127.0.0.1",
        PRIVACYBOT_HEALTH_PORT=str(health_port),
        PRIVACYBOT_LOG_FORMAT="json",
    )
    w = World(
        stack=stack,
        tg=tg,
        tg_port=tg_port,
        proxy=proxy,
        bot=bot,
        alice=alice,
        health_url=f"http://127.0.0.1:{health_port}/healthz",
        log_path=tmp / "bot.log",
    )
    with w.log_path.open("ab") as out:
        w.proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "telegram", "bluesky"),
            cwd=ROOT, env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    try:
        await tg.wait_for(lambda: tg.polling > 0, START_TIMEOUT)
        await w.wait_log("bluesky: logged in with the app password")
        yield w
    finally:
        if w.alive():
            assert w.proc is not None
            w.proc.kill()
            await w.proc.wait()
        await tg.stop()
        proxy.close()


def answers_by_channel(log: str) -> dict[str, int]:
    """How many answer lines each channel logged (JSON logs, one line per answer)."""
    counts: dict[str, int] = {}
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == "answer":
                counts[record["channel"]] = counts.get(record["channel"], 0) + 1
    return counts


def states(doc: dict[str, Any]) -> dict[str, str]:
    return {name: ch["state"] for name, ch in doc.get("channels", {}).items()}


async def test_one_process_answers_on_telegram_and_bluesky(world: World) -> None:
    question, reply = await answered_example(CORE)
    await world.ask_telegram(question, reply)
    await world.ask_bluesky(question, reply)
    assert answers_by_channel(world.log()) == {"telegram": 1, "bluesky": 1}
    doc = await world.wait_health(
        lambda d: states(d) == {"telegram": "running", "bluesky": "running"}, "both running"
    )
    assert doc["status"] == "ok"
    assert all(ch["restarts"] == 0 for ch in doc["channels"].values())


async def test_telegram_server_down_bluesky_answers_and_telegram_comes_back(
    world: World,
) -> None:
    question, reply = await answered_example(CORE)
    await world.tg.stop()
    try:
        doc = await world.wait_health(
            lambda d: states(d).get("telegram") == "reconnecting", "Telegram reconnecting"
        )
        assert states(doc)["bluesky"] == "running"
        assert doc["status"] == "degraded"
        assert doc["channels"]["telegram"]["last_error"]
        assert doc["channels"]["telegram"]["restarts"] == 0  # retried in place, not restarted
        await world.ask_bluesky(question, reply)
        assert states(await world.health())["bluesky"] == "running"
    finally:
        await world.tg.start(port=world.tg_port)
    await world.ask_telegram(question, reply)  # exactly once, checked inside
    await world.wait_health(lambda d: d["status"] == "ok", "both running again")


async def test_bluesky_pds_down_telegram_answers_and_bluesky_comes_back(world: World) -> None:
    question, reply = await answered_example(CORE)
    world.proxy.down()
    try:
        doc = await world.wait_health(
            lambda d: states(d).get("bluesky") == "reconnecting", "Bluesky reconnecting"
        )
        assert states(doc)["telegram"] == "running"
        assert doc["status"] == "degraded"
        assert doc["channels"]["bluesky"]["last_error"]
        assert doc["channels"]["bluesky"]["restarts"] == 0  # retried in place, not restarted
        during = await asyncio.to_thread(
            world.stack.post_mention, world.alice.client, world.bot, f" {question}", langs=["en"]
        )
        await world.ask_telegram(question, reply)
        assert states(await world.health())["telegram"] == "running"
    finally:
        world.proxy.up()
    await world.bluesky_reply(during.uri, reply)  # posted during the outage, answered once
    await world.wait_health(lambda d: d["status"] == "ok", "both running again")


async def test_sigterm_stops_both_channels_and_exits_0_quickly(world: World) -> None:
    assert world.proc is not None and world.alive()
    started = time.monotonic()
    world.proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(world.proc.wait(), STOP_WITHIN + 5)
    except TimeoutError:
        raise AssertionError(f"still running; log:\n{world.log()[-4000:]}") from None
    took = time.monotonic() - started
    assert code == 0, world.log()[-4000:]
    assert took < STOP_WITHIN, f"took {took:.1f}s"
    log = world.log()
    assert "privacybot stopped" in log
    assert "Traceback" not in log
    assert TOKEN.split(":")[1] not in log and PW not in log
    assert answers_by_channel(log) == {"telegram": 3, "bluesky": 3}

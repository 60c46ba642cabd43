"""Telegram faults, end to end: the real ``privacybot run telegram`` against a misbehaving fake.

Each test makes the fake Bot API server fail one way (5xx answers, a request
stalled past the client's timeout, a burst of 429s, a long poll whose connection
is cut, a ``Conflict`` from another poller, a broken knowledge base on SIGHUP,
one person flooding the bot) and then checks what a person would see: every
question answered by exactly the expected messages, none lost, none twice, and
the process still serving. A persistent ``Conflict`` is the one fault the bot
does not wait out: it stops with a message naming the cause (see
:mod:`bot.adapters.telegram`).
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import signal
from pathlib import Path

import pytest
import pytest_asyncio
from fakes.bot_api import CONFLICT, FakeTelegram
from helpers.waits import wait_for
from telegram_fixtures import TOKEN, BotProcess, running_bot, settled

from bot.adapters.telegram import TelegramChannel, TelegramSettings
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage
from bot.store.memory import MemoryStore
from bot.texts import text

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

KB = load_knowledge(default_dir())
QUESTION = "how do i stop grok training on my posts"
SETTLE = 1.5  # the flood test: a throttled person gets no later answer to wait for
"""Seconds to wait after the expected messages: a duplicate would arrive meanwhile."""
USER_RATE = "4/60"
_user_ids = itertools.count(5001)


def new_user(language: str = "en") -> dict:
    """A person who has never talked to the bot."""
    return FakeTelegram.user(next(_user_ids), "Ann", language)


async def expected_html(question: str, language: str = "en") -> list[str]:
    """The messages (HTML) the bot sends a new person for ``question``, computed in process."""
    core = Core(KB, MemoryStore())
    channel = TelegramChannel(core, TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
    reply = await core.handle(IncomingMessage(question, "telegram", "1", language_hint=language))
    assert reply.kind == "answer"
    first, rest = channel.render(reply)
    return first + rest


async def assert_answered_once(
    tg: FakeTelegram, user: dict, want: list[str], *, timeout: float = 20.0
) -> None:
    """The person's chat holds exactly ``want``: nothing lost, nothing twice."""
    await tg.wait_messages(user["id"], len(want), timeout)
    got = [m.html for m in await settled(tg, user, timeout)]
    assert got == want


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory):
    """One fake server and one bot process (own knowledge copy, low per-person limit)."""
    root = tmp_path_factory.mktemp("tgfaults")
    knowledge = root / "knowledge"
    shutil.copytree(default_dir(), knowledge)
    server = FakeTelegram(TOKEN)
    await server.start()
    try:
        async with running_bot(
            server,
            root / "bot.sqlite3",
            PRIVACYBOT_KNOWLEDGE_DIR=str(knowledge),
            PRIVACYBOT_USER_RATE=USER_RATE,
        ) as bot:
            yield server, bot, knowledge
    finally:
        await server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def tg(shared):
    """The shared fake; after each test no fault is left and the bot is still serving."""
    server, bot, _ = shared
    yield server
    server.clear_faults()
    assert bot.proc.returncode is None, bot.log()


async def test_500s_for_a_while_then_the_question_is_answered_once(tg: FakeTelegram) -> None:
    want = await expected_html(QUESTION)
    user = new_user()
    tg.fail_for(3.0)  # every method answers 500 Internal Server Error
    await tg.send_text(user, QUESTION)
    await tg.wait_for(lambda: tg.faults_served[("getupdates", "error")] >= 1)
    await assert_answered_once(tg, user, want)


async def test_send_message_500s_are_retried_without_duplicates(tg: FakeTelegram) -> None:
    want = await expected_html(QUESTION)
    user = new_user()
    before = tg.faults_served[("sendmessage", "error")]
    tg.inject_error("sendMessage", code=500, count=3)
    await tg.send_text(user, QUESTION)
    await assert_answered_once(tg, user, want)
    assert tg.faults_served[("sendmessage", "error")] == before + 3


async def test_a_send_stalled_past_the_client_timeout_is_sent_again_once(
    shared, tg: FakeTelegram
) -> None:
    bot = shared[1]
    want = await expected_html(QUESTION)
    user = new_user()
    tg.inject_stall("sendMessage", 7.0)  # the client gives up after 5 s
    await tg.send_text(user, QUESTION)
    await assert_answered_once(tg, user, want, timeout=25)
    assert tg.faults_served[("sendmessage", "stall")] == 1
    assert "sendMessage failed on the way (TimedOut)" in bot.log()


async def test_a_long_poll_stalled_past_the_client_timeout_loses_nothing(
    tg: FakeTelegram,
) -> None:
    want = await expected_html(QUESTION)
    user = new_user()
    stalled = tg.faults_served[("getupdates", "stall")]
    tg.inject_stall("getUpdates", 10.0)  # poll timeout 2 s + read timeout 5 s
    await tg.wait_for(lambda: tg.faults_served[("getupdates", "stall")] > stalled, 10)
    await tg.send_text(user, QUESTION)  # arrives while the bot's poll hangs
    await assert_answered_once(tg, user, want, timeout=25)


async def test_a_429_burst_is_waited_out(tg: FakeTelegram) -> None:
    want = await expected_html(QUESTION)
    users = [new_user() for _ in range(3)]
    tg.inject_429("sendMessage", retry_after=1, count=5)
    for user in users:
        await tg.send_text(user, QUESTION)
    for user in users:
        await assert_answered_once(tg, user, want, timeout=30)
    assert tg.flood_429s == 0  # the bot itself never went over the limits


async def test_a_dropped_long_poll_connection_loses_nothing(tg: FakeTelegram) -> None:
    want = await expected_html(QUESTION)
    user = new_user()
    await tg.wait_for(lambda: tg.polling > 0)
    assert tg.drop_polls() >= 1
    await tg.send_text(user, QUESTION)
    await assert_answered_once(tg, user, want)


async def test_a_short_conflict_is_waited_out(shared, tg: FakeTelegram) -> None:
    want = await expected_html(QUESTION)
    before = tg.faults_served[("getupdates", "error")]
    tg.inject_error("getUpdates", code=409, description=CONFLICT, count=2)
    await tg.wait_for(lambda: tg.faults_served[("getupdates", "error")] >= before + 2, 15)
    user = new_user()
    await tg.send_text(user, QUESTION)
    await assert_answered_once(tg, user, want)
    assert "409 Conflict" in shared[1].log()


async def test_a_persistent_conflict_stops_the_bot_with_a_clear_message(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN) as fake:
        bot = await BotProcess(
            fake, tmp_path / "bot.sqlite3", TELEGRAM_CONFLICT_TIMEOUT="3"
        ).start()
        fake.fail_for(60.0, methods={"getUpdates"}, code=409, description=CONFLICT)
        assert bot.proc is not None
        try:
            status = await asyncio.wait_for(bot.proc.wait(), 30)
        finally:
            await bot.stop()
    assert status == 2, bot.log()
    assert "another process is polling Telegram with this bot token" in bot.log()
    assert "Traceback" not in bot.log().split("another process is polling Telegram")[-1]


async def test_a_broken_knowledge_base_on_sighup_keeps_the_old_one(shared, tg) -> None:
    _, bot, knowledge = shared
    want = await expected_html(QUESTION)
    x_file = knowledge / "x.yaml"
    good = x_file.read_text(encoding="utf-8")
    try:
        x_file.write_text("platform: x\ntopics: [ {id: x.grok_training\n", encoding="utf-8")
        bot.proc.send_signal(signal.SIGHUP)
        await wait_for_log(bot, "knowledge base reload refused")
        user = new_user()
        await tg.send_text(user, QUESTION)
        await assert_answered_once(tg, user, want)
    finally:
        x_file.write_text(good, encoding="utf-8")
    bot.proc.send_signal(signal.SIGHUP)
    await wait_for_log(bot, "knowledge base reloaded")


async def test_one_flooder_is_slowed_down_and_others_are_not(tg: FakeTelegram) -> None:
    flooder, other = new_user(), new_user()
    limit = int(USER_RATE.split("/")[0])
    for _ in range(30):
        await tg.send_text(flooder, "/lang en")
    want_other = await expected_html(QUESTION)
    asked = asyncio.get_running_loop().time()
    await tg.send_text(other, QUESTION)
    await assert_answered_once(tg, other, want_other)
    first_call = tg.calls_of("sendMessage", chat_id=other["id"])[0]
    assert first_call.at - asked < 3.0  # not queued behind the flood

    await tg.wait_messages(flooder["id"], limit + 1, 15)
    await asyncio.sleep(SETTLE)
    texts = [m.text for m in tg.chat(flooder["id"])]
    assert texts.count(text("en", "rate.slow_down")) == 1
    assert texts.count(text("en", "tg.lang.set")) == limit
    assert len(texts) == limit + 1


async def wait_for_log(bot: BotProcess, needle: str, timeout: float = 10.0) -> None:
    """Wait until the bot's log contains ``needle``."""
    try:
        await wait_for(lambda: needle in bot.log(), timeout, what=repr(needle), step=0.1)
    except TimeoutError:
        raise AssertionError(f"{needle!r} not logged; log:\n{bot.log()[-3000:]}") from None

"""The Telegram adapter in-process: settings, flood control, errors, groups.

These tests build the real PTB application without an updater and feed it
updates with ``Application.process_update``; its Bot API calls still go over
HTTP to the fake server, which enforces Telegram's limits and error shapes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fakes.bot_api import BOT_ID, BOT_USERNAME, FakeTelegram
from telegram import Message, Update
from telegram_fixtures import TOKEN

from bot.adapters.telegram import (
    FACTORY,
    TelegramChannel,
    TelegramSettings,
    create_channel,
    is_configured,
)
from bot.channel import ChannelContext
from bot.core import Core
from bot.errors import ConfigError
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage
from bot.metrics import Metrics
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(60)
KB = load_knowledge(default_dir())


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest_asyncio.fixture
async def app_and_core(tg: FakeTelegram):
    core = Core(KB, MemoryStore())
    channel = create_channel(core, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.url})
    app = channel.build_application(with_updater=False)
    async with app:
        yield app, core


async def grok_question() -> str:
    """One of x.grok_training's examples that the engine answers with it."""
    core = Core(KB)
    for example in KB.topics["x.grok_training"].en.examples:
        reply = await core.handle(IncomingMessage(example, language_hint="en"))
        if reply.topic_id == "x.grok_training":
            return example
    raise AssertionError("no example of x.grok_training is answered with it")


async def feed(app, tg: FakeTelegram, update: dict) -> None:
    await app.process_update(Update.de_json(update, app.bot))


def message_update(update_id: int, user_id: int, text: str, **extra: object) -> dict:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    message.update(extra)
    return {"update_id": update_id, "message": message}


# --- settings ----------------------------------------------------------------------


def test_a_missing_token_names_the_variable() -> None:
    assert not is_configured({})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        TelegramSettings.from_env({})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "not a token"})


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"TELEGRAM_MODE": "webhook"}, "TELEGRAM_WEBHOOK_URL"),
        (
            {"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg"},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {
                "TELEGRAM_MODE": "webhook",
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
                "TELEGRAM_WEBHOOK_SECRET": "has spaces",
            },
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ({"TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"),
        ({"TELEGRAM_PORT": "http"}, "TELEGRAM_PORT"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
    ],
)
def test_invalid_settings_name_the_variable(extra: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **extra})


def test_settings_defaults_and_secrets_stay_out_of_repr() -> None:
    settings = TelegramSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret_value",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/",
        }
    )
    assert settings.api_base_url == "http://127.0.0.1:9"
    assert (settings.listen, settings.port, settings.mode) == ("127.0.0.1", 8443, "webhook")
    assert TOKEN not in repr(settings) and "s3cret_value" not in repr(settings)
    assert TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).api_base_url == (
        "https://api.telegram.org"
    )


def test_create_channel_is_named_telegram() -> None:
    channel = create_channel(Core(KB), {"TELEGRAM_BOT_TOKEN": TOKEN})
    assert channel.name == "telegram"
    # httpx (the token is in every URL) is held at WARNING by logging_setup, not by the
    # adapter: see test_logging_setup.test_httpx_is_held_at_warning.


# --- in-process ----------------------------------------------------------------------


async def test_forbidden_is_counted_and_not_retried(app_and_core, tg: FakeTelegram) -> None:
    app, core = app_and_core
    tg.block(501)
    await feed(app, tg, message_update(1, 501, "/start"))
    assert len(tg.calls_of("sendMessage", chat_id=501)) == 1
    assert (await core.store.counters())["telegram.forbidden"] == 1
    await feed(app, tg, message_update(2, 502, "/start"))  # still alive
    assert tg.chat(502)


async def test_errors_are_logged_with_the_update_id_never_the_text(
    app_and_core, tg: FakeTelegram, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    app, core = app_and_core

    async def broken(message):
        raise RuntimeError("engine down")

    monkeypatch.setattr(core, "handle", broken)
    secret_question = "my private question about grok 12345"
    with caplog.at_level(logging.INFO):
        await feed(app, tg, message_update(77, 503, secret_question))
    records = [r for r in caplog.records if r.name.startswith("bot.adapters.telegram")]
    assert any("update 77 failed: RuntimeError" in r.getMessage() for r in records)
    assert all(secret_question not in r.getMessage() for r in caplog.records)
    assert (await core.store.counters())["telegram.errors"] == 1


async def test_pacing_keeps_within_the_flood_limits(app_and_core, tg: FakeTelegram) -> None:
    app, _ = app_and_core
    for chat in range(600, 640):
        tg.private_chat(FakeTelegram.user(chat))
    started = time.monotonic()
    sends = [app.bot.send_message(600, f"n{n}") for n in range(3)]
    sends += [app.bot.send_message(chat, "hello") for chat in range(601, 640)]
    await asyncio.gather(*sends)
    assert tg.flood_429s == 0
    assert time.monotonic() - started >= 2.0  # three messages to one chat, 1/s
    times = [c.at for c in tg.calls_of("sendMessage", chat_id=600)]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_question_is_answered_and_a_follow_up_uses_the_last_topic(
    app_and_core, tg: FakeTelegram
) -> None:
    app, _ = app_and_core
    await feed(app, tg, message_update(1, 504, await grok_question()))
    first = tg.chat(504)[0]
    assert first.text.startswith(KB.topics["x.grok_training"].en.title)
    await feed(app, tg, message_update(2, 504, "and on android?"))
    assert any("Android" in m.text for m in tg.chat(504)[1:])


async def test_the_same_surface_twice_is_not_an_error(app_and_core, tg: FakeTelegram) -> None:
    app, core = app_and_core
    await feed(app, tg, message_update(1, 505, await grok_question()))
    first = tg.chat(505)[0]
    user = FakeTelegram.user(505)
    for query_id in ("q1", "q2"):
        await feed(
            app,
            tg,
            {
                "update_id": 10,
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": "1",
                    "data": "s:en:x.grok_training:ios",
                    "message": tg._message_json(tg.messages[(505, first.message_id)]),
                },
            },
        )
    assert set(tg.callback_answers) == {"q1", "q2"}
    edits = tg.calls_of("editMessageText", chat_id=505)
    assert [c.ok for c in edits] == [True, False]
    assert "not modified" in (edits[1].error or "")
    assert (await core.store.counters()).get("telegram.errors", 0) == 0


def _group_message(text: str, *, entities=None, reply_to_bot: bool = False) -> Message:
    body = {
        "message_id": 5,
        "date": int(time.time()),
        "chat": {"id": -100, "type": "supergroup", "title": "G"},
        "from": {"id": 9, "is_bot": False, "first_name": "Bob"},
        "text": text,
    }
    if entities:
        body["entities"] = entities
    if reply_to_bot:
        body["reply_to_message"] = {
            "message_id": 4,
            "date": int(time.time()),
            "chat": body["chat"],
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "B", "username": BOT_USERNAME},
            "text": "an answer",
        }
    return Message.de_json(body, None)


def test_in_groups_only_messages_addressed_to_the_bot_are_questions() -> None:
    addressed = TelegramChannel.addressed_text
    assert addressed(_group_message("stop grok training"), BOT_ID, BOT_USERNAME) is None
    mention = f"@{BOT_USERNAME}"
    msg = _group_message(
        f"{mention} stop grok training",
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    assert addressed(msg, BOT_ID, BOT_USERNAME) == "stop grok training"
    other = _group_message(
        "@someone_else stop grok", entities=[{"type": "mention", "offset": 0, "length": 13}]
    )
    assert addressed(other, BOT_ID, BOT_USERNAME) is None
    reply = _group_message("and on android?", reply_to_bot=True)
    assert addressed(reply, BOT_ID, BOT_USERNAME) == "and on android?"


async def test_the_incoming_message_says_the_kind_of_chat_and_how_the_bot_was_addressed(
    app_and_core, tg: FakeTelegram, monkeypatch
) -> None:
    app, core = app_and_core
    seen: list[IncomingMessage] = []
    handle = core.handle

    async def spy(message: IncomingMessage):
        seen.append(message)
        return await handle(message)

    monkeypatch.setattr(core, "handle", spy)
    await feed(app, tg, message_update(1, 506, "stop grok training"))
    mention = f"@{BOT_USERNAME}"
    group = message_update(
        2,
        507,
        f"{mention} stop grok training",
        chat={"id": -100507, "type": "supergroup", "title": "G"},
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    await feed(app, tg, group)
    answer = tg.chat(-100507)[-1]
    reply_to_bot = message_update(
        3,
        507,
        "and on android?",
        chat={"id": -100507, "type": "supergroup", "title": "G"},
        reply_to_message={
            "message_id": answer.message_id,
            "date": int(time.time()),
            "chat": {"id": -100507, "type": "supergroup", "title": "G"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "B", "username": BOT_USERNAME},
            "text": answer.text,
        },
    )
    await feed(app, tg, reply_to_bot)
    assert [(m.chat_type, m.text, m.user_id, m.mentioned, m.replied_to) for m in seen] == [
        ("private", "stop grok training", "506", False, False),
        ("group", "stop grok training", "507", True, False),
        ("group", "and on android?", "507", False, True),
    ]


async def test_the_channel_reports_to_the_metrics_it_was_built_with(
    tg: FakeTelegram, monkeypatch
) -> None:
    core = Core(KB, MemoryStore())  # with metrics of its own
    own = Metrics()
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.url}
    channel = FACTORY.create(ChannelContext(core, core.store, own, env))

    async def broken(message):
        raise RuntimeError("engine down")

    monkeypatch.setattr(core, "handle", broken)

    def errors(metrics: Metrics) -> float:
        return metrics.sample("privacybot_errors_total", channel="telegram", kind="update") or 0

    async with channel.build_application(with_updater=False) as app:
        await feed(app, tg, message_update(1, 508, "stop grok training"))
    assert errors(own) == 1
    assert errors(core.metrics) == 0


def test_settings_read_the_mapping_given_not_the_process_environment(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_MODE", "webhook")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).mode == "polling"
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        TelegramSettings.from_env({})
    # Without a mapping, the section reads TELEGRAM_* from the process environment.
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/tg/hook")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret_value")
    settings = TelegramSettings.from_env()
    assert (settings.mode, settings.webhook_url) == ("webhook", "https://bot.example.org/tg/hook")

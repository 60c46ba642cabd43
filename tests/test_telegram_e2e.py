"""End to end: the real ``privacybot run telegram`` process against the fake Bot API.

The tests act as people would: they write to the bot through the fake server
and read what the bot sent, as text with entities and buttons. Most share one
bot process (each test with its own user, so per-chat limits and state do not
mix); restart and webhook mode start their own.
"""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path

import pytest
import pytest_asyncio
from fakes.bot_api import BOT_USERNAME, FakeTelegram, SentMessage, utf16_len
from helpers.ports import free_port
from telegram_fixtures import TOKEN, BotProcess, running_bot, settled

from bot.adapters.telegram import TelegramChannel, TelegramSettings
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage, Reply
from bot.render.dates import format_date
from bot.render.telegram_html import SHORT_TARGET
from bot.settings import Settings
from bot.store import open_store

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]

KB = load_knowledge(default_dir())
CORE = Core(KB)
RENDER = TelegramChannel(CORE, TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
UNSURE_CANDIDATES = ("grok", "grok x", "ai training", "train ai on my posts", "x", "data")
_user_ids = itertools.count(1001)


def new_user(language: str | None = "en", name: str = "Ann") -> dict:
    """A person who has never talked to the bot."""
    return FakeTelegram.user(next(_user_ids), name, language)


async def expected(question: str, language: str | None = None) -> Reply:
    """What the engine answers, computed in-process, to compare with the bot's message."""
    return await CORE.handle(IncomingMessage(question, language_hint=language))


async def question_for(topic_id: str, language: str) -> tuple[str, Reply]:
    """A question (one of the topic's own examples) the engine answers with that topic."""
    for example in getattr(KB.topics[topic_id], language).examples:
        reply = await expected(example, language)
        if reply.kind == "answer" and reply.topic_id == topic_id:
            return example, reply
    raise AssertionError(f"no example of {topic_id} ({language}) is answered with it")


def n_messages(reply: Reply) -> int:
    """How many messages the bot sends for a reply."""
    first, rest = RENDER.render(reply)
    return len(first) + len(rest)


def buttons(message: SentMessage, prefix: str) -> list[dict]:
    return [b for b in message.buttons() if b.get("callback_data", "").startswith(prefix)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory):
    """One fake server and one bot process for the whole module."""
    server = FakeTelegram(TOKEN)
    await server.start()
    db = tmp_path_factory.mktemp("tg") / "bot.sqlite3"
    try:
        async with running_bot(server, db) as bot:
            yield server, bot
    finally:
        await server.stop()


@pytest.fixture
def tg(shared) -> FakeTelegram:
    return shared[0]


async def ask(tg: FakeTelegram, user: dict, text: str, count: int = 1) -> list[SentMessage]:
    """Write to the bot in private and wait for ``count`` more messages from it."""
    before = len(tg.chat(user["id"]))
    await tg.send_text(user, text)
    messages = await tg.wait_messages(user["id"], before + count)
    return messages[before:]


async def test_start_greets_in_the_users_language_with_example_buttons(tg: FakeTelegram) -> None:
    (hello,) = await ask(tg, new_user("en"), "/start")
    assert "stop platforms" in hello.text
    examples = buttons(hello, "t:en:")
    assert len(examples) >= 2
    assert any(b["callback_data"] == "t:en:x.grok_training" for b in examples)
    assert {b["callback_data"] for b in buttons(hello, "l:")} == {"l:en", "l:fr"}

    (bonjour,) = await ask(tg, new_user("fr-FR", "Zoé"), "/start")
    assert bonjour.text.startswith("Bonjour")
    assert buttons(bonjour, "t:fr:x.grok_training")


async def test_commands_and_description_are_set_in_both_languages(tg: FakeTelegram) -> None:
    for code in ("", "fr"):
        names = [c["command"] for c in tg.commands[code]]
        assert names == ["start", "help", "topics", "lang", "privacy", "forget"]
        assert tg.descriptions[code]
        assert tg.short_descriptions[code]
    assert "Grok" in tg.descriptions[""] and "données" in tg.descriptions["fr"]


async def test_an_english_question_gets_one_short_message_with_buttons_for_the_rest(
    tg: FakeTelegram,
) -> None:
    question, reply = await question_for("x.grok_training", "en")
    user = new_user("en")
    (first,) = await ask(tg, user, question)
    assert first.text.startswith(reply.title)
    assert reply.title in first.bold()
    assert "1." in first.bold()  # numbered, bold step labels
    assert reply.steps[0] in first.text
    assert first.links() == [reply.url]  # the tappable settings link, and nothing else
    assert utf16_len(first.text) <= SHORT_TARGET  # counted on what Telegram shows
    assert reply.facts[0] not in first.text  # the details wait for a button
    assert buttons(first, f"s:en:{reply.topic_id}:")  # other surfaces
    parts = {b["callback_data"] for b in buttons(first, "p:en:")}
    assert parts == {f"p:en:x.grok_training:{p}.web" for p in ("why", "sources", "related")}
    assert [m.message_id for m in await settled(tg, user)] == [first.message_id]


async def test_a_part_button_is_acknowledged_at_once_then_opens_in_place(
    tg: FakeTelegram,
) -> None:
    user = new_user("en")
    question, reply = await question_for("x.grok_training", "en")
    (first,) = await ask(tg, user, question)
    query_id = await tg.press(user, first, "p:en:x.grok_training:sources.web")
    await tg.wait_call("editMessageText", chat_id=user["id"], message_id=first.message_id)
    order = [
        c.method.lower()
        for c in tg.calls
        if str(c.params.get("callback_query_id")) == query_id
        or (c.method.lower() == "editmessagetext" and c.params.get("chat_id") == user["id"])
    ]
    assert order == ["answercallbackquery", "editmessagetext"]  # acknowledged at once
    edited = tg.messages[(user["id"], first.message_id)]
    assert [link for link in edited.links()] == [s.url for s in reply.sources]
    assert len(reply.sources) == 3
    for source in reply.sources:
        if source.date:
            assert format_date(source.date, "en") in edited.text
    assert buttons(edited, "p:en:x.grok_training:short.web")  # back
    await tg.press(user, edited, "p:en:x.grok_training:why.web")
    await tg.wait_for(lambda: tg.messages[(user["id"], first.message_id)].edits == 2)
    why = tg.messages[(user["id"], first.message_id)]
    assert reply.facts[0] in why.text
    assert len(tg.chat(user["id"])) == 1  # everything in place, buttons on the last message


async def test_only_the_last_message_sent_carries_buttons(tg: FakeTelegram) -> None:
    user = new_user("en")
    question, _ = await question_for("x.grok_training", "en")
    (first,) = await ask(tg, user, question)
    other, _ = await question_for("x.grok_history", "en")
    (second,) = await ask(tg, user, other)
    await tg.wait_for(lambda: not tg.messages[(user["id"], first.message_id)].buttons())
    assert buttons(second, "p:en:x.grok_history:")


async def test_typing_sources_after_an_answer_shows_that_part(tg: FakeTelegram) -> None:
    user = new_user("en")
    question, reply = await question_for("x.grok_training", "en")
    await ask(tg, user, question)
    (sources,) = await ask(tg, user, "sources")
    assert sources.links() == [s.url for s in reply.sources]
    assert buttons(sources, "p:en:x.grok_training:short.")  # and back to the short answer


async def test_a_french_question_is_answered_in_french(tg: FakeTelegram) -> None:
    question, reply = await question_for("x.grok_training", "fr")
    assert reply.language == "fr"
    (first,) = await ask(tg, new_user("en"), question)
    assert first.text.startswith(reply.title)
    assert "Sur le web\u202f:" in first.text  # French spacing
    checked = KB.topics["x.grok_training"].last_verified
    assert f"Vérifié le {format_date(checked, 'fr')}" in first.text  # a date as French write it
    labels = {b["text"] for b in buttons(first, "p:fr:")}
    assert labels == {"Pourquoi, ce qui se passe", "Sources", "Voir aussi"}


async def test_photos_stickers_voice_and_unknown_commands_get_a_reply(tg: FakeTelegram) -> None:
    user = new_user("en")
    for kind in ("photo", "sticker", "voice"):
        count = len(tg.chat(user["id"]))
        await tg.send_media(user, kind)
        (said,) = (await tg.wait_messages(user["id"], count + 1))[count:]
        assert said.text.startswith("I only read text") and "/topics" in said.text
    (unknown,) = await ask(tg, user, "/weather")
    assert unknown.text.startswith("I don't know that command") and "/help" in unknown.text
    count = len(tg.chat(user["id"]))
    question, reply = await question_for("x.grok_training", "en")
    await tg.send_media(user, "photo", caption=question)  # a caption is a question
    (answer,) = (await tg.wait_messages(user["id"], count + 1))[count:]
    assert answer.text.startswith(reply.title)


async def test_start_with_a_topic_payload_opens_that_topic(tg: FakeTelegram) -> None:
    (opened,) = await ask(tg, new_user("en"), "/start x-grok_history")
    assert opened.text.startswith(KB.topics["x.grok_history"].en.title)
    (french,) = await ask(tg, new_user("en"), "/start x-grok_history-fr")
    assert french.text.startswith(KB.topics["x.grok_history"].fr.title)
    (hello,) = await ask(tg, new_user("en"), "/start nonsense")
    assert "stop platforms" in hello.text


async def test_a_surface_button_edits_the_same_message(tg: FakeTelegram) -> None:
    user = new_user("en")
    question, reply = await question_for("x.grok_training", "en")
    (first, *_) = await ask(tg, user, question, n_messages(reply))
    ios = buttons(first, "s:en:x.grok_training:ios")
    assert ios, first.buttons()
    sent_before = len(tg.chat(user["id"]))
    query_id = await tg.press(user, first, ios[0]["callback_data"])
    await tg.wait_call("editMessageText", chat_id=user["id"], message_id=first.message_id)
    await tg.wait_for(lambda: query_id in tg.callback_answers)
    edited = tg.messages[(user["id"], first.message_id)]
    ios_reply = CORE.topic_reply("x.grok_training", "en", surface="ios")
    assert ios_reply.surface_label in edited.text
    assert edited.edits == 1
    assert buttons(edited, "s:en:x.grok_training:web")  # and back
    assert len(await settled(tg, user)) == sent_before  # edited, nothing new sent

    # Pressing the same button again is answered; "message is not modified" is no error.
    again = await tg.press(user, edited, ios[0]["callback_data"])
    await tg.wait_for(lambda: again in tg.callback_answers)


async def test_an_unsure_answer_offers_the_candidates_as_buttons(tg: FakeTelegram) -> None:
    for question in UNSURE_CANDIDATES:
        reply = await expected(question, "en")
        if reply.kind == "clarify":
            break
    else:
        pytest.skip("no candidate question is ambiguous with this knowledge base")
    user = new_user("en")
    (clarify,) = await ask(tg, user, question)
    choices = buttons(clarify, "c:en:")
    topics = [c.label for c in reply.choices if c.kind == "topic"]
    assert [b["text"] for b in choices] == [f"{n}. {label}" for n, label in enumerate(topics, 1)]
    topic = choices[0]["callback_data"].split(":")[2]
    await tg.press(user, clarify, choices[0]["callback_data"])
    await tg.wait_call("editMessageText", chat_id=user["id"], message_id=clarify.message_id)
    answered = tg.messages[(user["id"], clarify.message_id)]
    assert answered.text.startswith(KB.topics[topic].en.title)


async def test_lang_switches_the_language_of_the_bot(tg: FakeTelegram) -> None:
    user = new_user("en")
    (done,) = await ask(tg, user, "/lang fr")
    assert done.text == "Je vous répondrai en français."
    (hello,) = await ask(tg, user, "/start")
    assert hello.text.startswith("Bonjour")
    (usage,) = await ask(tg, user, "/lang")
    assert {b["callback_data"] for b in usage.buttons()} == {"l:en", "l:fr"}
    await tg.press(user, usage, "l:en")
    await tg.wait_call("editMessageText", chat_id=user["id"], message_id=usage.message_id)
    (hello,) = await ask(tg, user, "/start")
    assert hello.text.startswith("Hello")


async def test_forget_erases_what_the_bot_stored(tg: FakeTelegram) -> None:
    user = new_user("en")
    await ask(tg, user, "/lang fr")
    (done,) = await ask(tg, user, "/forget")
    assert done.text.startswith("C'est fait")
    (nothing,) = await ask(tg, user, "/forget")
    assert nothing.text == "I had nothing stored about you."  # back to the app's language


async def test_help_topics_and_privacy(tg: FakeTelegram) -> None:
    user = new_user("en")
    help_reply = CORE.topic_reply("bot.help", "en")
    (help_msg, *_) = await ask(tg, user, "/help", n_messages(help_reply))
    assert help_msg.text.startswith(help_reply.title)
    (topics,) = await ask(tg, user, "/topics")
    assert buttons(topics, "t:en:x.grok_training")
    privacy_reply = CORE.topic_reply("bot.privacy", "en")
    (privacy, *_) = await ask(tg, user, "/privacy", n_messages(privacy_reply))
    assert privacy.text.startswith(privacy_reply.title)
    count = len(tg.chat(user["id"]))
    await tg.press(user, topics, "t:en:x.third_party_sharing")  # sent as a new message
    related = (await tg.wait_messages(user["id"], count + 1))[count]
    assert related.text.startswith(KB.topics["x.third_party_sharing"].en.title)


async def test_in_groups_the_bot_answers_only_when_addressed(tg: FakeTelegram) -> None:
    group = FakeTelegram.group_chat(-100500)
    ann, bob = new_user("en"), new_user("en", "Bob")
    await tg.send_text(ann, "how do I stop grok training on my posts", chat=group)
    await tg.send_text(bob, "/help@some_other_bot", chat=group)

    question, reply = await question_for("x.grok_training", "en")
    mention = await tg.send_text(bob, f"@{BOT_USERNAME} {question}", chat=group)
    answers = await tg.wait_messages(group["id"], n_messages(reply), timeout=15)
    # One chat's updates are handled in order: had the bot answered the two
    # messages above, its first message here would not be the answer to the mention.
    assert answers[0].text.startswith(reply.title)
    assert answers[0].reply_to == mention["message"]["message_id"]  # quotes the asker

    count = len(tg.chat(group["id"]))
    await tg.send_text(bob, "and on android?", chat=group, reply_to=answers[0])
    more = await tg.wait_messages(group["id"], count + 1, timeout=15)
    assert "Android" in more[count].text

    count = len(tg.chat(group["id"]))
    await tg.send_text(bob, f"/topics@{BOT_USERNAME}", chat=group)
    await tg.wait_messages(group["id"], count + 1, timeout=15)


async def test_inline_mode_offers_answers_to_share(tg: FakeTelegram) -> None:
    query_id = await tg.inline_query(new_user("en"), "grok training")
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    answer = tg.inline_answers[query_id]
    results = answer["results"]
    assert results and results[0]["type"] == "article"
    assert "x.grok_training" in {r["id"].split(":", 1)[1] for r in results}
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert answer["is_personal"] in (True, "true", "True")  # results follow the language


async def test_inline_mode_with_no_match_is_empty_with_a_hint(tg: FakeTelegram) -> None:
    for query, hint in (("what is the weather in Paris", "Type a question"), ("", "Tapez")):
        query_id = await tg.inline_query(new_user("fr"), query)
        await tg.wait_for(lambda q=query_id: q in tg.inline_answers)
        answer = tg.inline_answers[query_id]
        assert answer["results"] == []
        assert answer["button"]["text"].startswith(hint)  # in the language of the query


async def test_a_429_is_retried_and_the_reply_still_arrives(tg: FakeTelegram) -> None:
    user = new_user("en")
    tg.inject_429("sendMessage", retry_after=1)
    started = time.monotonic()
    await tg.send_text(user, "/lang en")
    (reply,) = await tg.wait_messages(user["id"], 1, timeout=15)
    assert time.monotonic() - started >= 1.0
    assert reply.text == "I will answer in English."
    refused = [c for c in tg.calls_of("sendMessage", chat_id=user["id"]) if not c.ok]
    assert refused and refused[0].error.startswith("Too Many Requests")


async def test_a_user_who_blocked_the_bot_is_not_retried(tg: FakeTelegram, shared) -> None:
    _, bot = shared
    blocked = new_user("en")
    tg.block(blocked["id"])
    await tg.send_text(blocked, "/start")
    await tg.wait_for(lambda: tg.calls_of("sendMessage", chat_id=blocked["id"]))
    # A retry would come before the bot handles the person's next update (one
    # chat's updates are handled in order): that second attempt is the event to await.
    await tg.send_text(blocked, "/start")
    await tg.wait_for(lambda: len(tg.calls_of("sendMessage", chat_id=blocked["id"])) >= 2)
    attempts = tg.calls_of("sendMessage", chat_id=blocked["id"])
    assert len(attempts) == 2, attempts
    assert all(a.error == "Forbidden: bot was blocked by the user" for a in attempts)
    (hello,) = await ask(tg, new_user("en"), "/start")  # and the bot serves everyone else
    assert hello.text.startswith("Hello")

    store = open_store(Settings.from_env(bot.env))
    await store.open()
    try:
        assert (await store.counters()).get("telegram.forbidden", 0) >= 1
    finally:
        await store.close()


async def test_no_flood_limit_was_hit_by_the_bot(tg: FakeTelegram) -> None:
    assert tg.flood_429s == 0


# --- with their own bot process ---------------------------------------------------


async def test_a_restart_keeps_the_users_language(tmp_path: Path) -> None:
    user = new_user("en")
    db = tmp_path / "bot.sqlite3"
    async with FakeTelegram(TOKEN) as fake, running_bot(fake, db):
        await fake.send_text(user, "/lang fr")
        await fake.wait_messages(user["id"], 1)
    async with FakeTelegram(TOKEN) as fake:
        bot = BotProcess(fake, db)
        await bot.start()
        try:
            await fake.send_text(user, "/start")
            (hello,) = await fake.wait_messages(user["id"], 1)
            assert hello.text.startswith("Bonjour")
        finally:
            assert await bot.stop(signal.SIGINT) == 0, bot.log()
    assert TOKEN.split(":")[1] not in bot.log()  # the token never reaches the logs


async def test_webhook_mode_refuses_requests_without_the_secret(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.invalid/telegram/hook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-Value_42",
        "TELEGRAM_LISTEN": "127.0.0.1",
        "TELEGRAM_PORT": str(port),
    }
    async with FakeTelegram(TOKEN) as fake:
        fake.webhook_proxy = f"http://127.0.0.1:{port}"  # the TLS proxy in front of the bot
        async with running_bot(fake, tmp_path / "bot.sqlite3", **env):
            await _webhook_refuses_forged_requests(fake)


async def _webhook_refuses_forged_requests(fake: FakeTelegram) -> None:
    """Updates with the secret are answered; forged ones get 403 and no reply."""
    assert fake.webhook["secret_token"] == "s3cret-Value_42"
    user = new_user("en")
    await fake.send_text(user, "/start")  # delivered with the secret header
    (hello,) = await fake.wait_messages(user["id"], 1)
    assert hello.text.startswith("Hello")

    forged = {
        "update_id": 999_999,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 424242, "type": "private", "first_name": "Eve"},
            "from": {"id": 424242, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    assert await fake.post_webhook(forged, secret=None) == 403
    assert await fake.post_webhook(forged, secret="wrong") == 403
    eve = FakeTelegram.user(424242, "Eve", "en")
    assert [m.text for m in await settled(fake, eve)] == []  # the forged /start: no "Hello"

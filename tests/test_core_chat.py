"""What a chat adapter (Telegram) asks the core to decide, without the adapter.

The person's language outside an answer, the language an ambiguous message is
answered in, a deep link opening a topic and a button choosing one: each is a
core method, and what it remembers is read back from the store.
"""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage
from bot.store.memory import MemoryStore

KB = load_knowledge(default_dir())
TOPIC = "x.grok_training"


@pytest.fixture
def core() -> Core:
    return Core(KB, MemoryStore())


async def test_the_language_outside_an_answer_is_the_remembered_one_then_the_apps(
    core: Core,
) -> None:
    assert await core.language_of("telegram", None, None) == "en"
    assert await core.language_of("telegram", "1", "fr-FR") == "fr"
    await core.set_language("telegram", "1", "ja")
    assert await core.language_of("telegram", "1", "fr") == "ja"


async def test_an_ambiguous_message_is_answered_in_the_language_last_written(core: Core) -> None:
    french = KB.topics[TOPIC].lang("fr").examples[0]
    first = await core.handle_chat(
        IncomingMessage(french, channel="telegram", user_id="2", language_hint="en")
    )
    assert first.language == "fr"
    # "grok" is no language: the app's (English) would pick English for a newcomer.
    again = await core.handle_chat(
        IncomingMessage("grok", channel="telegram", user_id="2", language_hint="en")
    )
    assert again.language == "fr"
    newcomer = await core.handle_chat(
        IncomingMessage("grok", channel="telegram", user_id="3", language_hint="en")
    )
    assert newcomer.language == "en"


async def test_a_deep_link_opens_its_topic_and_a_follow_up_continues_it(core: Core) -> None:
    reply = await core.open_deep_link("telegram", "4", "x-grok_training-fr", "en")
    assert reply is not None and (reply.topic_id, reply.language) == (TOPIC, "fr")
    assert (await core.store.get_user("telegram", "4")).last_topic == TOPIC
    more = await core.handle(IncomingMessage("sources", channel="telegram", user_id="4"))
    assert (more.topic_id, more.part) == (TOPIC, "sources")
    assert await core.open_deep_link("telegram", "5", "x-no_such_topic", "en") is None
    assert await core.store.get_user("telegram", "5") is None


async def test_a_button_choice_shows_the_part_and_keeps_the_chosen_language(core: Core) -> None:
    await core.set_language("telegram", "6", "fr")
    reply = await core.choose("telegram", "6", TOPIC, "fr", part="sources", surface="android")
    assert reply is not None and (reply.topic_id, reply.part, reply.language) == (
        TOPIC,
        "sources",
        "fr",
    )
    state = await core.store.get_user("telegram", "6")
    assert state is not None
    assert (state.last_topic, state.language, state.language_chosen) == (TOPIC, "fr", True)
    shown = await core.choose("telegram", "6", TOPIC, "fr", surface="android")
    assert shown is not None and (shown.part, shown.surface) == ("short", "android")
    assert await core.choose("telegram", "6", "x.gone", "fr") is None


def test_a_menu_offers_every_topic_but_the_bots_own_pages(core: Core) -> None:
    menu = core.menu("fr")
    assert [c.value for c in menu] == [t.id for t in KB.topics.values() if t.platform != "bot"]
    assert menu[0].label == KB.topics[menu[0].value].lang("fr").title
    assert "bot.help" not in {c.value for c in menu}
    help_page = core.page("bot.help", "fr")
    assert help_page is not None and (help_page.topic_id, help_page.language) == ("bot.help", "fr")
    assert core.page("bot.nothing_here", "fr") is None

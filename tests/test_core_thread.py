"""The core decides in public threads (:meth:`bot.core.Core.converse`): the topic a reply
under the bot's answer continues, and when to post nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Core
from bot.kb.loader import load_knowledge
from bot.messages import IncomingMessage, ThreadPost
from bot.store.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
GROK = "how do I stop Grok training on my posts?"
OUR_ANSWER = ThreadPost("Open Settings > Privacy > Grok and turn it off.", "bot")


@pytest.fixture(scope="module")
def kb():  # type: ignore[no-untyped-def]
    return load_knowledge(REPO / "knowledge")


@pytest.fixture
def core(kb) -> Core:  # type: ignore[no-untyped-def]
    return Core(kb, MemoryStore())


def bsky(text: str, **fields: object) -> IncomingMessage:
    return IncomingMessage(text=text, channel="bluesky", user_id="did:plc:alice", **fields)  # type: ignore[arg-type]


async def test_a_reply_under_our_answer_continues_the_question_above_it(core: Core) -> None:
    thread = (OUR_ANSWER, ThreadPost(GROK, "person", "en"))
    reply = await core.converse(bsky("and on android?", replied_to=True, thread=thread))
    assert (reply.kind, reply.topic_id, reply.surface) == ("answer", "x.grok_training", "android")
    assert not reply.silent
    state = await core.store.get_user("bluesky", "did:plc:alice")
    assert state is not None and state.last_topic == "x.grok_training"  # the follow-up state


async def test_the_thread_wins_over_what_the_person_asked_elsewhere(core: Core) -> None:
    await core.converse(bsky("how do I delete my location history on google?"))
    thread = (OUR_ANSWER, ThreadPost(GROK, "person", "en"))
    reply = await core.converse(bsky("and on android?", replied_to=True, thread=thread))
    assert reply.topic_id == "x.grok_training"


async def test_the_bot_s_own_posts_are_not_read_as_questions(core: Core) -> None:
    thread = (ThreadPost(GROK, "bot", "en"),)
    reply = await core.converse(bsky("and on android?", replied_to=True, thread=thread))
    assert reply.topic_id != "x.grok_training"


async def test_thanks_get_no_post(core: Core) -> None:
    assert (await core.converse(bsky("thanks!", mentioned=True))).silent


async def test_what_the_bot_cannot_place_under_its_own_answer_gets_no_post(core: Core) -> None:
    reply = await core.converse(bsky("blorp zzz", replied_to=True, thread=(OUR_ANSWER,)))
    assert reply.kind == "fallback" and reply.silent


@pytest.mark.parametrize("tag", ["mentioned", "quoted"])
async def test_when_tagged_the_bot_says_what_it_can_help_with(core: Core, tag: str) -> None:
    reply = await core.converse(bsky("blorp zzz", replied_to=True, **{tag: True}))
    assert reply.kind == "fallback" and not reply.silent and reply.items


async def test_a_question_outside_our_threads_gets_the_fallback(core: Core) -> None:
    reply = await core.converse(bsky("blorp zzz"))
    assert reply.kind == "fallback" and not reply.silent

"""Answers made for chat on the REAL local Bluesky stack: one post, link card, caps.

The real ``python -m bot run bluesky`` answers real accounts on the local PDS and
AppView (``@atproto/dev-env``); what the bot wrote is read back as a person sees
it, through ``getPostThread``. The stack is the one already running
(``BSKY_STACK_DIR``, default ports, as ``scripts/test`` starts it); a stack this
module started itself is stopped at the end, a reused one never.

Each behaviour of the issue "short first, details on request" has its test: one
post with the direct link as a facet and a card, one short post for an
off-topic mention, none for "thanks", the per-thread and per-person-per-hour
caps with a clear last post, and the per-person rate limit of the core.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bluesky_fixtures import MAIN_STACK, BotProcess, bot_env, running_stack, settle, stack_marks
from helpers.kb import write_kb
from helpers.processes import run_cli
from helpers.waits import wait_until

from bot.render.bluesky import grapheme_len
from bot.texts import text as phrase

pytestmark = stack_marks(timeout=300)

PW = "chat-pass-123"
REPLY_TIMEOUT = 30.0
THREAD_CAP = 3
HOUR_CAP = 4

@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    with running_stack(MAIN_STACK) as stack_module:
        yield stack_module


def _start_bot(stack: Any, tmp: Path, **extra: str) -> tuple[Any, BotProcess]:
    sfx = secrets.token_hex(3)
    bot = stack.create_account(f"cb{sfx}.test", PW)
    kb = write_kb(tmp / "kb")
    env = bot_env(
        pds_url=stack.current().pds_url,
        handle=bot.handle,
        password=PW,
        db=tmp / "bot.sqlite3",
        extra=extra,
    )
    setup = run_cli("--kb", str(kb), "bluesky", "setup-profile", env=env)
    assert setup.returncode == 0, setup.stderr
    return bot, BotProcess(env, tmp / "bot.log", kb).start()


@pytest.fixture(scope="module")
def world(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One bot with small caps, and people to talk to it."""
    tmp = tmp_path_factory.mktemp("bsky-chat")
    bot, proc = _start_bot(
        stack,
        tmp,
        BLUESKY_MAX_POSTS_PER_THREAD=str(THREAD_CAP),
        BLUESKY_MAX_POSTS_PER_PERSON_HOUR=str(HOUR_CAP),
        PRIVACYBOT_USER_RATE="off",
    )
    sfx = secrets.token_hex(3)
    people = {
        name: stack.create_account(f"{name}{sfx}.test", PW)
        for name in ("alice", "bob", "carol", "dave", "erin", "frank")
    }
    yield {"stack": stack, "bot": bot, "proc": proc, **people}
    proc.stop()


def _bot_posts(client: Any, uri: str, did: str) -> list[Any]:
    """Every post of ``did`` anywhere below ``uri``, in thread order (depth first)."""
    thread = client.get_post_thread(uri, depth=20).thread
    found: list[Any] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "replies", None) or []:
            if getattr(child, "post", None) is None:
                continue
            if child.post.author.did == did:
                found.append(child.post)
            walk(child)

    walk(thread)
    return found


def _wait_posts(world: dict[str, Any], uri: str, count: int, client: Any = None) -> list[Any]:
    client = client or world["alice"].client

    def enough() -> list[Any] | None:
        posts = _bot_posts(client, uri, world["bot"].did)
        return posts if len(posts) >= count else None

    return wait_until(
        enough, timeout=REPLY_TIMEOUT, what=f"{count} post(s) of the bot under {uri}", step=0.2
    )


def _facets(record: Any) -> list[tuple[str, str]]:
    data = record.text.encode()
    return [
        (data[f.index.byte_start : f.index.byte_end].decode(), feature.uri)
        for f in record.facets or []
        for feature in f.features
        if getattr(feature, "uri", None)
    ]


def test_an_answer_is_one_post_with_the_link_as_facet_and_a_card(world: dict[str, Any]) -> None:
    stack, alice = world["stack"], world["alice"]
    mention = stack.post_mention(alice.client, world["bot"], " how do I stop Grok training?")
    (post,) = _wait_posts(world, mention.uri, 1)
    settle(stack, world["bot"])
    assert len(_bot_posts(alice.client, mention.uri, world["bot"].did)) == 1  # one post only
    record = post.record
    assert grapheme_len(record.text) <= 300
    url = "https://x.com/settings/grok_settings"
    assert ("x.com/settings/grok_settings", url) in _facets(record)
    assert record.embed is not None and record.embed.external.uri == url
    assert record.embed.external.title == "Stop Grok training on your posts"
    assert post.embed is not None  # the AppView shows it as a card
    world["answer"] = post


def test_thanks_under_an_answer_gets_no_post(world: dict[str, Any]) -> None:
    stack, alice = world["stack"], world["alice"]
    answer = world.get("answer")
    if answer is None:
        mention = stack.post_mention(alice.client, world["bot"], " stop grok training")
        (answer,) = _wait_posts(world, mention.uri, 1)
    thanks = alice.client.send_post("thanks!", reply_to=stack.reply_refs(answer))
    settle(stack, world["bot"])
    assert _bot_posts(alice.client, thanks.uri, world["bot"].did) == []


def test_details_come_when_the_person_replies_asking(world: dict[str, Any]) -> None:
    stack, erin, bot = world["stack"], world["erin"], world["bot"]
    mention = stack.post_mention(erin.client, bot, " how do I stop grok training")
    (answer,) = _wait_posts(world, mention.uri, 1, erin.client)
    ask = erin.client.send_post("sources?", reply_to=stack.reply_refs(answer))
    (sources,) = _wait_posts(world, ask.uri, 1, erin.client)
    assert sources.record.text.startswith("Sources:")
    assert ("help.x.com/en/using-x/about-grok", "https://help.x.com/en/using-x/about-grok") in (
        _facets(sources.record)
    )
    assert "1 October 2026" in sources.record.text  # dated, in the reply's language
    assert sources.record.text != answer.record.text  # not the first post again


def test_a_number_under_which_one_picks_that_choice(world: dict[str, Any]) -> None:
    # frank: the other tests' people have caps of their own to reach.
    stack, frank, bot = world["stack"], world["frank"], world["bot"]
    mention = stack.post_mention(frank.client, bot, " grok")  # a platform, no need: which one?
    (question,) = _wait_posts(world, mention.uri, 1, frank.client)
    choices = dict(re.findall(r"^(\d)\. (.+)$", question.record.text, re.M))
    assert choices.get("2") == "Turn off personalisation and data sharing", question.record.text
    pick = frank.client.send_post("2", reply_to=stack.reply_refs(question))
    (answer,) = _wait_posts(world, pick.uri, 1, frank.client)
    # The second choice's answer (its settings link and card), not the first's, nor the list.
    card = answer.record.embed.external if answer.record.embed else None
    assert card is not None and card.title == "Turn off personalisation and data sharing"
    assert "personalisation and data sharing box" in answer.record.text


def test_an_off_topic_or_emoji_only_mention_gets_one_short_post_at_most(
    world: dict[str, Any],
) -> None:
    stack, bob = world["stack"], world["bob"]
    off = stack.post_mention(bob.client, world["bot"], " what's the weather like tomorrow?")
    emoji = stack.post_mention(bob.client, world["bot"], " 🙂🙂🎉")
    (said,) = _wait_posts(world, off.uri, 1, bob.client)
    assert grapheme_len(said.record.text) < 200
    assert "•" not in said.record.text  # no list of every topic
    settle(stack, world["bot"])
    assert len(_bot_posts(bob.client, off.uri, world["bot"].did)) == 1
    assert len(_bot_posts(bob.client, emoji.uri, world["bot"].did)) <= 1


def test_a_thread_gets_at_most_the_cap_and_a_clear_last_post(world: dict[str, Any]) -> None:
    stack, carol, bot = world["stack"], world["carol"], world["bot"]
    mention = stack.post_mention(carol.client, bot, " how do I stop grok training")
    (last,) = _wait_posts(world, mention.uri, 1, carol.client)
    for _ in range(THREAD_CAP - 1):  # follow-ups under the bot's latest post
        follow = carol.client.send_post("and on Android?", reply_to=stack.reply_refs(last))
        last = _wait_posts(world, follow.uri, 1, carol.client)[-1]
    assert last.record.text == phrase("en", "bsky.cap.thread")  # says it stops here
    after = carol.client.send_post("and on the web?", reply_to=stack.reply_refs(last))
    settle(stack, bot)
    assert _bot_posts(carol.client, after.uri, bot.did) == []  # and it does
    assert len(_bot_posts(carol.client, mention.uri, bot.did)) == THREAD_CAP


def test_a_person_gets_at_most_the_hourly_cap_and_a_clear_last_post(
    world: dict[str, Any],
) -> None:
    stack, dave, bot = world["stack"], world["dave"], world["bot"]
    mentions = []
    for n in range(HOUR_CAP + 2):
        mentions.append(stack.post_mention(dave.client, bot, f" how do I stop grok training {n}"))
    _wait_posts(world, mentions[HOUR_CAP - 1].uri, 1, dave.client)
    settle(stack, bot)
    counts = [len(_bot_posts(dave.client, m.uri, bot.did)) for m in mentions]
    assert counts == [1] * HOUR_CAP + [0, 0]  # oldest first
    (notice,) = _bot_posts(dave.client, mentions[HOUR_CAP - 1].uri, bot.did)
    assert notice.record.text == phrase("en", "bsky.cap.hour")


def test_the_per_person_rate_limit_applies_on_bluesky(stack: Any, tmp_path: Path) -> None:
    bot, proc = _start_bot(stack, tmp_path, PRIVACYBOT_USER_RATE="2/300")
    try:
        sfx = secrets.token_hex(3)
        eve = stack.create_account(f"eve{sfx}.test", PW)
        mentions = [
            stack.post_mention(eve.client, bot, f" how do I stop grok training {n}")
            for n in range(5)
        ]
        wait_until(
            lambda: sum(bool(_bot_posts(eve.client, m.uri, bot.did)) for m in mentions) >= 3,
            timeout=REPLY_TIMEOUT,
            what="two answers and the slow-down post",
            step=0.2,
        )
        settle(stack, bot)
        posts = [_bot_posts(eve.client, m.uri, bot.did) for m in mentions]
        assert sorted(map(len, posts)) == [0, 0, 1, 1, 1]  # 2 answers, 1 "slow down", silence
        texts = [p.record.text for found in posts for p in found]
        assert texts.count(phrase("en", "rate.slow_down")) == 1
    finally:
        proc.stop()

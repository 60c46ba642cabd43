"""Bluesky faults from issue 12, with the real SDK against the fake XRPC server.

* the saved 5-minute request count is not doubled by in-process restarts;
* network failures are not password logins (a PDS down at first start does
  not lock the bot out "for too many logins");
* no reply in a thread whose root is a ``blockedPost`` (its author blocks us);
* a reply thread cut after its first post is completed later, after a restart too;
* a quote of the bot that does not tag it is not answered;
* post URIs (they hold DIDs) are not logged at INFO.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bluesky_fixtures import Running, fake_channel
from fakes.xrpc import FakeXrpc
from helpers.waits import wait_for

from bot.adapters.bluesky import UNFINISHED_KEY, RetryLater
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(60)
SHORT = "how do I stop Grok training?"  # two posts with BLUESKY_MAX_POSTS=4
LONG = "why?"  # the facts and caveats of the answer above: several posts


@pytest.fixture
async def fake() -> AsyncIterator[FakeXrpc]:
    server = await FakeXrpc().start()
    yield server
    await server.stop()


@pytest.fixture
def core(kb_dir: Path) -> Core:
    return Core(load_knowledge(kb_dir), MemoryStore())


async def test_in_process_restarts_do_not_double_the_request_count(
    core: Core, fake: FakeXrpc
) -> None:
    channel = fake_channel(core, fake)  # the runner restarts the same object
    for round_ in range(4):
        uri = fake.add_mention(SHORT, author=f"user{round_}")
        async with Running(channel):
            await wait_for(lambda u=uri: len(fake.replies_to(u)) == 1)
        # Every request of the process is within the window: no more, no less.
        assert channel.requests.last_window() == channel.requests.total == len(fake.calls)


async def test_server_failures_are_not_password_logins(core: Core, fake: FakeXrpc) -> None:
    channel = fake_channel(core, fake)
    channel.gate.backoff_max = 0.0  # no hold between tries: each one reaches the server
    fake.faults["com.atproto.server.createSession"] = [("500",)] * 6  # the PDS fails at start
    for _ in range(6):
        with pytest.raises(RetryLater):
            await channel.login()
    await channel.login()  # before: "too many Bluesky password logins in 5 minutes"
    assert channel.did == fake.did
    assert fake.count("com.atproto.server.createSession") == 7
    await channel.close()


async def test_no_reply_in_a_thread_whose_root_author_blocks_the_bot(
    core: Core, fake: FakeXrpc
) -> None:
    root = fake.add_post("my thread; I blocked that bot", author="carol")
    fake.blocked.add(root)
    inside = fake.add_mention(SHORT, author="alice", in_thread=root)
    elsewhere = fake.add_mention(SHORT, author="dave")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(elsewhere)) == 1)
        await wait_for(lambda: core.store._counters.get("bluesky.skipped_blocked") == 1)
    assert fake.replies_to(inside) == []
    assert await core.store.is_seen("post", inside)  # handled: not tried again


async def test_a_reply_in_an_open_thread_is_answered(core: Core, fake: FakeXrpc) -> None:
    root = fake.add_post("a thread anyone may join", author="carol")
    inside = fake.add_mention(SHORT, author="alice", in_thread=root)
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(inside)) == 1)
    assert fake.replies_to(inside)[0]["record"]["reply"]["root"]["uri"] == root


async def test_a_quote_that_does_not_tag_the_bot_is_not_answered(
    core: Core, fake: FakeXrpc
) -> None:
    untagged = fake.add_mention(SHORT, author="alice", reason="quote", mention_bot=False)
    tagged = fake.add_mention(SHORT, author="bob", reason="quote")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(tagged)) == 1)  # same page: both were read
    assert fake.replies_to(untagged) == []


def thread_under(fake: FakeXrpc, uri: str) -> list[dict]:
    """The bot's posts chained under ``uri``, in order."""
    chain, parent = [], uri
    while True:
        children = fake.replies_to(parent)
        if not children:
            return chain
        chain.append(children[0])
        parent = children[0]["uri"]


async def test_a_thread_cut_after_its_first_post_is_completed_after_a_restart(
    fake: FakeXrpc, caplog: pytest.LogCaptureFixture
) -> None:
    # The shipped knowledge base: its "why" parts (facts and caveats) take several posts.
    core = Core(load_knowledge(default_dir()), MemoryStore())
    # Answers are one post; the details asked for under one ("why?") take several.
    asked = fake.add_mention("how do I stop grok training on my posts", author="alice")
    async with Running(fake_channel(core, fake, BLUESKY_MAX_POSTS="4")):
        await wait_for(lambda: len(fake.replies_to(asked)) == 1)
    answer = fake.replies_to(asked)[0]["uri"]
    uri = fake.add_mention(LONG, author="alice", in_thread=answer)
    # The first post goes out; then the PDS fails every post for a while.
    fake.faults["com.atproto.repo.createRecord"] = [(), *[("500",)] * 4]
    first = fake_channel(core, fake, BLUESKY_MAX_POSTS="4")
    with caplog.at_level(logging.INFO):
        async with Running(first):
            await wait_for(lambda: len(fake.replies_to(uri)) == 1)
            await wait_for(lambda: not fake.faults["com.atproto.repo.createRecord"])
    assert len(thread_under(fake, uri)) == 1  # cut: one post of four
    assert await core.store.get_value(UNFINISHED_KEY)  # the rest is kept

    second = fake_channel(core, fake, BLUESKY_MAX_POSTS="4")  # a new process
    with caplog.at_level(logging.INFO):
        async with Running(second):
            await wait_for(lambda: len(thread_under(fake, uri)) == 4)
            await wait_for(lambda: not second.outbox.unfinished)
    chain = thread_under(fake, uri)
    # Every post of the completed thread keeps the thread's root (here the answer above).
    assert [p["record"]["reply"]["root"]["uri"] for p in chain] == [answer] * 4
    assert len(fake.replies_to(uri)) == 1  # completed, not answered again
    assert await core.store.get_value(UNFINISHED_KEY) is None
    # Post URIs (they name the asker's DID) stay out of the INFO logs.
    asker = uri.removeprefix("at://").split("/")[0]
    assert asker not in caplog.text and uri not in caplog.text
    assert re.search(r"answered post-[0-9a-f]{12} \(4 post\(s\)\)", caplog.text)

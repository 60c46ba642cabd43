"""Faults the real local stack cannot produce on demand (its rate limits are off):
429 with ``ratelimit-reset``, 500s, timeouts, revoked sessions, a spent write
budget. The real SDK and the real channel talk HTTP to a faithful fake XRPC
server on 127.0.0.1 (``tests/bluesky_fixtures.FakeXrpc``); nothing is mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bluesky_fixtures import Running, fake_channel
from fakes.xrpc import FakeXrpc
from helpers.waits import wait_for

from bot.adapters.bluesky import (
    SESSION_KEY,
    WATERMARK_KEY,
    BlueskySettings,
    create_channel,
    is_configured,
    question_text,
)
from bot.core import Core
from bot.errors import ConfigError
from bot.kb.loader import load_knowledge
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def fake() -> AsyncIterator[FakeXrpc]:
    server = await FakeXrpc().start()
    yield server
    await server.stop()


@pytest.fixture
def core(kb_dir: Path) -> Core:
    return Core(load_knowledge(kb_dir), MemoryStore())


# ----------------------------------------------------------------------------- settings


def test_settings_name_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="BLUESKY_APP_PASSWORD is not set"):
        BlueskySettings.from_env({"BLUESKY_HANDLE": "bot.bsky.social"})
    with pytest.raises(ConfigError, match="BLUESKY_HANDLE is not set"):
        BlueskySettings.from_env({"BLUESKY_APP_PASSWORD": "x"})
    with pytest.raises(ConfigError, match="BLUESKY_POLL_INTERVAL"):
        BlueskySettings.from_env(
            {"BLUESKY_HANDLE": "a", "BLUESKY_APP_PASSWORD": "b", "BLUESKY_POLL_INTERVAL": "soon"}
        )


def test_settings_defaults_and_secret_repr() -> None:
    settings = BlueskySettings.from_env(
        {"BLUESKY_HANDLE": "@privacybot.bsky.social", "BLUESKY_APP_PASSWORD": "abcd-efgh"}
    )
    assert settings.handle == "privacybot.bsky.social"
    assert settings.service_url == "https://bsky.social"
    assert settings.poll_interval == 5.0
    assert "abcd" not in repr(settings) and settings.app_password.get_secret_value() == "abcd-efgh"
    assert is_configured({"BLUESKY_HANDLE": "x"}) and not is_configured({})


def test_create_channel_uses_the_core_store(core: Core) -> None:
    channel = create_channel(core, {"BLUESKY_HANDLE": "a.test", "BLUESKY_APP_PASSWORD": "p"})
    assert channel.name == "bluesky" and channel.store is core.store


def test_question_text_removes_the_bot_mention_by_bytes() -> None:
    from atproto import models

    record = models.AppBskyFeedPost.Record(
        text="é @privacybot.test comment empêcher grok ?",
        created_at="2026-11-26T00:00:00Z",
        facets=[
            models.AppBskyRichtextFacet.Main(
                features=[models.AppBskyRichtextFacet.Mention(did="did:plc:me")],
                index=models.AppBskyRichtextFacet.ByteSlice(byte_start=3, byte_end=19),
            )
        ],
    )
    assert question_text(record, "did:plc:me", "privacybot.test") == "é comment empêcher grok ?"


# ----------------------------------------------------------------------------- faults


async def test_answers_a_mention_with_langs_and_records_it(core: Core, fake: FakeXrpc) -> None:
    uri = fake.add_mention("comment empêcher grok de s'entraîner ?", langs=["fr"])
    async with Running(fake_channel(core, fake)) as channel:
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
        await fake.polled()
    reply = fake.replies_to(uri)[0]["record"]
    assert reply["langs"] == ["fr"] and reply["text"].startswith("Décochez")
    assert reply["reply"]["root"]["uri"] == uri
    assert await core.store.is_seen("post", uri)
    assert await core.store.get_value(WATERMARK_KEY)
    assert channel.stats()["answered"] == 1
    assert len(fake.replies_to(uri)) == 1


async def test_429_holds_every_request_until_ratelimit_reset(core: Core, fake: FakeXrpc) -> None:
    reset = int(time.time()) + 2
    fake.faults["com.atproto.repo.createRecord"] = [("429", reset)]
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    limited_at = next(t for t, n in fake.calls if n == "com.atproto.repo.createRecord")
    after = [t for t, _ in fake.calls if t > limited_at]
    assert after and min(after) >= reset, "a request went out before ratelimit-reset"
    assert len(fake.replies_to(uri)) == 1


async def test_remaining_zero_header_holds_before_a_429(core: Core, fake: FakeXrpc) -> None:
    channel = fake_channel(core, fake)
    reset = time.time() + 1.5
    channel.gate.observe_headers({"ratelimit-remaining": "0", "ratelimit-reset": str(reset)})
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(channel):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    assert min(t for t, _ in fake.calls) >= reset


async def test_500s_back_off_exponentially_then_recover(core: Core, fake: FakeXrpc) -> None:
    fake.faults["app.bsky.notification.listNotifications"] = [("500",)] * 4
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    polls = [t for t, n in fake.calls if n == "app.bsky.notification.listNotifications"][:5]
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps[-1] > gaps[0]  # backs off, with jitter (0.5x..1.5x) around 0.1, 0.2, 0.4, 0.8 s
    assert len(fake.replies_to(uri)) == 1


async def test_timeouts_are_retried_without_duplicates(core: Core, fake: FakeXrpc) -> None:
    fake.faults["app.bsky.feed.getPostThread"] = [("sleep", 1.5)]
    fake.faults["com.atproto.repo.createRecord"] = [("500",)]
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
        await fake.polled()
    assert len(fake.replies_to(uri)) == 1


async def test_reply_created_but_answer_lost_is_found_in_own_repo(
    core: Core, fake: FakeXrpc
) -> None:
    """createRecord succeeds but its answer is lost (500 after the write); the
    AppView has not indexed the reply: the bot finds it in its repository."""
    fake.appview_behind = True
    fake.faults["com.atproto.repo.createRecord"] = [("500-after",)]
    uri = fake.add_mention("how do I stop Grok training?")
    later = fake.add_mention("turn off personalisation and data sharing")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(later)) == 1)
        await wait_for(lambda: fake.count("com.atproto.repo.listRecords") >= 2)
        await fake.polled()
    assert len(fake.replies_to(uri)) == 1
    assert len(fake.replies_to(later)) == 1
    assert await core.store.is_seen("post", uri)
    # One read at start-up, one after the lost answer; none per ordinary reply.
    assert fake.count("com.atproto.repo.listRecords") == 2


async def test_restart_finds_unrecorded_reply_in_own_repo(core: Core, fake: FakeXrpc) -> None:
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    # A crash lost the record of the answer; the AppView has not indexed the reply.
    fresh = Core(core.kb, MemoryStore())
    await fresh.store.set_value(WATERMARK_KEY, await core.store.get_value(WATERMARK_KEY))
    fake.appview_behind = True
    second = fake.add_mention("turn off personalisation and data sharing")
    async with Running(fake_channel(fresh, fake)):
        await wait_for(lambda: len(fake.replies_to(second)) == 1)
        await fake.polled()
    assert len(fake.replies_to(uri)) == 1
    assert await fresh.store.is_seen("post", uri)


async def test_request_count_survives_a_restart(core: Core, fake: FakeXrpc) -> None:
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)) as first:
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    made = first.requests.last_window()
    assert made >= 4  # login, profile, own posts, notifications, thread, post...
    second = fake_channel(core, fake)
    async with Running(second):
        await wait_for(lambda: second.requests.total >= 1)
    assert second.requests.last_window() >= made + second.requests.total


async def test_expired_stored_session_logs_in_once(core: Core, fake: FakeXrpc) -> None:
    # A session string from an earlier run whose tokens the server revoked.
    first = fake_channel(core, fake)
    await first.login()
    await first.close()
    stale = await core.store.get_value(SESSION_KEY)
    assert stale and json.loads(stale)["handle"] == fake.handle
    fake.revoke_all()
    assert fake.count("com.atproto.server.createSession") == 1

    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)) as channel:
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
        assert fake.count("com.atproto.server.createSession") == 2
        # The session dies mid-run: one new password login, then carry on.
        fake.revoke_all()
        second = fake.add_mention("turn off personalisation and data sharing")
        await wait_for(lambda: len(fake.replies_to(second)) >= 1)
    assert fake.count("com.atproto.server.createSession") == 3
    assert channel.stats()["answered"] == 2
    assert await core.store.get_value(SESSION_KEY) != stale


async def test_restored_session_is_reused_without_create_session(
    core: Core, fake: FakeXrpc
) -> None:
    first = fake_channel(core, fake)
    await first.login()
    await first.close()
    second = fake_channel(core, fake)
    await second.login()
    await second.close()
    assert fake.count("com.atproto.server.createSession") == 1


async def test_wrong_password_is_a_config_error(core: Core, fake: FakeXrpc) -> None:
    channel = fake_channel(core, fake, BLUESKY_APP_PASSWORD="wrong-pass")
    with pytest.raises(ConfigError, match="BLUESKY_APP_PASSWORD"):
        await channel.run(asyncio.Event())
    assert fake.count("com.atproto.server.createSession") == 1


async def test_spent_write_budget_keeps_the_queue_oldest_first(core: Core, fake: FakeXrpc) -> None:
    offset = [0.0]
    uris = [fake.add_mention(f"how do I stop Grok training? {i}") for i in range(5)]
    settings_env = {"BLUESKY_WRITES_PER_HOUR": "9", "BLUESKY_MAX_POSTS": "1"}  # 3 answers
    channel = fake_channel(core, fake, **settings_env)
    channel.budget._clock = lambda: time.time() + offset[0]
    async with Running(channel):
        await wait_for(lambda: len(fake.created) == 3)
        await fake.polled()
        assert len(fake.created) == 3
        assert channel.stats()["queued"] == 2
        offset[0] = 3660.0  # an hour later
        await wait_for(lambda: len(fake.created) == 5)
    answered_order = [r["record"]["reply"]["parent"]["uri"] for _, r in fake.created]
    assert answered_order == uris  # oldest first (uris were created oldest first)
    for uri in uris:
        assert len(fake.replies_to(uri)) == 1


async def test_bot_labelled_author_and_self_are_ignored(core: Core, fake: FakeXrpc) -> None:
    robot = fake.add_mention("how do I stop Grok training?", author="robot", label_bot=True)
    human = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(human)) == 1)
        await fake.polled()
    assert fake.replies_to(robot) == []


async def test_restart_does_not_answer_twice(core: Core, fake: FakeXrpc) -> None:
    uri = fake.add_mention("how do I stop Grok training?")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(uri)) == 1)
    later = fake.add_mention("turn off personalisation and data sharing")
    async with Running(fake_channel(core, fake)):
        await wait_for(lambda: len(fake.replies_to(later)) >= 1)
        await fake.polled()
    assert len(fake.replies_to(uri)) == 1

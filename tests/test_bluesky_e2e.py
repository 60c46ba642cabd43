"""End to end on a REAL local atproto stack (PLC + PDS + AppView, ``@atproto/dev-env``).

People post mentions with proper mention facets from real accounts; the real
``python -m bot run bluesky`` runs as a subprocess against the local PDS with a
SQLite store in a temporary directory; the replies are checked as a user sees
them, through ``getPostThread``. Skipped when Node/npm is missing.
"""

from __future__ import annotations

import re
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bluesky_fixtures import BotProcess, bot_env, replies_by, running_stack, settle, stack_marks
from helpers.kb import write_kb
from helpers.processes import run_cli
from helpers.waits import wait_until

pytestmark = stack_marks(timeout=240)

PW = "e2e-pass-123"
REPLY_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    with running_stack() as stack_module:
        yield stack_module


@pytest.fixture(scope="module")
def world(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Accounts, the knowledge base and one running bot for the module."""
    sfx = secrets.token_hex(3)
    tmp = tmp_path_factory.mktemp("bsky")
    info = stack.current()
    bot = stack.create_account(f"pb{sfx}.test", PW)
    alice = stack.create_account(f"alice{sfx}.test", PW)
    bob = stack.create_account(f"bob{sfx}.test", PW)
    other_bot = stack.create_account(f"ob{sfx}.test", PW)
    stack.set_profile(other_bot.client, display_name="Other bot", bot=True)
    kb = write_kb(tmp / "kb")
    db = tmp / "bot.sqlite3"
    env = bot_env(pds_url=info.pds_url, handle=bot.handle, password=PW, db=db)
    # The profile first (as an operator would), then the bot reuses that session.
    setup = run_cli("--kb", str(kb), "bluesky", "setup-profile", env=env)
    assert setup.returncode == 0, setup.stderr
    stack.process_all()
    proc = BotProcess(env, tmp / "bot.log", kb).start()
    world = dict(
        stack=stack, info=info, bot=bot, alice=alice, bob=bob, other_bot=other_bot, proc=proc
    )
    yield world
    proc.stop()


def _reply(world: dict[str, Any], post_uri: str, *, client: Any = None) -> Any:
    client = client or world["alice"].client
    found = wait_until(
        lambda: replies_by(client, post_uri, world["bot"].did),
        timeout=REPLY_TIMEOUT,
        what=f"the bot's reply under {post_uri}",
        step=0.2,
    )
    assert len(found) == 1, f"expected one reply, got {len(found)}"
    return found[0].post


def _facet_texts(record: Any) -> list[tuple[str, str]]:
    data = record.text.encode()
    out = []
    for facet in record.facets or []:
        for feature in facet.features:
            if getattr(feature, "uri", None):
                out.append(
                    (data[facet.index.byte_start : facet.index.byte_end].decode(), feature.uri)
                )
    return out


def _graphemes(text: str) -> int:
    from bot.render.bluesky import grapheme_len

    return grapheme_len(text)


def test_setup_profile_labels_the_bot_and_the_bot_reuses_its_session(
    world: dict[str, Any],
) -> None:
    profile = world["alice"].client.get_profile(world["bot"].did)
    assert any(label.val == "bot" for label in profile.labels or [])
    assert "store" in (profile.description or "")

    def logged_in() -> str | None:
        # Either way of starting a session ends in one of these two lines; any other
        # "bluesky: ..." line (a network error...) says nothing about the session.
        text = world["proc"].log()
        outcomes = ("restored the stored session", "logged in with the app password")
        return text if any(line in text for line in outcomes) else None

    log = wait_until(logged_in, timeout=20, what="the bot's session (restored or new)")
    assert "restored the stored session" in log
    assert "logged in with the app password" not in log


def test_english_mention_gets_a_threaded_reply_with_a_link(world: dict[str, Any]) -> None:
    stack, bot = world["stack"], world["bot"]
    mention = stack.post_mention(
        world["alice"].client, bot, " how do I stop Grok training?", langs=["en"]
    )
    reply = _reply(world, mention.uri)
    record = reply.record
    assert record.reply.parent.uri == mention.uri
    assert record.reply.root.uri == mention.uri
    assert record.langs == ["en"]
    assert record.text.startswith("Untick")
    assert _graphemes(record.text) <= 300
    assert ("x.com/settings/grok_settings", "https://x.com/settings/grok_settings") in _facet_texts(
        record
    )
    assert record.embed.external.uri == "https://x.com/settings/grok_settings"  # a link card
    world["first_answer"] = reply


def test_french_mention_is_answered_in_french(world: dict[str, Any]) -> None:
    mention = world["stack"].post_mention(
        world["bob"].client,
        world["bot"],
        " comment empêcher grok de s'entraîner sur mes posts ?",
        langs=["fr"],
    )
    reply = _reply(world, mention.uri, client=world["bob"].client)
    assert reply.record.langs == ["fr"]
    assert reply.record.text.startswith("Décochez")
    assert "Lien direct\u202f: x.com/settings/grok_settings" in reply.record.text


def test_nested_reply_keeps_the_thread_root(world: dict[str, Any]) -> None:
    stack = world["stack"]
    top = world["alice"].client.send_post("Anyone know how to keep my posts out of AI training?")
    top_view = stack.wait_for_post_indexed(world["alice"].client, top.uri)
    nested = stack.post_mention(
        world["bob"].client,
        world["bot"],
        " how do I stop Grok training?",
        langs=["en"],
        reply_to=stack.reply_refs(top_view),
    )
    reply = _reply(world, nested.uri)
    assert reply.record.reply.parent.uri == nested.uri
    assert reply.record.reply.root.uri == top.uri


def test_long_steps_asked_for_are_a_thread_within_the_grapheme_limit(
    world: dict[str, Any],
) -> None:
    mention = world["stack"].post_mention(
        world["alice"].client, world["bot"], " turn off personalisation and data sharing on the web"
    )
    first = _reply(world, mention.uri)
    assert first.record.reply.root.uri == mention.uri

    def chain() -> list[Any] | None:
        thread = world["alice"].client.get_post_thread(mention.uri, depth=10).thread
        posts, node = [], thread
        while node.replies:
            mine = [r for r in node.replies if r.post.author.did == world["bot"].did]
            if not mine:
                break
            node = mine[0]
            posts.append(node.post)
        return posts if len(posts) >= 4 else None

    posts = wait_until(chain, timeout=REPLY_TIMEOUT, what="the whole reply thread", step=0.3)
    assert len(posts) == 4  # BLUESKY_MAX_POSTS default
    url = "https://x.com/settings/account/personalization_and_data_sharing_with_a_very_long_path"
    links = _facet_texts(posts[0].record)
    assert links and links[0][1] == url and links[0][0].endswith("…")
    previous = mention.uri
    for post in posts:
        text = post.record.text
        assert _graphemes(text) <= 300
        assert post.record.reply.root.uri == mention.uri
        assert post.record.reply.parent.uri == previous
        previous = post.uri
    assert posts[0].record.text.startswith("Direct link: ")  # the link first, then the steps
    # Without a surface: one post, whose emoji with skin tone and ZWJ survives whole.
    short = world["stack"].post_mention(
        world["alice"].client, world["bot"], " turn off personalisation and data sharing"
    )
    assert "🙅🏽‍♀️" in _reply(world, short.uri).record.text
    # No step is cut mid-word.
    for post in posts[1:]:
        assert re.match(r"^(On the web:|\d\. Step \d)", post.record.text)


def test_follow_up_in_the_thread_uses_the_conversation(world: dict[str, Any]) -> None:
    stack = world["stack"]
    first = world.get("first_answer")
    if first is None:
        mention = stack.post_mention(world["alice"].client, world["bot"], " stop grok training")
        first = _reply(world, mention.uri)
    follow = world["alice"].client.send_post(
        "and on Android?", reply_to=stack.reply_refs(first), langs=["en"]
    )
    reply = _reply(world, follow.uri)
    assert "In the Android app" in reply.record.text
    assert "Tap your avatar" in reply.record.text
    assert reply.record.reply.parent.uri == follow.uri
    assert reply.record.reply.root.uri == first.record.reply.root.uri


def test_a_follow_up_continues_its_thread_not_the_last_question(world: dict[str, Any]) -> None:
    """The thread's question wins over what the person asked elsewhere since."""
    stack = world["stack"]
    dana = stack.create_account(f"dana{secrets.token_hex(3)}.test", PW)
    grok = _reply(
        world,
        stack.post_mention(dana.client, world["bot"], " stop grok training").uri,
        client=dana.client,
    )
    elsewhere = stack.post_mention(
        dana.client, world["bot"], " turn off personalisation and data sharing"
    )
    _reply(world, elsewhere.uri, client=dana.client)  # now the person's last topic
    follow = dana.client.send_post("and on Android?", reply_to=stack.reply_refs(grok), langs=["en"])
    reply = _reply(world, follow.uri, client=dana.client)
    assert "Tap your avatar" in reply.record.text  # Grok's Android steps


def test_ignores_itself_and_bot_labelled_accounts(world: dict[str, Any]) -> None:
    stack, bot = world["stack"], world["bot"]
    own = stack.login(bot.handle, PW)
    from_self = stack.post_mention(own, bot, " how do I stop Grok training?")
    from_bot = stack.post_mention(world["other_bot"].client, bot, " how do I stop Grok training?")
    sentinel = stack.post_mention(world["alice"].client, bot, " how do I stop Grok training?")
    _reply(world, sentinel.uri)  # posted after both, answered: the bot has decided on them
    stack.process_all()  # and the AppView shows whatever it wrote
    assert replies_by(world["alice"].client, from_self.uri, bot.did) == []
    assert replies_by(world["alice"].client, from_bot.uri, bot.did) == []


def test_restart_mid_batch_loses_nothing_and_duplicates_nothing(stack: Any, tmp_path: Path) -> None:
    sfx = secrets.token_hex(3)
    info = stack.current()
    bot = stack.create_account(f"rb{sfx}.test", PW)
    users = [stack.create_account(f"u{i}{sfx}.test", PW) for i in range(3)]
    kb = write_kb(tmp_path / "kb")
    env = bot_env(pds_url=info.pds_url, handle=bot.handle, password=PW, db=tmp_path / "db.sqlite3")

    # A crash after posting and before recording: the reply exists, the store does not know.
    early = stack.post_mention(users[0].client, bot, " how do I stop Grok training?")
    notif = stack.wait_for_notification(bot.client, uri=early.uri)
    stack.reply_to(bot.client, notif, "Untick the Grok box (posted before a crash).")

    mentions = [early]
    for i in range(14):
        mentions.append(
            stack.post_mention(users[i % 3].client, bot, f" how do I stop Grok training? #{i}")
        )
    proc = BotProcess(env, tmp_path / "bot.log", kb).start()
    try:
        wait_until(
            lambda: proc.log().count("bluesky: answered") >= 4,
            timeout=REPLY_TIMEOUT,
            what="a few answers",
            step=0.02,
        )
        proc.stop(signal.SIGKILL)  # crash mid-batch
        proc.start()

        def all_answered() -> bool:
            return all(replies_by(users[0].client, m.uri, bot.did) for m in mentions)

        wait_until(all_answered, timeout=60, what="every mention answered", step=0.5)
        # Replies go out oldest first: once a question asked after all of these is
        # answered, a duplicate of any of them would already be there.
        settle(stack, bot)
        for m in mentions:
            assert len(replies_by(users[0].client, m.uri, bot.did)) == 1, m.uri
        log = proc.log()
        assert "restored the stored session" in log
        assert log.count("logged in with the app password") == 1
        assert "already has our reply" in log
    finally:
        proc.stop()


def test_no_reply_in_a_thread_whose_root_author_blocks_the_bot(world: dict[str, Any]) -> None:
    """Issue 12: the bot replied under a root whose author blocks it (a blockedPost to it)."""
    import datetime as dt

    stack = world["stack"]
    carol = stack.create_account(f"carol{secrets.token_hex(3)}.test", PW)
    carol.client.com.atproto.repo.create_record(
        data={
            "repo": carol.client.me.did,
            "collection": "app.bsky.graph.block",
            "record": {
                "$type": "app.bsky.graph.block",
                "subject": world["bot"].did,
                "createdAt": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            },
        }
    )
    top = carol.client.send_post("My thread. I blocked that bot.")
    top_view = stack.wait_for_post_indexed(carol.client, top.uri)
    inside = stack.post_mention(
        world["alice"].client,
        world["bot"],
        " how do I stop Grok training?",
        langs=["en"],
        reply_to=stack.reply_refs(top_view),
    )
    control = stack.post_mention(
        world["alice"].client, world["bot"], " how do I stop Grok training?", langs=["en"]
    )
    stack.process_all()
    _reply(world, control.uri)  # answered after the one in carol's thread (oldest first)
    stack.process_all()
    assert replies_by(world["alice"].client, inside.uri, world["bot"].did) == []

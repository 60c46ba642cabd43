"""The shape of every answer on Telegram and Bluesky: one message, one post, short.

    python bench/chat_shape.py            # every topic in every language it is written in
    python bench/chat_shape.py --json     # one JSON object

For each topic and each language the topic is written in, one of its example
questions is asked as a new person would:

* **Telegram**: through the real python-telegram-bot application of
  :class:`bot.adapters.telegram.TelegramChannel` (no updater,
  ``Application.process_update``), whose Bot API calls go over HTTP to the fake
  server of ``tests/fakes/bot_api.py``, which parses the HTML as Telegram does.
  Measured: visible length of the first message (UTF-16 units of the parsed
  text, what Telegram counts), messages per answer, time from the update to
  the first message.
* **Bluesky**: through the real :class:`bot.adapters.bluesky.BlueskyChannel`
  against the fake XRPC server of ``tests/bluesky_fixtures.py`` (each mention
  from its own account, so no cap interferes). Measured: posts per answer,
  graphemes per post, first posts whose link facet covers a link (bytes decode
  to the shown text, URI absolute; the topic's direct URL when it has one),
  link cards, write points per answered mention (3 per post created).
* **Detail parts** (in process, same renderers): messages and posts of each
  part a person can ask for (other surfaces, why, sources, related).
* **One person's burst**: 15 mentions from one account at once, with the
  default per-person limit and hourly cap: posts and write points spent.

Targets (issue 14): one Telegram message and one Bluesky post per answer for
at least 90% of topics; every first post with a URL has it as a facet; nothing
over a channel's limit. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from typing import Any

from _paths import use_repo_and_tests

REPO = use_repo_and_tests()

from bluesky_fixtures import fake_channel  # noqa: E402
from fakes.bot_api import FakeTelegram, utf16_len  # noqa: E402
from fakes.xrpc import FakeXrpc  # noqa: E402
from telegram import Update  # noqa: E402
from telegram_fixtures import TOKEN  # noqa: E402

from bot.adapters.bluesky import BlueskySettings  # noqa: E402
from bot.adapters.bluesky.limits import CREATE_POINTS  # noqa: E402
from bot.adapters.telegram import create_channel  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.kb.loader import default_dir, load_knowledge  # noqa: E402
from bot.kb.schema import LANGUAGES  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.ratelimit import DEFAULT_USER_RATE, UserRateLimiter  # noqa: E402
from bot.render.bluesky import MAX_GRAPHEMES, grapheme_len, render_bluesky  # noqa: E402
from bot.render.telegram_html import (  # noqa: E402
    MAX_MESSAGE_LENGTH,
    SHORT_TARGET,
    render_reply,
    visible_length,
)
from bot.store.memory import MemoryStore  # noqa: E402

ONE_SHARE = 0.9


async def _cases(core: Core) -> list[tuple[str, str, str, str | None]]:
    """(topic, language, question, topic answered) for every topic and language it has."""
    cases = []
    for topic in core.kb.topics.values():
        for language in LANGUAGES:
            if not topic.has_language(language):
                continue
            examples = topic.lang(language).examples
            chosen, answered = examples[0], None
            for example in examples:
                reply = await core.handle(IncomingMessage(example, language_hint=language))
                if reply.kind == "answer" and reply.topic_id == topic.id:
                    chosen, answered = example, topic.id
                    break
            cases.append((topic.id, language, chosen, answered))
    return cases


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"max": 0, "median": 0, "min": 0}
    return {
        "max": max(values),
        "median": statistics.median(values),
        "min": min(values),
    }


async def telegram(cases: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    """Ask every case through the real PTB application; measure what the fake received."""
    kb = load_knowledge(default_dir())
    rows: list[dict[str, Any]] = []
    async with FakeTelegram(TOKEN) as tg:
        core = Core(kb, MemoryStore())
        channel = create_channel(
            core, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.url}
        )
        app = channel.build_application(with_updater=False)
        ids = itertools.count(70001)
        async with app:
            for topic_id, language, question, _ in cases:
                user_id = next(ids)
                update = {
                    "update_id": user_id,
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
                        "from": {
                            "id": user_id,
                            "is_bot": False,
                            "first_name": "Ann",
                            "language_code": language,
                        },
                        "text": question,
                    },
                }
                started = time.monotonic()
                await app.process_update(Update.de_json(update, app.bot))
                sent = [c for c in tg.calls_of("sendMessage", chat_id=user_id) if c.ok]
                messages = tg.chat(user_id)
                first = messages[0] if messages else None
                rows.append(
                    {
                        "topic": topic_id,
                        "language": language,
                        "messages": len(messages),
                        "first_visible": utf16_len(first.text) if first else 0,
                        "max_visible": max((utf16_len(m.text) for m in messages), default=0),
                        "first_ms": (sent[0].at - started) * 1000 if sent else None,
                        "buttons": len(first.buttons()) if first else 0,
                    }
                )
    firsts = [r["first_visible"] for r in rows]
    one = sum(r["messages"] == 1 for r in rows)
    return {
        "answers": len(rows),
        "first_message_visible_length": _summary(firsts),
        "first_messages_within_700": sum(n <= SHORT_TARGET for n in firsts),
        "messages_per_answer": _summary([r["messages"] for r in rows]),
        "one_message_answers": one,
        "one_message_share": one / len(rows) if rows else 0,
        "time_to_first_message_ms": _summary([r["first_ms"] for r in rows if r["first_ms"]]),
        "over_limit": sum(r["max_visible"] > MAX_MESSAGE_LENGTH for r in rows),
        "rows": rows,
    }


def _working_link(post: dict[str, Any], url: str | None) -> bool:
    """Whether a created post's link facets cover links (and the topic's URL if any)."""
    data = post["text"].encode()
    uris = []
    for facet in post.get("facets") or []:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        try:
            shown = data[start:end].decode()
        except UnicodeDecodeError:
            return False
        for feature in facet["features"]:
            uri = feature.get("uri")
            if uri and shown and uri.startswith(("https://", "http://")):
                uris.append(uri)
    return bool(uris) and (url is None or url in uris)


async def bluesky(cases: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    """Mention the bot once per case through the real channel and the fake XRPC server."""
    kb = load_knowledge(default_dir())
    core = Core(kb, MemoryStore())
    fake = await FakeXrpc().start()
    try:
        mentions = [
            (case, fake.add_mention(case[2], author=f"p{n}", langs=[case[1]]))
            for n, case in enumerate(cases)
        ]
        channel = fake_channel(core, fake)
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(fake.replies_to(uri) for _, uri in mentions):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the rest of a thread, if any
        stop.set()
        await asyncio.wait_for(task, 10)
        rows: list[dict[str, Any]] = []
        for (topic_id, language, _, answered), uri in mentions:
            posts = [
                entry["record"]
                for _, entry in fake.created
                if entry["record"]["reply"]["root"]["uri"] == uri
            ]
            url = kb.topics[topic_id].url
            first: dict[str, Any] | None = posts[0] if posts else None
            rows.append(
                {
                    "topic": topic_id,
                    "language": language,
                    "posts": len(posts),
                    "graphemes": [grapheme_len(p["text"]) for p in posts],
                    "first_link": first is not None
                    and _working_link(first, url if answered else None),
                    "has_url": url is not None,
                    "own_topic": answered is not None,
                    "card": bool(first and (first.get("embed") or {}).get("external")),
                    "write_points": CREATE_POINTS * len(posts),
                }
            )
    finally:
        await fake.stop()
    per_post = [g for r in rows for g in r["graphemes"]]
    one = sum(r["posts"] == 1 for r in rows)
    # The topic's URL is expected where the engine answered with that topic.
    with_url = [r for r in rows if r["has_url"] and r["own_topic"]]
    answered = [r for r in rows if r["posts"]]
    return {
        "answers": len(answered),
        "posts_per_answer": _summary([r["posts"] for r in rows]),
        "one_post_answers": one,
        "one_post_share": one / len(rows) if rows else 0,
        "graphemes_per_post": _summary(per_post),
        "first_posts_with_working_link": sum(r["first_link"] for r in rows),
        "first_posts_with_url": len(with_url),
        "first_posts_with_url_as_facet": sum(r["first_link"] for r in with_url),
        "link_cards": sum(r["card"] for r in with_url),
        "write_points_per_answered_mention": _summary([r["write_points"] for r in answered]),
        "over_limit": sum(g > MAX_GRAPHEMES for g in per_post),
        "rows": rows,
    }


async def one_person_burst(mentions: int = 15) -> dict[str, Any]:
    """``mentions`` questions from one person at once, with the default limits."""
    core = Core(
        load_knowledge(default_dir()), MemoryStore(), limiter=UserRateLimiter(DEFAULT_USER_RATE)
    )
    fake = await FakeXrpc().start()
    try:
        uris = [fake.add_mention(f"how do I stop Grok training? {n}") for n in range(mentions)]
        channel = fake_channel(
            core, fake, BLUESKY_MAX_POSTS_PER_PERSON_HOUR=str(BlueskySettings.person_hour_cap)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(channel.run(stop))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all([await core.store.is_seen("post", u) for u in uris]):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 10)
        posts = len(fake.created)
    finally:
        await fake.stop()
    return {"mentions": mentions, "posts": posts, "write_points": CREATE_POINTS * posts}


def detail_parts() -> dict[str, Any]:
    """Messages and posts of each detail part, every topic and language, in process."""
    core = Core(load_knowledge(default_dir()))
    out: dict[str, dict[str, list[float]]] = {}
    for topic in core.kb.topics.values():
        for language in LANGUAGES:
            if not topic.has_language(language):
                continue
            for part in core.topic_reply(topic.id, language).parts:
                reply = core.topic_part(topic.id, language, part)
                messages = render_reply(reply)
                posts = render_bluesky(reply)
                entry = out.setdefault(
                    part, {"telegram_messages": [], "telegram_visible": [], "bluesky_posts": []}
                )
                entry["telegram_messages"].append(len(messages))
                entry["telegram_visible"].append(max(visible_length(m) for m in messages))
                entry["bluesky_posts"].append(len(posts))
    return {
        part: {key: _summary(values) for key, values in entry.items()}
        for part, entry in out.items()
    }


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rows", action="store_true", help="include one row per answer")
    args = parser.parse_args(argv)
    core = Core(load_knowledge(default_dir()))
    cases = await _cases(core)
    result: dict[str, Any] = {
        "cases": len(cases),
        "answered_with_their_topic": sum(answered is not None for *_, answered in cases),
        "telegram": await telegram(cases),
        "bluesky": await bluesky(cases),
        "detail_parts": detail_parts(),
        "one_person_burst": await one_person_burst(),
    }
    tg, bs = result["telegram"], result["bluesky"]
    failures = []
    if tg["one_message_share"] < ONE_SHARE:
        failures.append("fewer than 90% of Telegram answers are one message")
    if bs["one_post_share"] < ONE_SHARE:
        failures.append("fewer than 90% of Bluesky answers are one post")
    if bs["first_posts_with_url_as_facet"] < bs["first_posts_with_url"]:
        failures.append("a first post with a URL lacks it as a facet")
    if tg["over_limit"] or bs["over_limit"]:
        failures.append("a message or post is over the channel's limit")
    result["failures"] = failures
    if not args.rows:
        tg.pop("rows")
        bs.pop("rows")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(
            f"cases: {result['cases']} (answered with their topic: "
            f"{result['answered_with_their_topic']})"
        )
        print(
            f"telegram: first message visible length {tg['first_message_visible_length']}, "
            f"{tg['first_messages_within_700']} within {SHORT_TARGET}"
        )
        print(
            f"  messages per answer {tg['messages_per_answer']}, one message: "
            f"{tg['one_message_answers']}/{tg['answers']} ({tg['one_message_share']:.0%})"
        )
        print(f"  time to first message (ms) {tg['time_to_first_message_ms']}")
        print(
            f"bluesky: posts per answer {bs['posts_per_answer']}, one post: "
            f"{bs['one_post_answers']}/{bs['answers']} ({bs['one_post_share']:.0%})"
        )
        print(f"  graphemes per post {bs['graphemes_per_post']}")
        print(
            f"  first posts with a working link {bs['first_posts_with_working_link']}/"
            f"{bs['answers']}; with the topic URL as facet "
            f"{bs['first_posts_with_url_as_facet']}/{bs['first_posts_with_url']}; "
            f"link cards {bs['link_cards']}/{bs['first_posts_with_url']}"
        )
        print(f"  write points per answered mention {bs['write_points_per_answered_mention']}")
        for part, sizes in result["detail_parts"].items():
            print(f"part {part}: {sizes}")
        burst = result["one_person_burst"]
        print(
            f"one person, {burst['mentions']} mentions at once: {burst['posts']} posts, "
            f"{burst['write_points']} write points"
        )
        print("failures: " + ("; ".join(failures) if failures else "none"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Editors' previews: what each channel sends for a topic (``privacybot preview``).

    privacybot preview x.grok_training [--channel telegram|bluesky] [--json] [--lang fr]

``--channel`` prints exactly the messages or posts that channel would send,
with their buttons or link facets and their lengths as the platform counts them
(Telegram: visible UTF-16 characters after parsing the HTML; Bluesky:
graphemes). ``privacybot ask --channel`` uses the same functions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from bot.cli.common import build_core
from bot.core import Core
from bot.kb.schema import LANGUAGES
from bot.messages import Reply
from bot.render.bluesky import grapheme_len, render_bluesky
from bot.render.plain import render_plain
from bot.render.telegram_html import (
    render_reply,
    reply_keyboard,
    visible_length,
    visible_text,
)

CHANNELS = ("telegram", "bluesky")


def telegram_messages(reply: Reply) -> list[dict[str, Any]]:
    """The messages Telegram would get for a reply, buttons on the last one."""
    chunks = render_reply(reply)
    rows = reply_keyboard(reply)
    out = []
    for index, chunk in enumerate(chunks):
        buttons = (
            [{"label": b.label, "data": b.data} for row in rows for b in row]
            if index == len(chunks) - 1
            else []
        )
        out.append({"text": chunk, "visible_length": visible_length(chunk), "buttons": buttons})
    return out


def bluesky_posts(reply: Reply) -> list[dict[str, Any]]:
    """The posts Bluesky would get for a reply, with their link facets and card."""
    out = []
    for post in render_bluesky(reply):
        raw = post.text.encode()
        out.append(
            {
                "text": post.text,
                "graphemes": grapheme_len(post.text),
                "facets": [
                    {"text": raw[f.byte_start : f.byte_end].decode(), "uri": f.uri}
                    for f in post.facets
                ],
                "embed": {"uri": post.embed.uri, "title": post.embed.title} if post.embed else None,
            }
        )
    return out


def channel_payload(channel: str, replies: list[Reply]) -> dict[str, Any]:
    """``{"channel": ..., "messages"|"posts": [...]}`` for one or more replies in a row."""
    if channel == "telegram":
        return {"channel": channel, "messages": [m for r in replies for m in telegram_messages(r)]}
    return {"channel": channel, "posts": [p for r in replies for p in bluesky_posts(r)]}


def format_channel(payload: dict[str, Any]) -> str:
    """Human-readable preview of :func:`channel_payload`."""
    lines: list[str] = []
    if payload["channel"] == "telegram":
        for n, message in enumerate(payload["messages"], 1):
            lines.append(f"--- message {n} ({message['visible_length']} visible characters) ---")
            lines.append(visible_text(message["text"]))
            for button in message["buttons"]:
                lines.append(f"  [{button['label']}] -> {button.get('data') or button.get('url')}")
    else:
        for n, post in enumerate(payload["posts"], 1):
            lines.append(f"--- post {n} ({post['graphemes']} graphemes) ---")
            lines.append(post["text"])
            for facet in post["facets"]:
                lines.append(f"  link: {facet['text']} -> {facet['uri']}")
            if post["embed"]:
                lines.append(f"  card: {post['embed']['title']} -> {post['embed']['uri']}")
    return "\n".join(lines)


def reply_parts(reply: Reply, full: bool) -> list[Reply]:
    """The short answer, then (with ``full``) each detail part as the channel sends it."""
    if not full or reply.kind != "answer" or reply.topic_id is None:
        return [reply]
    return [reply] + [dataclasses.replace(reply, part=p) for p in reply.parts]


def topic_preview(
    core: Core, topic_id: str, languages: list[str], channels: list[str | None]
) -> dict[str, Any]:
    """Every part of a topic, by language, then channel (None: plain text), then part."""
    result: dict[str, Any] = {}
    for language in languages:
        short = core.topic_reply(topic_id, language)
        replies = [short] + [core.topic_part(topic_id, language, p) for p in short.parts]
        for channel in channels:
            block: dict[str, Any] = {
                r.part: render_plain(r) if channel is None else channel_payload(channel, [r])
                for r in replies
            }
            result.setdefault(language, {})[channel or "plain"] = block
    return result


def cmd_preview(args: argparse.Namespace) -> int:
    """Print every part of ``args.topic`` in each language and channel asked for."""
    core = build_core(args)
    if args.topic not in core.kb.topics:
        print(f"unknown topic {args.topic!r}; see `privacybot topics`")
        return 1
    languages = [args.lang] if args.lang else list(LANGUAGES)
    channels = [args.channel] if args.channel else [None, *CHANNELS]
    result = topic_preview(core, args.topic, languages, channels)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    for language, by_channel in result.items():
        for channel, parts in by_channel.items():
            for part, shown in parts.items():
                print(f"===== {args.topic} · {language} · {channel} · {part} =====")
                print(shown if isinstance(shown, str) else format_channel(shown))
                print()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``preview`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    preview = subparsers.add_parser("preview", help="every part of a topic, in every language")
    preview.add_argument("topic")
    preview.add_argument("--channel", choices=CHANNELS)
    preview.add_argument("--lang", choices=list(LANGUAGES))
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(func=cmd_preview)

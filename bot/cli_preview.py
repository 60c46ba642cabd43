"""Editors' previews: what each channel sends for a question or a topic.

    privacybot ask --full "how do I stop Grok training?"
    privacybot ask --channel telegram "how do I stop Grok training?"
    privacybot ask --channel bluesky --json "désactiver grok"
    privacybot preview x.grok_training [--channel telegram|bluesky] [--json]
    privacybot deeplinks --bot privacybot

``ask`` prints the short answer by default (what a person gets first);
``--full`` prints every part. ``--channel`` prints exactly the messages or
posts that channel would send, with their buttons or link facets and their
lengths as the platform counts them (Telegram: visible UTF-16 characters after
parsing the HTML; Bluesky: graphemes). Registered from :mod:`bot.cli` with
:func:`register`, adding its options to ``ask`` and its own commands.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.core import Answer, Core
from bot.kb.loader import default_dir, load_knowledge
from bot.kb.schema import LANGUAGES
from bot.messages import IncomingMessage, Reply
from bot.render.bluesky import grapheme_len, render_bluesky
from bot.render.plain import render_full, render_plain
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


def _parts(reply: Reply, full: bool) -> list[Reply]:
    """The short answer, then (with ``full``) each detail part as the channel sends it."""
    if not full or reply.kind != "answer" or reply.topic_id is None:
        return [reply]
    return [reply] + [dataclasses.replace(reply, part=p) for p in reply.parts]


def ask_fields(answer: Answer, text: str) -> dict[str, Any]:
    """The fields of ``privacybot ask --json``."""
    reply = answer.reply
    return {
        "topic": reply.topic_id,
        "confidence": reply.confidence,
        "language": reply.language,
        "surface": answer.match.surface,
        "kind": reply.kind,
        "text": text,
        "url": reply.url,
        "steps": list(reply.steps),
        "last_verified": reply.last_verified.isoformat() if reply.last_verified else None,
        "alternatives": [
            {"topic": a.topic_id, "confidence": a.confidence} for a in reply.alternatives
        ],
        "choices": [{"kind": c.kind, "value": c.value, "label": c.label} for c in reply.choices],
    }


def _core(args: argparse.Namespace) -> Core:
    return Core(load_knowledge(Path(args.kb) if args.kb else default_dir()))


def _ask(original: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if not args.full and not args.channel:
            return original(args)
        answer = asyncio.run(
            _core(args).respond(
                IncomingMessage(
                    text=args.question, language_hint=args.lang, surface_hint=args.surface
                )
            )
        )
        reply = answer.reply
        text = render_full(reply) if args.full else render_plain(reply)
        if args.channel:
            payload = channel_payload(args.channel, _parts(reply, args.full))
            if args.json:
                print(json.dumps({**ask_fields(answer, text), **payload}, ensure_ascii=False))
            else:
                print(format_channel(payload))
        elif args.json:
            print(json.dumps(ask_fields(answer, text), ensure_ascii=False))
        else:
            print(text)
        return 0

    return run


def _cmd_preview(args: argparse.Namespace) -> int:
    core = _core(args)
    if args.topic not in core.kb.topics:
        print(f"unknown topic {args.topic!r}; see `privacybot topics`")
        return 1
    languages = [args.lang] if args.lang else list(LANGUAGES)
    channels = [args.channel] if args.channel else [None, *CHANNELS]
    result: dict[str, Any] = {}
    for language in languages:
        short = core.topic_reply(args.topic, language)
        replies = [short] + [core.topic_part(args.topic, language, p) for p in short.parts]
        for channel in channels:
            block: dict[str, Any] = {
                r.part: render_plain(r) if channel is None else channel_payload(channel, [r])
                for r in replies
            }
            result.setdefault(language, {})[channel or "plain"] = block
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


def _cmd_deeplinks(args: argparse.Namespace) -> int:
    core = _core(args)
    bot = args.bot.lstrip("@")
    for topic in core.kb.topics.values():
        links = [f"https://t.me/{bot}?start={core.deep_link_payload(topic.id)}"]
        links += [
            f"https://t.me/{bot}?start={core.deep_link_payload(topic.id, language)}"
            for language in LANGUAGES
        ]
        print("\t".join([topic.id, *links]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ask --full/--channel``, ``preview`` and ``deeplinks`` to the command line."""
    ask = sub.choices["ask"]
    ask.add_argument("--full", action="store_true", help="print every part, not only the short")
    ask.add_argument(
        "--channel", choices=CHANNELS, help="print exactly what this channel would send"
    )
    ask.set_defaults(func=_ask(ask.get_default("func")))

    preview = sub.add_parser("preview", help="every part of a topic, in every language")
    preview.add_argument("topic")
    preview.add_argument("--channel", choices=CHANNELS)
    preview.add_argument("--lang", choices=list(LANGUAGES))
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(func=_cmd_preview)

    links = sub.add_parser("deeplinks", help="a t.me/<bot>?start= link for each topic")
    links.add_argument("--bot", required=True, help="the bot's username")
    links.set_defaults(func=_cmd_deeplinks)

"""``privacybot ask``: answer one question, as a person or an editor wants to see it.

    privacybot ask "how do I stop Grok training?"
    privacybot ask --json --lang fr "désactiver grok"
    privacybot ask --full "how do I stop Grok training?"
    privacybot ask --channel telegram "how do I stop Grok training?"
    privacybot ask --channel bluesky --json "désactiver grok"

``ask`` prints the short answer by default (what a person gets first);
``--full`` prints every part. ``--channel`` prints exactly the messages or
posts that channel would send (see :mod:`bot.cli.preview`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.cli.common import build_core
from bot.cli.preview import CHANNELS, channel_payload, format_channel, reply_parts
from bot.core import Answer
from bot.messages import IncomingMessage
from bot.nlu.language import SUPPORTED
from bot.render.plain import render_full, render_plain


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ask`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    ask = subparsers.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--lang", choices=SUPPORTED, help="language hint (breaks ties)")
    ask.add_argument("--surface", choices=["web", "ios", "android"])
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--full", action="store_true", help="print every part, not only the short")
    ask.add_argument(
        "--channel", choices=CHANNELS, help="print exactly what this channel would send"
    )
    ask.set_defaults(func=cmd_ask)


def ask_fields(answer: Answer, text: str, *, understood: bool = False) -> dict[str, Any]:
    """The fields of ``privacybot ask --json``.

    Args:
        answer: The core's answer.
        text: The reply as printed.
        understood: Also say what was understood (the language asked in, the
            platform and the need), as plain ``ask --json`` does.
    """
    reply = answer.reply
    fields: dict[str, Any] = {
        "topic": reply.topic_id,
        "confidence": reply.confidence,
        "language": reply.language,
    }
    if understood:
        what = answer.understood
        fields["asked_language"] = what.language if what else reply.language
        fields["platform"] = what.platform if what else None
        fields["need"] = what.need if what else None
    return fields | {
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


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer ``args.question`` and print it as asked."""
    answer = asyncio.run(
        build_core(args).respond(
            IncomingMessage(text=args.question, language_hint=args.lang, surface_hint=args.surface)
        )
    )
    reply = answer.reply
    text = render_full(reply) if args.full else render_plain(reply)
    if args.channel:
        payload = channel_payload(args.channel, reply_parts(reply, args.full))
        if args.json:
            print(json.dumps({**ask_fields(answer, text), **payload}, ensure_ascii=False))
        else:
            print(format_channel(payload))
    elif args.json:
        plain = not args.full  # plain ``ask --json`` also says what was understood
        print(json.dumps(ask_fields(answer, text, understood=plain), ensure_ascii=False))
    else:
        print(text)
    return 0

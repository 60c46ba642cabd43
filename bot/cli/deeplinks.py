"""``privacybot deeplinks``: a Telegram start link for each topic.

    privacybot deeplinks --bot privacybot

One line per topic, tab-separated: its id, a link that answers in the person's
own language, then one link per language (for pages and posts that point to
the bot).
"""

from __future__ import annotations

import argparse

from bot.cli.common import build_core
from bot.kb.schema import LANGUAGES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``deeplinks`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    links = subparsers.add_parser("deeplinks", help="a t.me/<bot>?start= link for each topic")
    links.add_argument("--bot", required=True, help="the bot's username")
    links.set_defaults(func=cmd_deeplinks)


def cmd_deeplinks(args: argparse.Namespace) -> int:
    """Print the start links of every topic."""
    core = build_core(args)
    bot = args.bot.lstrip("@")
    for topic in core.kb.topics.values():
        links = [f"https://t.me/{bot}?start={core.deep_link_payload(topic.id)}"]
        links += [
            f"https://t.me/{bot}?start={core.deep_link_payload(topic.id, language)}"
            for language in LANGUAGES
        ]
        print("\t".join([topic.id, *links]))
    return 0

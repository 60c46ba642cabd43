"""``privacybot chat``: talk with the bot in the terminal.

    privacybot chat [--lang fr]      one person at the keyboard, plain text
    privacybot chat --json           one message a line in, one JSON object a line out

The conversation itself is an adapter, :mod:`bot.adapters.terminal`; this
command builds it over a core and runs it until end of input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.adapters.terminal import TerminalChannel
from bot.cli.common import build_core
from bot.nlu.language import SUPPORTED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``chat`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    chat = subparsers.add_parser("chat", help="talk with the bot in the terminal")
    chat.add_argument("--lang", choices=SUPPORTED)
    chat.add_argument(
        "--json", action="store_true", help="one message a line in, one JSON object a line out"
    )
    chat.set_defaults(func=cmd_chat)


def cmd_chat(args: argparse.Namespace) -> int:
    """Run the terminal conversation until end of input or a quit word."""
    channel = TerminalChannel(
        build_core(args),
        language_hint=args.lang,
        json_lines=args.json,
        interactive=sys.stdin.isatty() and not args.json,
    )
    asyncio.run(channel.run())
    return 0

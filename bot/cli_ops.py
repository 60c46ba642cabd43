"""Operations subcommands of ``privacybot``: ``run`` (and, later, config/admin)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot import cli
from bot.runner import run_channels


def _cmd_run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The Telegram token is part of every Bot API URL that httpx logs at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kb = cli._load(args.kb)
    return asyncio.run(run_channels(args.channels, kb))


def _register(sub: argparse._SubParsersAction, kb_sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run the chat channels (all configured ones by default)")
    run.add_argument("channels", nargs="*", choices=["telegram", "bluesky", []], default=[])
    run.set_defaults(func=_cmd_run)


cli.EXTENSIONS.append(_register)
